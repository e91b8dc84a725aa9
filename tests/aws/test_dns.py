"""FailoverDns under the recording mock engine: region-keyed records onto the ALBs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.dns import FailoverDns, FailoverDnsArgs, RegionEndpoint, validate
from components.base import Tier
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
ZONE = "ZPUBLIC123"

EAST_LB = "hastack-prod-use1-alb-1234.us-east-1.elb.amazonaws.com"
WEST_LB = "hastack-prod-usw2-alb-5678.us-west-2.elb.amazonaws.com"
EAST = RegionEndpoint("us-east-1", EAST_LB, "Z35SXDOTRQ7X7K")
WEST_WARM = RegionEndpoint("us-west-2", WEST_LB, "Z1H1FL5HABSF5", evaluate_health=False)
WEST_HOT = RegionEndpoint("us-west-2", WEST_LB, "Z1H1FL5HABSF5")


def _plan(endpoints: tuple[RegionEndpoint, ...] = (EAST, WEST_WARM), tier: Tier = "prod",
          **overrides: Any) -> Recording:
    def program() -> None:
        provider = aws.Provider("dns", region="us-east-1")
        dns = FailoverDns("workflows", FailoverDnsArgs(
            tier=tier, domain="example.com", hostname="workflows", zone_id=ZONE,
            endpoints=list(endpoints), provider=provider, **overrides))
        pulumi.export("fqdn", dns.fqdn)
        pulumi.export("checks", dns.health_check_ids)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def warm() -> Recording:
    return _plan()


_of = Recording.of_type


def _failover(recording: Recording) -> dict[str, Registration]:
    """Failover records by set identifier (= region)."""
    return {r.inputs["setIdentifier"]: r for r in _of(recording, RECORD)
            if r.inputs.get("failoverRoutingPolicies")}


def _checks(recording: Recording) -> dict[str, Registration]:
    return {c.inputs["tags"]["Name"].split()[-1]: c for c in _of(recording, CHECK)}


def test_one_failover_record_per_region_for_the_shared_name(warm: Recording) -> None:
    records = _failover(warm)
    assert set(records) == {"us-east-1", "us-west-2"}
    assert {r.inputs["name"] for r in records.values()} == {"workflows.example.com"}
    assert {r.inputs["zoneId"] for r in records.values()} == {ZONE}
    roles = {region: r.inputs["failoverRoutingPolicies"][0]["type"]
             for region, r in records.items()}
    assert roles == {"us-east-1": "PRIMARY", "us-west-2": "SECONDARY"}
    # Pulumi names are keyed by region, never by role.
    assert {r.name for r in records.values()} == {"workflows-us-east-1-failover",
                                                  "workflows-us-west-2-failover"}


def test_records_are_aliases_onto_each_regions_alb(warm: Recording) -> None:
    records = _failover(warm)
    assert records["us-east-1"].inputs["aliases"] == [
        {"name": EAST_LB, "zoneId": "Z35SXDOTRQ7X7K", "evaluateTargetHealth": True}]
    assert records["us-west-2"].inputs["aliases"][0]["name"] == WEST_LB
    for record in records.values():
        assert record.inputs["type"] == "A"
        assert "ttl" not in record.inputs and "records" not in record.inputs


def test_the_active_record_is_health_checked_the_warm_standby_is_not(warm: Recording) -> None:
    records, checks = _failover(warm), _checks(warm)
    assert records["us-east-1"].inputs["healthCheckId"] == checks["us-east-1"].id
    # Pitfall 1: an unhealthy (empty) SECONDARY would keep DNS on a dead PRIMARY.
    assert "healthCheckId" not in records["us-west-2"].inputs
    assert records["us-west-2"].inputs["aliases"][0]["evaluateTargetHealth"] is False
    # ...but the standby is still probed, for alarms and for when it becomes active.
    assert set(checks) == {"us-east-1", "us-west-2"}


def test_a_hot_standby_routes_on_its_health_too() -> None:
    hot = _plan((EAST, WEST_HOT))
    records, checks = _failover(hot), _checks(hot)
    assert records["us-west-2"].inputs["healthCheckId"] == checks["us-west-2"].id
    assert records["us-west-2"].inputs["aliases"][0]["evaluateTargetHealth"] is True


def test_health_checks_probe_the_regional_names_over_https_with_sni(warm: Recording) -> None:
    for region, check in _checks(warm).items():
        inputs = check.inputs
        assert inputs["type"] == "HTTPS" and inputs["port"] == 443
        assert inputs["fqdn"] == f"workflows-{region}.example.com"
        assert inputs["enableSni"] is True
        assert inputs["resourcePath"] == "/api/health"
        assert len(set(inputs["regions"])) >= 3
        assert (inputs["requestInterval"], inputs["failureThreshold"]) == (10, 3)
        assert "ipAddress" not in inputs


def test_each_regional_name_is_an_alias_to_its_own_alb(warm: Recording) -> None:
    regional = {r.inputs["name"]: r for r in _of(warm, RECORD)
                if not r.inputs.get("failoverRoutingPolicies")}
    assert regional["workflows-us-east-1.example.com"].inputs["aliases"][0]["name"] == EAST_LB
    assert regional["workflows-us-west-2.example.com"].inputs["aliases"][0]["name"] == WEST_LB
    # The health check probes the regional name, so it waits for the record.
    for region, check in _checks(warm).items():
        assert regional[f"workflows-{region}.example.com"].urn in check.dependencies


def test_staging_probes_every_30_seconds() -> None:
    for check in _checks(_plan(tier="staging")).values():
        assert check.inputs["requestInterval"] == 30


def test_flipping_the_active_region_changes_roles_in_place() -> None:
    before = _failover(_plan())
    after = _failover(_plan((RegionEndpoint("us-east-1", EAST_LB, "Z35SXDOTRQ7X7K", False),
                             WEST_HOT), active_region="us-west-2"))
    for region in ("us-east-1", "us-west-2"):
        assert before[region].urn == after[region].urn  # same resource: an update
        assert before[region].inputs["setIdentifier"] == after[region].inputs["setIdentifier"]
    assert after["us-west-2"].inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert after["us-east-1"].inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert "healthCheckId" not in after["us-east-1"].inputs
    assert "healthCheckId" in after["us-west-2"].inputs


def test_one_region_is_a_simple_alias() -> None:
    single = _plan((EAST,), tier="dev")
    assert _failover(single) == {}
    shared = [r for r in _of(single, RECORD) if r.inputs["name"] == "workflows.example.com"]
    assert len(shared) == 1
    assert shared[0].inputs["aliases"][0]["name"] == EAST_LB
    assert "setIdentifier" not in shared[0].inputs


def _args(**changes: Any) -> FailoverDnsArgs:
    fields: dict[str, Any] = {"tier": "prod", "domain": "example.com", "hostname": "workflows",
                              "zone_id": ZONE, "endpoints": [EAST, WEST_WARM]}
    fields.update(changes)
    return FailoverDnsArgs(**fields)


@pytest.mark.parametrize(("changes", "message"), [
    ({"request_interval": 15}, "10 or 30"),
    ({"failure_threshold": 11}, "1..10"),
    ({"checker_regions": ["us-east-1", "us-west-2"]}, "at least 3"),
    ({"checker_regions": ["us-east-1", "us-west-2", "mars-1"]}, "not Route 53 checker"),
    ({"health_check_path": "health"}, "start with '/'"),
    ({"domain": "Example.COM"}, "lower-case DNS domain"),
    ({"hostname": "a.b"}, "single lower-case DNS label"),
    ({"endpoints": []}, "at least one region"),
    ({"endpoints": [EAST, EAST]}, "twice"),
    ({"active_region": "eu-west-1"}, "not one of"),
    ({"active_region": "us-west-2"}, "must evaluate its health"),
])
def test_invalid_arguments_are_clear_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(_args(**changes))
