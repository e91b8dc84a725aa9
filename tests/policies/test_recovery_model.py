"""The resilience model, term by term and domain by domain, on small fixture plans."""

from __future__ import annotations

from typing import Any

import pytest
from hastack_policies.catalogue import rule_named
from hastack_policies.resilience.model import Assessment, assess, from_plan_entries

from tests.policies import recovery_fixtures as fx
from tests.policies.runner import run_stack_rule


def run(entries: list[dict[str, Any]]) -> Assessment:
    return assess(from_plan_entries(entries), stack="t", tier="prod", cloud="aws")


def terms(result: Assessment, domain: str) -> dict[str, float]:
    return {t.name: t.seconds for t in result.domains[domain].terms}


# --- node -------------------------------------------------------------------------------


def test_node_replicated_api_pays_detection_and_reconnect() -> None:
    node = run(fx.prod_like()).domains["nodeFailure"]
    assert node.rto == 50 + 5 + 5  # node grace + endpoint propagation + client reconnect
    assert node.rpo == 0 and node.met is True


def test_node_singleton_pays_its_toleration() -> None:
    default = run(fx.prod_like(workloads=fx.prefect(fx.EAST, api=1, toleration=None)
                               + fx.prefect(fx.WEST, 0, 0, 0)))
    short = run(fx.prod_like(workloads=fx.prefect(fx.EAST, api=1, toleration=30)
                             + fx.prefect(fx.WEST, 0, 0, 0)))
    # grace 50 + toleration + headroom 0 + schedule 5 + pull 30 + ready 20, + reconnect 5
    assert default.domains["nodeFailure"].rto == 50 + 300 + 55 + 5
    assert short.domains["nodeFailure"].rto == 50 + 30 + 55 + 5
    assert default.domains["nodeFailure"].met is False


def test_node_unrecoverable_on_a_one_node_cluster() -> None:
    node = run(fx.prod_like(nodes=fx.nodes(fx.EAST, min_size=1) + fx.nodes(fx.WEST)))
    assert node.domains["nodeFailure"].rto is None
    assert node.domains["nodeFailure"].met is False
    assert any("nowhere to go" in n for n in node.domains["nodeFailure"].notes)


# --- zone -------------------------------------------------------------------------------


def test_zone_is_the_slowest_branch_plus_reconnect() -> None:
    zone = run(fx.prod_like()).domains["zoneFailure"]
    # database 60 + 5 TTL beats compute 55 and cache 25; + 5 reconnect
    assert zone.rto == 70
    assert terms(run(fx.prod_like()), "zoneFailure")["database: Aurora writer failover"] == 60
    assert zone.rpo == 0


def test_zone_one_db_instance_recreates_the_writer() -> None:
    zone = run(fx.prod_like(database=fx.aurora(primary_instances=1))).domains["zoneFailure"]
    assert zone.rto == 600 + 5 + 5
    assert zone.met is False


def test_zone_cache_without_automatic_failover_waits_for_a_person() -> None:
    zone = run(fx.prod_like(cache=[fx.redis(fx.EAST, failover=False), fx.redis(fx.WEST)]))
    assert zone.domains["zoneFailure"].rto == 300 + 5 + 5
    assert any("cache (ephemeral" in n for n in zone.domains["zoneFailure"].notes)


def test_zone_unrecoverable_with_nodes_in_one_zone() -> None:
    zone = run(fx.prod_like(nodes=fx.nodes(fx.EAST, zones=1) + fx.nodes(fx.WEST)))
    assert zone.domains["zoneFailure"].rto is None
    assert zone.domains["zoneFailure"].met is False


def test_zone_unrecoverable_single_node_cache() -> None:
    zone = run(fx.prod_like(cache=[fx.redis(fx.EAST, nodes_=1), fx.redis(fx.WEST)]))
    assert zone.domains["zoneFailure"].rto is None


# --- region -----------------------------------------------------------------------------


def test_region_warm_standby_waits_for_the_standby_before_dns_moves() -> None:
    region = run(fx.prod_like()).domains["regionFailure"]
    # detect 30 + (manual 300 + scale 5 + start 55 + healthy 30 + TTL 60) + reconnect 5
    assert region.rto == 30 + 300 + 5 + 55 + 30 + 60 + 5
    assert any("DNS stays on the dead primary" in n for n in region.notes)


