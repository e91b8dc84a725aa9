"""VersionedGcsBucket: hardened, CMEK, lifecycle, dual-region with turbo replication in prod."""

from __future__ import annotations

import dataclasses

import pytest

from components.gcp.bucket import VersionedGcsBucketArgs
from tests.gcp.conftest import PRIMARY, PROJECT, SECONDARY, key_location, of_type, only

BUCKET = "gcp:storage/bucket:Bucket"


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_bucket_hardening(plans, tier):
    bucket = only(plans(tier), BUCKET, "-bucket")
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    rules = {r["action"]["type"]: r["condition"] for r in bucket.inputs["lifecycleRules"]}
    days = 90 if tier == "prod" else 7
    assert rules["Delete"]["daysSinceNoncurrentTime"] == days
    assert rules["Delete"]["withState"] == "ARCHIVED"
    assert "AbortIncompleteMultipartUpload" in rules


def test_prod_bucket_is_a_turbo_replicated_dual_region_with_a_multi_region_key(plans):
    plan = plans("prod")
    bucket = only(plan, BUCKET, "-bucket")
    assert bucket.inputs["location"] == "US"
    assert bucket.inputs["customPlacementConfig"]["dataLocations"] == [
        PRIMARY.upper(), SECONDARY.upper()]
    assert bucket.inputs["rpo"] == "ASYNC_TURBO"
    assert key_location(bucket.inputs["encryption"]["defaultKmsKeyName"]) == "us"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protect is True and bucket.retain_on_delete is True


def test_dev_bucket_is_single_region_with_a_regional_key(plans):
    bucket = only(plans("dev"), BUCKET, "-bucket")
    assert bucket.inputs["location"] == PRIMARY.upper()
    assert "customPlacementConfig" not in bucket.inputs
    assert "rpo" not in bucket.inputs
    assert key_location(bucket.inputs["encryption"]["defaultKmsKeyName"]) == PRIMARY
    assert bucket.protect is False


def test_the_storage_agent_may_use_the_bucket_key_before_the_bucket_exists(plans):
    plan = plans("prod")
    bucket = only(plan, BUCKET, "-bucket")
    grants = {g.urn: g for g in of_type(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    used = [grants[d] for d in bucket.dependencies if d in grants]
    assert [g.inputs["member"] for g in used] == [
        "serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com"]
    assert used[0].inputs["cryptoKeyId"] == bucket.inputs["encryption"]["defaultKmsKeyName"]


def _args(**changes) -> VersionedGcsBucketArgs:
    base = VersionedGcsBucketArgs(name="hastack", tier="prod", project=PROJECT,
                                  primary_region=PRIMARY, secondary_region=SECONDARY)
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"secondary_region": "europe-west1"}, "cannot form a dual-region"),
    ({"bucket_name": "Has_Upper"}, "not a valid bucket name"),
    ({"noncurrent_version_days": 0}, "1..3650"),
    ({"secondary_region": None}, "needs a secondary_region"),
    ({"secondary_region": PRIMARY}, "must differ"),
])
def test_invalid_bucket_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_a_pair_across_continents_is_fine_without_replication():
    args = _args(secondary_region="europe-west1", replicate=False)
    args.validate()
    assert args.location == "US-CENTRAL1" and not args.dual_region


def test_prod_writes_usage_logs_to_a_private_log_bucket_dev_does_not(plans):
    plan = plans("prod")
    bucket = only(plan, BUCKET, "-bucket")
    logs = only(plan, BUCKET, "-usage-logs")
    assert bucket.inputs["logging"] == {"logBucket": logs.outputs["name"],
                                        "logObjectPrefix": "usage/"}
    assert logs.inputs["uniformBucketLevelAccess"] is True
    assert logs.inputs["publicAccessPrevention"] == "enforced"
    assert logs.inputs["versioning"] == {"enabled": True}
    assert "logging" not in logs.inputs and logs.protect
    writer = only(plan, "gcp:storage/bucketIAMMember:BucketIAMMember", "usage-log-writer")
    assert writer.inputs == {"bucket": logs.outputs["name"],
                             "role": "roles/storage.objectCreator",
                             "member": "group:cloud-storage-analytics@google.com"}
    assert "logging" not in only(plans("dev"), BUCKET, "-bucket").inputs
    assert len(of_type(plans("dev"), BUCKET)) == 1
