"""Fixture plans in the `build/plan/<stack>.json` format, built from real input shapes.

Input names are the engine's camelCase spellings of the pulumi-aws v7, pulumi-gcp
and pulumi-kubernetes argument names (as the components set them). A value that a
program computes from another resource is written as a reference token
`${<resource name>.<attribute>}`; `PlanBuilder.plan()` turns those into
`propertyDependencies` / `dependencies`, exactly where the engine would record them.
`leaf_unknowns()` turns them into unknowns, as a real first preview would.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from hastack.plan.render import PLAN_FORMAT_VERSION

REF = re.compile(r"\$\{([A-Za-z0-9_.:-]+?)\.[A-Za-z0-9_]+\}")
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET = "[secret]"


def ref(name: str, attribute: str = "id") -> str:
    return f"${{{name}.{attribute}}}"


class PlanBuilder:
    def __init__(self, *, stack: str = "prod", tier: str = "prod", cloud: str = "aws",
                 project: str = "hastack") -> None:
        self.stack, self.tier, self.cloud, self.project = stack, tier, cloud, project
        self.specs: dict[str, dict[str, Any]] = {}

    # --- building ------------------------------------------------------------------
    def provider(self, name: str, package: str, **inputs: Any) -> str:
        self.specs[name] = {"type": f"pulumi:providers:{package}", "inputs": inputs,
                            "custom": True, "provider": None, "parent": None}
        return name

    def component(self, type_: str, name: str, parent: str | None = None) -> str:
        self.specs[name] = {"type": type_, "inputs": {}, "custom": False, "provider": None,
                            "parent": parent}
        return name

    def add(self, type_: str, name: str, inputs: dict[str, Any], *, provider: str | None,
            parent: str | None = None, protect: bool = False, depends_on: tuple[str, ...] = (),
            ignore_changes: tuple[str, ...] = ()) -> str:
        if name in self.specs:
            raise ValueError(f"duplicate fixture resource {name}")
        self.specs[name] = {"type": type_, "inputs": inputs, "custom": True,
                            "provider": provider, "parent": parent, "protect": protect,
                            "dependsOn": list(depends_on), "ignoreChanges": list(ignore_changes)}
        return name

    # --- mutating (tests) --------------------------------------------------------------
    def set(self, name: str, path: str, value: Any) -> None:
        """Set (or with value None, delete) a dotted input path; list indexes are numbers."""
        node: Any = self.specs[name]["inputs"]
        steps = [int(s) if s.isdigit() else s for s in path.split(".")]
        for step in steps[:-1]:
            node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
        last = steps[-1]
        if value is None:
            if isinstance(node, dict):
                node.pop(last, None)
        else:
            node[last] = value

    def option(self, name: str, key: str, value: Any) -> None:
        self.specs[name][key] = value

    def remove(self, *names: str) -> None:
        for name in names:
            self.specs.pop(name)

    def names_of(self, type_: str) -> list[str]:
        return [name for name, spec in self.specs.items() if spec["type"] == type_]

    # --- the plan ------------------------------------------------------------------------
    def urn(self, name: str) -> str:
        chain = []
        current: str | None = self.specs[name]["parent"]
        while current:
            chain.append(self.specs[current]["type"])
            current = self.specs[current]["parent"]
        qualified = "$".join([*reversed(chain), self.specs[name]["type"]])
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    def _component_of(self, name: str) -> str | None:
        current = self.specs[name]["parent"]
        while current:
            if current in self.specs and self.specs[current]["type"].startswith("hastack:"):
                return self.urn(current)
            current = self.specs[current]["parent"]
        return None

    def _refs(self, value: Any) -> set[str]:
        text = json.dumps(value)
        return {match for match in REF.findall(text) if match in self.specs}

    def _region(self, name: str) -> str | None:
        spec = self.specs[name]
        own = spec["inputs"].get("region")
        if isinstance(own, str):
            return own
        provider = spec.get("provider")
        if provider and provider in self.specs:
            region = self.specs[provider]["inputs"].get("region")
            return region if isinstance(region, str) else None
        return None

    def plan(self) -> dict[str, Any]:
        resources = []
        for name, spec in self.specs.items():
            inputs = copy.deepcopy(spec["inputs"])
            property_dependencies = {
                key: sorted(self.urn(ref_name) for ref_name in self._refs(value))
                for key, value in inputs.items() if self._refs(value)
            }
            explicit = {self.urn(d) for d in spec.get("dependsOn", []) if d in self.specs}
            dependencies = sorted(
                {urn for urns in property_dependencies.values() for urn in urns} | explicit)
            provider = spec.get("provider")
            resources.append({
                "urn": self.urn(name),
                "type": spec["type"],
                "name": name,
                "custom": spec["custom"],
                "parent": self.urn(spec["parent"]) if spec["parent"] else None,
                "provider": self.urn(provider) if provider else None,
                "region": self._region(name),
                "component": self._component_of(name),
                "id": f"{name}-id" if spec["custom"] else None,
                "inputs": inputs,
                "secretInputs": sorted(_secret_paths(inputs, "")),
                "dependencies": dependencies,
                "propertyDependencies": property_dependencies,
                "protect": bool(spec.get("protect")),
                "retainOnDelete": bool(spec.get("protect")),
                "ignoreChanges": spec.get("ignoreChanges", []),
                "deleteBeforeReplace": None,
                "customTimeouts": None,
                "additionalSecretOutputs": [],
                "replaceOnChanges": [],
            })
        return {
            "formatVersion": PLAN_FORMAT_VERSION, "stack": self.stack, "project": self.project,
            "cloud": self.cloud,
            "tier": self.tier, "stackFile": f"stacks/Pulumi.{self.stack}.yaml",
            "resources": sorted(resources, key=lambda r: r["urn"]),
            "outputs": {}, "secretOutputs": [],
        }


def _secret_paths(value: Any, path: str) -> list[str]:
    if value == SECRET:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items()
                for p in _secret_paths(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [p for index, item in enumerate(value)
                for p in _secret_paths(item, f"{path}[{index}]")]
    return []


def leaf_unknowns(value: Any) -> Any:
    """What a first preview sends: every value computed from another resource is unknown."""
    if isinstance(value, str) and REF.search(value):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: leaf_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [leaf_unknowns(item) for item in value]
    return value


def by_name(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)


# --- AWS ---------------------------------------------------------------------------------

AWS_REGIONS = {"use1": "us-east-1", "usw2": "us-west-2"}
ZONES = ("a", "b", "c")


def _network(b: PlanBuilder, key: str) -> None:
    region = AWS_REGIONS[key]
    parent = b.component("hastack:aws:Network", f"net-{key}")
    b.add("aws:ec2/vpc:Vpc", f"vpc-{key}", {"cidrBlock": "10.10.0.0/16",
                                            "enableDnsHostnames": True}, provider=key,
          parent=parent)
    for index, zone in enumerate(ZONES):
        for tier, offset in (("private", 0), ("public", 100)):
            b.add("aws:ec2/subnet:Subnet", f"{tier}-{key}-{zone}", {
                "vpcId": ref(f"vpc-{key}"), "cidrBlock": f"10.10.{offset + index}.0/24",
                "availabilityZone": f"{region}{zone}", "mapPublicIpOnLaunch": False,
                "tags": {"hastack:subnet-tier": tier}}, provider=key, parent=parent)
        b.add("aws:ec2/eip:Eip", f"nat-eip-{key}-{zone}", {"domain": "vpc"}, provider=key,
              parent=parent)
        b.add("aws:ec2/natGateway:NatGateway", f"nat-{key}-{zone}", {
            "allocationId": ref(f"nat-eip-{key}-{zone}"),
            "subnetId": ref(f"public-{key}-{zone}"), "connectivityType": "public"},
            provider=key, parent=parent)


ROOT = "arn:aws:iam::123456789012:root"


def key_policy(service: str = "rds") -> str:
    """The shape components.aws.kms.key_policy writes: admin for the account, use via a service."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
         "Principal": {"AWS": ROOT}, "Action": ["kms:Describe*", "kms:Put*"],
         "Resource": "*"},
        {"Sid": "UseThroughServices", "Effect": "Allow", "Principal": {"AWS": ROOT},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com",
                                        "kms:CallerAccount": "123456789012"}}}]})


