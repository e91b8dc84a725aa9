"""What a policy check tells people and tools: console table, JSON, SARIF 2.1.0.

SARIF is what GitHub code scanning ingests. Policy findings are about cloud
resources, not lines of code, so each result points at what a reviewer changes: the
line of the stack key that controls it (`stackkeys.py`), or the source of the owning
component when no key does, and names the resource URN and its component as logical
locations. The console groups repeats of one rule on one line with a count, and says
which key to change and how.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hastack.check.analyzer import CheckResult, Finding, PolicyInfo
from hastack.check.stackkeys import component_location, key_location, stack_key_of

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/hastack/hastack#policy-check"
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "error"}
# GitHub ranks security alerts by this property (a CVSS-like number as a string).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
SEVERITY_ORDER = ("critical", "high", "medium", "low", "unspecified")
ENFORCEMENT_ORDER = ("mandatory", "advisory")


# --- console ---------------------------------------------------------------------------

def console(result: CheckResult, *, limit: int = 200) -> str:
    lines = [
        f"Policy check of stack {result.stack} (tier {result.tier}, {result.cloud}) with "
        f"{result.pack_name}@{result.pack_version}",
        f"  {result.resources_analyzed} resources analyzed, {result.resources_total} in "
        f"AnalyzeStack, {len(result.policies)} policies, {result.elapsed_seconds:.1f}s"
        + (" [preview: computed inputs unknown]" if result.preview_unknowns else ""),
    ]
    if not result.findings:
        lines.append("  no violations")
    remediations = {p.name: p.remediation for p in result.policies}
    shown = 0
    for enforcement in ENFORCEMENT_ORDER:
        for severity in SEVERITY_ORDER:
            group = [f for f in result.findings
                     if f.enforcement == enforcement and f.severity == severity]
            if not group:
                continue
            lines.append("")
            lines.append(f"{enforcement.upper()} / {severity} ({len(group)})")
            for policy, repeats in _by_policy(group):
                if shown >= limit:
                    break
                lines += _group_lines(policy, repeats, remediations, result.stack_file)
                shown += len(repeats)
    if shown >= limit:
        lines.append(f"  ... {len(result.findings) - shown} more in the JSON report")
    if result.deferred:
        counts = Counter(d.policy for d in result.deferred)
        lines.append("")
        lines.append("Deferred until `pulumi up` (inputs unknown now): "
                     + ", ".join(f"{name} x{count}" for name, count in sorted(counts.items())))
    totals = Counter(f.enforcement for f in result.findings)
    lines.append("")
    lines.append(f"{totals.get('mandatory', 0)} mandatory, {totals.get('advisory', 0)} "
                 f"advisory violation(s): {'FAILED' if not result.passed else 'passed'}")
    return "\n".join(lines)


def _one_line(finding: Finding) -> str:
    return " ".join(finding.message.split())


def _by_policy(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.policy, []).append(finding)
    return sorted(grouped.items())


def _group_lines(policy: str, repeats: list[Finding], remediations: dict[str, str],
                 stack_file: str, shown_names: int = 3) -> list[str]:
    """One rule's findings: a count, the resources, the key to change and the fix."""
    first = repeats[0]
    names = sorted({f.resource_name or "(stack)" for f in repeats})
    where = ", ".join(names[:shown_names]) + (
        f" and {len(names) - shown_names} more" if len(names) > shown_names else "")
    count = f" x{len(repeats)}" if len(repeats) > 1 else ""
    lines = [f"  {policy}{count}  {where}: {_one_line(first)}"]
    remediation = " ".join(remediations.get(policy, "").split())
    key = stack_key_of(remediation)
    if key:
        lines.append(f"      change hastack:{key} in {stack_file}: {remediation}")
    elif remediation:
        lines.append(f"      fix (no stack key controls this; in the component): {remediation}")
    return lines


# --- JSON ------------------------------------------------------------------------------

def to_json(result: CheckResult) -> dict[str, Any]:
    document = asdict(result)
    document.pop("stderr_tail", None)
    remediations = {p.name: p.remediation for p in result.policies}
    for finding in document["findings"]:
        remediation = " ".join(remediations.get(finding["policy"], "").split())
        finding["remediation"] = remediation
        finding["stackKey"] = stack_key_of(remediation)
    document["passed"] = result.passed
    document["summary"] = dict(Counter(f.enforcement for f in result.findings))
    return document


# --- SARIF -----------------------------------------------------------------------------

