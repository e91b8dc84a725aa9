"""Compare two plans resource by resource, property by property.

Resources are matched by their URN without the stack segment (type chain and
name). Names embed the stack (`hastack-prod-…`) and the regions, so both are
normalised first — the stack name to `{stack}`, each region to its role
(`{primary}`, `{secondary}`) — and `dev` and `prod` line up wherever they build
the same thing. The `region` field itself is compared unnormalised.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

# Fields of a plan entry worth comparing besides inputs.
COMPARED_FIELDS = ("region", "protect", "retainOnDelete", "ignoreChanges", "secretInputs",
                   "deleteBeforeReplace", "customTimeouts")


@dataclass
class PlanDiff:
    left: str
    right: str
    only_left: list[str] = field(default_factory=list)
    only_right: list[str] = field(default_factory=list)
    changed: dict[str, list[tuple[str, Any, Any]]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not (self.only_left or self.only_right or self.changed)


def resource_key(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type chain>::<name>
    parts = urn.split("::")
    return "::".join(parts[2:])


class Normaliser:
    """Rewrites a plan's stack name and regions into role placeholders."""

    def __init__(self, plan: dict[str, Any]) -> None:
        stack = str(plan.get("stack", ""))
        roles = plan.get("regions") or {}
        # Longest first, so "us-east-1" never rewrites part of a longer name.
        pairs = [(f"hastack-{stack}", "hastack-{stack}")] if stack else []
        pairs += [(region, f"{{{role}}}") for role, region in roles.items() if region]
        self._pairs = sorted(pairs, key=lambda pair: -len(pair[0]))

    def text(self, value: str) -> str:
        for old, new in self._pairs:
            value = value.replace(old, new)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    if isinstance(value, list) and value and any(isinstance(i, (dict, list)) for i in value):
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def diff_plans(left: dict[str, Any], right: dict[str, Any]) -> PlanDiff:
    result = PlanDiff(left.get("stack", "left"), right.get("stack", "right"))
    left_norm, right_norm = Normaliser(left), Normaliser(right)
    left_resources = {left_norm.text(resource_key(r["urn"])): r for r in left["resources"]}
    right_resources = {right_norm.text(resource_key(r["urn"])): r for r in right["resources"]}
    result.only_left = sorted(set(left_resources) - set(right_resources))
    result.only_right = sorted(set(right_resources) - set(left_resources))
    for key in sorted(set(left_resources) & set(right_resources)):
        changes = _entry_changes(left_resources[key], right_resources[key],
                                 left_norm, right_norm)
        if changes:
            result.changed[key] = changes
    return result


def _entry_changes(left: dict[str, Any], right: dict[str, Any], left_norm: Normaliser,
                   right_norm: Normaliser) -> list[tuple[str, Any, Any]]:
    changes = []
    left_flat = flatten(left_norm.value(left.get("inputs", {})), "inputs")
    right_flat = flatten(right_norm.value(right.get("inputs", {})), "inputs")
    for path in sorted(set(left_flat) | set(right_flat)):
        a, b = left_flat.get(path, "<absent>"), right_flat.get(path, "<absent>")
        if a != b:
            changes.append((path, a, b))
    for name in COMPARED_FIELDS:
        if left.get(name) != right.get(name):
            changes.append((name, left.get(name), right.get(name)))
    return changes


def render_diff(result: PlanDiff, limit_per_resource: int = 40) -> str:
    if result.identical:
        return f"{result.left} and {result.right}: no differences"
    lines = [f"diff {result.left} → {result.right}"]
    lines.append(f"  only in {result.left}: {len(result.only_left)}, "
                 f"only in {result.right}: {len(result.only_right)}, "
                 f"changed: {len(result.changed)}")
    for key in result.only_left:
        lines.append(f"- {key}")
    for key in result.only_right:
        lines.append(f"+ {key}")
    for key, changes in result.changed.items():
        lines.append(f"~ {key}")
        for path, a, b in changes[:limit_per_resource]:
            lines.append(f"    {path}: {_show(a)} → {_show(b)}")
        if len(changes) > limit_per_resource:
            lines.append(f"    … {len(changes) - limit_per_resource} more")
    return "\n".join(lines)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


# --- `hastack diff --summary` ----------------------------------------------------------
# What a reviewer asks of a diff is "what kind of thing changes": the summary groups
# resources added and removed by type, and property changes by property name, and
# hides what differs between any two environments without meaning anything: tags and
# labels, the region field (names are already normalised to roles) and mock IDs
# (values that are equal once their generated hex runs are masked).

_HEX_RUN = re.compile(r"[0-9a-f]{6,}(?:-[0-9a-f]{4,})*", re.IGNORECASE)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _HEX_RUN.sub("<id>", value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def noise_kind(path: str, a: Any, b: Any) -> str | None:
    """Why a change is noise ("tags", "region", "mock IDs"), or None if it matters."""
    parts = re.split(r"[.\[]", path)
    if any(part in ("tags", "tagsAll", "labels", "userLabels", "resourceLabels",
                    "defaultTags") for part in parts):
        return "tags and labels"
    if path == "region":
        return "region names"
    if a != b and _masked(a) == _masked(b):
        return "mock IDs"
    return None


def _type_of(key: str) -> str:
    return key.split("::")[0].split("$")[-1]


def _property_of(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path.removeprefix("inputs."))


def render_summary(result: PlanDiff) -> str:
    if result.identical:
        return f"{result.left} and {result.right}: no differences"
    lines = [f"diff {result.left} → {result.right} (summary)"]
    for sign, keys, where in (("+", result.only_right, result.right),
                              ("-", result.only_left, result.left)):
        by_type = Counter(_type_of(key) for key in keys)
        if by_type:
            lines.append(f"{'added' if sign == '+' else 'removed'} (only in {where}): "
                         f"{len(keys)} resources")
            lines += [f"  {sign} {count:>3} {kind}" for kind, count in sorted(by_type.items())]
    by_property: dict[str, list[tuple[str, Any, Any]]] = defaultdict(list)
    hidden: Counter[str] = Counter()
    for key, changes in result.changed.items():
        for path, a, b in changes:
            if noise := noise_kind(path, a, b):
                hidden[noise] += 1
            else:
                by_property[_property_of(path)].append((key, a, b))
    if by_property:
        lines.append(f"changed: {sum(len(v) for v in by_property.values())} properties "
                     f"on {len({k for v in by_property.values() for k, _, _ in v})} resources")
    for prop, entries in sorted(by_property.items()):
        values = {(_show(a), _show(b)) for _, a, b in entries}
        shown = (f"{next(iter(values))[0]} → {next(iter(values))[1]}" if len(values) == 1
                 else f"{len(values)} different changes")
        types = sorted({_type_of(key) for key, _, _ in entries})
        lines.append(f"  ~ {prop} x{len(entries)}: {shown}  ({', '.join(types[:3])}"
                     f"{' …' if len(types) > 3 else ''})")
    if hidden:
        lines.append("hidden: " + ", ".join(f"{count} {kind}" for kind, count in
                                            sorted(hidden.items()))
                     + " (hastack diff without --summary shows them)")
    return "\n".join(lines)