def _key(b: PlanBuilder, name: str, provider: str, parent: str) -> str:
    return b.add("aws:kms/key:Key", name, {"description": name, "enableKeyRotation": True,
                                           "deletionWindowInDays": 30,
                                           "policy": key_policy()},
                 provider=provider, parent=parent, protect=True)


def _private_subnets(key: str) -> list[str]:
    return [ref(f"private-{key}-{zone}") for zone in ZONES]


def _eks(b: PlanBuilder) -> None:
    parent = b.component("hastack:aws:Eks", "eks")
    _key(b, "eks-key", "use1", parent)
    b.add("aws:iam/role:Role", "eks-role", {"assumeRolePolicy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "eks.amazonaws.com"}}]})},
          provider="use1", parent=parent)
    b.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eks-role-cluster-policy", {
        "role": ref("eks-role", "name"),
        "policyArn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"},
        provider="use1", parent=parent)
    b.add("aws:eks/cluster:Cluster", "eks-cluster", {
        "name": "hastack-prod", "version": "1.35", "roleArn": ref("eks-role", "arn"),
        "vpcConfig": {"subnetIds": _private_subnets("use1"), "endpointPrivateAccess": True,
                      "endpointPublicAccess": False},
        "encryptionConfig": {"provider": {"keyArn": ref("eks-key", "arn")},
                             "resources": ["secrets"]},
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager",
                                   "scheduler"],
        "accessConfig": {"authenticationMode": "API"},
        "deletionProtection": True, "tags": {"hastack:tier": "prod"}},
        provider="use1", parent=parent, protect=True)
    b.add("aws:ec2/launchTemplate:LaunchTemplate", "eks-system-lt", {
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                            "httpPutResponseHopLimit": 2},
        "updateDefaultVersion": True}, provider="use1", parent=parent)
    b.add("aws:eks/nodeGroup:NodeGroup", "eks-system", {
        "clusterName": ref("eks-cluster", "name"), "nodeRoleArn": ref("eks-role", "arn"),
        "subnetIds": _private_subnets("use1"),
        "scalingConfig": {"minSize": 3, "maxSize": 12, "desiredSize": 3},
        "launchTemplate": {"id": ref("eks-system-lt"), "version": ref("eks-system-lt",
                                                                      "latestVersion")},
        "nodeRepairConfig": {"enabled": True}}, provider="use1", parent=parent)


