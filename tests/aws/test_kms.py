"""Every customer-managed key rotates, has a cancellable deletion window, and prod protects it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.kms import customer_managed_key, key_deletion_window
from components.base import Protection, Tier
from hastack.plan.runner import run_program


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


def test_every_platform_key_uses_the_helper(stack_plan: Any) -> None:
    """All keys of the prod plan share the helper's settings (no hand-rolled keys)."""
    recording = stack_plan("prod").recording
    keys = [r for r in recording.registrations if r.type == "aws:kms/key:Key"]
    assert len(keys) >= 10
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["deletionWindowInDays"] == 30, key.name
        assert key.protect and key.retain_on_delete, key.name


def test_key_policy_scopes_use_and_never_locks_the_account_out() -> None:
    import json

    from components.aws.kms import ADMIN_ACTIONS, KeyScope, key_policy

    policy = json.loads(key_policy(KeyScope(
        "aws", "111122223333", "us-east-1", services=("rds", "secretsmanager"),
        role_arns=("arn:aws:iam::111122223333:role/eks",), log_groups=("/a",))))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    admin = by_sid["AccountAdministersKeyThroughIam"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    # PutKeyPolicy stays with the account (no lockout); CreateGrant does not.
    assert "kms:Put*" in admin["Action"] and "kms:CreateGrant" not in ADMIN_ACTIONS
    assert not any(a in admin["Action"] for a in ("kms:*", "kms:Decrypt", "kms:Create*"))
    service = by_sid["UseThroughServices"]["Condition"]["StringEquals"]
    assert service == {"kms:CallerAccount": "111122223333",
                       "kms:ViaService": ["rds.us-east-1.amazonaws.com",
                                          "secretsmanager.us-east-1.amazonaws.com"]}
    assert by_sid["UseByRoles"]["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/eks"]}}
    assert every_statement_but_admin_is_conditional(policy)


def every_statement_but_admin_is_conditional(policy: dict) -> bool:  # type: ignore[type-arg]
    return all("Condition" in s for s in policy["Statement"]
               if s["Sid"] != "AccountAdministersKeyThroughIam")
