"""MemorystoreRedis: Standard HA, TLS with the server CA, AUTH kept secret, PSA, CMEK."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components.gcp.memorystore import MemorystoreRedis, MemorystoreRedisArgs, redis_version
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    key_location,
    of_type,
    provider_region,
    run,
)

REDIS = "gcp:redis/instance:Instance"


@pytest.mark.parametrize(("tier", "regions"), [("dev", [PRIMARY]), ("prod", [PRIMARY, SECONDARY])])
def test_standard_ha_tls_auth_private_service_access_per_region(plans, tier, regions):
    plan = plans(tier)
    instances = of_type(plan, REDIS)
    assert sorted(i.inputs["region"] for i in instances) == sorted(regions)
    for instance in instances:
        region = instance.inputs["region"]
        assert provider_region(plan, instance) == region
        assert instance.inputs["tier"] == "STANDARD_HA"
        assert instance.inputs["transitEncryptionMode"] == "SERVER_AUTHENTICATION"
        assert instance.inputs["authEnabled"] is True
        assert instance.inputs["connectMode"] == "PRIVATE_SERVICE_ACCESS"
        assert key_location(instance.inputs["customerManagedKey"]) == region
        assert instance.inputs["locationId"] != instance.inputs["alternativeLocationId"]
        assert instance.inputs["maintenancePolicy"]["weeklyMaintenanceWindows"]
        # The provider marks the generated AUTH string secret.
        assert "authString" in instance.additional_secret_outputs


def test_prod_persists_rdb_and_scales_reads(plans):
    for instance in of_type(plans("prod"), REDIS):
        assert instance.inputs["persistenceConfig"]["persistenceMode"] == "RDB"
        assert instance.inputs["readReplicasMode"] == "READ_REPLICAS_ENABLED"
        assert instance.inputs["replicaCount"] == 2  # nodesPerRegion 3 = primary + 2
        assert instance.inputs["memorySizeGb"] == 5
        assert instance.inputs["deletionProtection"] is True
        assert instance.protect is True


def test_dev_is_small_without_read_replicas_or_persistence(plans):
    for instance in of_type(plans("dev"), REDIS):
        assert instance.inputs["persistenceConfig"]["persistenceMode"] == "DISABLED"
        assert instance.inputs["readReplicasMode"] == "READ_REPLICAS_DISABLED"
        assert "replicaCount" not in instance.inputs
        assert instance.inputs["deletionProtection"] is False
        assert instance.protect is False


def test_cache_endpoint_keeps_auth_secret_and_hands_out_the_server_ca():
    args = MemorystoreRedisArgs(name="hastack", region=PRIMARY, tier="dev", project=PROJECT,
                                network="projects/p/global/networks/n", memory_size_gb=1)

    def program() -> None:
        cache = MemorystoreRedis("cache", args)
        pulumi.export("auth", cache.endpoint.auth_token)
        pulumi.export("ca", cache.endpoint.ca_certificate)
        pulumi.export("port", cache.endpoint.port)
        pulumi.export("tls", cache.endpoint.tls)

    plan = run(program)
    assert plan.output_secrets == ["auth"]
    assert plan.outputs["ca"].startswith("-----BEGIN CERTIFICATE-----")
    assert plan.outputs["port"] == 6378
    assert plan.outputs["tls"] is True


def _args(**changes) -> MemorystoreRedisArgs:
    base = MemorystoreRedisArgs(name="hastack", region=PRIMARY, tier="prod", project=PROJECT,
                                network="n")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"memory_size_gb": 1, "read_replicas": 1}, ">= 5 GB"),
    ({"read_replicas": 6}, "0..5"),
    ({"memory_size_gb": 0}, "1..300"),
    ({"engine_version": "latest"}, "must look like"),
    ({"engine_version": "3.2"}, "no Memorystore version"),
    ({"zones": [f"{PRIMARY}-a", f"{PRIMARY}-a"]}, "two distinct zones"),
])
def test_invalid_cache_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


@pytest.mark.parametrize(("asked", "version"), [
    ("7.2", "REDIS_7_2"), ("7.1", "REDIS_7_0"), ("6.2", "REDIS_6_X"), ("8.0", "REDIS_7_2"),
])
def test_version_is_never_newer_than_asked(asked, version):
    assert redis_version(asked) == version