def _aurora_region(b: PlanBuilder, key: str, *, primary: bool, instances: int,
                   parent: str) -> None:
    region = AWS_REGIONS[key]
    cluster = f"db-{key}-cluster"
    _key(b, f"db-{key}-key", key, parent)
    b.add("aws:rds/clusterParameterGroup:ClusterParameterGroup", f"db-{key}-params", {
        "family": "aurora-postgresql16", "parameters": [
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "log_statement", "value": "ddl"},
            {"name": "shared_preload_libraries", "value": "pg_stat_statements,pgaudit",
             "applyMethod": "pending-reboot"},
            {"name": "pgaudit.log", "value": "ddl,role"}]}, provider=key, parent=parent)
    b.add("aws:rds/subnetGroup:SubnetGroup", f"db-{key}-subnets", {
        "subnetIds": _private_subnets(key), "description": "private"}, provider=key,
        parent=parent)
    b.add("aws:ec2/securityGroup:SecurityGroup", f"db-{key}-sg", {
        "vpcId": ref(f"vpc-{key}"), "description": "PostgreSQL from the platform",
        "revokeRulesOnDelete": True}, provider=key, parent=parent)
    b.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"db-{key}-in-0", {
        "securityGroupId": ref(f"db-{key}-sg"), "ipProtocol": "tcp", "fromPort": 5432,
        "toPort": 5432, "cidrIpv4": "10.10.0.0/16"}, provider=key, parent=f"db-{key}-sg")
    inputs: dict[str, Any] = {
        "clusterIdentifier": f"db-{region}", "engine": "aurora-postgresql",
        "engineVersion": "16.6", "globalClusterIdentifier": ref("db-global"),
        "dbSubnetGroupName": ref(f"db-{key}-subnets", "name"),
        "vpcSecurityGroupIds": [ref(f"db-{key}-sg")], "storageEncrypted": True,
        "kmsKeyId": ref(f"db-{key}-key", "arn"), "iamDatabaseAuthenticationEnabled": True,
        "enabledCloudwatchLogsExports": ["postgresql"], "backupRetentionPeriod": 14,
        "copyTagsToSnapshot": True, "deletionProtection": True, "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": f"db-{region}-final", "port": 5432,
    }
    if primary:
        inputs.update({"masterUsername": "hastack_admin", "masterPassword": SECRET,
                       "databaseName": "workflows"})
    b.add("aws:rds/cluster:Cluster", cluster, inputs, provider=key, parent=parent,
          protect=True)
    for index in range(instances):
        b.add("aws:rds/clusterInstance:ClusterInstance", f"db-{key}-{index + 1}", {
            "identifier": f"db-{region}-{index + 1}", "clusterIdentifier": ref(cluster),
            "engine": "aurora-postgresql", "instanceClass": "db.r6g.xlarge",
            "availabilityZone": f"{region}{ZONES[index % 3]}", "publiclyAccessible": False,
            "autoMinorVersionUpgrade": True, "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": ref(f"db-{key}-key", "arn"),
            "monitoringInterval": 30, "monitoringRoleArn": ref("db-monitoring", "arn"),
            "copyTagsToSnapshot": True}, provider=key, parent=parent, protect=True)


def _aurora(b: PlanBuilder) -> None:
    parent = b.component("hastack:aws:AuroraGlobalDatabase", "db")
    b.add("aws:rds/globalCluster:GlobalCluster", "db-global", {
        "globalClusterIdentifier": "db", "engine": "aurora-postgresql",
        "engineVersion": "16.6", "databaseName": "workflows", "storageEncrypted": True,
        "deletionProtection": True}, provider="use1", parent=parent, protect=True)
    b.add("aws:iam/role:Role", "db-monitoring", {"assumeRolePolicy": "{}"}, provider="use1",
          parent=parent)
    b.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "db-monitoring-policy", {
        "role": ref("db-monitoring", "name"),
        "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"},
        provider="use1", parent=parent)
    _aurora_region(b, "use1", primary=True, instances=3, parent=parent)
    _aurora_region(b, "usw2", primary=False, instances=2, parent=parent)
    for key in AWS_REGIONS:
        _key(b, f"backup-{key}-key", key, parent)
        b.add("aws:backup/vault:Vault", f"backup-{key}", {
            "name": f"backup-{key}", "kmsKeyArn": ref(f"backup-{key}-key", "arn")},
            provider=key, parent=parent, protect=True)
        b.add("aws:backup/vaultLockConfiguration:VaultLockConfiguration", f"backup-{key}-lock", {
            "backupVaultName": ref(f"backup-{key}", "name"), "minRetentionDays": 14,
            "changeableForDays": 3}, provider=key, parent=parent)
    b.add("aws:backup/plan:Plan", "backup-plan", {"rules": [{
        "ruleName": "daily", "targetVaultName": ref("backup-use1", "name"),
        "schedule": "cron(0 5 * * ? *)", "lifecycle": {"deleteAfter": 14},
        "copyActions": [{"destinationVaultArn": ref("backup-usw2", "arn"),
                         "lifecycle": {"deleteAfter": 14}}]}]}, provider="use1", parent=parent)
    b.add("aws:backup/selection:Selection", "backup-selection", {
        "name": "primary", "planId": ref("backup-plan"), "iamRoleArn": ref("db-monitoring", "arn"),
        "resources": [ref("db-use1-cluster", "arn")]}, provider="use1", parent=parent)
    b.add("aws:secretsmanager/secret:Secret", "db-credentials", {
        "name": "hastack/prod/db", "kmsKeyId": ref("db-use1-key", "arn"),
        "recoveryWindowInDays": 30,
        "replicas": [{"region": "us-west-2", "kmsKeyId": ref("db-usw2-key", "arn")}]},
        provider="use1", parent=parent, protect=True)
    b.add("aws:secretsmanager/secretVersion:SecretVersion", "db-credentials-v", {
        "secretId": ref("db-credentials"), "secretString": SECRET}, provider="use1",
        parent=parent)


