"""Cloud DNS: the active region's reserved IP, failing over to the standby's; zones checked."""

from __future__ import annotations

import pulumi
import pytest

from components.gcp.dns import (
    DnsTarget,
    FailoverDns,
    FailoverDnsArgs,
    checked_zone,
    cloud_dns_zone,
    default_probe_regions,
)
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    of_type,
    only,
    run,
)

RECORD = "gcp:dns/recordSet:RecordSet"
HEALTH = "gcp:compute/healthCheck:HealthCheck"
ADDRESS = "gcp:compute/address:Address"
EAST, WEST = "203.0.113.10", "198.51.100.20"


def _ip_of(plan, region: str) -> str:
    (address,) = of_type(plan, ADDRESS, lambda a: a.inputs["region"] == region)
    return str(address.outputs["address"])


def test_prod_fails_over_from_the_active_region_to_the_warm_standby(plans):
    plan = plans("prod", workflows={"enabled": True})
    record = only(plan, RECORD, "-dns-record")
    check = only(plan, HEALTH)
    assert record.inputs["name"] == "workflows.example.com."
    assert record.inputs["managedZone"] == "example-com"
    assert record.inputs["type"] == "A" and record.inputs["ttl"] == 30
    assert "rrdatas" not in record.inputs
    policy = record.inputs["routingPolicy"]
    assert policy["healthCheck"] == check.id
    backup = policy["primaryBackup"]
    # The reserved addresses, known at plan time, not a load balancer's status.
    assert backup["primary"]["externalEndpoints"] == [_ip_of(plan, PRIMARY)]
    # Warm standby: a plain backup answer, so DNS points there while it warms up.
    assert backup["backupGeos"] == [{"location": SECONDARY,
                                     "rrdatas": [_ip_of(plan, SECONDARY)]}]
    assert backup["trickleRatio"] == 0
    https = check.inputs["httpsHealthCheck"]
    assert https["requestPath"] == "/api/health" and https["port"] == 443
    assert https["host"] == "workflows.example.com"
    regions = check.inputs["sourceRegions"]
    assert len(set(regions)) == 3 and {PRIMARY, SECONDARY} <= set(regions)
    assert check.inputs["checkIntervalSec"] >= 30
    assert plan.outputs["dns.name"] == "workflows.example.com"


def test_every_region_has_its_own_name_on_its_own_address(plans):
    plan = plans("prod", workflows={"enabled": True})
    for region in (PRIMARY, SECONDARY):
        record = only(plan, RECORD, f"-dns-{region}-regional")
        assert record.inputs["name"] == f"workflows-{region}.example.com."
        assert record.inputs["rrdatas"] == [_ip_of(plan, region)]


def test_the_active_region_is_the_policys_primary(plans):
    plan = plans("prod", workflows={"enabled": True}, activeRegion=SECONDARY)
    backup = only(plan, RECORD, "-dns-record").inputs["routingPolicy"]["primaryBackup"]
    assert backup["primary"]["externalEndpoints"] == [_ip_of(plan, SECONDARY)]
    assert backup["backupGeos"] == [{"location": PRIMARY, "rrdatas": [_ip_of(plan, PRIMARY)]}]


def test_dev_gets_a_plain_record(plans):
    plan = plans("dev", workflows={"enabled": True})
    record = only(plan, RECORD, "-dns-record")
    assert record.inputs["rrdatas"] == [_ip_of(plan, PRIMARY)]
    assert "routingPolicy" not in record.inputs
    assert of_type(plan, HEALTH) == []


def _args(**changes) -> FailoverDnsArgs:
    values = {"name": "hastack", "tier": "prod", "project": PROJECT, "domain": "example.com",
              "hostname": "workflows", "managed_zone": "example-com",
              "targets": [DnsTarget(PRIMARY, EAST), DnsTarget(SECONDARY, WEST, False)]}
    values.update(changes)
    return FailoverDnsArgs(**values)


def _record(args: FailoverDnsArgs):
    return only(run(lambda: FailoverDns("dns", args) and None), RECORD, "dns-record")


def test_flipping_the_active_region_updates_the_one_record_in_place():
    before = _record(_args())
    after = _record(_args(active_region=SECONDARY,
                          targets=[DnsTarget(PRIMARY, EAST, False), DnsTarget(SECONDARY, WEST)]))
    assert before.urn == after.urn
    assert after.inputs["routingPolicy"]["primaryBackup"]["primary"]["externalEndpoints"] == [WEST]
    assert after.inputs["routingPolicy"]["primaryBackup"]["backupGeos"] == [
        {"location": PRIMARY, "rrdatas": [EAST]}]


def test_a_hot_standby_is_a_health_checked_backup():
    record = _record(_args(targets=[DnsTarget(PRIMARY, EAST), DnsTarget(SECONDARY, WEST)]))
    assert record.inputs["routingPolicy"]["primaryBackup"]["backupGeos"] == [
        {"location": SECONDARY, "healthCheckedTargets": {"externalEndpoints": [WEST]}}]


@pytest.mark.parametrize(("changes", "message"), [
    ({"hostname": "two.labels"}, "one DNS label"),
    ({"ttl": 3600}, "ttl"),
    ({"probe_regions": [PRIMARY, SECONDARY]}, "exactly 3"),
    ({"targets": [DnsTarget(PRIMARY, EAST), DnsTarget(PRIMARY, WEST)]}, "distinct regions"),
    ({"targets": [DnsTarget(PRIMARY, "not-an-ip")]}, "IPv4"),
    ({"active_region": "europe-west1"}, "not one of"),
])
def test_invalid_dns_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_a_zone_serving_another_domain_is_refused():
    assert checked_zone("example.com", "example-com", "example.com.") == "example-com"
    with pytest.raises(ValueError, match=r"serves 'other\.zone\.', not 'example\.com\.'"):
        checked_zone("example.com", "other-zone", "other.zone.")


def _zone_program(**kwargs):
    def program() -> None:
        zone = cloud_dns_zone("zone", project=PROJECT, domain=kwargs.pop("domain"),
                              protect=False, settings_key="stacks/Pulumi.t.yaml hastack:dns",
                              opts=pulumi.ResourceOptions(), **kwargs)
        pulumi.export("zone", zone.name)
        if zone.name_servers is not None:
            pulumi.export("nameServers", zone.name_servers)

    return program


def test_a_missing_zone_is_one_clear_error_naming_the_settings():
    with pytest.raises(ValueError) as error:
        run(_zone_program(domain="nowhere.example.org", zone_name=None, create=False))
    message = str(error.value)
    assert "stacks/Pulumi.t.yaml hastack:dns" in message
    assert "nowhere-example-org" in message
    assert "dns.zoneId" in message and "dns.createZone" in message


def test_a_zone_named_for_another_domain_is_refused_at_plan_time():
    with pytest.raises(ValueError, match=r"serves 'other\.example\.net\.'"):
        run(_zone_program(domain="example.com", zone_name="other-zone", create=False))


def test_create_zone_builds_the_public_zone_and_outputs_its_name_servers():
    plan = run(_zone_program(domain="fresh.example.org", zone_name=None, create=True))
    zone = only(plan, "gcp:dns/managedZone:ManagedZone")
    assert zone.inputs["dnsName"] == "fresh.example.org."
    assert zone.inputs["visibility"] == "public"
    assert len(plan.outputs["nameServers"]) == 4


def test_probe_regions_stay_on_the_continent():
    regions = default_probe_regions(PRIMARY, SECONDARY)
    assert regions[:2] == [PRIMARY, SECONDARY]
    assert regions[2].startswith("us-") and regions[2] not in (PRIMARY, SECONDARY)