def test_region_hot_standby_with_automation_models_115_seconds() -> None:
    hot = run(fx.prod_like(workloads=fx.prefect(fx.EAST) + fx.prefect(fx.WEST, 3, 0, 0),
                           automation=[fx.arc_plan()]))
    # detect 30 + max(db 10+60+10, workers 70, TTL 60) + 5: the facts' 115 s
    assert hot.domains["regionFailure"].rto == 115
    approval = run(fx.prod_like(workloads=fx.prefect(fx.EAST) + fx.prefect(fx.WEST, 3, 0, 0),
                                automation=[fx.arc_plan(approval=True)]))
    assert approval.domains["regionFailure"].rto == 115 + 300


def test_a_plan_without_triggers_is_still_started_by_a_person() -> None:
    """The shipped plans: no trigger alarms, so a human decides (and approves) once."""
    hot = fx.prefect(fx.EAST) + fx.prefect(fx.WEST, 3, 0, 0)
    manual = run(fx.prod_like(workloads=hot))
    for approval in (False, True):
        started = run(fx.prod_like(workloads=hot,
                                   automation=[fx.arc_plan(approval, triggers=False)]))
        assert started.domains["regionFailure"].rto == manual.domains["regionFailure"].rto
        names = terms(started, "regionFailure")
        assert names["initiate: operator starts the Region switch plan (no trigger alarms)"] \
            == 300
    automated = run(fx.prod_like(workloads=hot, automation=[fx.arc_plan()]))
    assert automated.domains["regionFailure"].rto < manual.domains["regionFailure"].rto


def test_region_rpo_is_the_worst_durable_store() -> None:
    region = run(fx.prod_like()).domains["regionFailure"]
    assert region.rpo == 900  # S3 RTC dominates the 20 s managed RPO
    names = terms(run(fx.prod_like()), "regionFailure")
    assert names["RPO database: rds.global_db_rpo 20 s"] == 20
    no_rtc = run(fx.prod_like(objects=fx.bucket("crr"))).domains["regionFailure"]
    assert no_rtc.rpo == 48 * 3600
    db_only = run(fx.prod_like(objects=[], database=fx.aurora(managed_rpo=None)))
    assert db_only.domains["regionFailure"].rpo == 1  # typical lag, not bounded


def test_region_unrecoverable_cases() -> None:
    single = run([fx.platform(region=None, two_regions=False), *fx.nodes(fx.EAST),
                  *fx.prefect(fx.EAST), *fx.aurora(secondary_instances=0)[:3]])
    assert single.domains["regionFailure"].rto is None
    assert single.domains["regionFailure"].met is None  # no target: not judged
    detached = run(fx.prod_like(database=fx.aurora(attached=False))).domains["regionFailure"]
    assert detached.rto is None and detached.rpo is None and detached.met is False
    unreplicated = run(fx.prod_like(objects=fx.bucket(None))).domains["regionFailure"]
    assert unreplicated.rpo is None


def test_region_headless_secondary_adds_an_instance_first() -> None:
    base = run(fx.prod_like()).domains["regionFailure"].rto
    headless = run(fx.prod_like(database=fx.aurora(secondary_instances=0)))
    assert headless.domains["regionFailure"].rto is not None and base is not None
    assert headless.domains["regionFailure"].rto > base


# --- edge terms -------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "expected_detect"), [
    ({"interval": 10, "threshold": 3}, 30), ({"interval": 30, "threshold": 3}, 90),
    ({"interval": 10, "threshold": 1}, 10)])
def test_detection_is_interval_times_threshold(kwargs: dict[str, int],
                                               expected_detect: int) -> None:
    result = run(fx.prod_like(dns=fx.dns(**kwargs)))
    detect = [s for n, s in terms(result, "regionFailure").items() if n.startswith("detect")]
    assert detect == [expected_detect]


def test_alias_ttl_is_fixed_at_60_seconds() -> None:
    alias = run(fx.prod_like(dns=fx.dns(alias=True, ttl=5)))
    assert terms(alias, "regionFailure")["DNS: alias record TTL (fixed)"] == 60
    cname = run(fx.prod_like(dns=fx.dns(ttl=300)))
    assert terms(cname, "regionFailure")["DNS: record TTL 300 s"] == 300


# --- the policy runs the same model -------------------------------------------------------