def _cache(b: PlanBuilder) -> None:
    parent = b.component("hastack:aws:RedisCache", "cache")
    _key(b, "cache-key", "use1", parent)
    b.add("aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets", {
        "subnetIds": _private_subnets("use1"), "description": "private"}, provider="use1",
        parent=parent)
    b.add("aws:elasticache/replicationGroup:ReplicationGroup", "cache-rg", {
        "replicationGroupId": "hastack-prod", "description": "workflow cache",
        "engine": "redis", "engineVersion": "7.1", "nodeType": "cache.r7g.large",
        "numCacheClusters": 3, "automaticFailoverEnabled": True, "multiAzEnabled": True,
        "atRestEncryptionEnabled": True, "kmsKeyId": ref("cache-key", "arn"),
        "transitEncryptionEnabled": True, "transitEncryptionMode": "required",
        "authToken": SECRET, "authTokenUpdateStrategy": "ROTATE", "snapshotRetentionLimit": 7,
        "subnetGroupName": ref("cache-subnets", "name"), "port": 6379},
        provider="use1", parent=parent, protect=True)
    b.add("aws:cloudwatch/logGroup:LogGroup", "cache-slow-log", {
        "name": "/hastack/elasticache/cache/slow-log", "retentionInDays": 365,
        "kmsKeyId": ref("cache-key", "arn")}, provider="use1", parent=parent)


