"""The add-on guardrails beyond their one case in test_rules.py."""

from __future__ import annotations

import pytest
from hastack_policies.catalogue import rule_named

from tests.policies.plans import aws_builder
from tests.policies.runner import run_resource_rule, run_stack_rule

HA_RULE = "addon-controllers-ha"


@pytest.mark.parametrize(("target", "path", "value", "expected"), [
    # The controller's chart renders no PDB when the map is empty.
    ("aws-load-balancer-controller", "values.podDisruptionBudget", {}, "PodDisruptionBudget"),
    # Karpenter's chart default is 2 replicas with a PDB: only an explicit 1 fails.
    ("karpenter", "values.replicas", 1, "1 replica"),
])
def test_add_on_ha_mistakes(target: str, path: str, value: object, expected: str) -> None:
    builder = aws_builder()
    builder.set(target, path, value)
    messages = run_resource_rule(rule_named(HA_RULE), builder.plan(), target).messages
    assert any(expected in m for m in messages), messages


def test_karpenter_chart_defaults_pass() -> None:
    plan = aws_builder().plan()
    assert run_resource_rule(rule_named(HA_RULE), plan, "karpenter").messages == []


def test_a_controller_in_another_cluster_does_not_serve_the_binding() -> None:
    builder = aws_builder()
    builder.provider("k8s-other", "kubernetes")
    builder.option("aws-load-balancer-controller", "provider", "k8s-other")
    messages = run_stack_rule(rule_named("target-group-binding-served"), builder.plan()).messages
    assert len(messages) == 1 and "aws-load-balancer-controller" in messages[0]
