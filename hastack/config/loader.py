"""Read a stack's `hastack:*` configuration into a validated `StackConfig`.

The engine hands a program its configuration as strings: scalars as text,
objects and lists as JSON. `load_from_engine_values` takes exactly that shape, so
`pulumi up` and the offline plan (which encodes the stack file the same way)
validate through one path and report the same errors.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from hastack.config.errors import ConfigError
from hastack.config.model import StackConfig, validate_semantics
from hastack.config.tiers import CLOUDS, TIERS, deep_merge, tier_defaults

NAMESPACE = "hastack"


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
    """Validate the engine's config map; raise `ConfigError` listing every problem."""
    return load_settings(user_settings(engine_config), source)


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
    merged = deep_merge(defaults, settings)
    try:
        config = StackConfig.model_validate(merged)
    except ValidationError as exc:
        problems += [
            problem for problem in _translate(exc, merged)
            if problem[0] not in ("cloud", "tier")
        ]
        raise ConfigError(source, problems) from None
    if problems:
        raise ConfigError(source, problems)
    semantic = validate_semantics(config)
    if semantic:
        raise ConfigError(source, semantic)
    return config


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
