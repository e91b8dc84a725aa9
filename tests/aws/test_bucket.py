"""VersionedBucket under the recording mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.bucket import ReplicaRegion, VersionedBucket, VersionedBucketArgs
from components.base import Tier
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:"
              "BucketServerSideEncryptionConfiguration")
PUBLIC = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

EAST, WEST = "us-east-1", "us-west-2"
PER_BUCKET = (VERSIONING, ENCRYPTION, PUBLIC, OWNERSHIP, POLICY, LIFECYCLE, KEY, BUCKET)


def _plan(tier: Tier = "prod", *, replicate: bool = True, **overrides: Any) -> Recording:
    def program() -> None:
        east = aws.Provider("east", region=EAST)
        west = aws.Provider("west", region=WEST)
        bucket = VersionedBucket("hastack-artifacts", VersionedBucketArgs(
            tier=tier, provider=east, region=EAST,
            replicate_to=ReplicaRegion(west, WEST) if replicate else None, **overrides))
        pulumi.export("bucket", bucket.bucket_name)
        pulumi.export("bucket_arn", bucket.bucket_arn)
        pulumi.export("replica", bucket.replica_bucket_name)
        pulumi.export("replica_arn", bucket.replica_bucket_arn)
        pulumi.export("keys", [bucket.kms_key_arn, bucket.replica_kms_key_arn])
        store = bucket.artifact_store(oidc_provider_arn="arn:oidc", oidc_issuer="oidc.example")
        pulumi.export("store_bucket", store.bucket)
        pulumi.export("store_key", store.aws_kms_key_arn)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev", replicate=False)


_of = Recording.of_type


def _in(region: str) -> Callable[[Registration], bool]:
    provider = "east" if region == EAST else "west"
    return lambda r: (r.provider or "").endswith(f"::{provider}")


def _main(region: str) -> Callable[[Registration], bool]:
    """The artifact buckets' own resources, without log buckets or the way back."""
    where = _in(region)
    return lambda r: (where(r) and "-access-log" not in r.name
                      and not r.name.startswith("hastack-artifacts-back"))


def _one(recording: Recording, type_token: str, region: str = EAST) -> Registration:
    found = _of(recording, type_token, _main(region))
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def _bucket_id(recording: Recording, region: str) -> str:
    return str(_one(recording, BUCKET, region).id)


@pytest.mark.parametrize("region", [EAST, WEST])
def test_both_buckets_are_hardened(prod: Recording, region: str) -> None:
    bucket_id = _bucket_id(prod, region)
    key_arn = _one(prod, KEY, region).outputs["arn"]
    assert f":{region}:" in key_arn
    assert _one(prod, KEY, region).inputs["enableKeyRotation"] is True
    for token in (VERSIONING, ENCRYPTION, PUBLIC, OWNERSHIP, POLICY, LIFECYCLE):
        assert _one(prod, token, region).inputs["bucket"] == bucket_id, token

    assert _one(prod, VERSIONING, region).inputs["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = _one(prod, ENCRYPTION, region).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    assert rule["bucketKeyEnabled"] is True
    public = _one(prod, PUBLIC, region).inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                 "restrictPublicBuckets"):
        assert public[flag] is True, flag
    assert _one(prod, OWNERSHIP, region).inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}


def test_policy_denies_requests_without_tls(prod: Recording) -> None:
    arn = _one(prod, BUCKET).outputs["arn"]
    (statement,) = json.loads(_one(prod, POLICY).inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(statement["Resource"]) == sorted([arn, f"{arn}/*"])


@pytest.mark.parametrize(("plan", "days"), [("prod", 90), ("dev", 7)])
def test_lifecycle_expires_noncurrent_versions_and_aborts_uploads(
        plan: str, days: int, request: Any) -> None:
    (rule,) = _one(request.getfixturevalue(plan), LIFECYCLE).inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1


def test_replication_waits_for_versioning_on_both_buckets(prod: Recording) -> None:
    replication = _one(prod, REPLICATION)
    for region in (EAST, WEST):
        assert _one(prod, VERSIONING, region).urn in replication.dependencies, region
    assert _one(prod, ROLE_POLICY).urn in replication.dependencies
    # The rule references the destination bucket and key by value, too.
    refs = replication.property_dependencies["rules"]
    assert _one(prod, BUCKET, WEST).urn in refs and _one(prod, KEY, WEST).urn in refs


def test_replication_rule(prod: Recording) -> None:
    replication = _one(prod, REPLICATION)
    assert replication.inputs["bucket"] == _bucket_id(prod, EAST)
    assert replication.inputs["role"] == _one(prod, ROLE).outputs["arn"]
    (rule,) = replication.inputs["rules"]
    destination = rule["destination"]
    assert rule["status"] == "Enabled"
    assert destination["bucket"] == _one(prod, BUCKET, WEST).outputs["arn"]
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"] == _one(
        prod, KEY, WEST).outputs["arn"]
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"]["status"] == "Enabled"
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"] == {"status": "Enabled"}


