"""`secrets-cmk-replicated`: CMK on every secret, a replica in the secondary region."""

from __future__ import annotations

from typing import Any

from hastack_policies.catalogue import rule_named

from tests.policies.plans import SECRET, PlanBuilder, ref
from tests.policies.runner import run_stack_rule

RULE = "secrets-cmk-replicated"
AWS_SECRET = "aws:secretsmanager/secret:Secret"
GCP_SECRET = "gcp:secretmanager/secret:Secret"


def _aws(secret: dict[str, Any], *, secondary: str | None = "us-west-2") -> PlanBuilder:
    b = PlanBuilder()
    b.provider("use1", "aws", region="us-east-1")
    root = b.component("hastack:aws:Platform", "root")
    regions = {"primary": "us-east-1"} | ({"secondary": secondary} if secondary else {})
    b.set(root, "hastackRecovery", {"regions": regions})
    b.add("aws:kms/key:Key", "key", {"enableKeyRotation": True}, provider="use1", parent=root)
    b.add(AWS_SECRET, "secret", secret, provider="use1", parent=root, protect=True)
    b.add("aws:secretsmanager/secretVersion:SecretVersion", "secret-v",
          {"secretId": ref("secret"), "secretString": SECRET}, provider="use1", parent=root)
    return b


def _gcp(replicas: list[dict[str, Any]] | None, labels: dict[str, str] | None = None
         ) -> PlanBuilder:
    b = PlanBuilder(stack="gcp-prod", cloud="gcp")
    b.provider("c1", "gcp", project="p", region="us-central1")
    root = b.component("hastack:gcp:Platform", "root")
    b.set(root, "hastackRecovery", {"regions": {"primary": "us-central1",
                                                "secondary": "us-east1"}})
    replication = ({"auto": {}} if replicas is None else {"userManaged": {"replicas": replicas}})
    b.add(GCP_SECRET, "secret", {"secretId": "s", "replication": replication,
                                 "labels": labels or {}}, provider="c1", parent=root)
    return b


def _messages(b: PlanBuilder) -> list[str]:
    return run_stack_rule(rule_named(RULE), b.plan()).messages


KEY = ref("key", "arn")
CMEK = {"kmsKeyName": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"}
CMEK_E = {"kmsKeyName": "projects/p/locations/us-east1/keyRings/r/cryptoKeys/k"}


def test_a_replicated_cmk_secret_passes() -> None:
    assert _messages(_aws({"kmsKeyId": KEY, "replicas": [
        {"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:1:key/x"}]})) == []


def test_the_aws_managed_key_fails() -> None:
    for key in (None, "alias/aws/secretsmanager"):
        messages = _messages(_aws({"kmsKeyId": key, "replicas": [
            {"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:1:key/x"}]}))
        assert any("aws/secretsmanager" in m for m in messages), key


def test_no_replica_in_the_secondary_region_fails() -> None:
    assert any("no Secrets Manager replica in us-west-2" in m
               for m in _messages(_aws({"kmsKeyId": KEY})))
    # A replica elsewhere, or one under the AWS managed key, is not enough either.
    assert _messages(_aws({"kmsKeyId": KEY, "replicas": [{"region": "eu-west-1",
                                                           "kmsKeyId": "k"}]}))
    assert any("AWS managed key" in m for m in _messages(
        _aws({"kmsKeyId": KEY, "replicas": [{"region": "us-west-2"}]})))


def test_region_local_and_one_region_stacks_need_no_replica() -> None:
    local = {"kmsKeyId": KEY, "tags": {"hastack:replication": "region-local"}}
    assert _messages(_aws(local)) == []
    assert _messages(_aws({"kmsKeyId": KEY}, secondary=None)) == []
    # ... but still a CMK.
    assert _messages(_aws({"tags": {"hastack:replication": "region-local"}}))


def test_gcp_needs_user_managed_cmek_replicas_in_both_regions() -> None:
    both = [{"location": "us-central1", "customerManagedEncryption": CMEK},
            {"location": "us-east1", "customerManagedEncryption": CMEK_E}]
    assert _messages(_gcp(both)) == []
    assert any("automatic replication" in m for m in _messages(_gcp(None)))
    assert any("no CMEK" in m for m in _messages(_gcp([{"location": "us-central1"},
                                                        both[1]])))
    assert any("no replica in us-east1" in m for m in _messages(_gcp(both[:1])))
    assert _messages(_gcp(both[:1], {"hastack-replication": "region-local"})) == []