def _bucket(b: PlanBuilder, key: str, *, critical: bool, parent: str) -> str:
    name = f"artifacts-{key}"
    _key(b, f"{name}-key", key, parent)
    b.add("aws:s3/bucket:Bucket", name, {
        "bucket": f"hastack-prod-artifacts-{AWS_REGIONS[key]}",
        "tags": {"hastack:critical": "true" if critical else "false"}},
        provider=key, parent=parent, protect=True)
    bucket = ref(name)
    b.add("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning", {
        "bucket": bucket, "versioningConfiguration": {"status": "Enabled"}},
        provider=key, parent=parent)
    b.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-pab", {
        "bucket": bucket, "blockPublicAcls": True, "blockPublicPolicy": True,
        "ignorePublicAcls": True, "restrictPublicBuckets": True}, provider=key, parent=parent)
    b.add("aws:s3/bucketServerSideEncryptionConfiguration:"
          "BucketServerSideEncryptionConfiguration", f"{name}-sse", {
              "bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": {
                  "sseAlgorithm": "aws:kms", "kmsMasterKeyId": ref(f"{name}-key", "arn")},
                  "bucketKeyEnabled": True}]}, provider=key, parent=parent)
    b.add("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", {
        "bucket": bucket, "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [ref(name, "arn"), ref(name, "arn") + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})},
        provider=key, parent=parent)
    b.add("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership", {
        "bucket": bucket, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        provider=key, parent=parent)
    b.add("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
          f"{name}-lifecycle", {"bucket": bucket, "rules": [{
              "id": "noncurrent", "status": "Enabled", "filter": {},
              "noncurrentVersionExpiration": {"noncurrentDays": 90}}]},
          provider=key, parent=parent)
    return name


def _artifacts(b: PlanBuilder) -> None:
    parent = b.component("hastack:aws:ArtifactStore", "artifacts")
    source = _bucket(b, "use1", critical=True, parent=parent)
    target = _bucket(b, "usw2", critical=False, parent=parent)
    b.add("aws:iam/role:Role", "artifacts-replication", {"assumeRolePolicy": "{}"},
          provider="use1", parent=parent)
    b.add("aws:iam/rolePolicy:RolePolicy", "artifacts-replication-policy", {
        "role": ref("artifacts-replication", "name"), "policy": "{}"}, provider="use1",
        parent=parent)
    for name, origin, peer, region in (("artifacts-replication-cfg", source, target, "use1"),
                                       ("artifacts-back-cfg", target, source, "usw2")):
        b.add("aws:s3/bucketReplicationConfig:BucketReplicationConfig", name, {
            "bucket": ref(origin), "role": ref("artifacts-replication", "arn"), "rules": [{
                "id": "replicate-everything", "status": "Enabled", "filter": {},
                "deleteMarkerReplication": {"status": "Enabled"},
                "sourceSelectionCriteria": {"replicaModifications": {"status": "Enabled"}},
                "destination": {"bucket": ref(peer, "arn"), "storageClass": "STANDARD"}}]},
            provider=region, parent=parent, depends_on=(f"{origin}-versioning",))
    for key, bucket in (("use1", source), ("usw2", target)):
        logs = f"logs-{key}"
        b.add("aws:s3/bucket:Bucket", logs, {"tags": {"hastack:purpose": "s3-access-logs"}},
              provider=key, parent=parent, protect=True)
        b.add("aws:s3/bucketVersioning:BucketVersioning", f"{logs}-versioning", {
            "bucket": ref(logs), "versioningConfiguration": {"status": "Enabled"}},
            provider=key, parent=parent)
        b.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{logs}-pab", {
            "bucket": ref(logs), "blockPublicAcls": True, "blockPublicPolicy": True,
            "ignorePublicAcls": True, "restrictPublicBuckets": True}, provider=key,
            parent=parent)
        b.add("aws:s3/bucketServerSideEncryptionConfiguration:"
              "BucketServerSideEncryptionConfiguration", f"{logs}-sse", {
                  "bucket": ref(logs), "rules": [{"applyServerSideEncryptionByDefault": {
                      "sseAlgorithm": "AES256"}}]}, provider=key, parent=parent)
        b.add("aws:s3/bucketPolicy:BucketPolicy", f"{logs}-policy", {
            "bucket": ref(logs), "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [ref(logs, "arn"), ref(logs, "arn") + "/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})},
            provider=key, parent=parent)
        b.add("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{logs}-ownership", {
            "bucket": ref(logs), "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            provider=key, parent=parent)
        b.add("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
              f"{logs}-lifecycle", {"bucket": ref(logs), "rules": [{
                  "id": "expire", "status": "Enabled", "filter": {},
                  "expiration": {"days": 365},
                  "noncurrentVersionExpiration": {"noncurrentDays": 30}}]},
              provider=key, parent=parent)
        b.add("aws:s3/bucketLogging:BucketLogging", f"{bucket}-logging", {
            "bucket": ref(bucket), "targetBucket": ref(logs), "targetPrefix": "s3-access/"},
            provider=key, parent=parent)


def _dns(b: PlanBuilder) -> None:
    parent = b.component("hastack:aws:FailoverDns", "dns")
    b.add("aws:route53/zone:Zone", "dns-zone", {"name": "example.com"}, provider="use1",
          parent=parent)
    b.add("aws:route53/healthCheck:HealthCheck", "dns-health", {
        "type": "HTTPS", "fqdn": "workflows-use1.example.com", "port": 443,
        "resourcePath": "/api/health", "requestInterval": 10, "failureThreshold": 3,
        "enableSni": True}, provider="use1", parent=parent)
    for role, target in (("PRIMARY", "use1"), ("SECONDARY", "usw2")):
        b.add("aws:route53/record:Record", f"dns-{role.lower()}", {
            "zoneId": ref("dns-zone", "zoneId"), "name": "workflows.example.com",
            "type": "CNAME", "ttl": 60, "records": [f"workflows-{target}.example.com"],
            "setIdentifier": role.lower(), "failoverRoutingPolicies": [{"type": role}],
            **({"healthCheckId": ref("dns-health")} if role == "PRIMARY" else {})},
            provider="use1", parent=parent)


def _edge(b: PlanBuilder) -> None:
    """The us-east-1 edge: protected ALB logging to an SSE-S3 bucket, redirect + TLS 1.3."""
    parent = b.component("hastack:aws:RegionalEdge", "edge")
    b.add("aws:s3/bucket:Bucket", "edge-logs", {
        "bucket": "hastack-prod-use1-alb-logs",
        # As components/aws/edge.py tags it: access logs, not application state.
        "tags": {"hastack:purpose": "alb-access-logs"}},
          provider="use1", parent=parent, protect=True)
    logs = ref("edge-logs")
    b.add("aws:s3/bucketVersioning:BucketVersioning", "edge-logs-versioning", {
        "bucket": logs, "versioningConfiguration": {"status": "Enabled"}},
        provider="use1", parent=parent)
    b.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "edge-logs-pab", {
        "bucket": logs, "blockPublicAcls": True, "blockPublicPolicy": True,
        "ignorePublicAcls": True, "restrictPublicBuckets": True}, provider="use1", parent=parent)
    b.add("aws:s3/bucketServerSideEncryptionConfiguration:"
          "BucketServerSideEncryptionConfiguration", "edge-logs-sse", {
              "bucket": logs, "rules": [{"applyServerSideEncryptionByDefault": {
                  "sseAlgorithm": "AES256"}}]}, provider="use1", parent=parent)
    b.add("aws:s3/bucketPolicy:BucketPolicy", "edge-logs-policy", {
        "bucket": logs, "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::hastack-prod-use1-alb-logs",
                         "arn:aws:s3:::hastack-prod-use1-alb-logs/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})},
        provider="use1", parent=parent)
    b.add("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "edge-logs-ownership", {
        "bucket": logs, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        provider="use1", parent=parent)
    b.add("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
          "edge-logs-lifecycle", {"bucket": logs, "rules": [{
              "id": "expire", "status": "Enabled", "filter": {}, "expiration": {"days": 90},
              "noncurrentVersionExpiration": {"noncurrentDays": 7}}]},
          provider="use1", parent=parent)
    b.add("aws:lb/loadBalancer:LoadBalancer", "edge-alb", {
        "loadBalancerType": "application", "internal": False,
        "enableDeletionProtection": True, "dropInvalidHeaderFields": True,
        "accessLogs": {"bucket": ref("edge-logs", "bucket"), "prefix": "alb", "enabled": True}},
        provider="use1", parent=parent, protect=True)
    b.add("aws:lb/listener:Listener", "edge-http", {
        "loadBalancerArn": ref("edge-alb", "arn"), "port": 80, "protocol": "HTTP",
        "defaultActions": [{"type": "redirect", "redirect": {
            "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]},
        provider="use1", parent=parent)
    b.add("aws:lb/listener:Listener", "edge-https", {
        "loadBalancerArn": ref("edge-alb", "arn"), "port": 443, "protocol": "HTTPS",
        "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]},
        provider="use1", parent=parent)


PREFECT_LABELS = {"app.kubernetes.io/name": "prefect-server",
                  "app.kubernetes.io/instance": "prefect-server",
                  "app.kubernetes.io/component": "server"}


def _kubernetes(b: PlanBuilder) -> None:
    parent = b.component("hastack:k8s:Prefect", "prefect")
    b.add("kubernetes:core/v1:Namespace", "prefect-ns", {"metadata": {"name": "prefect"}},
          provider="k8s", parent=parent)
    namespace = ref("prefect-ns", "metadata")
    # The orchestrators' own database roles (components/k8s/dbrole.py).
    b.add("kubernetes:core/v1:Secret", "prefect-db-secret", {
        "metadata": {"name": "prefect-database", "namespace": namespace,
                     "labels": {"hastack.io/database-role": "prefect_app"}},
        "stringData": SECRET}, provider="k8s", parent=parent)
    b.add("kubernetes:core/v1:Secret", "argo-db-secret", {
        "metadata": {"name": "argo-postgres", "namespace": "argo",
                     "labels": {"hastack.io/database-role": "argo_app"}},
        "stringData": SECRET}, provider="k8s", parent=parent)
    b.add("kubernetes:batch/v1:Job", "prefect-db-role", {
        "metadata": {"namespace": namespace,
                     "labels": {"hastack.io/purpose": "database-role"}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{
            "name": "create-role", "image": "docker.io/library/postgres:16.6-alpine",
            "env": [{"name": "PGUSER", "value": "hastack_admin"},
                    {"name": "APP_ROLE", "value": "prefect_app"}]}]}}}},
        provider="k8s", parent=parent)
    b.add("kubernetes:helm.sh/v3:Release", "prefect-server", {
        "name": "prefect-server", "chart": "prefect-server", "version": "2025.9.5",
        "repositoryOpts": {"repo": "https://prefecthq.github.io/prefect-helm"},
        "namespace": namespace, "atomic": True,
        "values": {
            "server": {"replicaCount": 3, "resources": {"requests": {"cpu": "500m",
                                                                     "memory": "1Gi"}}},
            "backgroundServices": {"runAsSeparateDeployment": True, "messaging": {
                "redis": {"host": ref("cache-rg", "primaryEndpointAddress"), "ssl": True,
                          "password": SECRET}}},
            "redis": {"enabled": False}, "postgresql": {"enabled": False},
            "secret": {"create": True, "password": SECRET},
            "externalDatabase": {"existingSecret": "prefect-database",
                                 "connectionStringSecretKey": "connection-string"},
        }}, provider="k8s", parent=parent, depends_on=("prefect-db-secret",))
    b.set("prefect-server", "values.server.basicAuth",
          {"enabled": True, "existingSecret": "prefect-api-auth"})
    b.add("kubernetes:policy/v1:PodDisruptionBudget", "prefect-server-pdb", {
        "metadata": {"name": "prefect-server", "namespace": namespace},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(PREFECT_LABELS)}}},
        provider="k8s", parent=parent)
    worker_labels = {"app.kubernetes.io/name": "prefect-worker"}
    b.add("kubernetes:apps/v1:Deployment", "prefect-worker", {
        "metadata": {"name": "prefect-worker", "namespace": namespace},
        "spec": {"replicas": 3, "selector": {"matchLabels": dict(worker_labels)},
                 "template": {"metadata": {"labels": dict(worker_labels)}, "spec": {
                     "containers": [{
                         "name": "worker", "image": "prefecthq/prefect:3.4.0-python3.11",
                         "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                                       "limits": {"memory": "1Gi"}},
                         "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                         "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}}}]}}}},
        provider="k8s", parent=parent)
    b.add("kubernetes:policy/v1:PodDisruptionBudget", "prefect-worker-pdb", {
        "metadata": {"name": "prefect-worker", "namespace": namespace},
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": dict(worker_labels)}}},
        provider="k8s", parent=parent)
    b.add("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller", {
        "name": "aws-load-balancer-controller", "chart": "aws-load-balancer-controller",
        "version": "3.5.0", "namespace": "kube-system",
        "values": {"clusterName": "hastack-prod-us-east-1", "replicaCount": 2,
                   "podDisruptionBudget": {"maxUnavailable": 1}}},
        provider="k8s", parent=parent)
    b.add("kubernetes:helm.sh/v3:Release", "karpenter", {
        "name": "karpenter", "chart": "oci://public.ecr.aws/karpenter/karpenter",
        "version": "1.14.1", "namespace": "karpenter",
        "values": {"settings": {"clusterName": "hastack-prod-us-east-1"}}},
        provider="k8s", parent=parent)
    b.add("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "prefect-tgb", {
        "metadata": {"name": "prefect-server", "namespace": namespace},
        "spec": {"serviceRef": {"name": "prefect-server", "port": 4200},
                 "targetType": "ip", "targetGroupARN": "arn:aws:elasticloadbalancing:"
                 "us-east-1:123456789012:targetgroup/prefect/0123456789abcdef"}},
        provider="k8s", parent=parent)
    b.add("kubernetes:helm.sh/v3:Release", "argo-workflows", {
        "name": "argo-workflows", "chart": "argo-workflows", "version": "0.45.21",
        "namespace": "argo", "values": {
            "controller": {"replicas": 2, "pdb": {"enabled": True, "minAvailable": 1},
                           "persistence": {"postgresql": {
                               "userNameSecret": {"name": "argo-postgres", "key": "username"},
                           }}},
            "server": {"replicas": 2, "pdb": {"enabled": True, "minAvailable": 1},
                       "authModes": ["client"]}}},
        provider="k8s", parent=parent, depends_on=("argo-db-secret",))


