"""The pack's servicer answers every request exactly as the SDK's own servicer does.

`hastack_policies.serve.SharedInputsServicer` reads each request once instead of
once per policy and skips resource rules of other types. Both servicers are fed
the same plans (compliant, broken, GCP, the committed prod stack; with and without
preview unknowns; prod and dev tier config) and must return equal responses for
every Analyze and for AnalyzeStack: same diagnostics in the same order, same
not-applicable entries.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import empty_pb2
from hastack_policies.catalogue import PACK_INFO, PACK_NAME, build_policies, rule_types
from hastack_policies.serve import SharedInputsServicer
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer

from hastack.check.analyzer import configure_request, load_tier_config
from hastack.check.protocol import PlanIndex
from tests.policies.conftest import POLICIES
from tests.policies.plans import aws_builder, broken_builder, gcp_builder


def _servicers(tier: str) -> tuple[Any, Any]:
    args = (PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.MANDATORY, None,
            PACK_INFO["description"], PACK_INFO["display_name"], None, PACK_INFO["provider"],
            PACK_INFO["tags"], None)
    stock, shared = _PolicyAnalyzerServicer(*args), SharedInputsServicer(*args, types=rule_types())
    config, _ = load_tier_config(POLICIES, tier)
    for servicer in (stock, shared):
        info = servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
        servicer.Configure(configure_request(config, info), None)
    return stock, shared


def _assert_same_answers(plan: dict[str, Any], tier: str, preview_unknowns: bool) -> int:
    stock, shared = _servicers(tier)
    index = PlanIndex(plan, preview_unknowns=preview_unknowns)
    reported = 0
    for resource in index.analyzable():
        request = index.analyze_request(resource)
        expected = stock.Analyze(request, None)
        assert shared.Analyze(request, None) == expected, resource["urn"]
        reported += len(expected.diagnostics) + len(expected.not_applicable)
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[index.stack_resource(r) for r in index.resources])
    expected = stock.AnalyzeStack(stack, None)
    assert shared.AnalyzeStack(stack, None) == expected
    return reported + len(expected.diagnostics)


@pytest.mark.parametrize("preview_unknowns", [False, True])
@pytest.mark.parametrize(("name", "builder", "tier"), [
    ("compliant aws", aws_builder, "prod"),
    ("broken aws", broken_builder, "prod"),
    ("broken aws, dev levels", broken_builder, "dev"),
    ("gcp", gcp_builder, "prod"),
])
def test_same_answers_as_the_sdk_servicer(name: str, builder: Any, tier: str,
                                         preview_unknowns: bool) -> None:
    reported = _assert_same_answers(builder().plan(), tier, preview_unknowns)
    if name.startswith("broken"):
        # The comparison covered responses that carry findings, not only empty ones.
        assert reported > 0, name


def test_same_answers_on_the_committed_prod_stack(stack_plan: Any) -> None:
    plan = stack_plan("prod").plan
    _assert_same_answers(plan, "prod", preview_unknowns=True)
    _assert_same_answers(plan, "prod", preview_unknowns=False)


def test_every_resource_rule_declares_its_types() -> None:
    """Dispatch by type skips only rules that would have returned without judging."""
    types = rule_types()
    resource_policies = [p for p in build_policies() if p.name in types]
    assert len(resource_policies) == len(types) >= 50
    assert any(wanted is None for wanted in types.values())  # no-plaintext-secrets: all types
    assert all(wanted is None or wanted for wanted in types.values())
