"""Typed, tier-aware stack configuration."""

from hastack.config.errors import ConfigError
from hastack.config.loader import load_from_engine_values, load_settings
from hastack.config.model import StackConfig

__all__ = ["ConfigError", "StackConfig", "load_from_engine_values", "load_settings"]
