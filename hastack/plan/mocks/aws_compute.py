"""Mock outputs and data sources for the AWS network and EKS components."""

from __future__ import annotations