def aws_builder(*, tier: str = "prod", stack: str = "prod") -> PlanBuilder:
    """A compliant AWS prod platform: two regions, EKS, Aurora global, Redis, S3, DNS, Prefect."""
    b = PlanBuilder(stack=stack, tier=tier, cloud="aws")
    b.provider("use1", "aws", region="us-east-1")
    b.provider("usw2", "aws", region="us-west-2")
    b.provider("k8s", "kubernetes")
    for key in AWS_REGIONS:
        _network(b, key)
    _eks(b)
    _aurora(b)
    _cache(b)
    _artifacts(b)
    _dns(b)
    _edge(b)
    _kubernetes(b)
    _alarms(b)
    _drills(b)
    return b


def _alarms(b: PlanBuilder) -> None:
    """The platform's Alarms component: a topic per region, lag alarms with actions."""
    parent = b.component("hastack:aws:Alarms", "alarms")
    for key in AWS_REGIONS:
        b.add("aws:sns/topic:Topic", f"alerts-{key}", {
            "kmsMasterKeyId": ref(f"db-{key}-key", "arn")}, provider=key, parent=parent)
        b.add("aws:cloudwatch/metricAlarm:MetricAlarm", f"alarm-{key}-replica-lag", {
            "namespace": "AWS/RDS", "metricName": "AuroraReplicaLag",
            "dimensions": {"DBClusterIdentifier": f"db-{AWS_REGIONS[key]}"},
            "threshold": 500, "comparisonOperator": "GreaterThanThreshold",
            "actionsEnabled": True, "alarmActions": [ref(f"alerts-{key}", "arn")]},
            provider=key, parent=parent)
    for node in ("hastack-prod-001", "hastack-prod-002", "hastack-prod-003"):
        b.add("aws:cloudwatch/metricAlarm:MetricAlarm", f"alarm-{node}-lag", {
            "namespace": "AWS/ElastiCache", "metricName": "ReplicationLag",
            "dimensions": {"CacheClusterId": node}, "threshold": 0.5,
            "comparisonOperator": "GreaterThanThreshold",
            "actionsEnabled": True, "alarmActions": [ref("alerts-use1", "arn")]},
            provider="use1", parent=parent)
    b.add("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-usw2-rpo-lag", {
        "namespace": "AWS/RDS", "metricName": "AuroraGlobalDBRPOLag",
        "dimensions": {"DBClusterIdentifier": "db-us-west-2"},
        "threshold": 30000, "comparisonOperator": "GreaterThanThreshold",
        "actionsEnabled": True, "alarmActions": [ref("alerts-usw2", "arn")]},
        provider="usw2", parent=parent)


