"""`hastack check`: the policy pack on an offline plan, through the analyzer protocol.

    hastack check [ENV]                 plan every stack of an environment afresh (default
                                        prod), check each, then the rules across its
                                        stacks (hastack/check/environment.py)
    hastack check STACK                 plan a workloads stack afresh (with what it reads)
    hastack check --plan FILE [--tier T]  check a plan file (validated first)
    options: --preview-unknowns  treat computed inputs as unknown (a first preview)
             --out DIR           where STACK.json / STACK.sarif go (build/policy)
             --policies DIR      the policy pack (policies/)

Exit status: 0 when no mandatory policy is violated, 1 when one is, 2 when the
check itself could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hastack.check.analyzer import PolicyHostError, check_plan
from hastack.check.report import console, write_reports
from hastack.config import ConfigError
from hastack.plan.planfile import load_plan
from hastack.plan.stackfile import project_root

TIERS = ("dev", "staging", "prod")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hastack check",
        description="Run the hastack policy pack on an offline plan through the Pulumi "
                    "analyzer protocol.")
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<stack>.yaml); "
                                                 "planned afresh; default prod")
    parser.add_argument("--plan", type=Path, help="a plan JSON file instead of a stack")
    parser.add_argument("--tier", choices=TIERS, help="tier whose policy config applies "
                                                      "(default: the plan's)")
    parser.add_argument("--preview-unknowns", action="store_true",
                        help="make every input computed from another resource unknown")
    parser.add_argument("--out", type=Path, default=None,
                        help="report directory (default: build/policy)")
    parser.add_argument("--policies", type=Path, default=None,
                        help="policy pack directory (default: policies/)")
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="print only the verdict line")
    return parser


def _plan_for_stack(root: Path, stack: str) -> dict[str, Any]:
    """Plan the stack now: a plan left in build/plan may predate an edit of the stack
    file or the code, and checking it would pass what was never checked."""
    from hastack.plan.pipeline import plan_stack

    return plan_stack(root, stack).plan


def check_main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.stack and args.plan:
        print("error: give a stack name or --plan FILE (not both)", file=sys.stderr)
        return 2
    try:
        root: Path = args.root.resolve() if args.root else _root(bool(args.plan))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stack = args.stack or ("prod" if not args.plan else None)
    try:
        environment = bool(stack) and not args.plan and _is_environment(root, stack or "")
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if environment and stack:
        return _check_environment(root, args, stack)
    try:
        plan = (load_plan(args.plan) if args.plan
                else _plan_for_stack(root, stack or "prod"))
        result = check_plan(plan, args.policies or root / "policies", tier=args.tier,
                            preview_unknowns=args.preview_unknowns)
    except (OSError, ValueError, PolicyHostError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json_path, sarif_path = write_reports(result, args.out or root / "build" / "policy", root)
    text = console(result)
    print(text.splitlines()[-1] if args.quiet else text)
    if not args.quiet:
        print(f"\nReports: {_shown(json_path, root)}, {_shown(sarif_path, root)}")
    return 0 if result.passed else 1


def _is_environment(root: Path, stack: str) -> bool:
    from hastack.plan.stackfile import stack_path
    from hastack.stacks import stack_info

    # Only a project that can be planned (its Pulumi.yaml and the stack file) is
    # checked as a whole environment.
    return ((root / "Pulumi.yaml").is_file() and stack_path(root, stack).is_file()
            and stack_info(root, stack).layer == "infrastructure")


def _check_environment(root: Path, args: argparse.Namespace, environment: str) -> int:
    """Plan the environment afresh, check each stack's plan, then the cross-stack rules."""
    from hastack.check.environment import check_environment
    from hastack.plan.pipeline import plan_environment

    try:
        results = plan_environment(root, environment)
        checks = [(r.stack, check_plan(r.plan, args.policies or root / "policies",
                                       tier=args.tier, preview_unknowns=args.preview_unknowns))
                  for r in results]
        findings = check_environment([r.plan for r in results])
    except (OSError, ValueError, PolicyHostError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passed = True
    for stack, result in checks:
        json_path, sarif_path = write_reports(result, args.out or root / "build" / "policy", root)
        text = console(result)
        print(f"== {stack}")
        print(text.splitlines()[-1] if args.quiet else text)
        if not args.quiet:
            print(f"\nReports: {_shown(json_path, root)}, {_shown(sarif_path, root)}")
        passed = passed and result.passed
    print(f"== environment {environment}: {len(findings)} cross-stack violation(s)")
    for finding in findings:
        print(f"  [mandatory] {finding.rule} ({finding.stack}): {finding.message}")
    return 0 if passed and not findings else 1


def _root(plan_given: bool) -> Path:
    """The project (Pulumi.yaml) above the working directory; with --plan, the working
    directory will do outside a project (give --policies then)."""
    try:
        return project_root()
    except FileNotFoundError:
        if plan_given:
            return Path.cwd().resolve()
        raise


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(check_main())
