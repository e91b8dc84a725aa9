"""AuroraBackup: vaults per region on their own CMKs, a copy to the other region, prod lock."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from components.aws.backup import AuroraBackup, AuroraBackupArgs, BackupRegion
from components.base import Tier
from hastack.plan.runner import Recording, run_program

EAST, WEST = "us-east-1", "us-west-2"
CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:hastack-prod-us-east-1"
VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"


def _plan(tier: Tier, **overrides: object) -> Recording:
    def program() -> None:
        east = aws.Provider("east", region=EAST)
        west = aws.Provider("west", region=WEST)
        AuroraBackup("db-backup", AuroraBackupArgs(
            tier=tier, primary=BackupRegion(east, EAST), secondary=BackupRegion(west, WEST),
            cluster_arn=CLUSTER_ARN, retention_days=14, **overrides))  # type: ignore[arg-type]

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


def _region_of(recording: Recording, registration: object) -> str:
    provider = getattr(registration, "provider", "") or ""
    return EAST if provider.endswith("::east") else WEST


def test_a_vault_per_region_each_on_its_own_cmk_used_only_by_backup_and_rds(
        prod: Recording) -> None:
    vaults = Recording.of_type(prod, VAULT)
    keys = {k.outputs["arn"]: k for k in Recording.of_type(prod, "aws:kms/key:Key")}
    assert sorted(_region_of(prod, v) for v in vaults) == [EAST, WEST]
    for vault in vaults:
        key = keys[vault.inputs["kmsKeyArn"]]
        assert _region_of(prod, key) == _region_of(prod, vault)
        via = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}[
            "UseThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
        region = _region_of(prod, vault)
        assert via == [f"backup.{region}.amazonaws.com", f"rds.{region}.amazonaws.com"]
        assert vault.protect and vault.inputs.get("forceDestroy") is False


def test_daily_plan_copies_to_the_secondary_vault(prod: Recording) -> None:
    (plan,) = Recording.of_type(prod, "aws:backup/plan:Plan")
    assert _region_of(prod, plan) == EAST
    (rule,) = plan.inputs["rules"]
    vaults = {_region_of(prod, v): v for v in Recording.of_type(prod, VAULT)}
    assert rule["targetVaultName"] == vaults[EAST].outputs["name"]
    (copy,) = rule["copyActions"]
    assert copy["destinationVaultArn"] == vaults[WEST].outputs["arn"]
    assert copy["lifecycle"]["deleteAfter"] == rule["lifecycle"]["deleteAfter"] == 14
    (selection,) = Recording.of_type(prod, "aws:backup/selection:Selection")
    assert selection.inputs["resources"] == [CLUSTER_ARN]
    (role,) = Recording.of_type(prod, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "backup.amazonaws.com"}]
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
    (attachment,) = Recording.of_type(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.urn in selection.dependencies


def test_prod_locks_both_vaults_in_compliance_mode_staging_does_not(prod: Recording) -> None:
    locks = Recording.of_type(prod, LOCK)
    assert len(locks) == 2
    assert all(lock.inputs["changeableForDays"] == 3 and lock.inputs["minRetentionDays"] == 14
               for lock in locks)
    assert Recording.of_type(_plan("staging"), LOCK) == []
    governance = Recording.of_type(_plan("staging", vault_lock="governance"), LOCK)
    assert len(governance) == 2 and all("changeableForDays" not in g.inputs for g in governance)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"retention_days": 0}, "retention_days must be 1..35"),
])
def test_bad_arguments_are_clear_errors(overrides: dict[str, object], message: str) -> None:
    east = BackupRegion(None, EAST)  # type: ignore[arg-type]
    args = AuroraBackupArgs(tier="prod", primary=east, secondary=BackupRegion(None, WEST),  # type: ignore[arg-type]
                            cluster_arn=CLUSTER_ARN, retention_days=14)
    with pytest.raises(ValueError, match=message):
        AuroraBackupArgs(**{**args.__dict__, **overrides}).validate()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must differ"):
        AuroraBackupArgs(tier="prod", primary=east, secondary=east, cluster_arn=CLUSTER_ARN,
                         retention_days=14).validate()