def _plan(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resources": entries, "stack": "t", "tier": "prod", "cloud": "aws"}


def test_policy_passes_what_the_model_meets_and_fails_what_it_misses() -> None:
    rule = rule_named("recovery-targets-met")
    assert run_stack_rule(rule, _plan(fx.prod_like())).violations == []
    broken = run_stack_rule(rule, _plan(fx.prod_like(database=fx.aurora(attached=False))))
    assert [m for m in broken.messages if m.startswith("regionFailure")]
    assert all(urn == fx.PLATFORM_URN for _, urn in broken.violations)


def test_alias_standby_gate_is_the_target_group_healthy_threshold() -> None:
    tgs = [fx.target_group(fx.EAST), fx.target_group(fx.WEST, interval=30, healthy=5)]
    result = run(fx.prod_like(dns=fx.dns(alias=True) + tgs))
    region = terms(result, "regionFailure")
    # Route 53's own check on the secondary (10 s x 3) and the ALB's (30 s x 5): the slower
    assert region["standby seen healthy: target group 30 s x 5"] == 150
    # and the node domain detects through the target group (10 s x 2) before node grace
    assert terms(result, "nodeFailure")["detect: target group 10 s x 2"] == 20
    assert result.domains["nodeFailure"].rto == 20 + 5 + 5


def test_an_infrastructure_plan_alone_is_assessed_as_far_as_it_goes() -> None:
    infra = run(fx.prod_like(workloads=[]))
    zone = infra.domains["zoneFailure"]
    assert zone.rto == 70 and zone.met is True  # the database still dominates
    assert any("no orchestrator in these plans" in n for n in zone.notes)
    region = infra.domains["regionFailure"]
    # detect 30 + database (300 + 60 + 10) + reconnect 5; no warm-up is visible
    assert region.rto == 30 + 370 + 5
    assert any("standby terms not assessed" in n for n in region.notes)


def test_no_health_check_on_the_primary_record_never_fails_over() -> None:
    records = [r for r in fx.dns() if r["type"] == "aws:route53/record:Record"]
    for record in records:
        record["inputs"].pop("healthCheckId")
        record["propertyDependencies"] = {}
    result = run(fx.prod_like(dns=records)).domains["regionFailure"]
    assert result.rto is None and result.met is False


def test_roles_follow_the_active_region_not_the_primary() -> None:
    flipped = fx.platform()
    flipped["inputs"]["hastackRecovery"]["regions"].update(active=fx.WEST, standby=fx.EAST)
    # the us-west-2 cluster (now the writer) keeps one instance; us-east-1 has three
    result = run(fx.prod_like(platform=[flipped],
                              database=fx.aurora(primary_instances=3, secondary_instances=1),
                              workloads=fx.prefect(fx.WEST) + fx.prefect(fx.EAST, 0, 0, 0)))
    assert result.domains["zoneFailure"].rto == 600 + 5 + 5
    assert any("database: 1 instance(s) in one zone" in n
               for n in result.domains["zoneFailure"].notes)


def _gcp_prod_entries(enterprise: bool) -> list[dict[str, Any]]:
    """The committed gcp-prod plan (Enterprise Plus, DR replica designated), or the same
    pair as Enterprise without a DR replica."""
    import copy
    import json

    from tests.conftest import REPO

    plan = json.loads((REPO / "tests" / "golden" / "gcp-prod.json").read_text())
    entries: list[dict[str, Any]] = copy.deepcopy(plan["resources"])
    for entry in entries:
        if entry["type"] == "gcp:sql/databaseInstance:DatabaseInstance" and enterprise:
            entry["inputs"]["settings"]["edition"] = "ENTERPRISE"
            entry["inputs"].pop("replicationCluster", None)
    return entries


@pytest.mark.parametrize(("enterprise", "term"), [
    (False, "database: Advanced DR replica failover to the DR replica"),
    (True, "database: promote the cross-region replica")])
def test_gcp_region_database_term_follows_the_advanced_dr_designation(
        enterprise: bool, term: str) -> None:
    result = assess(from_plan_entries(_gcp_prod_entries(enterprise)), stack="gcp-prod",
                    tier="prod", cloud="gcp")
    region = terms(result, "regionFailure")
    other = ("database: promote the cross-region replica" if not enterprise
             else "database: Advanced DR replica failover to the DR replica")
    assert region[term] == 120 and other not in region  # facts 10.4: T_gdb 120 s [A]
    kinds = {t.name: t.kind for t in result.domains["regionFailure"].terms}
    assert kinds[term] == "assumption"
