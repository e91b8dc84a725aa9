"""Secret Manager copies of every credential: CMEK per replica, region-local caches."""

from __future__ import annotations

import pytest

from components.base import Protection
from components.gcp.secrets import REGION_LOCAL, REPLICATION_LABEL, stored_secret
from tests.gcp.conftest import PRIMARY, SECONDARY, by_urn, of_type, only, run

SECRET = "gcp:secretmanager/secret:Secret"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


def _replicas(secret):
    return secret.inputs["replication"]["userManaged"]["replicas"]


def test_orchestrator_credentials_are_stored_with_a_cmek_replica_per_region(plans):
    plan = plans("prod", workflows={"enabled": True})
    secret = only(plan, SECRET, "orchestrator-credentials")
    assert [r["location"] for r in _replicas(secret)] == [PRIMARY, SECONDARY]
    assert REPLICATION_LABEL not in secret.inputs["labels"]
    assert secret.protect and secret.inputs["deletionProtection"] is True
    version = only(plan, VERSION, "orchestrator-credentials")
    assert version.inputs["secretData"] == "[secret]" and "secretData" in version.secret_inputs
    assert "orchestratorSecretId" in plan.outputs


def test_only_the_secret_manager_agent_may_use_the_secret_keys(plans):
    plan = plans("prod")
    urns = by_urn(plan)
    keys = {r["customerManagedEncryption"]["kmsKeyName"]
            for s in of_type(plan, SECRET) for r in _replicas(s)}
    assert len(keys) == 2  # one per region, shared by the environment's secrets
    grants = [g for g in of_type(plan, GRANT) if "secret-keys" in g.name]
    assert len(grants) == 2
    for grant in grants:
        assert grant.inputs["member"].endswith("@gcp-sa-secretmanager.iam.gserviceaccount.com")
        assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    # Every secret waits for the grants: Secret Manager checks the key at creation.
    grant_urns = {g.urn for g in grants}
    for secret in of_type(plan, SECRET):
        assert grant_urns & set(secret.dependencies), secret.name
    assert all(urns[u].type == GRANT for u in grant_urns)


def test_memorystore_auth_strings_are_region_local_secrets(plans):
    plan = plans("prod")
    for region in (PRIMARY, SECONDARY):
        secret = only(plan, SECRET, f"{region}-redis-auth")
        assert [r["location"] for r in _replicas(secret)] == [region]
        assert f"/locations/{region}/" in _replicas(secret)[0][
            "customerManagedEncryption"]["kmsKeyName"]
        assert secret.inputs["labels"][REPLICATION_LABEL] == REGION_LOCAL
        version = only(plan, VERSION, f"{region}-redis-auth")
        assert version.inputs["secretData"] == "[secret]"


def test_dev_secrets_are_not_protected(plans):
    plan = plans("dev")
    for secret in of_type(plan, SECRET):
        assert not secret.protect and secret.inputs["deletionProtection"] is False


def test_a_secret_needs_a_location() -> None:
    def program() -> None:
        stored_secret("s", secret_id="s", project="p", value="x", replicas={},
                      protection=Protection.for_tier("dev"), labels={},
                      opts=__import__("pulumi").ResourceOptions())

    with pytest.raises(Exception, match="at least one replica location"):
        run(program)
