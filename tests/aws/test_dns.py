"""FailoverDns under the recording mock engine."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.dns import FailoverDns, FailoverDnsArgs, FailoverEndpoint, validate
from components.base import Tier
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"

EAST_LB = "k8s-east-1234.elb.us-east-1.amazonaws.com"
WEST_LB = "k8s-west-5678.elb.us-west-2.amazonaws.com"
ALIAS_PAIR = (FailoverEndpoint(EAST_LB, alias_zone_id="Z35SXDOTRQ7X7K"),
              FailoverEndpoint(WEST_LB, alias_zone_id="Z1H1FL5HABSF5"))
CNAME_PAIR = (FailoverEndpoint("east.gateway.example.net"),
              FailoverEndpoint("west.gateway.example.net"))
IP_PAIR = (FailoverEndpoint("203.0.113.10", target_is_ip=True),
           FailoverEndpoint("198.51.100.20", target_is_ip=True))


def _plan(pair: tuple[FailoverEndpoint, FailoverEndpoint] = ALIAS_PAIR,
          tier: Tier = "prod", **overrides: Any) -> Recording:
    def program() -> None:
        provider = aws.Provider("dns", region="us-east-1")
        dns = FailoverDns("workflows", FailoverDnsArgs(
            tier=tier, domain="example.com", hostname="workflows",
            primary=pair[0], secondary=pair[1], provider=provider, **overrides))
        pulumi.export("fqdn", dns.fqdn)
        pulumi.export("zone_id", dns.zone_id)
        pulumi.export("checks", dns.health_check_ids)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def alias() -> Recording:
    return _plan()


_of = Recording.of_type


def _by_role(recording: Recording) -> dict[str, Registration]:
    records = _of(recording, RECORD)
    return {r.inputs["failoverRoutingPolicies"][0]["type"]: r for r in records}


def test_one_primary_and_one_secondary_record_for_the_same_name(alias: Recording) -> None:
    records = _of(alias, RECORD)
    assert len(records) == 2
    roles = _by_role(alias)
    assert set(roles) == {"PRIMARY", "SECONDARY"}
    assert {r.inputs["name"] for r in records} == {"workflows.example.com"}
    assert len({r.inputs["setIdentifier"] for r in records}) == 2
    assert len({r.inputs["zoneId"] for r in records}) == 1


def test_each_record_is_tied_to_its_own_health_check(alias: Recording) -> None:
    checks = {c.id: c for c in _of(alias, CHECK)}
    assert len(checks) == 2
    roles = _by_role(alias)
    primary_check = checks[roles["PRIMARY"].inputs["healthCheckId"]]
    secondary_check = checks[roles["SECONDARY"].inputs["healthCheckId"]]
    assert primary_check is not secondary_check
    assert primary_check.inputs["fqdn"] == EAST_LB
    assert secondary_check.inputs["fqdn"] == WEST_LB
    assert set(alias.outputs["checks"].values()) == set(checks)


def test_alias_records_evaluate_target_health(alias: Recording) -> None:
    roles = _by_role(alias)
    for role, target, zone in (("PRIMARY", EAST_LB, "Z35SXDOTRQ7X7K"),
                               ("SECONDARY", WEST_LB, "Z1H1FL5HABSF5")):
        record = roles[role]
        assert record.inputs["type"] == "A"
        assert record.inputs["aliases"] == [
            {"name": target, "zoneId": zone, "evaluateTargetHealth": True}]
        assert "ttl" not in record.inputs and "records" not in record.inputs


@pytest.mark.parametrize(("tier", "interval"), [("prod", 10), ("dev", 30)])
def test_health_checks_probe_https_from_several_regions(tier: Tier, interval: int) -> None:
    recording = _plan(tier=tier)
    for check in _of(recording, CHECK):
        inputs = check.inputs
        assert inputs["type"] == "HTTPS" and inputs["port"] == 443
        assert inputs["resourcePath"] == "/api/health"
        assert inputs["requestInterval"] == interval
        assert 1 <= inputs["failureThreshold"] <= 10
        assert len(set(inputs["regions"])) >= 3
        assert inputs["measureLatency"] is True


def test_cname_records_use_a_short_ttl() -> None:
    roles = _by_role(_plan(CNAME_PAIR))
    assert roles["PRIMARY"].inputs["records"] == ["east.gateway.example.net"]
    assert roles["SECONDARY"].inputs["records"] == ["west.gateway.example.net"]
    for record in roles.values():
        assert record.inputs["type"] == "CNAME" and record.inputs["ttl"] == 60
        assert "aliases" not in record.inputs


def test_ip_endpoints_are_probed_by_address_with_the_public_name() -> None:
    recording = _plan(IP_PAIR, tier="dev")
    checks = {c.inputs["ipAddress"]: c for c in _of(recording, CHECK)}
    assert set(checks) == {"203.0.113.10", "198.51.100.20"}
    assert all(c.inputs["fqdn"] == "workflows.example.com" for c in checks.values())
    assert {r.inputs["type"] for r in _of(recording, RECORD)} == {"A"}


def test_zone_is_looked_up_by_domain_or_taken_as_given(alias: Recording) -> None:
    looked_up = alias.outputs["zone_id"]
    assert looked_up.startswith("Z")
    assert {r.inputs["zoneId"] for r in _of(alias, RECORD)} == {looked_up}
    given = _plan(zone_id="ZGIVEN123")
    assert {r.inputs["zoneId"] for r in _of(given, RECORD)} == {"ZGIVEN123"}


def _args(**overrides: Any) -> FailoverDnsArgs:
    fields: dict[str, Any] = {"tier": "prod", "domain": "example.com", "hostname": "workflows",
                              "primary": ALIAS_PAIR[0], "secondary": ALIAS_PAIR[1]}
    fields.update(overrides)
    return FailoverDnsArgs(**fields)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"secondary": None}, "secondary endpoint is missing"),
    ({"request_interval": 20}, "request_interval must be 10 or 30"),
    ({"failure_threshold": 0}, r"failure_threshold must be 1\.\.10"),
    ({"failure_threshold": 11}, r"failure_threshold must be 1\.\.10"),
    ({"checker_regions": ["us-east-1", "eu-west-1"]}, "at least 3 distinct regions"),
    ({"checker_regions": ["us-east-1", "eu-west-1", "us-east-1"]}, "at least 3 distinct"),
    ({"checker_regions": ["us-east-1", "eu-west-1", "eu-central-1"]},
     "not Route 53 checker regions"),
    ({"primary": FailoverEndpoint(EAST_LB, set_identifier="east"),
      "secondary": FailoverEndpoint(WEST_LB, set_identifier="east")},
     "distinct set_identifiers"),
    ({"primary": CNAME_PAIR[0], "secondary": ALIAS_PAIR[1]}, "same record type"),
    ({"primary": FailoverEndpoint("1.2.3.4", alias_zone_id="Z1", target_is_ip=True)},
     "alias target is a DNS name"),
    ({"ttl": 3600}, r"ttl must be 1\.\.300"),
    ({"health_check_path": "api/health"}, "must start with '/'"),
    ({"domain": "Example.COM"}, "lower-case DNS domain"),
    ({"hostname": "workflows.api"}, "single lower-case DNS label"),
])
def test_invalid_arguments_raise_clear_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(_args(**overrides))


def test_missing_secondary_fails_the_program() -> None:
    def program() -> None:
        FailoverDns("workflows", _args(secondary=None))

    with pytest.raises(ValueError, match="secondary endpoint is missing"):
        run_program(program, project="hastack", stack="test", config={})