FIS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                  "ArnLike": {"aws:SourceArn":
                              "arn:aws:fis:us-east-1:123456789012:experiment/*"}}}]})
FIS_WRITER_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["rds:FailoverDBCluster"],
    "Resource": "arn:aws:rds:us-east-1:123456789012:cluster:db-us-east-1"}]})


def _drills(b: PlanBuilder) -> None:
    """The writer drill of us-east-1: alarm stop condition, CMK log group, scoped role."""
    parent = b.component("hastack:aws:DrillTemplates", "drills")
    b.add("aws:iam/role:Role", "drill-writer-role", {
        "name": "drill-writer-role", "assumeRolePolicy": FIS_TRUST},
        provider="use1", parent=parent)
    b.add("aws:iam/rolePolicy:RolePolicy", "drill-writer-policy", {
        "role": ref("drill-writer-role"), "policy": FIS_WRITER_POLICY},
        provider="use1", parent=parent)
    b.add("aws:cloudwatch/logGroup:LogGroup", "drill-log", {
        "name": "/hastack/drills", "kmsKeyId": ref("db-use1-key", "arn")},
        provider="use1", parent=parent)
    b.add("aws:fis/experimentTemplate:ExperimentTemplate", "drill-writer", {
        "description": "writer failover", "roleArn": ref("drill-writer-role", "arn"),
        "stopConditions": [{"source": "aws:cloudwatch:alarm",
                            "value": ref("alarm-use1-replica-lag", "arn")}],
        "actions": [{"name": "Failover-RDS", "actionId": "aws:rds:failover-db-cluster",
                     "target": {"key": "Clusters", "value": "Clusters-Target"}}],
        "targets": [{"name": "Clusters-Target", "resourceType": "aws:rds:cluster",
                     "selectionMode": "ALL", "resourceArns": [ref("db-use1-cluster", "arn")]}],
        "logConfiguration": {"logSchemaVersion": 2, "cloudwatchLogsConfiguration": {
            "logGroupArn": f"{ref('drill-log', 'arn')}:*"}}},
        provider="use1", parent=parent)


# --- GCP ---------------------------------------------------------------------------------