def _rule(policy: PolicyInfo) -> dict[str, Any]:
    help_text = (f"{policy.description}\n\nRemediation: {policy.remediation}\n\n"
                 f"Compliance: {', '.join(policy.tags)}")
    rule: dict[str, Any] = {
        "id": policy.name,
        "name": "".join(part.title() for part in policy.name.split("-")),
        "shortDescription": {"text": policy.description},
        "fullDescription": {"text": policy.description},
        "help": {
            "text": help_text,
            "markdown": (f"{policy.description}\n\n**Remediation:** {policy.remediation}\n\n"
                         f"**Framework:** {policy.framework} {policy.reference}\n\n"
                         + "".join(f"- `{tag}`\n" for tag in policy.tags)),
        },
        "defaultConfiguration": {"level": SARIF_LEVEL.get(policy.enforcement, "none")},
        "properties": {
            "tags": ["policy", policy.kind, *policy.tags],
            "enforcementLevel": policy.enforcement,
            "severity": policy.severity,
            "framework": policy.framework,
            "reference": policy.reference,
        },
    }
    if policy.severity in SECURITY_SEVERITY:
        rule["properties"]["security-severity"] = SECURITY_SEVERITY[policy.severity]
    if policy.url:
        rule["helpUri"] = policy.url
    return rule


def _stack_file_line(root: Path, stack_file: str) -> int:
    """The line of the stack file's `config:` key (the block reviewers change), else 1."""
    path = root / stack_file
    if path.is_file():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.startswith("config:"):
                return number
    return 1


def _location(finding: Finding, remediation: str, root: Path, stack_file: str,
              fallback_line: int) -> tuple[str, int, str | None]:
    """(file, line, stack key): the key's line in the stack file, else the component's
    source, else the stack file's `config:` line."""
    key = stack_key_of(remediation)
    if key:
        line = key_location(root, stack_file, key)
        if line is not None:
            return stack_file, line, key
    source = component_location(root, finding.component)
    if source is not None:
        return source[0], source[1], None
    return stack_file, fallback_line, key


def _result(finding: Finding, rule_index: dict[str, int], stack_file: str, line: int,
            stack_urn: str) -> dict[str, Any]:
    logical = [{
        "fullyQualifiedName": finding.urn or stack_urn,
        "name": finding.resource_name or "stack",
        "kind": "resource" if finding.urn else "module",
    }]
    if finding.component:
        logical.append({"fullyQualifiedName": finding.component,
                        "name": finding.component.rsplit("::", 1)[-1], "kind": "module"})
    fingerprint = hashlib.sha256(
        f"{finding.policy}|{finding.urn}|{finding.message}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": finding.policy,
        "level": SARIF_LEVEL.get(finding.enforcement, "note"),
        "message": {"text": (f"{finding.resource_name + ': ' if finding.resource_name else ''}"
                             f"{_one_line(finding)}")},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": stack_file},
                "region": {"startLine": line},
            },
            "logicalLocations": logical,
        }],
        "partialFingerprints": {"hastackPolicyFinding/v1": fingerprint},
        "properties": {
            "enforcementLevel": finding.enforcement,
            "severity": finding.severity,
            "urn": finding.urn,
            "resourceType": finding.resource_type,
            "component": finding.component,
            "kind": finding.kind,
        },
    }
    if finding.policy in rule_index:
        result["ruleIndex"] = rule_index[finding.policy]
    return result


def _placed(finding: Finding, rule_index: dict[str, int], result: CheckResult, root: Path,
            fallback_line: int, stack_urn: str, remediations: dict[str, str]) -> dict[str, Any]:
    remediation = " ".join(remediations.get(finding.policy, "").split())
    uri, line, key = _location(finding, remediation, root, result.stack_file, fallback_line)
    entry = _result(finding, rule_index, uri, line, stack_urn)
    entry["properties"]["stackKey"] = key
    if key:
        entry["message"]["text"] += f" Change hastack:{key}: {remediation}"
    elif remediation:
        entry["message"]["text"] += f" Fix: {remediation}"
    return entry


def to_sarif(result: CheckResult, root: Path | None = None) -> dict[str, Any]:
    root = root or Path.cwd()
    rules = [_rule(policy) for policy in result.policies]
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    line = _stack_file_line(root, result.stack_file)
    remediations = {p.name: p.remediation for p in result.policies}
    stack_urn = f"urn:pulumi:{result.stack}::{result.project}::pulumi:pulumi:Stack::" \
                f"{result.project}-{result.stack}"
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": result.pack_name,
                "version": result.pack_version,
                "semanticVersion": result.pack_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "automationDetails": {"id": f"hastack-check/{result.stack}/"},
            "results": [_placed(f, rule_index, result, root, line, stack_urn, remediations)
                        for f in result.findings],
            "properties": {
                "stack": result.stack, "tier": result.tier, "cloud": result.cloud,
                "previewUnknowns": result.preview_unknowns,
                "deferred": [asdict(d) for d in result.deferred],
            },
        }],
    }


def write_reports(result: CheckResult, out_dir: Path, root: Path | None = None
                  ) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{result.stack}.json"
    sarif_path = out_dir / f"{result.stack}.sarif"
    json_path.write_text(json.dumps(to_json(result), indent=2, sort_keys=True) + "\n")
    sarif_path.write_text(json.dumps(to_sarif(result, root), indent=2) + "\n")
    return json_path, sarif_path
