"""Where a policy finding is fixed: the stack key to change, or the component's source.

A rule's remediation names the stack key that controls what it checks ("Raise
database.backupRetentionDays …"); `stack_key_of` finds it among the keys the
config model knows. `key_location` finds that key's line in the stack file (the
section's line when the value is the tier default, the `hastack:tier` line when even
the section is absent: the tier chose it). When no key controls a finding, the
reviewer changes code: `component_location` finds the line declaring the owning
component's type token.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from hastack.config.model import StackConfig

# Top-level keys a remediation may name without a dot; other single words ("tier",
# "tags", "cloud") are too common in provider property names to be matched safely.
_TOP_LEVEL = ("zoneCount", "deletionProtection", "protectStatefulResources", "orchestrator")


@cache
def known_keys() -> tuple[str, ...]:
    """Every stack key (camelCase, dotted), longest first."""
    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            key = f"{prefix}{field.alias or name}"
            nested = _model_of(field.annotation)
            if nested is not None:
                walk(nested, f"{key}.")
            elif "." in key or key in _TOP_LEVEL:
                keys.append(key)

    walk(StackConfig, "")
    return tuple(sorted(keys, key=len, reverse=True))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in getattr(annotation, "__args__", None) or (annotation,):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def stack_key_of(remediation: str) -> str | None:
    """The first stack key the remediation names, or None."""
    for key in known_keys():
        if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", remediation):
            return key
    return None


def key_location(root: Path, stack_file: str, key: str) -> int | None:
    """The 1-based line in the stack file to change for `key`, or None without a file."""
    path = root / stack_file
    if not path.is_file():
        return None
    try:
        node = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    config = _child(node, "config")
    if config is None:
        return 1
    parts = key.split(".")
    section = _child_node(config, f"hastack:{parts[0]}") or _child_node(config, parts[0])
    if section is None:
        tier = _child_node(config, "hastack:tier")
        return (tier or _child_node(node, "config") or config).start_mark.line + 1
    line = section.start_mark.line + 1
    value = _child(node=config, key=section.value)
    for part in parts[1:]:
        found = _child_node(value, part) if value is not None else None
        if found is None:
            break
        line = found.start_mark.line + 1
        value = _child(value, part)
    return line


def _child_node(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    """The key node `key` of a mapping node."""
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, _ in mapping.value:
        if key_node.value == key:
            return key_node
    return None


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of `key` in a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if key_node.value == key:
            return value_node
    return None


@cache
def _type_tokens(components: Path) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    pattern = re.compile(r"[\"'](hastack:(?:aws|gcp|k8s):[A-Za-z]+)[\"']")
    for source in sorted(components.rglob("*.py")):
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            for token in pattern.findall(line):
                found.setdefault(token, (source.relative_to(components.parent).as_posix(),
                                         number))
    return found


def component_location(root: Path, component_urn: str) -> tuple[str, int] | None:
    """(path, line) declaring the type token of the component in `component_urn`."""
    if not component_urn or "::" not in component_urn:
        return None
    parts = component_urn.split("::")
    if len(parts) < 4:
        return None
    type_token = parts[2].split("$")[-1]
    components = root / "components"
    if not components.is_dir():
        return None
    return _type_tokens(components).get(type_token)