def test_replication_role_can_use_both_keys_and_nothing_more(prod: Recording) -> None:
    trust = json.loads(_one(prod, ROLE).inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    statements = json.loads(_one(prod, ROLE_POLICY).inputs["policy"])["Statement"]
    by_action = {a: s["Resource"] for s in statements for a in s["Action"]}
    assert by_action["kms:Decrypt"] == [_one(prod, KEY, EAST).outputs["arn"]]
    assert by_action["kms:Encrypt"] == [_one(prod, KEY, WEST).outputs["arn"]]
    replica_arn = _one(prod, BUCKET, WEST).outputs["arn"]
    assert by_action["s3:ReplicateObject"] == [f"{replica_arn}/*"]
    assert all(r != "*" for resources in by_action.values() for r in resources)


def test_only_current_v7_resource_types_are_used(prod: Recording) -> None:
    s3_types = {r.type for r in prod.registrations if r.type.startswith("aws:s3/")}
    assert s3_types == {BUCKET, VERSIONING, ENCRYPTION, PUBLIC, OWNERSHIP, POLICY,
                        LIFECYCLE, REPLICATION, "aws:s3/bucketLogging:BucketLogging"}
    # No inline (deprecated) bucket configuration on the bucket itself.
    for bucket in _of(prod, BUCKET):
        assert set(bucket.inputs) <= {"tags", "bucket", "bucketPrefix", "forceDestroy"}


def test_prod_protects_data_and_dev_does_not(prod: Recording, dev: Recording) -> None:
    for token in (BUCKET, KEY):
        for registration in _of(prod, token):
            assert registration.protect and registration.retain_on_delete
        for registration in _of(dev, token):
            assert not registration.protect and not registration.retain_on_delete
    # Configuration resources stay unprotected so they can be changed and replaced.
    assert not _one(prod, POLICY).protect


def test_dev_without_replication(dev: Recording) -> None:
    assert _of(dev, REPLICATION) == [] and _of(dev, ROLE) == []
    assert len(_of(dev, BUCKET)) == 1
    assert dev.outputs.get("replica") is None


def test_outputs(prod: Recording) -> None:
    out = prod.outputs
    assert out["bucket"] == _bucket_id(prod, EAST)
    assert out["replica"] == _bucket_id(prod, WEST)
    assert out["replica_arn"] == _one(prod, BUCKET, WEST).outputs["arn"]
    assert out["keys"] == [_one(prod, KEY, EAST).outputs["arn"],
                           _one(prod, KEY, WEST).outputs["arn"]]
    assert (out["store_bucket"], out["store_key"]) == (out["bucket"], out["keys"][0])


@pytest.mark.parametrize(("name", "overrides", "message"), [
    ("hastack-artifacts", {"replicate_to": "same"}, "must differ from region"),
    ("hastack-artifacts", {"noncurrent_version_days": 0}, r"noncurrent_version_days must be"),
    ("Hastack_Artifacts", {}, "lower-case letters"),
])
def test_invalid_arguments_raise_clear_errors(name: str, overrides: dict[str, Any],
                                              message: str) -> None:
    def program() -> None:
        east = aws.Provider("east", region=EAST)
        fields = dict(overrides)
        if fields.get("replicate_to") == "same":
            fields["replicate_to"] = ReplicaRegion(east, EAST)
        VersionedBucket(name, VersionedBucketArgs(tier="prod", provider=east, region=EAST,
                                                  **fields))

    with pytest.raises(ValueError, match=message):
        run_program(program, project="hastack", stack="test", config={})



@pytest.mark.parametrize("region", [EAST, WEST])
def test_prod_logs_every_bucket_to_a_locked_down_log_bucket_in_its_region(
        prod: Recording, region: str) -> None:
    source = _one(prod, BUCKET, region)
    (logging,) = _of(prod, "aws:s3/bucketLogging:BucketLogging", _in(region))
    (log_bucket,) = _of(prod, BUCKET, lambda r: _in(region)(r) and "-access-logs" in r.name)
    assert logging.inputs["bucket"] == source.id
    assert logging.inputs["targetBucket"] == log_bucket.id
    assert log_bucket.protect and log_bucket.retain_on_delete

    def companion(token: str) -> Registration:
        (found,) = _of(prod, token, lambda r: _in(region)(r) and "-access-logs" in r.name)
        return found

    # SSE-S3: what server access log delivery writes with; no CMK on the target.
    sse = companion(ENCRYPTION).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "AES256"}
    assert companion(OWNERSHIP).inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    assert all(companion(PUBLIC).inputs[k] for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    policy = json.loads(companion(POLICY).inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    delivery = by_sid["S3ServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == [source.outputs["arn"]]
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    assert companion(LIFECYCLE).inputs["rules"][0]["expiration"]["days"] == 365


def test_dev_has_no_access_log_buckets(dev: Recording) -> None:
    assert _of(dev, "aws:s3/bucketLogging:BucketLogging") == []
    assert len(_of(dev, BUCKET)) == 1


def test_replication_runs_both_ways_with_replica_modification_sync(prod: Recording) -> None:
    east, west = _one(prod, BUCKET, EAST), _one(prod, BUCKET, WEST)
    forward = _one(prod, REPLICATION, EAST)
    (back,) = _of(prod, REPLICATION, _in(WEST))
    assert forward.inputs["bucket"] == east.id
    assert back.inputs["bucket"] == west.id
    assert back.inputs["rules"][0]["destination"]["bucket"] == east.outputs["arn"]
    assert back.inputs["rules"][0]["destination"]["encryptionConfiguration"] == {
        "replicaKmsKeyId": _one(prod, KEY, EAST).outputs["arn"]}
    for config in (forward, back):
        criteria = config.inputs["rules"][0]["sourceSelectionCriteria"]
        assert criteria["replicaModifications"] == {"status": "Enabled"}
        assert config.inputs["rules"][0]["deleteMarkerReplication"] == {"status": "Enabled"}
    back_role = next(r for r in _of(prod, ROLE) if r.name.startswith("hastack-artifacts-back"))
    assert back.inputs["role"] == back_role.outputs["arn"]
    versionings = {_one(prod, VERSIONING, EAST).urn, _one(prod, VERSIONING, WEST).urn}
    assert versionings <= set(back.dependencies)
