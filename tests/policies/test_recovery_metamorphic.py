"""Metamorphic tests on the real prod and gcp-prod plans: each change makes its domain
worse (or unrecoverable); the target-breaking ones exit 1 and fail the policy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hastack_policies.catalogue import rule_named
from hastack_policies.resilience.model import assess, from_plan_entries

from hastack.assess.cli import assess_main
from tests.policies.runner import run_stack_rule

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
Plan = dict[str, Any]


def load(environment: str) -> Plan:
    """The environment's infrastructure plan with its workloads plans' resources added."""
    plan: Plan = json.loads((GOLDEN / f"{environment}.json").read_text())
    for path in sorted(GOLDEN.glob(f"{environment}-*.json")):
        layer = json.loads(path.read_text())
        if layer.get("environment") == environment:
            plan["resources"] = [*plan["resources"], *layer["resources"]]
    return plan


def of_type(plan: Plan, type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def figures(plan: Plan, domain: str) -> tuple[float | None, float | None]:
    result = assess(from_plan_entries(plan["resources"]), stack=plan["stack"])
    found = result.domains[domain]
    return found.rto, found.rpo


def worse(before: float | None, after: float | None) -> bool:
    return after is None or (before is not None and after > before)


def _unaliased(plan: Plan, ttl: int) -> None:
    """The failover records as CNAMEs with `ttl` (an alias's 60 s TTL cannot be raised)."""
    for record in of_type(plan, "aws:route53/record:Record"):
        inputs = record["inputs"]
        if inputs.get("failoverRoutingPolicies"):
            alias = (inputs.pop("aliases", None) or [{}])[0]
            inputs.update(type="CNAME", ttl=ttl, records=[alias.get("name", "lb.example")])


def raise_ttl(plan: Plan) -> None:
    _unaliased(plan, 900)


def raise_ttl_a_little(plan: Plan) -> None:
    # Below the database branch (~370 s after detection) the TTL is hidden by it.
    _unaliased(plan, 420)


def slow_checks(plan: Plan) -> None:
    for check in of_type(plan, "aws:route53/healthCheck:HealthCheck"):
        check["inputs"]["requestInterval"] = 30


def drop_secondary_instances(plan: Plan) -> None:
    plan["resources"] = [r for r in plan["resources"]
                         if not (r["type"] == "aws:rds/clusterInstance:ClusterInstance"
                                 and r["region"] == plan["regions"]["secondary"])]


def detach_secondary(plan: Plan) -> None:
    for cluster in of_type(plan, "aws:rds/cluster:Cluster"):
        if cluster["region"] == plan["regions"]["secondary"]:
            cluster["inputs"].pop("globalClusterIdentifier", None)
            cluster["propertyDependencies"].pop("globalClusterIdentifier", None)


def one_primary_instance(plan: Plan) -> None:
    primary = plan["regions"]["primary"]
    instances = [r for r in of_type(plan, "aws:rds/clusterInstance:ClusterInstance")
                 if r["region"] == primary]
    plan["resources"] = [r for r in plan["resources"] if r not in instances[1:]]


def cache_failover_off(plan: Plan) -> None:
    for group in of_type(plan, "aws:elasticache/replicationGroup:ReplicationGroup"):
        group["inputs"]["automaticFailoverEnabled"] = False


def cloud_sql_zonal(plan: Plan) -> None:
    for instance in of_type(plan, "gcp:sql/databaseInstance:DatabaseInstance"):
        instance["inputs"]["settings"]["availabilityType"] = "ZONAL"


def drop_cloud_sql_replica(plan: Plan) -> None:
    plan["resources"] = [r for r in plan["resources"]
                         if not (r["type"] == "gcp:sql/databaseInstance:DatabaseInstance"
                                 and r["inputs"].get("masterInstanceName"))]


CASES: list[tuple[str, Callable[[Plan], None], str, bool]] = [
    # (stack, change, domain it worsens, breaks a committed target)
    ("prod", raise_ttl, "regionFailure", True),
    ("prod", raise_ttl_a_little, "regionFailure", False),  # 455 s: worse, still met
    # 30 s x 3 to detect: 465 s, worse but within the 600 s target now that a warm
    # standby's SECONDARY record needs no second health check to turn healthy.
    ("prod", slow_checks, "regionFailure", False),
    ("prod", drop_secondary_instances, "regionFailure", True),
    ("prod", detach_secondary, "regionFailure", True),
    ("prod", one_primary_instance, "zoneFailure", True),
    ("prod", cache_failover_off, "zoneFailure", True),
    ("gcp-prod", cloud_sql_zonal, "zoneFailure", True),
    ("gcp-prod", drop_cloud_sql_replica, "regionFailure", True),
]


@pytest.mark.parametrize(("stack", "change", "domain", "breaks"), CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
def test_change_worsens_its_domain(stack: str, change: Callable[[Plan], None], domain: str,
                                   breaks: bool, tmp_path: Path) -> None:
    plan = load(stack)
    before = figures(plan, domain)
    changed = copy.deepcopy(plan)
    change(changed)
    after = figures(changed, domain)
    assert worse(before[0], after[0]) or worse(before[1], after[1]), (before, after)

    path = tmp_path / "plan.json"
    path.write_text(json.dumps(changed))
    code = assess_main(["--plan", str(path), "--out", str(tmp_path / "out")])
    violations = run_stack_rule(rule_named("recovery-targets-met"), changed).messages
    if breaks:
        assert code == 1
        assert any(m.startswith(domain) for m in violations), violations
    else:
        assert code == 0 and violations == []


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "gcp-dev", "gcp-prod"])
def test_every_committed_environment_meets_its_targets(stack: str, tmp_path: Path) -> None:
    plan = load(stack)
    path = tmp_path / f"{stack}.json"
    path.write_text(json.dumps(plan))
    out = tmp_path / "out"
    assert assess_main(["--plan", str(path), "--out", str(out)]) == 0
    doc = json.loads((out / f"{stack}.json").read_text())
    assert set(doc) == {"stack", "environment", "tier", "cloud", "domains"}
    for domain in doc["domains"].values():
        assert set(domain) == {"rtoSeconds", "rpoSeconds", "targetRtoSeconds",
                               "targetRpoSeconds", "met", "terms", "notes"}
        assert all(set(t) == {"name", "seconds", "source", "kind"} for t in domain["terms"])
        assert all(t["kind"] in ("bound", "typical", "assumption") for t in domain["terms"])
    assert doc["domains"]["zoneFailure"]["met"] is True
    assert run_stack_rule(rule_named("recovery-targets-met"), plan,
                          tier=plan["tier"]).violations == []
    assert len((out / f"{stack}.md").read_text().splitlines()) < 15


def test_usage_errors_exit_2_without_traceback(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert assess_main([]) == 2
    assert assess_main(["--plan", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert assess_main(["--plan", str(bad)]) == 2
    other = load("dev")
    other["stack"] = other["environment"] = "staging"
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(other))
    assert assess_main(["--plan", str(GOLDEN / "dev.json"), "--plan", str(mixed)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "different environments" in err


@pytest.mark.parametrize("stack", ["staging", "prod", "gcp-prod"])
def test_a_first_preview_with_unknown_inputs_is_not_a_false_failure(stack: str) -> None:
    plan = load(stack)
    outcome = run_stack_rule(rule_named("recovery-targets-met"), plan, tier=plan["tier"],
                             unknowns=True)
    assert outcome.violations == []


def test_a_first_preview_still_sees_a_detached_secondary() -> None:
    plan = load("prod")
    detach_secondary(plan)
    outcome = run_stack_rule(rule_named("recovery-targets-met"), plan, unknowns=True)
    assert any(m.startswith("regionFailure") for m in outcome.messages)
