"""Mock outputs and data sources for the AWS database, cache, bucket and DNS components."""

from __future__ import annotations
