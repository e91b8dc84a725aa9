"""Per-tier tuning a team owns: `policies/overrides/<tier>.json`, merged over the catalogue.

`policies/config/<tier>.json` is generated (`make policy-config`) from the rules'
own per-tier settings and the tier profile's floors, then from this file, so a team
changes a threshold or an enforcement level here and regenerates; the tests compare
the committed config with that rendering and keep passing. The file is checked
against `policies/overrides.schema.json` (generated from the catalogue too): an
unknown rule or setting, a wrong type or an unknown level is one clear error.

    {
      "$schema": "../overrides.schema.json",
      "s3-noncurrent-version-expiry": {"maxNoncurrentDays": 180},
      "rds-performance-insights": {"enforcementLevel": "advisory"}
    }
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

OVERRIDES_DIR = Path(__file__).resolve().parents[1] / "overrides"
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "overrides.schema.json"
LEVELS = ("mandatory", "advisory", "disabled")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "string": (str,), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}


class OverrideError(ValueError):
    """An override file that names something the pack does not have."""


def schema(rules: Iterable[Any]) -> dict[str, Any]:
    """JSON Schema of an override file: one optional entry per rule, its settings typed."""
    properties: dict[str, Any] = {"$schema": {"type": "string"}}
    for rule in rules:
        entry: dict[str, Any] = {"enforcementLevel": {"enum": list(LEVELS)}}
        for name, value in sorted(rule.settings.items()):
            entry[name] = dict(value.schema)
        properties[rule.name] = {"type": "object", "description": rule.description,
                                 "properties": entry, "additionalProperties": False}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "hastack policy overrides for one tier (policies/overrides/<tier>.json)",
            "type": "object", "properties": properties, "additionalProperties": False}


def render_schema(rules: Iterable[Any]) -> str:
    return json.dumps(schema(rules), indent=2, sort_keys=True) + "\n"


def load_overrides(tier: str, rules: Iterable[Any],
                   directory: Path = OVERRIDES_DIR) -> dict[str, dict[str, Any]]:
    """The validated overrides of `tier` ({} when the file does not exist)."""
    path = directory / f"{tier}.json"
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise OverrideError(f"{path}: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise OverrideError(f"{path}: must be a JSON object of rule names")
    by_name = {rule.name: rule for rule in rules}
    overrides: dict[str, dict[str, Any]] = {}
    for name, entry in sorted(document.items()):
        if name == "$schema":
            continue
        if name not in by_name:
            raise OverrideError(f"{path}: unknown rule '{name}'{_hint(name, by_name)}")
        if not isinstance(entry, dict):
            raise OverrideError(f"{path}: {name}: must be an object")
        overrides[name] = _checked(path, name, entry, by_name[name].settings)
    return overrides


def _checked(path: Path, name: str, entry: Mapping[str, Any],
             settings: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in entry.items():
        if key == "enforcementLevel":
            if value not in LEVELS:
                raise OverrideError(f"{path}: {name}.enforcementLevel: {value!r}; "
                                    f"allowed: {', '.join(LEVELS)}")
            continue
        if key not in settings:
            allowed = ", ".join(["enforcementLevel", *sorted(settings)])
            raise OverrideError(f"{path}: {name}.{key}: unknown setting"
                                f"{_hint(key, settings)}; allowed: {allowed}")
        kind = settings[key].schema["type"]
        if not isinstance(value, _JSON_TYPES[kind]) or (
                kind in ("integer", "number") and isinstance(value, bool)):
            raise OverrideError(f"{path}: {name}.{key}: must be a JSON {kind}, got {value!r}")
    return dict(entry)


def _hint(word: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, sorted(candidates), n=1)
    return f"; did you mean '{match[0]}'?" if match else ""
