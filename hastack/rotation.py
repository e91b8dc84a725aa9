"""Bump the credential rotation labels of infrastructure stack files (scheduled rotation).

RDS-managed master passwords do not work for Aurora global database members and
ElastiCache has no managed AUTH rotation (README, "Credential rotation"), so
rotation is a label in the stack file: a new `database.credentialsRotation` /
`cache.credentialsRotation` regenerates the credential on the next `pulumi up`.
`.github/workflows/rotate-credentials.yml` runs this monthly and opens a pull
request, so every rotation is reviewed, previewed and deployed like any change.

    python -m hastack.rotation --label 2026-12 [stacks/Pulumi.<env>.yaml ...]

The edit is textual (every comment and line stays), re-parsed to prove that only
the labels changed, and written atomically. GCP stacks get no cache label:
Memorystore keeps its own AUTH string (the platform refuses the key there).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from hastack.config.model import ROTATION_LABEL
from hastack.failover.stackfile_edit import StackFileEditError, _atomic_write, _config

KEY = "credentialsRotation"


def sections_of(config: dict[str, Any]) -> list[str]:
    """Which `hastack:<section>` blocks of this infrastructure stack carry a label."""
    if config.get("hastack:layer", "infrastructure") != "infrastructure":
        return []
    sections = []
    for section in ("database", "cache"):
        block = config.get(f"hastack:{section}") or {}
        if isinstance(block, dict) and block.get("enabled") is False:
            continue
        if section == "cache" and config.get("hastack:cloud") == "gcp":
            continue
        sections.append(section)
    return sections


def _set_in_block(text: str, section: str, label: str) -> str:
    lines = text.splitlines(keepends=True)
    head = f"  hastack:{section}:"
    start = next((i for i, line in enumerate(lines) if line.rstrip() == head
                  or line.startswith(head + " ")), None)
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join([*lines, f"{head}\n", f"    {KEY}: {label}\n"])
    if lines[start].split(":", 2)[-1].strip() not in ("", "{}"):
        raise StackFileEditError(f"hastack:{section} is written inline; edit it by hand")
    lines[start] = head + "\n"
    end = start + 1
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    pattern = re.compile(rf"^    {KEY}:[ \t]*[^#\n]*?([ \t]*(#.*)?)$")
    for index in range(start + 1, end):
        if match := pattern.match(lines[index].rstrip("\n")):
            lines[index] = f"    {KEY}: {label}{match.group(1)}\n"
            return "".join(lines)
    lines.insert(start + 1, f"    {KEY}: {label}\n")
    return "".join(lines)


def bump(path: Path, label: str) -> list[str]:
    """Set the labels in `path` to `label`; returns the sections changed."""
    if not re.fullmatch(ROTATION_LABEL, label):
        raise StackFileEditError(f"label {label!r} must match {ROTATION_LABEL}")
    text = path.read_text()
    before = _config(text, path)
    changed = []
    expected = yaml.safe_load(text)["config"]
    for section in sections_of(before):
        block = before.get(f"hastack:{section}") or {}
        if isinstance(block, dict) and block.get(KEY) == label:
            continue
        text = _set_in_block(text, section, label)
        expected[f"hastack:{section}"] = {**(block or {}), KEY: label}
        changed.append(section)
    if not changed:
        return []
    if _config(text, path) != expected:
        raise StackFileEditError(f"{path}: setting {KEY} would change other keys; "
                                 "edit it by hand")
    _atomic_write(path, text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hastack.rotation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="the new rotation label, e.g. 2026-12")
    parser.add_argument("stack_files", nargs="*", type=Path,
                        help="infrastructure stack files (default: every stacks/Pulumi.*.yaml)")
    args = parser.parse_args(argv)
    files = args.stack_files or sorted(Path("stacks").glob("Pulumi.*.yaml"))
    try:
        for path in files:
            if changed := bump(path, args.label):
                print(f"{path}: {', '.join(changed)} -> {args.label}")
    except (StackFileEditError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
