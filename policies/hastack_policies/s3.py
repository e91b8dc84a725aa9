"""S3: a bucket's settings live in companion resources, so these are stack rules.

Since AWS provider v4 a bucket's versioning, encryption, public-access block,
policy, ownership, lifecycle and replication are separate resources that point at
the bucket. Each rule finds a bucket's companions (through property dependencies,
else by bucket name) and judges them. pulumi-aws v7 still has deprecated `...V2`
twins of several companions; both spellings count.

A bucket policy is JSON built from the bucket's ARN, so it is unknown in a first
preview; the TLS-only rule then has nothing to read and stays silent until
`pulumi up`, where the engine analyzes the resolved policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    CRITICAL,
    DATA_RETENTION,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    OPERATIONS,
    SECURITY,
    Report,
    StackSubject,
    checkov,
    fsbp,
    own,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph, each
from hastack_policies.tokens import (
    LOAD_BALANCER,
    S3_BUCKETS,
    S3_LIFECYCLE,
    S3_LOGGING,
    S3_OWNERSHIP,
    S3_POLICY,
    S3_PUBLIC_ACCESS_BLOCK,
    S3_REPLICATION,
    S3_SSE,
    S3_VERSIONING,
)
from hastack_policies.values import is_set, is_unknown, items, peek, truthy, value

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                       "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _companions(graph: StackGraph, bucket: PolicyResource,
                types: Iterable[str]) -> list[PolicyResource]:
    return graph.referrers(bucket, "bucket", types, literal=lambda b: peek(b.props, "bucket"))


def _each_bucket(stack: StackSubject) -> tuple[StackGraph, list[PolicyResource]]:
    graph = StackGraph(stack.resources)
    return graph, graph.of_type(*S3_BUCKETS)


@stack_rule(
    name="s3-versioning",
    description="Every bucket has versioning enabled.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_AWS_21"),),
    remediation="Add an aws.s3.BucketVersioning with versioningConfiguration.status='Enabled'.",
)
def s3_versioning(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        inline = truthy(peek(bucket.props, "versioning", "enabled"))
        statuses = [value(c.props, "versioningConfiguration", "status")
                    for c in _companions(graph, bucket, S3_VERSIONING)]
        if not inline and "Enabled" not in statuses:
            report("versioning is not enabled; an overwrite or delete is "
                   "final.", bucket.urn)

    each(buckets, judge)


@stack_rule(
    name="s3-public-access-block",
    description="Every bucket blocks public ACLs and policies (all four switches).",
    severity=CRITICAL, levels=SECURITY,
    anchors=(fsbp("S3.8"), fsbp("S3.1"), checkov("CKV_AWS_53"), checkov("CKV_AWS_54"),
             checkov("CKV_AWS_55"), checkov("CKV_AWS_56")),
    remediation="Add an aws.s3.BucketPublicAccessBlock with all four flags true.",
)
def s3_public_access_block(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        blocks = _companions(graph, bucket, S3_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            report("no public access block.", bucket.urn)
            return
        off = [flag for flag in PUBLIC_ACCESS_FLAGS
               if not any(truthy(value(block.props, flag)) for block in blocks)]
        if off:
            report(f"public access block leaves {', '.join(off)} off.",
                   bucket.urn)

    each(buckets, judge)


def _sse_rules(graph: StackGraph, bucket: PolicyResource) -> list[Any]:
    rules = [rule for config in _companions(graph, bucket, S3_SSE)
             for rule in items(config.props, "rules")]
    inline = value(bucket.props, "serverSideEncryptionConfiguration", "rule")
    return [*rules, inline] if inline else rules


def _receives_alb_logs(graph: StackGraph, bucket: PolicyResource) -> bool:
    """ELB delivers access logs only to SSE-S3 buckets (ELB docs, "Enable access logs")."""
    return bool(graph.referrers(bucket, "accessLogs", (LOAD_BALANCER,),
                                literal=lambda b: peek(b.props, "bucket")))


@stack_rule(
    name="s3-sse-kms",
    description="Every bucket encrypts objects by default with a KMS key (a load balancer's "
                "access-log bucket with SSE-S3, the only encryption ELB delivers to).",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_AWS_145"), checkov("CKV_AWS_19")),
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm="
                "'aws:kms' and kmsMasterKeyId.",
)
def s3_sse_kms(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        defaults = [value(rule, "applyServerSideEncryptionByDefault", default={})
                    for rule in _sse_rules(graph, bucket)]
        if _receives_alb_logs(graph, bucket):
            if not any(value(d, "sseAlgorithm") == "AES256" for d in defaults):
                report("access-log bucket without SSE-S3 (AES256): ELB cannot deliver "
                       "logs to SSE-KMS buckets.", bucket.urn)
            return
        kms = [d for d in defaults if value(d, "sseAlgorithm") in KMS_ALGORITHMS]
        if _is_log_target(graph, bucket) and any(
                value(d, "sseAlgorithm") == "AES256" for d in defaults):
            return  # server access log targets take SSE-S3 (log delivery's encryption)
        if not kms:
            report("default encryption is not SSE-KMS.", bucket.urn)
        elif not any(is_set(d, "kmsMasterKeyId") for d in kms):
            report("SSE-KMS without kmsMasterKeyId uses the AWS-managed "
                   "aws/s3 key.", bucket.urn)

    each(buckets, judge)


def _denies_insecure_transport(document: Mapping[str, Any]) -> bool:
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Deny":
            continue
        condition = statement.get("Condition", {})
        secure = condition.get("Bool", {}).get("aws:SecureTransport")
        secure_values = secure if isinstance(secure, list) else [secure]
        if any(str(v).lower() == "false" for v in secure_values):
            return True
    return False


@stack_rule(
    name="s3-tls-only",
    description="Every bucket policy denies requests that do not use TLS.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("S3.5"),),
    remediation="Add a bucket policy statement: Deny s3:* on the bucket and its objects when "
                "aws:SecureTransport is false.",
)
def s3_tls_only(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        policies = _companions(graph, bucket, S3_POLICY)
        if not policies:
            report("no bucket policy, so plain-HTTP requests are allowed.",
                   bucket.urn)
            return
        documents = [peek(p.props, "policy") for p in policies]
        if any(is_unknown(document) for document in documents):
            return  # built from outputs: judged by `pulumi up` once known
        parsed = [_parse_policy(document) for document in documents]
        if not any(_denies_insecure_transport(document) for document in parsed):
            report("the bucket policy does not deny aws:SecureTransport="
                   "false.", bucket.urn)

    each(buckets, judge)


def _parse_policy(document: Any) -> Mapping[str, Any]:
    if isinstance(document, Mapping):
        return document
    try:
        parsed = json.loads(document) if isinstance(document, str) else {}
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, Mapping) else {}


@stack_rule(
    name="s3-bucket-owner-enforced",
    description="Every bucket disables ACLs (object ownership BucketOwnerEnforced).",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("S3.12"),),
    remediation="Add aws.s3.BucketOwnershipControls with rule.objectOwnership="
                "'BucketOwnerEnforced'.",
)
def s3_bucket_owner_enforced(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        owners = [value(c.props, "rule", "objectOwnership")
                  for c in _companions(graph, bucket, S3_OWNERSHIP)]
        if "BucketOwnerEnforced" not in owners:
            report("ACLs are still honoured (ownership is not "
                   "BucketOwnerEnforced).", bucket.urn)

    each(buckets, judge)


@stack_rule(
    name="s3-noncurrent-version-lifecycle",
    description="Versioned buckets expire noncurrent versions, so history does not grow forever.",
    severity=MEDIUM, levels=DATA_RETENTION,
    anchors=(checkov("CKV2_AWS_61"),),
    remediation="Add an aws.s3.BucketLifecycleConfiguration rule with "
                "noncurrentVersionExpiration.noncurrentDays.",
    settings={"maxNoncurrentDays": setting(
        "integer", 365, "Longest noncurrent-version retention accepted")},
)
def s3_noncurrent_version_lifecycle(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)
    limit = stack.config["maxNoncurrentDays"]

    def judge(bucket: PolicyResource) -> None:
        days = [value(rule, "noncurrentVersionExpiration", "noncurrentDays")
                for config in _companions(graph, bucket, S3_LIFECYCLE)
                for rule in items(config.props, "rules")
                if value(rule, "status") == "Enabled"]
        days = [d for d in days if d is not None]
        if not days:
            report("no enabled rule expires noncurrent versions.", bucket.urn)
        elif min(int(d) for d in days) > limit:
            report(f"noncurrent versions are kept {min(days)} days "
                   f"(> {limit}).", bucket.urn)

    each(buckets, judge)


def _is_critical(bucket: PolicyResource, tag_keys: Iterable[str]) -> bool:
    tags = peek(bucket.props, "tags")
    if not isinstance(tags, Mapping):
        return False
    return any(truthy(peek(bucket.props, "tags", key)) for key in tag_keys)


def _destinations(graph: StackGraph, source: PolicyResource,
                  config: PolicyResource) -> list[PolicyResource]:
    found = [b for b in graph.referenced(config, "rules", *S3_BUCKETS) if b.urn != source.urn]
    if found:
        return found
    names = {str(value(rule, "destination", "bucket", default="")).rsplit(":", 1)[-1]
             for rule in items(config.props, "rules")}
    return [b for b in graph.of_type(*S3_BUCKETS) if peek(b.props, "bucket") in names]


@stack_rule(
    name="s3-critical-replication",
    description="Buckets tagged critical replicate to a bucket in another region.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(checkov("CKV_AWS_144"),),
    remediation="Enable artifacts.replicate (a BucketReplicationConfig to the secondary "
                "region's bucket).",
    settings={"criticalTagKeys": setting(
        "array", ["hastack:critical"], "Tags whose value 'true' marks a bucket critical")},
)
def s3_critical_replication(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        if not _is_critical(bucket, stack.config["criticalTagKeys"]):
            return
        source_region = graph.region(bucket)
        replicated = False
        for config in _companions(graph, bucket, S3_REPLICATION):
            enabled = any(value(rule, "status") == "Enabled"
                          for rule in items(config.props, "rules"))
            regions = {graph.region(dest) for dest in _destinations(graph, bucket, config)}
            if enabled and any(region and region != source_region for region in regions):
                replicated = True
        if not replicated:
            report("tagged critical but not replicated to another region.",
                   bucket.urn)

    each(buckets, judge)


def _is_log_target(graph: StackGraph, bucket: PolicyResource) -> bool:
    """A bucket that receives logs: a BucketLogging target, or tagged as a log bucket
    (`hastack:purpose` `s3-access-logs` / `alb-access-logs`)."""
    purpose = peek(bucket.props, "tags", "hastack:purpose")
    if isinstance(purpose, str) and purpose.endswith("-access-logs"):
        return True
    return bool(graph.referrers(bucket, "targetBucket", S3_LOGGING,
                                literal=lambda b: peek(b.props, "bucket")))


@stack_rule(
    name="s3-access-logging",
    description="Every bucket that is not itself a log target records server access logs "
                "in a log bucket.",
    severity=MEDIUM, levels=OPERATIONS,
    # Both controls also flag the log bucket itself, which must not log into itself.
    anchors=(fsbp("S3.9"), checkov("CKV_AWS_18")),
    remediation="VersionedBucketArgs(access_logs=True) (the prod default): a BucketLogging "
                "into a per-region log bucket (components/aws/access_logs.py).",
)
def s3_access_logging(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)

    def judge(bucket: PolicyResource) -> None:
        configs = _companions(graph, bucket, S3_LOGGING)
        for config in configs:
            targets = graph.referenced(config, "targetBucket", *S3_BUCKETS)
            if any(target.urn == bucket.urn for target in targets):
                report("logs into itself: every log delivery writes another log record.",
                       bucket.urn)
        if _is_log_target(graph, bucket):
            return
        if not configs and not is_set(bucket.props, "logging"):
            report("no server access logging: who read or deleted what is not recorded.",
                   bucket.urn)

    each(buckets, judge)


@stack_rule(
    name="s3-two-way-replication",
    description="A replicated bucket's replica replicates back, and both directions sync "
                "replica modifications, so writes made during a failover return.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-S3-2"),),
    remediation="Keep VersionedBucket's return configuration (replica -> primary) and "
                "sourceSelectionCriteria.replicaModifications.status='Enabled' on both.",
)
def s3_two_way_replication(stack: StackSubject, report: Report) -> None:
    graph, buckets = _each_bucket(stack)
    edges: set[tuple[str, str]] = set()
    configs: list[tuple[PolicyResource, PolicyResource, list[PolicyResource]]] = []
    for bucket in buckets:
        for config in _companions(graph, bucket, S3_REPLICATION):
            destinations = _destinations(graph, bucket, config)
            configs.append((bucket, config, destinations))
            edges.update((bucket.urn, dest.urn) for dest in destinations)
    for bucket, config, destinations in configs:
        for dest in destinations:
            if (dest.urn, bucket.urn) not in edges:
                report(f"replicates to {dest.name} but nothing replicates back: objects "
                       "written there during a failover stay there.", bucket.urn)
        for rule in items(config.props, "rules"):
            if value(rule, "status") != "Enabled":
                continue
            sync = value(rule, "sourceSelectionCriteria", "replicaModifications", "status")
            if sync != "Enabled":
                report(f"rule {value(rule, 'id')!r} does not replicate replica "
                       "modifications.", bucket.urn)
