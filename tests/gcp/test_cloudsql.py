"""CloudSqlPostgres: REGIONAL HA primary, PITR, private TLS-only, CMEK, cross-region replica;
ENTERPRISE_PLUS Advanced DR roles that follow the active region, ENTERPRISE's one-way promotion."""

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
    primary = only(plan, INSTANCE, PRIMARY)
    settings = primary.inputs["settings"]
    assert primary.inputs["databaseVersion"] == "POSTGRES_17"
    assert primary.inputs["region"] == PRIMARY == provider_region(plan, primary)
    assert settings["availabilityType"] == "REGIONAL"
    # The tier defaults: prod Enterprise Plus (Advanced DR) on a perf-optimized tier,
    # dev the cheaper Enterprise on a custom tier.
    assert (settings["edition"], settings["tier"]) == (
        ("ENTERPRISE_PLUS", "db-perf-optimized-N-8") if tier == "prod"
        else ("ENTERPRISE", "db-custom-2-7680"))
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    retention = 14 if tier == "prod" else 7
    assert backups["backupRetentionSettings"]["retainedBackups"] == retention
    # Enterprise Plus keeps up to 35 days of WAL, Enterprise 7: the retention fits both.
    assert backups["transactionLogRetentionDays"] == retention
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
    assert connection.urn in only(plan, INSTANCE, PRIMARY).dependencies


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
    primary = only(plan, INSTANCE, PRIMARY)
    replica = only(plan, INSTANCE, SECONDARY)
    assert replica.inputs["region"] == SECONDARY == provider_region(plan, replica)
    assert replica.inputs["masterInstanceName"] == primary.outputs["name"]
    assert replica.inputs["encryptionKeyName"] != primary.inputs["encryptionKeyName"]
    assert key_location(replica.inputs["encryptionKeyName"]) == SECONDARY
    # secondaryInstances=2 in prod: the replica is itself zone-redundant.
    assert replica.inputs["settings"]["availabilityType"] == "REGIONAL"
    assert replica.inputs["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    # Advanced DR: the primary designates the cross-region replica as its DR replica.
    assert primary.inputs["replicationCluster"]["failoverDrReplicaName"] == (
        f"{PROJECT}:hastack-{SECONDARY}-pg") == f"{PROJECT}:{replica.inputs['name']}"
    assert primary.inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    assert replica.inputs["instanceType"] == "READ_REPLICA_INSTANCE"
    assert replica.inputs["replicationCluster"]["failoverDrReplicaName"] == ""
    for instance in (primary, replica):
        assert set(PROMOTION_FIELDS) <= set(instance.ignore_changes)
        # Backups follow the writer through `pulumi up`: never ignored on the pair.
        assert "settings.backupConfiguration" not in instance.ignore_changes
    assert replica.inputs["settings"]["backupConfiguration"]["enabled"] is False


def test_dev_has_no_replica(plans):
    assert [i.name for i in of_type(plans("dev"), INSTANCE)] == ["hastack-postgres-us-central1"]


def _args(**changes) -> CloudSqlPostgresArgs:
    """ENTERPRISE (the dataclass default) unless the test asks for Enterprise Plus."""
    base = CloudSqlPostgresArgs(name="hastack", tier="prod", project=PROJECT,
                                primary_region=PRIMARY, replica_region=SECONDARY,
                                network="projects/p/global/networks/n")
    return dataclasses.replace(base, **changes)


def _plus(**changes) -> CloudSqlPostgresArgs:
    return _args(edition="ENTERPRISE_PLUS", machine_tier="db-perf-optimized-N-2", **changes)


def _by_region(recording) -> dict:
    return {r.inputs["region"]: r for r in of_type(recording, INSTANCE)}


def test_enterprise_plus_roles_follow_the_active_region_with_the_same_names_and_urns():
    before = _by_region(_plan_component(_plus()))
    after = _by_region(_plan_component(_plus(active_region=SECONDARY)))
    home, other = f"hastack-{PRIMARY}-pg", f"hastack-{SECONDARY}-pg"
    for region in (PRIMARY, SECONDARY):
        # Keyed by region: the flip changes neither the URN nor the Cloud SQL name.
        assert before[region].urn == after[region].urn
        assert before[region].inputs["name"] == after[region].inputs["name"]
    # After the flip the secondary is the primary and designates the home instance...
    new_primary, new_replica = after[SECONDARY], after[PRIMARY]
    assert new_primary.inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    assert "masterInstanceName" not in new_primary.inputs
    assert new_primary.inputs["replicationCluster"]["failoverDrReplicaName"] == (
        f"{PROJECT}:{home}")
    # ... and the home instance is its direct read replica, backups off.
    assert new_replica.inputs["instanceType"] == "READ_REPLICA_INSTANCE"
    assert new_replica.inputs["masterInstanceName"] == other
    assert new_replica.inputs["replicationCluster"]["failoverDrReplicaName"] == ""
    assert new_replica.inputs["settings"]["backupConfiguration"]["enabled"] is False
    backups = new_primary.inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert backups["location"] == PRIMARY  # still the other region
    assert "maintenanceWindow" in new_primary.inputs["settings"]
    # The role swap is the API's (hastack failover): Pulumi ignores the force-new master
    # and the instance type (whose change would make the provider switch over itself)
    # on both instances, before and after, so the flip is an update in place.
    for plan in (before, after):
        for instance in plan.values():
            assert {"masterInstanceName", "instanceType"} <= set(instance.ignore_changes)
            changed = {k for k in set(before[instance.inputs["region"]].inputs)
                       | set(instance.inputs)
                       if before[instance.inputs["region"]].inputs.get(k)
                       != instance.inputs.get(k)}
            assert changed <= {"settings", "replicationCluster", *instance.ignore_changes}


def test_enterprise_plus_keeps_each_regions_availability_across_the_flip():
    args = _plus(replica_high_availability=False, active_region=SECONDARY)
    after = _by_region(_plan_component(args))
    assert after[PRIMARY].inputs["settings"]["availabilityType"] == "REGIONAL"
    assert after[SECONDARY].inputs["settings"]["availabilityType"] == "ZONAL"


def test_enterprise_plus_writer_and_reader_follow_the_roles():
    built: list[CloudSqlPostgres] = []
    run(lambda: built.append(CloudSqlPostgres("db", _plus(active_region=SECONDARY))))
    database = built[0]
    assert database.writer is database.replica and database.reader is database.primary
    built.clear()
    run(lambda: built.append(CloudSqlPostgres("db", _args(active_region=SECONDARY))))
    # ENTERPRISE after promotion: the old primary is stale, nothing replicates.
    assert built[0].writer is built[0].replica and built[0].reader is None


def _plan_component(args: CloudSqlPostgresArgs):
    return run(lambda: CloudSqlPostgres("db", args) and None)


def test_enterprise_a_promoted_replica_is_updated_in_place_not_replaced():
    before = _plan_component(_args())
    after = _plan_component(_args(active_region=SECONDARY))
    old, new = only(before, INSTANCE, SECONDARY), only(after, INSTANCE, SECONDARY)
    assert old.urn == new.urn
    assert "masterInstanceName" not in new.inputs
    assert new.inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    backups = new.inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert "settings.backupConfiguration" not in new.ignore_changes
    # Enterprise has no Advanced DR: no DR replica is designated, and the former
    # primary stays as it was (a stale standalone, protected).
    assert "replicationCluster" not in new.inputs
    old_primary, new_primary = only(before, INSTANCE, PRIMARY), only(after, INSTANCE, PRIMARY)
    assert old_primary.inputs == new_primary.inputs


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
    assert plan.outputs["host"] == only(plan, INSTANCE, PRIMARY).outputs["privateIpAddress"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"engine_version": "13.4"}, "major versions allowed"),
    ({"engine_version": "sixteen"}, "unsupported PostgreSQL version"),
    ({"edition": "ENTERPRISE_PLUS"}, "needs edition ENTERPRISE;"),
    ({"machine_tier": "db-perf-optimized-N-4"}, "needs edition ENTERPRISE_PLUS"),
    ({"edition": "STANDARD"}, "allowed: ENTERPRISE, ENTERPRISE_PLUS"),
    ({"high_availability": False}, "prod needs high_availability"),
    ({"replica_region": PRIMARY}, "must differ"),
    ({"replica_region": None, "active_region": SECONDARY}, "must be the primary_region"),
    ({"active_region": "europe-west1"}, "must be the primary_region or the replica_region"),
    ({"backup_retention_days": 0}, "1..365"),
])
def test_invalid_database_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_version_mapping_pins_the_major():
    assert postgres_version("16.6") == "POSTGRES_16"
    assert postgres_version("17") == "POSTGRES_17"


