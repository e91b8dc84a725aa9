"""`hastack verify`: check a deployed AWS or GCP stack against the HA invariants of its plan.

    hastack verify --plan build/plan/STACK.json [--outputs FILE] [--bucket LOGICAL=NAME]...
                   [--json FILE]

The plan names what to look for, and its `cloud` picks the checks (verify/aws.py,
verify/gcp.py). AWS bucket names are only known after deployment, so they come from
`--outputs` (the file `pulumi stack output --json` writes) or from
`--bucket` (plan resource name or stack output key = live bucket name).

Exit status: 0 when every invariant holds (warnings allowed), 1 when one is broken,
2 when the verification could not run (bad arguments, plan, credentials or a cloud
API error other than "not found"), always with one line and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, NoCredentialsError

from hastack.plan.planfile import PlanFileError, load_plan
from hastack.verify.aws import (
    AwsApiError,
    AwsClients,
    Finding,
    PlanError,
    plan_targets,
    resolve_bucket_names,
    verify,
)
from hastack.verify.gcp import GcpApiError

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
COLUMNS = ("check", "resource", "region", "status")


class UsageError(ValueError):
    """Something the user gave cannot be used; the message says what and how to fix it."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hastack verify",
        description="Check a deployed AWS or GCP stack against the HA invariants of its "
                    "plan (read-only cloud calls with the caller's credentials).")
    parser.add_argument("--plan", type=Path, required=True,
                        help="the stack's plan, build/plan/<stack>.json")
    parser.add_argument("--outputs", type=Path,
                        help="stack outputs as written by `pulumi stack output --json` "
                             "(gives the live bucket names)")
    parser.add_argument("--bucket", action="append", default=[], metavar="LOGICAL=NAME",
                        help="live name of a plan bucket; LOGICAL is its plan resource name "
                             "or stack output key (repeatable; overrides --outputs)")
    parser.add_argument("--json", type=Path, dest="json_path",
                        help="also write the findings as JSON to this file")
    return parser


def _read_json_object(path: Path, what: str) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {what} {path}: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise UsageError(f"{what} {path} is not JSON: {error}") from error
    if not isinstance(loaded, dict):
        raise UsageError(f"{what} {path} is not a JSON object")
    return loaded


def parse_bucket_overrides(values: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for value in values:
        logical, sep, name = value.partition("=")
        if not sep or not logical.strip() or not name.strip():
            raise UsageError(f"--bucket {value!r}: expected LOGICAL=NAME")
        overrides[logical.strip()] = name.strip()
    return overrides


def render_table(findings: Sequence[Finding]) -> str:
    rows = [(f.check, f.resource, f.region, f.status.upper(), f.detail) for f in findings]
    header = (*(c.upper() for c in COLUMNS), "DETAIL")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(COLUMNS))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def summary_line(stack: str, findings: Sequence[Finding]) -> str:
    counts = Counter(f.status for f in findings)
    verdict = "FAILED" if counts["fail"] else "passed"
    return (f"verify {stack}: {len(findings)} checks, {counts['pass']} passed, "
            f"{counts['warn']} warning(s), {counts['fail']} failed: {verdict}")


def report_document(plan_path: Path, plan: dict[str, Any],
                    findings: Sequence[Finding]) -> dict[str, Any]:
    counts = Counter(f.status for f in findings)
    return {
        "plan": str(plan_path),
        "stack": plan.get("stack"),
        "passed": not counts["fail"],
        "summary": {status: counts[status] for status in ("pass", "warn", "fail")},
        "findings": [asdict(f) for f in findings],
    }


def _findings(plan: dict[str, Any], args: argparse.Namespace) -> list[Finding] | None:
    """The findings on the plan's cloud; None when the plan has nothing to check."""
    if plan.get("cloud") == "gcp":
        from hastack.verify import gcp

        if args.bucket:
            raise UsageError("--bucket is for AWS plans: a GCP plan names its buckets")
        gcp_targets = gcp.plan_targets(plan)
        if gcp_targets.count() == 0:
            return None
        return gcp.verify(gcp_targets, gcp_services())
    outputs = _read_json_object(args.outputs, "stack outputs") if args.outputs else None
    overrides = parse_bucket_overrides(args.bucket)
    targets = plan_targets(plan, resolve_bucket_names(plan, outputs, overrides))
    if targets.count() == 0:
        return None
    return verify(targets, AwsClients())


def gcp_services() -> Any:
    """Discovery clients with the caller's Application Default Credentials."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    from hastack.failover.gcp import SCOPES, discovery_services

    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as error:
        raise UsageError("no Google credentials: run `gcloud auth application-default login` "
                         "or set GOOGLE_APPLICATION_CREDENTIALS (hastack verify only reads)"
                         ) from error
    return discovery_services(credentials=credentials)


def _run(args: argparse.Namespace) -> int:
    plan = load_plan(args.plan)
    stack = str(plan.get("stack") or args.plan.stem)
    findings = _findings(plan, args)
    if findings is None:
        print(f"verify {stack}: the plan has nothing hastack verify checks")
        return EXIT_OK
    print(render_table(findings))
    print()
    print(summary_line(stack, findings))
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        document = report_document(args.plan, plan, findings)
        args.json_path.write_text(json.dumps(document, indent=2) + "\n")
    return EXIT_DRIFT if any(f.status == "fail" for f in findings) else EXIT_OK


def verify_main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error or the help
        return int(exit_.code or 0) if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return _run(args)
    except (UsageError, PlanError, PlanFileError) as error:
        print(f"error: {error}", file=sys.stderr)
    except NoCredentialsError:
        print("error: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
              "AWS_SECRET_ACCESS_KEY, or run under a role (hastack verify only reads)",
              file=sys.stderr)
    except (AwsApiError, GcpApiError) as error:
        print(f"error: {error}", file=sys.stderr)
    except BotoCoreError as error:  # unreachable endpoint, partial credentials, ...
        print(f"error: AWS SDK: {error}", file=sys.stderr)
    except OSError as error:  # the --json report could not be written
        print(f"error: {error}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(verify_main(sys.argv[1:]))
