"""Every rule passes the compliant fixture and fails one precise mistake.

Each case names a rule, the fixture platform, the resource the rule judges (None
for stack rules) and a mutation of the compliant plan that must trip the rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hastack_policies.catalogue import all_rules, rule_named

from tests.policies.plans import PlanBuilder, aws_builder, gcp_builder, ref
from tests.policies.runner import run_resource_rule, run_stack_rule


@dataclass(frozen=True)
class Case:
    rule: str
    builder: Callable[[], PlanBuilder]
    target: str | None
    mutate: Callable[[PlanBuilder], None]


def setting(name: str, path: str, value: object) -> Callable[[PlanBuilder], None]:
    return lambda b: b.set(name, path, value)


def removing(*names: str) -> Callable[[PlanBuilder], None]:
    return lambda b: b.remove(*names)


def _one_zone(b: PlanBuilder) -> None:
    for name in b.names_of("aws:ec2/subnet:Subnet"):
        if name.endswith("-use1-b") or name.endswith("-use1-c"):
            b.set(name, "availabilityZone", "us-east-1a")


def _secondary_in_primary_region(b: PlanBuilder) -> None:
    b.option("db-usw2-cluster", "provider", "use1")


def _inline_and_separate(b: PlanBuilder) -> None:
    b.set("artifacts-replication", "inlinePolicies", [{"name": "x", "policy": "{}"}])


def _declare_role(b: PlanBuilder, secret: str, role: str | None) -> None:
    labels = b.specs[secret]["inputs"]["metadata"]["labels"]
    if role is None:
        labels.pop("hastack.io/database-role")
    else:
        labels["hastack.io/database-role"] = role


def _aws_with_targets() -> PlanBuilder:
    """The AWS fixture with recovery targets on its root component (what it meets)."""
    b = aws_builder()
    b.component("hastack:aws:Platform", "platform-root")
    b.set("platform-root", "hastackRecovery", {
        "targets": {"zoneFailure": {"rtoSeconds": 600, "rpoSeconds": 0},
                    "regionFailure": {"rtoSeconds": 3600, "rpoSeconds": 172800}},
        "regions": {"primary": "us-east-1", "secondary": "us-west-2"}})
    return b


def _aws_with_region_switch() -> PlanBuilder:
    """The targets fixture plus the ARC Region switch plan the platform builds (prod)."""
    b = _aws_with_targets()
    b.add("aws:iam/role:Role", "arc-execution", {
        "name": "hastack-prod-arc-execution",
        "assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "arc-region-switch.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})}, provider="use1")
    b.add("aws:iam/rolePolicy:RolePolicy", "arc-execution-policy", {
        "role": ref("arc-execution"), "policy": json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["rds:SwitchoverGlobalCluster"],
                           "Resource": ["arn:aws:rds::123456789012:global-cluster:g"]}]})},
        provider="use1")
    approval = {"name": "approve", "executionBlockType": "ManualApproval",
                "executionApprovalConfigs": [{"approvalRole": "arn:aws:iam::1:role/a"}]}
    aurora = {"name": "db", "executionBlockType": "AuroraGlobalDatabase"}
    b.add("aws:arcregionswitch/plan:Plan", "arc-plan", {
        "name": "hastack-prod", "executionRole": ref("arc-execution", "arn"),
        "recoveryApproach": "activePassive", "recoveryTimeObjectiveMinutes": 60,
        "workflows": [{"workflowTargetAction": "activate", "workflowTargetRegion": region,
                       "steps": [approval, aurora]} for region in ("us-east-1", "us-west-2")]},
        provider="use1")
    return b


def _first_step_aurora(b: PlanBuilder) -> None:
    for index in range(2):
        b.set("arc-plan", f"workflows.{index}.steps",
              [{"name": "db", "executionBlockType": "AuroraGlobalDatabase"}])


AWS, GCP = aws_builder, gcp_builder

CASES = [
    # Alarms
    Case("alarm-has-action", AWS, "alarm-usw2-rpo-lag",
         setting("alarm-usw2-rpo-lag", "alarmActions", [])),
    Case("data-stores-alarmed", AWS, None, removing("alarm-use1-replica-lag")),
    Case("rpo-alarm-within-target", AWS, None,
         setting("alarm-usw2-rpo-lag", "threshold", 90000)),
    # Drills
    Case("fis-template-stop-alarm", AWS, "drill-writer",
         setting("drill-writer", "stopConditions", [{"source": "none"}])),
    Case("fis-template-logged", AWS, "drill-writer",
         setting("drill-writer", "logConfiguration", None)),
    Case("fis-role-scoped", AWS, None, lambda b: b.set(
        "drill-writer-policy", "policy",
        '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')),
    # EKS
    Case("eks-endpoint-private", AWS, "eks-cluster",
         setting("eks-cluster", "vpcConfig.endpointPublicAccess", True)),
    Case("eks-secrets-encryption", AWS, "eks-cluster",
         setting("eks-cluster", "encryptionConfig.resources", [])),
    Case("eks-control-plane-logging", AWS, "eks-cluster",
         setting("eks-cluster", "enabledClusterLogTypes", ["api"])),
    Case("eks-supported-version", AWS, "eks-cluster", setting("eks-cluster", "version", "1.29")),
    Case("eks-node-group-spread", AWS, None,
         setting("eks-system", "subnetIds", [ref("private-use1-a")])),
    Case("eks-node-group-no-open-ssh", AWS, "eks-system",
         setting("eks-system", "remoteAccess", {"ec2SshKey": "ops"})),
    Case("eks-launch-template-imdsv2", AWS, "eks-system-lt",
         setting("eks-system-lt", "metadataOptions.httpTokens", "optional")),
    # Aurora / RDS
    Case("rds-storage-encrypted-cmk", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "kmsKeyId", None)),
    Case("rds-deletion-protection", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "deletionProtection", False)),
    Case("rds-backup-retention", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "backupRetentionPeriod", 3)),
    Case("rds-final-snapshot", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "skipFinalSnapshot", True)),
    Case("rds-iam-authentication", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "iamDatabaseAuthenticationEnabled", False)),
    Case("rds-log-exports", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "enabledCloudwatchLogsExports", [])),
    Case("rds-copy-tags-to-snapshots", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "copyTagsToSnapshot", False)),
    Case("rds-not-public", AWS, "db-use1-1", setting("db-use1-1", "publiclyAccessible", True)),
    Case("rds-enhanced-monitoring", AWS, "db-use1-1",
         setting("db-use1-1", "monitoringInterval", 0)),
    Case("rds-performance-insights", AWS, "db-use1-1",
         setting("db-use1-1", "performanceInsightsEnabled", False)),
    Case("rds-auto-minor-version-upgrade", AWS, "db-use1-1",
         setting("db-use1-1", "autoMinorVersionUpgrade", False)),
    Case("rds-statement-audit-logging", AWS, "db-use1-params",
         setting("db-use1-params", "parameters.2.value", "pg_stat_statements")),
    Case("rds-backup-copied-to-another-region", AWS, None,
         setting("backup-plan", "rules.0.copyActions", [])),
    Case("backup-vault-locked", AWS, None, removing("backup-usw2-lock")),
    Case("backup-vault-cmk", AWS, "backup-usw2", setting("backup-usw2", "kmsKeyArn", None)),
    Case("rds-global-cluster-encrypted", AWS, "db-global",
         setting("db-global", "storageEncrypted", False)),
    Case("rds-cluster-multi-az", AWS, None, removing("db-use1-2", "db-use1-3")),
    Case("rds-global-cluster-second-region", AWS, None, _secondary_in_primary_region),
    # ElastiCache
    Case("elasticache-automatic-failover", AWS, "cache-rg",
         setting("cache-rg", "automaticFailoverEnabled", False)),
    Case("elasticache-node-count", AWS, "cache-rg", setting("cache-rg", "numCacheClusters", 1)),
    Case("elasticache-at-rest-encryption-cmk", AWS, "cache-rg",
         setting("cache-rg", "kmsKeyId", None)),
    Case("elasticache-in-transit-encryption", AWS, "cache-rg",
         setting("cache-rg", "transitEncryptionEnabled", False)),
    Case("elasticache-auth", AWS, "cache-rg", setting("cache-rg", "authToken", None)),
    Case("elasticache-auth-rotation-safe", AWS, "cache-rg",
         setting("cache-rg", "authTokenUpdateStrategy", "SET")),
    Case("elasticache-snapshot-retention", AWS, "cache-rg",
         setting("cache-rg", "snapshotRetentionLimit", 1)),
    Case("elasticache-no-default-subnet-group", AWS, "cache-rg",
         setting("cache-rg", "subnetGroupName", "default")),
    # S3
    Case("s3-versioning", AWS, None, removing("artifacts-use1-versioning")),
    Case("s3-public-access-block", AWS, None,
         setting("artifacts-use1-pab", "restrictPublicBuckets", False)),
    Case("s3-sse-kms", AWS, None, setting(
        "artifacts-use1-sse", "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
        "AES256")),
    Case("s3-tls-only", AWS, None,
         setting("artifacts-use1-policy", "policy", '{"Version": "2012-10-17", '
                                                    '"Statement": []}')),
    Case("s3-bucket-owner-enforced", AWS, None,
         setting("artifacts-use1-ownership", "rule.objectOwnership", "ObjectWriter")),
    Case("s3-noncurrent-version-lifecycle", AWS, None,
         setting("artifacts-use1-lifecycle", "rules.0.noncurrentVersionExpiration", None)),
    Case("s3-critical-replication", AWS, None,
         removing("artifacts-replication-cfg", "artifacts-back-cfg")),
    Case("s3-two-way-replication", AWS, None, removing("artifacts-back-cfg")),
    Case("s3-access-logging", AWS, None, removing("artifacts-usw2-logging")),
    # Route 53
    Case("route53-primary-health-checked", AWS, "dns-primary",
         setting("dns-primary", "healthCheckId", None)),
    Case("route53-failover-pair", AWS, None, removing("dns-secondary")),
    Case("route53-health-check-sane", AWS, "dns-health",
         setting("dns-health", "resourcePath", None)),
    # The edge
    Case("alb-deletion-protection", AWS, "edge-alb",
         setting("edge-alb", "enableDeletionProtection", False)),
    Case("alb-https-listener-tls12", AWS, "edge-https",
         setting("edge-https", "sslPolicy", "ELBSecurityPolicy-2016-08")),
    Case("alb-http-listener-redirects-only", AWS, "edge-http",
         setting("edge-http", "defaultActions", [{"type": "forward",
                                                  "targetGroupArn": "arn:tg"}])),
    Case("cloud-dns-failover-health-checked", GCP, "dns-record",
         setting("dns-record", "routingPolicy.healthCheck", None)),
    Case("gke-gateway-api-enabled", GCP, "gke",
         setting("gke", "gatewayApiConfig.channel", "CHANNEL_DISABLED")),
    Case("gateway-served", GCP, None,
         setting("prefect-gateway", "spec.gatewayClassName", "nginx")),
    # KMS / IAM / network
    Case("kms-key-rotation", AWS, "eks-key", setting("eks-key", "enableKeyRotation", False)),
    Case("kms-key-policy-scoped", AWS, "eks-key", setting("eks-key", "policy", None)),
    Case("cloudwatch-log-group-cmk", AWS, "cache-slow-log",
         setting("cache-slow-log", "kmsKeyId", None)),
    Case("iam-role-policy-ownership", AWS, None, _inline_and_separate),
    Case("sg-no-open-data-store-ingress", AWS, "db-use1-in-0",
         setting("db-use1-in-0", "cidrIpv4", "0.0.0.0/0")),
    Case("nat-gateway-per-az", AWS, None, removing("nat-use1-c")),
    Case("zones-per-region", AWS, None, _one_zone),
    # GKE
    Case("gke-regional-or-multi-zone", GCP, "gke", setting("gke", "location", "europe-west1-b")),
    Case("gke-private-nodes", GCP, "gke",
         setting("gke", "privateClusterConfig.enablePrivateNodes", False)),
    Case("gke-authorized-networks", GCP, "gke",
         setting("gke", "masterAuthorizedNetworksConfig.cidrBlocks",
                 [{"cidrBlock": "0.0.0.0/0"}])),
    Case("gke-release-channel", GCP, "gke", setting("gke", "releaseChannel.channel",
                                                    "UNSPECIFIED")),
    Case("gke-workload-identity", GCP, "gke", setting("gke", "workloadIdentityConfig", None)),
    Case("gke-metadata-server", GCP, "gke-pool",
         setting("gke-pool", "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA")),
    Case("gke-shielded-nodes", GCP, "gke", setting("gke", "enableShieldedNodes", False)),
    Case("gke-node-secure-boot", GCP, "gke-pool",
         setting("gke-pool", "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False)),
    Case("gke-network-policy", GCP, "gke", setting("gke", "datapathProvider", "LEGACY_DATAPATH")),
    Case("gke-binary-authorization", GCP, "gke",
         setting("gke", "binaryAuthorization.evaluationMode", "DISABLED")),
    Case("gke-intranode-visibility", GCP, "gke",
         setting("gke", "enableIntranodeVisibility", False)),
    Case("binauthz-policy-enforced", GCP, "binauthz",
         setting("binauthz", "defaultAdmissionRule.enforcementMode", "DRYRUN_AUDIT_LOG_ONLY")),
    Case("gke-default-pool-removed", GCP, "gke", setting("gke", "removeDefaultNodePool", False)),
    Case("gke-node-auto-repair-upgrade", GCP, "gke-pool",
         setting("gke-pool", "management.autoUpgrade", False)),
    # Cloud SQL
    Case("cloudsql-regional", GCP, "sql-primary",
         setting("sql-primary", "settings.availabilityType", "ZONAL")),
    Case("cloudsql-backups-pitr", GCP, "sql-primary",
         setting("sql-primary", "settings.backupConfiguration.pointInTimeRecoveryEnabled",
                 False)),
    Case("cloudsql-private-ip", GCP, "sql-primary",
         setting("sql-primary", "settings.ipConfiguration.ipv4Enabled", True)),
    Case("cloudsql-ssl-required", GCP, "sql-primary",
         setting("sql-primary", "settings.ipConfiguration.sslMode",
                 "ALLOW_UNENCRYPTED_AND_ENCRYPTED")),
    Case("cloudsql-no-open-networks", GCP, "sql-primary",
         setting("sql-primary", "settings.ipConfiguration.authorizedNetworks",
                 [{"value": "0.0.0.0/0"}])),
    Case("cloudsql-deletion-protection", GCP, "sql-primary",
         setting("sql-primary", "settings.deletionProtectionEnabled", False)),
    Case("cloudsql-audit-flags", GCP, "sql-primary",
         setting("sql-primary", "settings.databaseFlags.2.value", "none")),
    Case("cloudsql-backups-second-location", GCP, "sql-primary",
         setting("sql-primary", "settings.backupConfiguration.location", "europe-west1")),
    Case("cloudsql-cross-region-replica", GCP, None,
         setting("sql-replica", "region", "europe-west1")),
    Case("cloudsql-dr-replica-designated", GCP, None,
         setting("sql-primary", "replicationCluster.failoverDrReplicaName", "")),
    # Memorystore / GCS
    Case("memorystore-standard-ha", GCP, "redis", setting("redis", "tier", "BASIC")),
    Case("memorystore-transit-encryption", GCP, "redis",
         setting("redis", "transitEncryptionMode", "DISABLED")),
    Case("memorystore-auth", GCP, "redis", setting("redis", "authEnabled", False)),
    Case("gcs-versioning", GCP, "gcs", setting("gcs", "versioning.enabled", False)),
    Case("gcs-usage-logging", GCP, None, setting("gcs", "logging", None)),
    Case("gcs-uniform-access", GCP, "gcs", setting("gcs", "uniformBucketLevelAccess", False)),
    Case("gcs-public-access-prevention", GCP, "gcs",
         setting("gcs", "publicAccessPrevention", "inherited")),
    # Kubernetes / Helm
    Case("helm-chart-version-pinned", AWS, "prefect-server",
         setting("prefect-server", "version", "^2025.9")),
    Case("prefect-server-ha-values", AWS, "prefect-server",
         setting("prefect-server", "values.backgroundServices.runAsSeparateDeployment", False)),
    Case("argo-workflows-ha-values", AWS, "argo-workflows",
         setting("argo-workflows", "values.controller.pdb.enabled", False)),
    Case("k8s-pdb-coverage", AWS, None, removing("prefect-server-pdb")),
    Case("k8s-resources-and-probes", AWS, "prefect-worker",
         setting("prefect-worker", "spec.template.spec.containers.0.readinessProbe", None)),
    # Orchestrator access
    Case("orchestrator-api-authenticated", AWS, "prefect-server",
         setting("prefect-server", "values.server.basicAuth.enabled", False)),
    Case("no-app-uses-master-db-user", AWS, None,
         lambda b: _declare_role(b, "prefect-db-secret", "hastack_admin")),
    # Cluster add-ons
    Case("addon-controllers-ha", AWS, "aws-load-balancer-controller",
         setting("aws-load-balancer-controller", "values.replicaCount", 1)),
    Case("target-group-binding-served", AWS, None, removing("aws-load-balancer-controller")),
    # Stack-wide
    Case("region-switch-plan-present", _aws_with_region_switch, None, removing("arc-plan")),
    Case("region-switch-approval", _aws_with_region_switch, "arc-plan", _first_step_aurora),
    Case("region-switch-rto-within-target", _aws_with_region_switch, None,
         setting("arc-plan", "recoveryTimeObjectiveMinutes", 61)),
    Case("region-switch-execution-role", _aws_with_region_switch, None,
         setting("arc-execution-policy", "policy", json.dumps({"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))),
    Case("recovery-targets-met", _aws_with_targets, None,
         setting("db-usw2-cluster", "globalClusterIdentifier", None)),
    Case("secrets-cmk-replicated", _aws_with_targets, None,
         setting("db-credentials", "replicas", None)),
    Case("stateful-resources-protected", AWS, "db-use1-cluster",
         lambda b: b.option("db-use1-cluster", "protect", False)),
    Case("stateful-deletion-protection", AWS, "db-credentials",
         setting("db-credentials", "recoveryWindowInDays", 0)),
    Case("no-plaintext-secrets", AWS, "db-use1-cluster",
         setting("db-use1-cluster", "masterPassword", "hunter2")),
]


def _evaluate(case: Case, builder: PlanBuilder) -> list[str]:
    rule = rule_named(case.rule)
    plan = builder.plan()
    if case.target is None:
        return run_stack_rule(rule, plan).messages
    return run_resource_rule(rule, plan, case.target).messages


def test_every_rule_has_a_case() -> None:
    assert sorted(c.rule for c in CASES) == sorted(r.name for r in all_rules())


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_compliant_resource_passes(case: Case) -> None:
    assert _evaluate(case, case.builder()) == []


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_mistake_is_reported(case: Case) -> None:
    builder = case.builder()
    case.mutate(builder)
    assert _evaluate(case, builder), f"{case.rule} did not report the mistake"


@pytest.mark.parametrize("case", [c for c in CASES if c.target is not None],
                         ids=[c.rule for c in CASES if c.target is not None])
def test_resource_rules_declare_the_target_type(case: Case) -> None:
    rule = rule_named(case.rule)
    plan = case.builder().plan()
    kind = next(r["type"] for r in plan["resources"] if r["name"] == case.target)
    assert kind in rule.types or "*" in rule.types


def test_s3_rules_match_the_deprecated_v2_twins() -> None:
    builder = aws_builder()
    spec = builder.specs["artifacts-use1-versioning"]
    spec["type"] = "aws:s3/bucketVersioningV2:BucketVersioningV2"
    assert run_stack_rule(rule_named("s3-versioning"), builder.plan()).messages == []


def test_secondary_cluster_without_credentials_is_not_a_plaintext_or_size_problem() -> None:
    plan = aws_builder().plan()
    secrets = rule_named("no-plaintext-secrets")
    assert run_resource_rule(secrets, plan, "db-usw2-cluster").messages == []
    assert run_stack_rule(rule_named("rds-cluster-multi-az"), plan).messages == []


def test_dev_thresholds_are_looser_than_prod() -> None:
    builder = aws_builder(tier="dev", stack="dev")
    builder.set("db-use1-cluster", "backupRetentionPeriod", 7)
    rule = rule_named("rds-backup-retention")
    plan = builder.plan()
    assert run_resource_rule(rule, plan, "db-use1-cluster", tier="dev").messages == []
    assert run_resource_rule(rule, plan, "db-use1-cluster", tier="prod").messages


def test_warm_standby_releases_are_not_judged_for_replicas() -> None:
    """The secondary region's Prefect server runs zero replicas until promoted."""
    builder = aws_builder()
    builder.set("prefect-server", "values.server.replicaCount", 0)
    builder.set("prefect-server", "values.backgroundServices.runAsSeparateDeployment", False)
    builder.set("argo-workflows", "values.controller.replicas", 0)
    plan = builder.plan()
    assert run_resource_rule(rule_named("prefect-server-ha-values"), plan,
                             "prefect-server").messages == []
    assert run_resource_rule(rule_named("argo-workflows-ha-values"), plan,
                             "argo-workflows").messages == []


