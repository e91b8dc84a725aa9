"""Secrets Manager copies of the orchestrator's credentials (components/aws/secrets.py)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.secrets import (
    REGION_LOCAL,
    REPLICATION_TAG,
    OrchestratorSecrets,
    OrchestratorSecretsArgs,
    SecretRegion,
    stored_secret,
)
from components.base import Protection, Tier
from hastack.plan.runner import Recording, run_program

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KEY = "aws:kms/key:Key"
EAST, WEST = "us-east-1", "us-west-2"


def _plan(tier: Tier = "prod", regions: tuple[str, ...] = (EAST, WEST)) -> Recording:
    def program() -> None:
        providers = {r: aws.Provider(r, region=r) for r in regions}
        store = OrchestratorSecrets("hastack-x-orchestrator-secrets", OrchestratorSecretsArgs(
            tier=tier, regions=providers, primary_region=regions[0],
            entries={"databaseRole": "prefect_app",
                     "databasePassword": pulumi.Output.secret("p4ssw0rd-value-xyz")}))
        pulumi.export("arn", store.secret_arn)

    return run_program(program, project="hastack", stack="test", config={})


def _key_regions(plan: Recording) -> dict[str, dict[str, Any]]:
    found = {}
    for key in Recording.of_type(plan, KEY):
        statements = json.loads(key.inputs["policy"])["Statement"]
        (use,) = [s for s in statements if s["Sid"] == "UseThroughServices"]
        (via,) = use["Condition"]["StringEquals"]["kms:ViaService"]
        found[via] = key.inputs
    return found


def test_one_secret_replicated_to_the_other_region_under_its_own_key() -> None:
    plan = _plan()
    (secret,) = Recording.of_type(plan, SECRET)
    assert EAST in secret.name  # keyed by its region, which never changes
    assert secret.protect and secret.inputs["recoveryWindowInDays"] == 30
    (replica,) = secret.inputs["replicas"]
    assert replica["region"] == WEST and replica["kmsKeyId"] != secret.inputs["kmsKeyId"]
    assert REPLICATION_TAG not in secret.inputs["tags"]
    # Each region's key is usable through that region's Secrets Manager only.
    assert set(_key_regions(plan)) == {f"secretsmanager.{r}.amazonaws.com" for r in (EAST, WEST)}
    (version,) = Recording.of_type(plan, VERSION)
    assert version.inputs["secretString"] == "[secret]"
    assert "secretString" in version.secret_inputs
    assert "p4ssw0rd" not in json.dumps([r.inputs for r in plan.registrations])


def test_one_region_dev_is_region_local_and_unprotected() -> None:
    plan = _plan("dev", (EAST,))
    (secret,) = Recording.of_type(plan, SECRET)
    assert "replicas" not in secret.inputs or not secret.inputs["replicas"]
    assert secret.inputs["tags"][REPLICATION_TAG] == REGION_LOCAL
    assert not secret.protect and secret.inputs["recoveryWindowInDays"] == 7


def test_a_replica_in_the_same_region_is_refused() -> None:
    def program() -> None:
        provider = aws.Provider("p", region=EAST)
        where = SecretRegion(provider, EAST, "arn:key")
        stored_secret("s", description="d", value="v", primary=where, replica=where,
                      tier="dev", protection=Protection.for_tier("dev"), tags={},
                      parent=provider)

    with pytest.raises(Exception, match="replica region must differ"):
        run_program(program, project="hastack", stack="test", config={})


def test_the_platform_stores_the_orchestrator_credentials(stack_plan: Any) -> None:
    plan = stack_plan("prod").plan
    (secret,) = [r for r in plan["resources"] if r["type"] == SECRET
                 and "orchestrator-secrets" in r["name"]]
    assert secret["protect"] is True
    assert [r["region"] for r in secret["inputs"]["replicas"]] == [WEST]
    assert "orchestratorSecretArn" in plan["outputs"]
    # The other generated credentials: the master password replicated, each region's
    # Redis token region-local (its cache dies with its region); all under a CMK.
    secrets = {r["name"]: r for r in plan["resources"] if r["type"] == SECRET}
    assert [r["region"] for r in secrets["hastack-prod-aurora-credentials"]["inputs"][
        "replicas"]] == [WEST]
    for region in (EAST, WEST):
        tags = secrets[f"hastack-prod-{region}-redis-auth"]["inputs"]["tags"]
        assert tags[REPLICATION_TAG] == REGION_LOCAL
    assert all(s["inputs"]["kmsKeyId"] for s in secrets.values())
    for version in (r for r in plan["resources"] if r["type"] == VERSION):
        assert version["inputs"]["secretString"] == "[secret]"
