"""CloudSqlPostgres: REGIONAL HA primary, PITR, private TLS-only, CMEK, cross-region replica."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from components.gcp.cloudsql import (
    PROMOTION_FIELDS,
    CloudSqlPostgres,
    CloudSqlPostgresArgs,
    postgres_version,
)
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    key_location,
    of_type,
    only,
    provider_region,
    run,
)

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_primary_is_regional_with_pitr_private_ip_and_tls_only(plans, tier):
    plan = plans(tier)
    primary = only(plan, INSTANCE, "primary")
    settings = primary.inputs["settings"]
    assert primary.inputs["databaseVersion"] == "POSTGRES_17"
    assert primary.inputs["region"] == PRIMARY == provider_region(plan, primary)
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["edition"] == "ENTERPRISE"
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    retention = 14 if tier == "prod" else 7
    assert backups["backupRetentionSettings"]["retainedBackups"] == retention
    assert backups["transactionLogRetentionDays"] == 7
    ip = settings["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    network = only(plan, "gcp:compute/network:Network")
    assert ip["privateNetwork"] == network.id == "projects/hastack-test/global/networks/hastack-vpc"
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags["cloudsql.iam_authentication"] == "on"
    assert settings["insightsConfig"]["queryInsightsEnabled"] is True
    assert "maintenanceWindow" in settings


def test_primary_waits_for_private_service_access(plans):
    plan = plans("prod")
    connection = only(plan, "gcp:servicenetworking/connection:Connection")
    assert connection.urn in only(plan, INSTANCE, "primary").dependencies


@pytest.mark.parametrize(("tier", "strict"), [("dev", False), ("prod", True)])
def test_deletion_protection_in_pulumi_and_api_and_protect_in_prod(plans, tier, strict):
    plan = plans(tier)
    for instance in of_type(plan, INSTANCE):
        assert instance.inputs["deletionProtection"] is strict
        assert instance.inputs["settings"]["deletionProtectionEnabled"] is strict
        assert instance.protect is strict
        assert instance.retain_on_delete is strict
    assert only(plan, "gcp:sql/database:Database").protect is strict
    assert only(plan, "gcp:secretmanager/secret:Secret", "password").protect is strict


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_every_instance_uses_a_key_in_its_own_region_granted_to_cloud_sql(plans, tier):
    plan = plans(tier)
    grants = {g.urn: g for g in of_type(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    for instance in of_type(plan, INSTANCE):
        key = instance.inputs["encryptionKeyName"]
        assert key_location(key) == instance.inputs["region"]
        members = [grants[d].inputs["member"] for d in instance.dependencies if d in grants]
        agent = "service-123456789012@gcp-sa-cloud-sql.iam.gserviceaccount.com"
        assert members == [f"serviceAccount:{agent}"]


def test_prod_replica_lives_in_the_secondary_region_with_its_own_key(plans):
    plan = plans("prod")
    primary = only(plan, INSTANCE, "primary")
    replica = only(plan, INSTANCE, "replica")
    assert replica.inputs["region"] == SECONDARY == provider_region(plan, replica)
    assert replica.inputs["masterInstanceName"] == primary.outputs["name"]
    assert replica.inputs["encryptionKeyName"] != primary.inputs["encryptionKeyName"]
    assert key_location(replica.inputs["encryptionKeyName"]) == SECONDARY
    # secondaryInstances=2 in prod: the replica is itself zone-redundant.
    assert replica.inputs["settings"]["availabilityType"] == "REGIONAL"
    assert replica.inputs["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert set(PROMOTION_FIELDS) <= set(replica.ignore_changes)
    assert "settings.backupConfiguration" in replica.ignore_changes


def test_dev_has_no_replica(plans):
    assert [i.name for i in of_type(plans("dev"), INSTANCE)] == ["hastack-postgres-primary"]


def _args(**changes) -> CloudSqlPostgresArgs:
    base = CloudSqlPostgresArgs(name="hastack", tier="prod", project=PROJECT,
                                primary_region=PRIMARY, replica_region=SECONDARY,
                                network="projects/p/global/networks/n")
    return dataclasses.replace(base, **changes)


def _plan_component(args: CloudSqlPostgresArgs):
    return run(lambda: CloudSqlPostgres("db", args) and None)


def test_a_promoted_replica_is_updated_in_place_not_replaced():
    before = _plan_component(_args())
    after = _plan_component(_args(replica_promoted=True))
    old, new = only(before, INSTANCE, "replica"), only(after, INSTANCE, "replica")
    assert old.urn == new.urn
    assert "masterInstanceName" not in new.inputs
    assert new.inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    backups = new.inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert "settings.backupConfiguration" not in new.ignore_changes


def test_password_lives_in_secret_manager_replicated_to_the_stack_regions(plans):
    plan = plans("prod")
    secret = only(plan, "gcp:secretmanager/secret:Secret", "password")
    replicas = secret.inputs["replication"]["userManaged"]["replicas"]
    assert [r["location"] for r in replicas] == [PRIMARY, SECONDARY]
    # Each replica is encrypted with a key in its own location (Secret Manager's rule).
    for replica in replicas:
        key = replica["customerManagedEncryption"]["kmsKeyName"]
        assert f"/locations/{replica['location']}/" in key
    version = only(plan, "gcp:secretmanager/secretVersion:SecretVersion", "password")
    assert version.inputs["secretData"] == "[secret]"
    assert "secretData" in version.secret_inputs
    user = only(plan, "gcp:sql/user:User")
    assert user.inputs["password"] == "[secret]"


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_no_plaintext_password_anywhere_in_the_plan(plans, tier):
    plan = plans(tier)
    password = only(plan, "random:index/randomPassword:RandomPassword").outputs["result"]
    assert len(password) == 32
    recorded = json.dumps([r.inputs for r in plan.registrations]) + json.dumps(plan.outputs)
    assert password not in recorded


def test_endpoints_carry_the_password_as_a_secret():
    def program() -> None:
        database = CloudSqlPostgres("db", _args(tier="dev", replica_region=None))
        pulumi.export("password", database.endpoint.password)
        pulumi.export("host", database.endpoint.host)

    plan = run(program)
    assert plan.output_secrets == ["password"]
    assert plan.outputs["host"] == only(plan, INSTANCE, "primary").outputs["privateIpAddress"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"engine_version": "13.4"}, "major versions allowed"),
    ({"engine_version": "sixteen"}, "unsupported PostgreSQL version"),
    ({"edition": "ENTERPRISE_PLUS"}, "needs edition ENTERPRISE"),
    ({"high_availability": False}, "prod needs high_availability"),
    ({"replica_region": PRIMARY}, "must differ"),
    ({"replica_region": None, "replica_promoted": True}, "needs a replica_region"),
    ({"backup_retention_days": 0}, "1..365"),
])
def test_invalid_database_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_version_mapping_pins_the_major():
    assert postgres_version("16.6") == "POSTGRES_16"
    assert postgres_version("17") == "POSTGRES_17"


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_statement_and_audit_logging_flags(plans, which):
    settings = only(plans("prod"), INSTANCE, which).inputs["settings"]
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags["cloudsql.enable_pgaudit"] == "on"
    assert flags["pgaudit.log"] == "ddl,role"
    assert flags["log_statement"] == "ddl"
    assert flags["log_min_error_statement"] == "error"
    assert flags["log_checkpoints"] == flags["log_lock_waits"] == "on"


def test_backups_are_stored_in_the_other_region(plans):
    backups = only(plans("prod"), INSTANCE, "primary").inputs["settings"]["backupConfiguration"]
    assert backups["location"] == SECONDARY
    promoted = only(_plan_component(_args(replica_promoted=True)), INSTANCE, "replica")
    assert promoted.inputs["settings"]["backupConfiguration"]["location"] == PRIMARY