def test_references_to_secrets_are_not_secrets() -> None:
    """Names of secrets and of keys inside them are not credentials (seen in real plans)."""
    builder = aws_builder()
    builder.set("prefect-server", "values.externalDatabase",
                {"existingSecret": "db", "connectionStringSecretKey": "connection-string"})
    builder.set("db-credentials-v", "secretId", "hastack/prod/db")
    plan = builder.plan()
    rule = rule_named("no-plaintext-secrets")
    assert run_resource_rule(rule, plan, "prefect-server").messages == []
    assert run_resource_rule(rule, plan, "db-credentials-v").messages == []
    builder.set("prefect-server", "values.secret.password", "clear")
    assert run_resource_rule(rule, builder.plan(), "prefect-server").messages


def test_argo_in_anonymous_server_mode_is_reported() -> None:
    rule = rule_named("orchestrator-api-authenticated")
    for path, mode in (("values.server.authModes", ["client", "server"]),
                       ("values.server.authMode", "server"),
                       ("values.server.extraArgs", ["--auth-mode=server"])):
        builder = aws_builder()
        builder.set("argo-workflows", path, mode)
        assert run_resource_rule(rule, builder.plan(), "argo-workflows").messages, path
    assert run_resource_rule(rule, aws_builder().plan(), "argo-workflows").messages == []


