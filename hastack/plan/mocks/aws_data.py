"""Mock outputs and data sources for hastack aws_data resources (owned by that component family)."""

from __future__ import annotations
