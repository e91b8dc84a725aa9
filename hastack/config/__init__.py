"""Typed, tier-aware stack configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hastack.config.errors import ConfigError

if TYPE_CHECKING:
    from hastack.config.loader import load_from_engine_values, load_settings
    from hastack.config.model import StackConfig

__all__ = ["ConfigError", "StackConfig", "load_from_engine_values", "load_settings"]

# The model (pydantic, ~0.2 s to import) loads on first use, not with the package: the
# policy pack's host imports only the tier floors (hastack.config.tiers), once per check.
_LAZY = {"StackConfig": "hastack.config.model",
         "load_from_engine_values": "hastack.config.loader",
         "load_settings": "hastack.config.loader"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
