"""Every customer-managed key rotates, has a cancellable deletion window, and prod protects it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.kms import customer_managed_key, key_deletion_window
from components.base import Protection, Tier
from hastack.plan.runner import run_program
from tests.conftest import STACK_PLANS


@pytest.mark.parametrize(("tier", "window", "protected"),
                         [("dev", 7, False), ("staging", 30, False), ("prod", 30, True)])
def test_key_defaults_per_tier(tier: Tier, window: int, protected: bool) -> None:
    def program() -> None:
        provider = aws.Provider("east", region="us-east-1")
        customer_managed_key("k", description="test", tier=tier,
                             protection=Protection.for_tier(tier), tags={"a": "b"},
                             opts=pulumi.ResourceOptions(provider=provider))

    recording = run_program(program, project="hastack", stack="kms", config={})
    (key,) = [r for r in recording.registrations if r.type == "aws:kms/key:Key"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == window == key_deletion_window(tier)
    assert key.protect is protected and key.retain_on_delete is protected


@STACK_PLANS
def test_every_platform_key_uses_the_helper(stack_plan: Any) -> None:
    """All keys of the prod plan share the helper's settings (no hand-rolled keys)."""
    recording = stack_plan("prod").recording
    keys = [r for r in recording.registrations if r.type == "aws:kms/key:Key"]
    assert len(keys) >= 10
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["deletionWindowInDays"] == 30, key.name
        assert key.protect and key.retain_on_delete, key.name
