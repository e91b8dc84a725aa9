"""Every committed stack passes its tier's guardrails; a broken prod plan does not.

This is the end-to-end path users rely on: the real program, planned offline,
checked by the policy pack served over the Analyzer gRPC protocol.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hastack.check.analyzer import check_plan
from hastack.plan.stackfile import stack_names
from tests.conftest import REPO

POLICIES = REPO / "policies"


@pytest.fixture(scope="module")
def plans(stack_plan: Any) -> Any:
    """plans(stack): the session's plan of a committed stack (deep-copy before changing it)."""
    return lambda stack: stack_plan(stack).plan


@pytest.mark.parametrize("stack", stack_names(REPO))
def test_committed_stack_has_no_mandatory_violation(stack: str, plans: Any) -> None:
    plan = plans(stack)
    result = check_plan(plan, POLICIES)
    # A workloads stack is small (one cluster's add-ons and orchestrator), never empty.
    assert result.resources_analyzed > (5 if plan["layer"] == "workloads" else 30)
    assert result.passed, [(f.policy, f.resource_name, f.message) for f in result.mandatory]


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_prod_rules_hold_with_preview_unknowns(stack: str, plans: Any) -> None:
    """A first `pulumi preview` knows no computed values: prod must still be decided."""
    if stack not in stack_names(REPO):
        pytest.fail(f"stack {stack} is missing from stacks/")
    result = check_plan(plans(stack), POLICIES, preview_unknowns=True)
    assert result.passed, [(f.policy, f.resource_name) for f in result.mandatory]


def _resources(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def test_broken_copy_of_prod_fails_with_the_right_rules(plans: Any) -> None:
    broken = copy.deepcopy(plans("prod"))
    for group in _resources(broken, "aws:elasticache/replicationGroup:ReplicationGroup"):
        group["inputs"]["automaticFailoverEnabled"] = False
    cluster = _resources(broken, "aws:eks/cluster:Cluster")[0]
    cluster["inputs"]["vpcConfig"]["endpointPublicAccess"] = True
    cluster["inputs"]["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    for versioning in _resources(broken, "aws:s3/bucketVersioning:BucketVersioning"):
        versioning["inputs"]["versioningConfiguration"]["status"] = "Suspended"
    broken["resources"] = [
        r for r in broken["resources"]
        if not (r["type"] == "aws:route53/record:Record"
                and r["inputs"].get("failoverRoutingPolicies", [{}])[0].get("type") == "SECONDARY")
    ]
    result = check_plan(broken, POLICIES)
    failed = {f.policy for f in result.mandatory}
    expected = {"elasticache-automatic-failover", "eks-endpoint-private", "s3-versioning",
                "route53-failover-pair"}
    assert expected <= failed, failed
    assert not result.passed
