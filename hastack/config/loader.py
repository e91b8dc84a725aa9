"""Read a stack's `hastack:*` configuration into a validated `StackConfig`.

The engine hands a program its configuration as strings: scalars as text,
objects and lists as JSON. `load_from_engine_values` takes exactly that shape, so
`pulumi up` and the offline plan (which encodes the stack file the same way)
validate through one path and report the same errors.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from hastack.config.errors import ConfigError
from hastack.config.model import StackConfig, validate_semantics
from hastack.config.namespaces import namespace_problems, provider_region_problems
from hastack.config.regions import default_zone_ids
from hastack.config.tiers import CLOUDS, TIERS, deep_merge, tier_defaults

NAMESPACE = "hastack"
# Keys whose value is a version: unquoted, YAML reads 16.10 as the number 16.1.
VERSION_KEYS = ("version", "engineVersion")


def decode_engine_value(raw: Any) -> Any:
    """Turn one engine-encoded config value back into data (objects arrive as JSON)."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def user_settings(engine_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `hastack:` keys of an engine config map, namespace stripped, values decoded."""
    prefix = f"{NAMESPACE}:"
    return {
        key[len(prefix):]: decode_engine_value(value)
        for key, value in sorted(engine_config.items())
        if key.startswith(prefix)
    }


def load_from_engine_values(engine_config: Mapping[str, Any], source: str) -> StackConfig:
    """Validate the engine's config map; raise `ConfigError` listing every problem.

    Besides the `hastack:` keys, the other namespaces are checked (a misspelt
    `hastak:` or `aws:regoin` is read by nobody) and the provider region must agree
    with regions.primary when both are set.
    """
    settings = user_settings(engine_config)
    foreign = namespace_problems(engine_config, NAMESPACE)
    regions = settings.get("regions")
    primary = regions.get("primary") if isinstance(regions, dict) else None
    if settings.get("cloud") in CLOUDS and isinstance(primary, str):
        # Only when both keys are set: a workloads stack may name no provider region.
        foreign += provider_region_problems(engine_config, settings["cloud"], primary)
    try:
        config = load_settings(settings, source)
    except ConfigError as error:
        raise ConfigError(source, error.problems + foreign) from None
    if foreign:
        raise ConfigError(source, foreign)
    return config


def load_settings(settings: dict[str, Any], source: str) -> StackConfig:
    problems: list[tuple[str, str]] = []
    cloud = settings.get("cloud")
    tier = settings.get("tier")
    if cloud not in CLOUDS:
        problems.append(("cloud", _choice_message(cloud, CLOUDS)))
    if tier not in TIERS:
        problems.append(("tier", _choice_message(tier, TIERS)))
    # Even with cloud/tier wrong, validate the rest against some defaults so the user
    # sees every problem in one run.
    defaults = tier_defaults(cloud if cloud in CLOUDS else "aws", tier if tier in TIERS else "dev")
    merged = _with_default_zones(deep_merge(defaults, settings), cloud)
    try:
        config = StackConfig.model_validate(merged)
    except ValidationError as exc:
        schema_problems = [p for p in _translate(exc, merged) if p[0] not in ("cloud", "tier")]
        problems += schema_problems + _semantics_despite(schema_problems, merged, defaults)
        raise ConfigError(source, problems) from None
    if problems:
        raise ConfigError(source, problems)
    semantic = validate_semantics(config)
    if semantic:
        raise ConfigError(source, semantic)
    return config


def _with_default_zones(merged: dict[str, Any], cloud: Any) -> dict[str, Any]:
    """Pin the zones of every region the file leaves unpinned, from the regions table.

    Only well-formed values are filled in; anything else is left for the schema to
    report, so a typo never turns into a silent default.
    """
    regions, count, zones = merged.get("regions"), merged.get("zoneCount"), merged.get("zones")
    if (cloud not in CLOUDS or not isinstance(regions, dict) or not isinstance(count, int)
            or not isinstance(zones if zones is not None else {}, dict)):
        return merged
    pinned = dict(zones or {})
    for region in (regions.get("primary"), regions.get("secondary")):
        if isinstance(region, str) and region not in pinned:
            pinned[region] = default_zone_ids(cloud, region, count)
    return {**merged, "zones": pinned}


def _semantics_despite(schema_problems: list[tuple[str, str]], merged: dict[str, Any],
                       defaults: dict[str, Any]) -> list[tuple[str, str]]:
    """Cross-field problems of a file that also has schema problems.

    So that one run lists every problem, each broken key is put back to its tier
    default (an unknown key is dropped) and the cross-field rules run on the result;
    what they say about the repaired keys themselves is left out, since the user's
    value for those was already reported.
    """
    repaired = copy.deepcopy(merged)
    broken = [_container_path(path) for path, _ in schema_problems]
    if not all(broken):
        return []  # a problem at the root (e.g. a key "0"): nothing sensible to repair
    for path in broken:
        _reset(repaired, defaults, path)
    try:
        config = StackConfig.model_validate(repaired)
    except ValidationError:
        return []
    return [problem for problem in validate_semantics(config)
            if not any(_overlaps(problem[0], path) for path in broken)]


def _container_path(path: str) -> list[str]:
    # "kubernetes.publicAccessCidrs.0" -> reset the whole list, not one element.
    parts = path.split(".")
    for index, part in enumerate(parts):
        if part.isdigit():
            return parts[:index]
    return parts


def _reset(target: dict[str, Any], defaults: dict[str, Any], path: list[str]) -> None:
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            return
        target = target[part]
        defaults = defaults.get(part, {}) if isinstance(defaults, dict) else {}
    last = path[-1]
    if isinstance(defaults, dict) and last in defaults:
        target[last] = copy.deepcopy(defaults[last])
    else:
        target.pop(last, None)


def _overlaps(problem_path: str, broken: list[str]) -> bool:
    joined = ".".join(broken)
    return problem_path == joined or problem_path.startswith(joined + ".") \
        or joined.startswith(problem_path + ".")


def _choice_message(value: Any, allowed: tuple[str, ...]) -> str:
    if value is None:
        return f"required; allowed: {', '.join(allowed)}"
    return f"got {value!r}; allowed: {', '.join(allowed)}"


def _translate(exc: ValidationError, merged: dict[str, Any]) -> list[tuple[str, str]]:
    """Turn pydantic's errors into (stack-file key path, message) pairs."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        path = ".".join(loc)
        kind = error["type"]
        if kind == "extra_forbidden":
            message = _unknown_key_message(loc, merged)
        elif kind == "missing":
            message = "required key is missing"
        elif loc[-1:] and loc[-1] in VERSION_KEYS and isinstance(error.get("input"), (int, float)):
            number = error.get("input")
            message = (f"a version is text; got the number {number} (YAML reads an unquoted "
                       f"16.10 as 16.1): quote it, e.g. {loc[-1]}: \"{number}\"")
        else:
            message = f"{error['msg']}; got {_short(error.get('input'))}"
        problems.append((path, message))
    return problems


def _unknown_key_message(loc: list[str], merged: dict[str, Any]) -> str:
    allowed = _allowed_keys(loc[:-1])
    hint = difflib.get_close_matches(loc[-1], allowed, n=1)
    suggestion = f"did you mean '{hint[0]}'? " if hint else ""
    return f"unknown key; {suggestion}allowed: {', '.join(allowed)}"


def _allowed_keys(parent: list[str]) -> list[str]:
    model: Any = StackConfig
    for part in parent:
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _model_of(annotation: Any) -> Any:
    from pydantic import BaseModel

    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