def test_prefect_basic_auth_with_the_chart_example_password_is_reported() -> None:
    builder = aws_builder()
    builder.set("prefect-server", "values.server.basicAuth", {"enabled": True})
    messages = run_resource_rule(rule_named("orchestrator-api-authenticated"), builder.plan(),
                                 "prefect-server").messages
    assert messages and "admin:pass" in messages[0]


def test_undeclared_or_master_logins_are_reported() -> None:
    rule = rule_named("no-app-uses-master-db-user")
    builder = aws_builder()
    _declare_role(builder, "argo-db-secret", None)
    assert any("no Secret it depends on declares" in m
               for m in run_stack_rule(rule, builder.plan()).messages)
    builder = aws_builder()
    builder.specs["argo-workflows"]["dependsOn"] = []
    assert run_stack_rule(rule, builder.plan()).messages
    builder = aws_builder()
    env = builder.specs["prefect-db-role"]["inputs"]["spec"]["template"]["spec"][
        "containers"][0]["env"]
    env[1]["value"] = "hastack_admin"
    assert any("is the master user" in m for m in run_stack_rule(rule, builder.plan()).messages)


def test_a_key_policy_that_hands_use_to_the_whole_account_fails() -> None:
    """The implicit default (root: kms:*) and unconditioned use are both reported."""
    import json

    rule = rule_named("kms-key-policy-scoped")
    for statement in ({"Action": "kms:*"}, {"Action": ["kms:Decrypt"]},
                      {"Action": "kms:Create*"}):
        builder = aws_builder()
        builder.set("eks-key", "policy", json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Resource": "*", **statement}]}))
        assert run_resource_rule(rule, builder.plan(), "eks-key").messages, statement
    builder = aws_builder()
    builder.set("eks-key", "policy", json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}))
    assert run_resource_rule(rule, builder.plan(), "eks-key").messages


