"""`hastack assess`: modeled RTO/RPO of one environment, from its offline plans.

    hastack assess ENV|STACK            plans build/plan/ENV.json and ENV-*.json of that
                                        environment (planned first when missing)
    hastack assess --plan F [--plan F]  the given plans (one environment; repeatable)
    options: --json PATH      also write the JSON there
             --baseline PATH  an earlier assessment JSON (e.g. main's): the Markdown shows
                              the change
             --out DIR        where NAME.json / NAME.md go (build/assess)

Exit status: 0 every target met; 1 a target missed or a domain with a target
unrecoverable; 2 the assessment could not run (bad arguments or plans).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hastack.assess.render import markdown, table
from hastack.config import ConfigError

EXIT_USAGE = 2


class AssessError(Exception):
    """A problem the user can fix: one message, exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hastack assess",
        description="Modeled RTO/RPO per failure domain of one environment, from its plans.")
    parser.add_argument("name", nargs="?", help="environment or stack name")
    parser.add_argument("--plan", type=Path, action="append", default=[],
                        help="a plan JSON of the environment (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the assessment JSON here")
    parser.add_argument("--baseline", type=Path, help="earlier assessment JSON to compare with")
    parser.add_argument("--out", type=Path, help="output directory (default build/assess)")
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def _model() -> Any:
    """The pack's model module (the pack directory is not an installed package: it sits
    next to this package in the project)."""
    policies = str(Path(__file__).resolve().parents[2] / "policies")
    if policies not in sys.path:
        sys.path.insert(0, policies)
    from hastack_policies.resilience import model

    return model


def _read_plan(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise AssessError(f"{path}: no such plan file") from error
    except (OSError, ValueError) as error:
        raise AssessError(f"{path}: not a readable plan JSON ({error})") from error
    if not isinstance(loaded, dict) or not isinstance(loaded.get("resources"), list):
        raise AssessError(f"{path}: not a hastack plan (no 'resources' list); "
                          "make one with `hastack plan <stack>`")
    return loaded


def environment_of(plan: dict[str, Any]) -> str:
    return str(plan.get("environment") or plan.get("stack") or "")


def _environment_plans(root: Path, name: str) -> list[dict[str, Any]]:
    """An environment's plans (infrastructure + workloads), or one stack's; planned first
    when missing. Without stack files, the plans in build/plan/ of that environment."""
    from hastack.plan.pipeline import plan_environment, plan_stack
    from hastack.plan.stackfile import stack_names
    from hastack.stacks import environment_stacks, stack_info

    plan_dir = root / "build" / "plan"
    if name in stack_names(root):
        if stack_info(root, name).layer == "workloads":
            stacks = [name]
            if not (plan_dir / f"{name}.json").is_file():
                plan_stack(root, name)
        else:
            stacks = environment_stacks(root, name)
            if any(not (plan_dir / f"{s}.json").is_file() for s in stacks):
                plan_environment(root, name)
        return [_read_plan(plan_dir / f"{s}.json") for s in stacks]
    candidates = sorted({*plan_dir.glob(f"{name}.json"), *plan_dir.glob(f"{name}-*.json")})
    # NAME-*.json may be another environment that shares the prefix: keep this one's.
    chosen = [p for p in map(_read_plan, candidates)
              if environment_of(p) == name or p.get("stack") == name]
    if not chosen:
        known = ", ".join(stack_names(root)) or "none"
        raise AssessError(f"no stack or plan named '{name}' (stacks: {known})")
    return chosen


def assess_plans(plans: list[dict[str, Any]]) -> dict[str, Any]:
    environments = sorted({environment_of(p) for p in plans})
    if len(environments) != 1:
        raise AssessError("the plans belong to different environments "
                          f"({', '.join(environments)}); assess one environment at a time")
    model = _model()
    resources: dict[str, Any] = {}
    for plan in plans:
        for entry in plan["resources"]:
            resources.setdefault(entry.get("urn"), entry)
    infra = next((p for p in plans if p.get("layer") in (None, "infrastructure")), plans[0])
    result = model.assess(model.from_plan_entries(resources.values()),
                          stack=",".join(sorted(str(p.get("stack")) for p in plans)),
                          environment=environments[0], tier=str(infra.get("tier", "")),
                          cloud=str(infra.get("cloud", "")))
    doc: dict[str, Any] = result.as_json()
    return doc


def _write(doc: dict[str, Any], out: Path, name: str, json_path: Path | None,
           baseline: dict[str, Any] | None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    written = [out / f"{name}.json", out / f"{name}.md"]
    written[0].write_text(text)
    written[1].write_text(markdown(doc, baseline))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text)
        written.append(json_path)
    return written


def assess_main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if bool(args.name) == bool(args.plan):
        print("error: give an environment/stack name or --plan FILE ..., not both",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        from hastack.plan.stackfile import project_root

        root = (args.root or project_root()).resolve()
        plans = ([_read_plan(p) for p in args.plan] if args.plan
                 else _environment_plans(root, args.name))
        doc = assess_plans(plans)
        baseline = _read_baseline(args.baseline) if args.baseline else None
        name = args.name or doc["environment"]
        written = _write(doc, args.out or root / "build" / "assess", name, args.json, baseline)
    except (AssessError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(table(doc))
    print("\nFiles: " + ", ".join(str(p) for p in written))
    met = all(d["met"] is not False for d in doc["domains"].values())
    return 0 if met else 1


def _read_baseline(path: Path) -> dict[str, Any] | None:
    """Main's assessment; absent (a new environment) means no comparison."""
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text())
    except ValueError as error:
        raise AssessError(f"{path}: not an assessment JSON ({error})") from error
    return loaded if isinstance(loaded, dict) else None


if __name__ == "__main__":
    raise SystemExit(assess_main())
