"""The Route 53 zone: created (name servers out), named, or looked up with a clear error."""

from __future__ import annotations

import pulumi
import pytest

from components.aws.zone import PublicZoneArgs, ZoneNotFoundError, public_zone
from hastack.config import ConfigError, load_settings
from hastack.plan.runner import Recording, run_program

KEY = "stacks/Pulumi.test.yaml hastack:dns"


def _plan(**kwargs: object) -> Recording:
    def program() -> None:
        zone = public_zone("zone", PublicZoneArgs(tier="prod", settings_key=KEY,
                                                  **kwargs))  # type: ignore[arg-type]
        pulumi.export("zoneId", zone.zone_id)
        if zone.name_servers is not None:
            pulumi.export("nameServers", zone.name_servers)

    return run_program(program, project="hastack", stack="test", config={})


def test_an_existing_zone_id_is_used_as_given() -> None:
    plan = _plan(domain="anything.example.org", zone_id="ZGIVEN123")
    assert plan.outputs["zoneId"] == "ZGIVEN123"
    assert plan.of_type("aws:route53/zone:Zone") == []


def test_a_zone_is_looked_up_by_domain() -> None:
    plan = _plan(domain="workflows.example.com")
    assert plan.outputs["zoneId"].startswith("Z")


def test_a_missing_zone_fails_with_the_settings_to_fix() -> None:
    with pytest.raises(ZoneNotFoundError) as error:
        _plan(domain="nowhere.example.org")
    message = str(error.value)
    assert message.startswith(KEY)
    assert "nowhere.example.org" in message
    assert "dns.zoneId" in message and "dns.createZone" in message


def test_create_zone_builds_a_protected_public_zone_with_name_servers() -> None:
    plan = _plan(domain="fresh.example.org", create=True)
    (zone,) = plan.of_type("aws:route53/zone:Zone")
    assert zone.inputs["name"] == "fresh.example.org"
    assert zone.protect and zone.inputs["forceDestroy"] is False
    assert "vpcs" not in zone.inputs  # public
    assert len(plan.outputs["nameServers"]) == 4


def test_create_zone_and_zone_id_exclude_each_other_in_the_stack_file() -> None:
    settings = {"cloud": "aws", "tier": "dev", "orchestrator": "prefect",
                "regions": {"primary": "us-east-1"},
                "dns": {"domain": "example.com", "zoneId": "Z1", "createZone": True}}
    with pytest.raises(ConfigError, match=r"dns\.createZone"):
        load_settings(settings, "stacks/Pulumi.test.yaml")
