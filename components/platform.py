"""Pick the cloud's platform composition for a stack."""

from __future__ import annotations

from typing import Any

import pulumi

from hastack.config import StackConfig


def build_platform(stack: str, config: StackConfig) -> dict[str, Any]:
    """Build one environment and return the stack outputs to export."""
    name = f"hastack-{stack}"
    if config.cloud == "aws":
        from components.aws.platform import AwsPlatform

        aws_platform = AwsPlatform(name, config)
        return aws_platform.outputs
    from components.gcp.platform import GcpPlatform

    gcp_platform = GcpPlatform(name, config, pulumi.ResourceOptions())
    return gcp_platform.outputs
