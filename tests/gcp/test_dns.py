"""FailoverDns: health-checked primary/backup record in prod, plain A record in dev."""

from __future__ import annotations

import pytest

from components.gcp.dns import (
    DnsTarget,
    FailoverDns,
    FailoverDnsArgs,
    checked_zone,
    default_probe_regions,
)
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    config_for,
    of_type,
    only,
    plan_platform,
    run,
)

RECORD = "gcp:dns/recordSet:RecordSet"
HEALTH = "gcp:compute/healthCheck:HealthCheck"


def _addresses(plan) -> dict[str, str]:
    return {r.inputs["region"]: r.outputs["address"]
            for r in of_type(plan, "gcp:compute/address:Address")}


def test_prod_fails_over_to_the_standby_region_on_health():
    plan = plan_platform(config_for("prod", workflows={"enabled": True}))
    ips = _addresses(plan)
    record = only(plan, RECORD)
    check = only(plan, HEALTH)
    assert record.inputs["name"] == "workflows.example.com."
    assert record.inputs["managedZone"] == "example-com"
    assert record.inputs["type"] == "A" and record.inputs["ttl"] == 30
    assert "rrdatas" not in record.inputs
    policy = record.inputs["routingPolicy"]
    assert policy["healthCheck"] == check.id
    backup = policy["primaryBackup"]
    # The reserved edge addresses, known at plan time, before any workload exists.
    assert backup["primary"]["externalEndpoints"] == [ips[PRIMARY]]
    assert backup["backupGeos"] == [{"location": SECONDARY, "rrdatas": [ips[SECONDARY]]}]
    assert backup["trickleRatio"] == 0
    https = check.inputs["httpsHealthCheck"]
    assert https["requestPath"] == "/api/health"
    assert https["host"] == "workflows.example.com"
    regions = check.inputs["sourceRegions"]
    assert len(set(regions)) == 3 and {PRIMARY, SECONDARY} <= set(regions)
    assert check.inputs["checkIntervalSec"] >= 30
    assert plan.outputs["dns.name"] == "workflows.example.com"


def test_the_active_region_is_the_policys_primary():
    plan = plan_platform(config_for("prod", workflows={"enabled": True},
                                    activeRegion=SECONDARY))
    ips = _addresses(plan)
    backup = only(plan, RECORD).inputs["routingPolicy"]["primaryBackup"]
    assert backup["primary"]["externalEndpoints"] == [ips[SECONDARY]]
    assert backup["backupGeos"] == [{"location": PRIMARY, "rrdatas": [ips[PRIMARY]]}]


def test_dev_gets_a_plain_record():
    plan = plan_platform(config_for("dev", workflows={"enabled": True}))
    record = only(plan, RECORD)
    assert record.inputs["rrdatas"] == [_addresses(plan)[PRIMARY]]
    assert "routingPolicy" not in record.inputs
    assert of_type(plan, HEALTH) == []


def _args(**changes) -> FailoverDnsArgs:
    values = {"name": "hastack", "tier": "prod", "project": PROJECT, "domain": "example.com",
              "hostname": "workflows", "primary": DnsTarget(PRIMARY, "203.0.113.10"),
              "secondary": DnsTarget(SECONDARY, "198.51.100.20")}
    values.update(changes)
    return FailoverDnsArgs(**values)


@pytest.mark.parametrize(("changes", "message"), [
    ({"hostname": "two.labels"}, "one DNS label"),
    ({"ttl": 3600}, "ttl"),
    ({"probe_regions": [PRIMARY, SECONDARY]}, "exactly 3"),
    ({"secondary": DnsTarget(PRIMARY, "198.51.100.20")}, "different regions"),
    ({"primary": DnsTarget(PRIMARY, "not-an-ip")}, "IPv4"),
])
def test_invalid_dns_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_a_zone_serving_another_domain_is_refused():
    # Checked as a function: a program run that fails inside an apply is avoided in
    # the suite (see the report on the shared runner).
    args = _args(managed_zone="other-zone")
    assert checked_zone(_args(), "example-com", "example.com.") == "example-com"
    with pytest.raises(ValueError, match=r"serves 'other\.zone\.', not 'example\.com\.'"):
        checked_zone(args, "other-zone", "other.zone.")


def test_the_record_goes_into_the_looked_up_zone():
    plan = run(lambda: FailoverDns("dns", _args(managed_zone="example-com")) and None)
    assert only(plan, RECORD).inputs["managedZone"] == "example-com"


def test_probe_regions_stay_on_the_continent():
    regions = default_probe_regions(PRIMARY, SECONDARY)
    assert regions[:2] == [PRIMARY, SECONDARY]
    assert regions[2].startswith("us-") and regions[2] not in (PRIMARY, SECONDARY)