def gcp_builder(*, tier: str = "prod", stack: str = "gcp-prod") -> PlanBuilder:
    """A compliant GCP prod platform: GKE, Cloud SQL with a cross-region replica, Redis, GCS."""
    b = PlanBuilder(stack=stack, tier=tier, cloud="gcp")
    b.provider("ew1", "gcp", project="hastack-prod", region="europe-west1")
    b.provider("ew4", "gcp", project="hastack-prod", region="europe-west4")
    parent = b.component("hastack:gcp:Platform", "platform")
    b.add("gcp:compute/network:Network", "vpc", {"autoCreateSubnetworks": False},
          provider="ew1", parent=parent)
    b.add("gcp:container/cluster:Cluster", "gke", {
        "name": "hastack-prod", "location": "europe-west1", "network": ref("vpc"),
        "releaseChannel": {"channel": "REGULAR"},
        "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False,
                                 "masterIpv4CidrBlock": "172.16.0.0/28"},
        "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8",
                                                           "displayName": "vpn"}]},
        "workloadIdentityConfig": {"workloadPool": "hastack-prod.svc.id.goog"},
        "enableShieldedNodes": True, "datapathProvider": "ADVANCED_DATAPATH",
        "enableIntranodeVisibility": True,
        "binaryAuthorization": {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
        "removeDefaultNodePool": True, "initialNodeCount": 1, "deletionProtection": True,
        "gatewayApiConfig": {"channel": "CHANNEL_STANDARD"}},
        provider="ew1", parent=parent)
    b.add("gcp:binaryauthorization/policy:Policy", "binauthz", {
        "project": "hastack-prod", "globalPolicyEvaluationMode": "ENABLE",
        "admissionWhitelistPatterns": [{"namePattern": "quay.io/argoproj/**"}],
        "defaultAdmissionRule": {"evaluationMode": "ALWAYS_DENY",
                                 "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}},
        provider="ew1", parent=parent)
    b.add("gcp:container/nodePool:NodePool", "gke-pool", {
        "cluster": ref("gke"), "location": "europe-west1",
        "nodeLocations": ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
        "nodeCount": 1, "management": {"autoRepair": True, "autoUpgrade": True},
        "nodeConfig": {"machineType": "n2-standard-8",
                       "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                       "shieldedInstanceConfig": {"enableSecureBoot": True,
                                                  "enableIntegrityMonitoring": True}}},
        provider="ew1", parent=parent)
    settings = {
        "tier": "db-perf-optimized-N-8", "edition": "ENTERPRISE_PLUS",
        "availabilityType": "REGIONAL",
        "deletionProtectionEnabled": True,
        "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True,
                                "location": "europe-west4"},
        "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": ref("vpc"),
                            "sslMode": "ENCRYPTED_ONLY"},
        "databaseFlags": [{"name": name, "value": value} for name, value in (
            ("cloudsql.enable_pgaudit", "on"), ("pgaudit.log", "ddl,role"),
            ("log_statement", "ddl"), ("log_min_error_statement", "error"),
            ("log_checkpoints", "on"), ("log_lock_waits", "on"))]}
    b.add("gcp:sql/databaseInstance:DatabaseInstance", "sql-primary", {
        "name": "hastack-prod-ew1", "region": "europe-west1", "databaseVersion": "POSTGRES_16",
        "deletionProtection": True, "rootPassword": SECRET, "settings": settings,
        "instanceType": "CLOUD_SQL_INSTANCE",
        "replicationCluster": {"failoverDrReplicaName": "hastack-prod:hastack-prod-ew4"}},
        provider="ew1", parent=parent, protect=True)
    replica_settings = {**copy.deepcopy(settings), "backupConfiguration": {"enabled": False}}
    b.add("gcp:sql/databaseInstance:DatabaseInstance", "sql-replica", {
        "name": "hastack-prod-ew4", "region": "europe-west4", "databaseVersion": "POSTGRES_16",
        "masterInstanceName": ref("sql-primary", "name"), "deletionProtection": True,
        "settings": replica_settings}, provider="ew4", parent=parent, protect=True)
    b.add("gcp:redis/instance:Instance", "redis", {
        "name": "hastack-prod", "tier": "STANDARD_HA", "memorySizeGb": 5,
        "region": "europe-west1", "authEnabled": True,
        "transitEncryptionMode": "SERVER_AUTHENTICATION", "authorizedNetwork": ref("vpc"),
        "deletionProtection": True}, provider="ew1", parent=parent, protect=True)
    b.add("gcp:storage/bucket:Bucket", "gcs", {
        "name": "hastack-prod-artifacts", "location": "EU", "versioning": {"enabled": True},
        "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
        "logging": {"logBucket": ref("gcs-logs", "name"), "logObjectPrefix": "usage/"}},
        provider="ew1", parent=parent, protect=True)
    b.add("gcp:storage/bucket:Bucket", "gcs-logs", {
        "name": "hastack-prod-artifacts-logs", "location": "EU",
        "versioning": {"enabled": True}, "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "enforced"}, provider="ew1", parent=parent, protect=True)
    _gcp_edge(b, parent)
    b.add("gcp:monitoring/notificationChannel:NotificationChannel", "oncall", {
        "type": "email", "labels": {"email_address": "oncall@example.com"}},
        provider="ew1", parent=parent)
    for name, metric, instance in (
            ("sql-lag", "cloudsql.googleapis.com/database/replication/replica_lag",
             "hastack-prod:hastack-prod-ew4"),
            ("sql-up", "cloudsql.googleapis.com/database/up", "hastack-prod:hastack-prod-ew1"),
            ("redis-lag", "redis.googleapis.com/replication/master/slaves/lag",
             "projects/hastack-prod/locations/europe-west1/instances/hastack-prod")):
        b.add("gcp:monitoring/alertPolicy:AlertPolicy", f"alert-{name}", {
            "displayName": name, "combiner": "OR", "enabled": True,
            "notificationChannels": [ref("oncall", "name")],
            "conditions": [{"displayName": name, "conditionThreshold": {
                "filter": f'metric.type = "{metric}" AND resource.labels.x = "{instance}"',
                "comparison": "COMPARISON_GT", "duration": "180s"}}]},
            provider="ew1", parent=parent)
    return b


def _gcp_edge(b: PlanBuilder, parent: str) -> None:
    """Failover onto the reserved addresses, and the Gateway GKE serves on them."""
    b.add("gcp:compute/healthCheck:HealthCheck", "dns-health", {
        "httpsHealthCheck": {"port": 443, "requestPath": "/api/health"},
        "sourceRegions": ["europe-west1", "europe-west4", "europe-west2"],
        "checkIntervalSec": 30}, provider="ew1", parent=parent)
    b.add("gcp:dns/recordSet:RecordSet", "dns-record", {
        "managedZone": "example-com", "name": "workflows.example.com.", "type": "A",
        "ttl": 30, "routingPolicy": {
            "healthCheck": ref("dns-health"),
            "primaryBackup": {"primary": {"externalEndpoints": ["203.0.113.10"]},
                              "backupGeos": [{"location": "europe-west4",
                                              "rrdatas": ["198.51.100.20"]}],
                              "trickleRatio": 0}}}, provider="ew1", parent=parent)
    b.provider("gke-k8s", "kubernetes")
    b.add("kubernetes:gateway.networking.k8s.io/v1:Gateway", "prefect-gateway", {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "prefect-server", "namespace": "prefect"},
        "spec": {"gatewayClassName": "gke-l7-regional-external-managed",
                 "addresses": [{"type": "NamedAddress", "value": "hastack-prod-ew1-edge"}],
                 "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}]}},
        provider="gke-k8s", parent=parent)


# --- the deliberately broken plan ----------------------------------------------------------

def broken_builder() -> PlanBuilder:
    """The AWS prod platform with four classic HA/security mistakes."""
    b = aws_builder()
    b.set("cache-rg", "automaticFailoverEnabled", False)
    b.set("eks-cluster", "vpcConfig.endpointPublicAccess", True)
    b.set("eks-cluster", "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])
    b.remove("artifacts-use1-versioning")
    b.remove("dns-secondary")
    return b


Mutation = Callable[[PlanBuilder], None]