def test_binauthz_dry_run_is_enough_outside_prod_but_allow_all_never_is() -> None:
    rule = rule_named("binauthz-policy-enforced")
    builder = gcp_builder(tier="dev", stack="gcp-dev")
    builder.set("binauthz", "defaultAdmissionRule.enforcementMode", "DRYRUN_AUDIT_LOG_ONLY")
    assert run_resource_rule(rule, builder.plan(), "binauthz", tier="dev").messages == []
    builder.set("binauthz", "defaultAdmissionRule.evaluationMode", "ALWAYS_ALLOW")
    assert run_resource_rule(rule, builder.plan(), "binauthz", tier="dev").messages


def test_two_way_replication_needs_replica_modification_sync() -> None:
    builder = aws_builder()
    builder.set("artifacts-back-cfg", "rules.0.sourceSelectionCriteria", None)
    messages = run_stack_rule(rule_named("s3-two-way-replication"), builder.plan()).messages
    assert any("replica modifications" in m for m in messages)


def test_only_log_targets_may_use_sse_s3_and_none_may_log_into_itself() -> None:
    builder = aws_builder()
    builder.set("artifacts-use1-sse",
                "rules.0.applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"})
    assert run_stack_rule(rule_named("s3-sse-kms"), builder.plan()).messages
    builder = aws_builder()
    builder.set("artifacts-use1-logging", "targetBucket", ref("artifacts-use1"))
    messages = run_stack_rule(rule_named("s3-access-logging"), builder.plan()).messages
    assert any("into itself" in m for m in messages)


