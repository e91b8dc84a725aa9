"""Pick the composition for a stack: its layer, then its cloud."""

from __future__ import annotations

from typing import Any

import pulumi

from hastack.config import StackConfig
from hastack.config.layers import WorkloadsStack


def build_platform(stack: str, config: StackConfig | WorkloadsStack) -> dict[str, Any]:
    """Build one stack (infrastructure or workloads) and return the outputs to export."""
    if isinstance(config, WorkloadsStack):
        from components.workloads.platform import build_workloads

        return build_workloads(stack, config)
    name = f"hastack-{stack}"
    if config.cloud == "aws":
        from components.aws.platform import AwsPlatform

        aws_platform = AwsPlatform(name, config)
        return aws_platform.outputs
    from components.gcp.platform import GcpPlatform

    gcp_platform = GcpPlatform(name, config, pulumi.ResourceOptions())
    return gcp_platform.outputs