@pytest.mark.parametrize("which", [PRIMARY, SECONDARY])
def test_statement_and_audit_logging_flags(plans, which):
    settings = only(plans("prod"), INSTANCE, which).inputs["settings"]
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags["cloudsql.enable_pgaudit"] == "on"
    assert flags["pgaudit.log"] == "ddl,role"
    assert flags["log_statement"] == "ddl"
    assert flags["log_min_error_statement"] == "error"
    assert flags["log_checkpoints"] == flags["log_lock_waits"] == "on"


def test_backups_are_stored_in_the_other_region(plans):
    backups = only(plans("prod"), INSTANCE, PRIMARY).inputs["settings"]["backupConfiguration"]
    assert backups["location"] == SECONDARY
    promoted = only(_plan_component(_args(active_region=SECONDARY)), INSTANCE, SECONDARY)
    assert promoted.inputs["settings"]["backupConfiguration"]["location"] == PRIMARY


@pytest.mark.parametrize("active", [PRIMARY, SECONDARY])
def test_database_and_user_stay_on_the_home_instance_and_the_secret_waits_for_the_user(active):
    plan = _plan_component(_plus(active_region=active))
    home = _by_region(plan)[PRIMARY]
    user = only(plan, "gcp:sql/user:User")
    # Re-pointing `instance` would replace (drop) them: they never follow the role.
    assert user.inputs["instance"] == home.inputs["name"]
    assert only(plan, "gcp:sql/database:Database").inputs["instance"] == home.inputs["name"]
    # A rotation Cloud SQL refuses (users change on the primary only) must not store a
    # new password first: the password secret waits for the user.
    secret = only(plan, "gcp:secretmanager/secret:Secret", "password")
    assert user.urn in secret.dependencies


@pytest.mark.parametrize("edition", ["ENTERPRISE", "ENTERPRISE_PLUS"])
def test_instances_are_named_by_region_and_alias_their_first_role_names(edition):
    args = _plus() if edition == "ENTERPRISE_PLUS" else _args()
    instances = _by_region(_plan_component(args))
    assert {r: i.name for r, i in instances.items()} == {PRIMARY: f"db-{PRIMARY}",
                                                          SECONDARY: f"db-{SECONDARY}"}
    # Stacks deployed under the role names keep their instances: a rename, not a
    # replacement (each name is an alias of the region's instance).
    assert instances[PRIMARY].aliases == ["db-primary"]
    assert instances[SECONDARY].aliases == ["db-replica"]
