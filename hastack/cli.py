"""The `hastack` command: offline plan, diff and policy check.

    hastack plan [STACK | --all]      run the program under the mock engine (default prod)
    hastack diff A B [--summary]      compare two stacks' (or plan files') resources
    hastack check [STACK] | --plan F  plan (default prod), then run the policy pack
    hastack verify --plan F ...       check a deployed AWS stack against its plan's HA promises
    hastack failover ENV --to R ...   move the active region (dry-runnable, resumable)
    hastack assess ENV | --plan F     modeled RTO/RPO per failure domain from the plans
    hastack drill ENV --scenario S    break one thing on purpose (FIS / failover APIs), timed
    hastack stacks [--json]           the stacks in stacks/ (what CI's matrices are made of)

Errors a user can fix (a bad stack file, a bad argument) print one message and
exit 2 without a traceback; `--debug` (anywhere on the line) shows the traceback of
unexpected failures; `--version` prints the version.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from hastack.config import ConfigError
from hastack.plan.planfile import PlanFileError

EXIT_USAGE = 2
EXIT_FAILED = 1


def _root() -> Path:
    from hastack.plan.stackfile import project_root

    return project_root()


def _cmd_plan(args: argparse.Namespace) -> int:
    """Plan an environment (all its stacks), one workloads stack, or --all environments."""
    from hastack.plan.parallel import plan_targets
    from hastack.plan.pipeline import display_path
    from hastack.stacks import environments

    root = _root()
    targets = environments(root) if args.all else [args.stack or "prod"]
    out_dir = Path(args.out).resolve() if args.out else None
    failures = 0
    # Several targets (--all) are planned side by side, one process per core.
    for _target, results in plan_targets(root, targets, out_dir):
        if isinstance(results, ConfigError):
            print(f"error: {results}", file=sys.stderr)
            failures += 1
            continue
        for result in results:
            if not args.quiet:
                print(result.summary(root))
                print()
            else:
                print(f"planned {result.stack}: {display_path(result.json_path, root)}")
    return EXIT_USAGE if failures else 0


def _load_plan_or_stack(ref: str, root: Path) -> dict[str, Any]:
    path = Path(ref)
    if path.suffix == ".json":
        from hastack.plan.planfile import load_plan

        return load_plan(path)
    from hastack.plan.pipeline import plan_stack

    return plan_stack(root, ref).plan


def _cmd_diff(args: argparse.Namespace) -> int:
    from hastack.plan.diff import diff_plans, render_diff, render_summary

    root = _root()
    left = _load_plan_or_stack(args.left, root)
    right = _load_plan_or_stack(args.right, root)
    result = diff_plans(left, right)
    print(render_summary(result) if args.summary else render_diff(result))
    return 0


def _cmd_stacks(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from hastack.plan.stacks import github_outputs, list_stacks, render_table

    entries = list_stacks(_root())
    if args.json:
        import json

        print(json.dumps([asdict(e) for e in entries], indent=2, sort_keys=True))
    elif args.github_output:
        print(github_outputs(entries))
    else:
        print(render_table(entries))
    return 0


# Sub-commands with their own argument parsers: `hastack <name> ...` hands them the rest.
PASS_THROUGH = {
    "check": ("hastack.check.cli", "check_main"),
    "verify": ("hastack.verify.cli", "verify_main"),
    "failover": ("hastack.failover.cli", "failover_main"),
    "failback": ("hastack.failover.cli", "failback_main"),
    "assess": ("hastack.assess.cli", "assess_main"),
    "drill": ("hastack.drill.cli", "drill_main"),
}


def _cmd_pass_through(name: str, rest: list[str]) -> int:
    import importlib

    module_name, function = PASS_THROUGH[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        print(f"error: `hastack {name}` cannot start: {error} (run `make setup`)",
              file=sys.stderr)
        return EXIT_USAGE
    return int(getattr(module, function)(rest))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hastack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of failures (also accepted after the command)")
    parser.add_argument("--version", action="version", version=f"hastack {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    plan = sub.add_parser("plan", help="offline plan of a stack under the mock engine")
    plan.add_argument("stack", nargs="?",
                      help="an environment (plans its infrastructure stack, then each "
                           "workloads stack) or one workloads stack; default prod")
    plan.add_argument("--all", action="store_true", help="plan every environment in stacks/")
    plan.add_argument("--out", help="output directory (default build/plan)")
    plan.add_argument("--quiet", action="store_true", help="print only the file paths")

    diff = sub.add_parser("diff", help="what differs between two stacks or plan files")
    diff.add_argument("left", help="stack name or plan .json")
    diff.add_argument("right", help="stack name or plan .json")
    diff.add_argument("--summary", action="store_true",
                      help="group by kind of change; hide tag, region-name and mock-ID noise")

    stacks = sub.add_parser("stacks", help="the stacks in stacks/: layer, environment, "
                                           "region, cloud, tier")
    stacks.add_argument("--json", action="store_true", help="one JSON list")
    stacks.add_argument("--github-output", action="store_true",
                        help="key=json lines for $GITHUB_OUTPUT (all, <tier>_<layer>)")

    sub.add_parser("check", help="policy pack through the analyzer protocol "
                                 "(see `hastack check --help`)", add_help=False)
    sub.add_parser("verify", help="live AWS environment against its plan's HA promises "
                                  "(see `hastack verify --help`)", add_help=False)
    sub.add_parser("failover", help="make another region of an environment active "
                                    "(see `hastack failover --help`)", add_help=False)
    sub.add_parser("failback", help="planned failover back to the primary region",
                   add_help=False)
    sub.add_parser("assess", help="modeled RTO/RPO per failure domain from the plans "
                                  "(see `hastack assess --help`)", add_help=False)
    sub.add_parser("drill", help="a chaos drill timed by the cloud's own events "
                                 "(see `hastack drill --help`)", add_help=False)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hastack")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `--debug` is a global option, accepted anywhere: `hastack plan dev --debug` too.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in PASS_THROUGH and not argv[0].startswith("--version"):
        name = command
        rest = argv[argv.index(name) + 1:]
        return _run(lambda: _cmd_pass_through(name, rest), debug)
    args = parser.parse_args(argv)
    args.debug = debug
    if args.command == "plan":
        if args.all and args.stack:
            parser.error("give a stack name or --all, not both")
        return _run(lambda: _cmd_plan(args), args.debug)
    if args.command == "stacks":
        return _run(lambda: _cmd_stacks(args), args.debug)
    return _run(lambda: _cmd_diff(args), args.debug)


def _run(command: Any, debug: bool) -> int:
    try:
        return int(command())
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `hastack diff ... | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except (FileNotFoundError, PlanFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        if debug:
            traceback.print_exc()
        else:
            print(f"error: {type(error).__name__}: {error}\n(run with --debug for the traceback)",
                  file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
