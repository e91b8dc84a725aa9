"""Mandatory prod rules decide a first `pulumi preview` without reading unknowns.

In a first preview every value computed from another resource (IDs, ARNs, names)
is unknown. The components set everything a rule judges literally, and rules read
computed inputs only to see that they are *set*, so no mandatory prod rule may
raise `UnknownValueError` (which the SDK downgrades to an advisory "can't run")
or report a violation on the compliant platforms.
"""

from __future__ import annotations

import pytest
from hastack_policies.catalogue import Rule, all_rules
from pulumi_policy.proxy import UnknownValueError

from tests.policies.plans import UNKNOWN, aws_builder, gcp_builder, leaf_unknowns
from tests.policies.runner import analyzable_names, run_resource_rule, run_stack_rule

MANDATORY_IN_PROD = [rule for rule in all_rules() if rule.levels.prod == "mandatory"]
PLANS = {"aws": aws_builder, "gcp": gcp_builder}


def test_leaf_unknowns_replace_only_computed_values() -> None:
    inputs = {"kmsKeyId": "${key.arn}", "storageEncrypted": True, "tags": {"a": "b"}}
    assert leaf_unknowns(inputs) == {"kmsKeyId": UNKNOWN, "storageEncrypted": True,
                                     "tags": {"a": "b"}}


@pytest.mark.parametrize("cloud", sorted(PLANS))
@pytest.mark.parametrize("rule", MANDATORY_IN_PROD, ids=[r.name for r in MANDATORY_IN_PROD])
def test_mandatory_prod_rule_is_decidable_in_a_first_preview(rule: Rule, cloud: str) -> None:
    plan = PLANS[cloud]().plan()
    try:
        if rule.kind == "stack":
            outcomes = [run_stack_rule(rule, plan, unknowns=True)]
        else:
            outcomes = [run_resource_rule(rule, plan, name, unknowns=True)
                        for name in analyzable_names(plan, rule)]
    except UnknownValueError as error:  # pragma: no cover - the failure being tested for
        pytest.fail(f"{rule.name} read an unknown value: {error.message}")
    assert [m for outcome in outcomes for m in outcome.messages] == []


def test_a_wholly_unknown_helm_values_input_is_deferred_not_failed() -> None:
    builder = aws_builder()
    plan = builder.plan()
    release = next(r for r in plan["resources"] if r["name"] == "prefect-server")
    release["inputs"]["values"] = "[unknown]"
    rule = next(r for r in all_rules() if r.name == "prefect-server-ha-values")
    outcome = run_resource_rule(rule, plan, "prefect-server")
    assert outcome.messages == []
    assert outcome.not_applicable and "pulumi up" in outcome.not_applicable[0]