def test_a_copy_into_the_clusters_own_region_is_not_outside_the_blast_radius() -> None:
    builder = aws_builder()
    builder.set("backup-plan", "rules.0.copyActions.0.destinationVaultArn",
                ref("backup-use1", "arn"))
    assert run_stack_rule(rule_named("rds-backup-copied-to-another-region"),
                          builder.plan()).messages
    builder = aws_builder()
    builder.remove("backup-selection")
    assert run_stack_rule(rule_named("rds-backup-copied-to-another-region"),
                          builder.plan()).messages
def test_every_cache_needs_its_lag_alarm_and_an_rpo_alarm_must_exist() -> None:
    builder = aws_builder()
    builder.remove("alarm-hastack-prod-001-lag", "alarm-hastack-prod-002-lag",
                   "alarm-hastack-prod-003-lag")
    assert run_stack_rule(rule_named("data-stores-alarmed"), builder.plan()).messages
    builder = aws_builder()
    builder.set("alarm-use1-replica-lag", "actionsEnabled", False)
    assert run_stack_rule(rule_named("data-stores-alarmed"), builder.plan()).messages
    builder = aws_builder()
    builder.remove("alarm-usw2-rpo-lag")
    assert run_stack_rule(rule_named("rpo-alarm-within-target"), builder.plan()).messages


def test_gcp_data_stores_need_alert_policies_with_channels() -> None:
    rule = rule_named("data-stores-alarmed")
    assert run_stack_rule(rule, gcp_builder().plan()).messages == []
    builder = gcp_builder()
    builder.remove("alert-redis-lag")
    assert run_stack_rule(rule, builder.plan()).messages
    builder = gcp_builder()
    builder.set("alert-sql-up", "notificationChannels", [])
    assert run_resource_rule(rule_named("alarm-has-action"), builder.plan(),
                             "alert-sql-up").messages


def test_the_rpo_alarm_is_judged_against_the_stacks_own_target() -> None:
    """The platform's hastackRecovery target wins over the tier setting (60 s in prod)."""
    rule = rule_named("rpo-alarm-within-target")

    def with_target(rpo_seconds: int | None) -> list[str]:
        builder = aws_builder()
        builder.set("alarm-usw2-rpo-lag", "threshold", 120_000)  # 120 s
        if rpo_seconds is not None:
            builder.add("hastack:aws:Platform", "platform", {"hastackRecovery": {
                "targets": {"regionFailure": {"rtoSeconds": 600, "rpoSeconds": rpo_seconds}},
                "regions": {"primary": "us-east-1", "secondary": "us-west-2"}}},
                provider=None)
        return run_stack_rule(rule, builder.plan()).messages

    assert with_target(None)          # the setting: 120 s is above 60 s
    assert with_target(900) == []     # the stack's 900 s target: within
    assert any("above the RPO target 60000 ms" in m for m in with_target(60))


def test_an_enterprise_two_region_primary_is_told_to_use_enterprise_plus() -> None:
    rule = rule_named("cloudsql-dr-replica-designated")
    builder = gcp_builder()
    setting("sql-primary", "settings.edition", "ENTERPRISE")(builder)
    (message,) = run_stack_rule(rule, builder.plan()).messages
    assert "edition ENTERPRISE" in message and "needs ENTERPRISE_PLUS" in message
    # "instance" without the project is the same designation (Cloud SQL normalises it).
    builder = gcp_builder()
    setting("sql-primary", "replicationCluster.failoverDrReplicaName", "hastack-prod-ew4")(
        builder)
    assert run_stack_rule(rule, builder.plan()).messages == []
