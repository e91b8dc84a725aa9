"""The whole AWS platform of one stack, built from a validated `StackConfig`.

Per region an explicit `aws.Provider` is created and every regional resource is
pinned to it, so nothing depends on the ambient `aws:region`.

What runs where:

* every region of the tier: a VPC over `zoneCount` AZs, an EKS cluster, a Redis
  replication group, and the orchestrator (role "primary" in the primary region,
  a warm "standby" in the secondary);
* across the two regions: the Aurora global database (primary + secondary
  regional clusters), the artifact bucket replicated to the secondary region, and
  Route 53 failover records for the orchestrator's public name;
* dev (one region): a regional Aurora cluster, no replication, and a PRIMARY
  record without a SECONDARY (the plan shows it).

Which database endpoint each region's orchestrator uses, and why: the primary
uses the global writer endpoint, which Aurora re-points at the new primary after a
managed switchover or failover, so the primary region's workloads need no change.
The standby uses its own region's cluster endpoint: read-only until the secondary
is promoted, then the writer of the promoted cluster, so the standby becomes the
primary by re-running `pulumi up` with the regions' roles swapped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.aurora import AuroraGlobalDatabase, AuroraGlobalDatabaseArgs, AuroraRegion
from components.aws.bucket import ReplicaRegion, VersionedBucket, VersionedBucketArgs
from components.aws.dns import FailoverDns, FailoverDnsArgs, FailoverEndpoint
from components.aws.eks import EksCluster, EksClusterArgs
from components.aws.network import Network, NetworkArgs
from components.aws.redis import RedisReplicationGroup, RedisReplicationGroupArgs
from components.base import standard_tags
from components.k8s.wiring import ArtifactStore, DatabaseEndpoint, OrchestratorWiring
from hastack.config.model import StackConfig

TYPE_TOKEN = "hastack:aws:Platform"


@dataclasses.dataclass
class _Region:
    """Everything the platform built in one region."""

    name: str
    provider: aws.Provider
    network: Network
    cluster: EksCluster
    cache: RedisReplicationGroup | None = None


class AwsPlatform(pulumi.ComponentResource):
    """One environment on AWS: networks, clusters, data layer, DNS and the orchestrator."""

    outputs: dict[str, Any]

    def __init__(self, name: str, config: StackConfig,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        if config.cloud != "aws":
            raise ValueError(f"AwsPlatform needs cloud: aws, got '{config.cloud}'")
        self._name = name
        self._config = config
        self.regions = {region: self._region(region) for region in config.regions.all}
        self.database = self._database() if config.database.enabled else None
        for region in self.regions.values():
            region.cache = self._cache(region) if config.cache.enabled else None
        self.bucket = self._bucket() if config.artifacts.enabled else None
        self.orchestrators = self._orchestrators() if config.workflows.enabled else {}
        self.dns = self._dns() if self.orchestrators and config.multi_region else None
        self.single_region_record = (self._single_region_record()
                                     if self.orchestrators and not config.multi_region else None)
        self.outputs = self._outputs()
        self.register_outputs(self.outputs)

    # ------------------------------------------------------------ per region

    def _region(self, region: str) -> _Region:
        config = self._config
        provider = aws.Provider(
            f"{self._name}-{region}", region=region,
            # Tags every taggable resource gets, even ones a component forgets.
            default_tags=aws.ProviderDefaultTagsArgs(
                tags=standard_tags(config.tier, "Platform", config.tags)),
            opts=pulumi.ResourceOptions(parent=self))
        network = Network(
            f"{self._name}-{region}-network",
            NetworkArgs.from_config(config, self._name, region),
            provider=provider, opts=pulumi.ResourceOptions(parent=self))
        cluster = EksCluster(
            f"{self._name}-{region}-eks",
            EksClusterArgs.from_config(
                config, self._name, region, network.vpc_id, network.private_subnet_ids,
                admin_role_arns=config.kubernetes.admin_role_arns,
                kubeconfig_role_arn=config.kubernetes.kubeconfig_role_arn),
            provider=provider, opts=pulumi.ResourceOptions(parent=self))
        return _Region(region, provider, network, cluster)

    def _aurora_region(self, region: _Region) -> AuroraRegion:
        return AuroraRegion(
            provider=region.provider, region=region.name, vpc_id=region.network.vpc_id,
            subnet_ids=region.network.database_subnet_ids,
            # Only this region's VPC reaches its cluster; regions are not peered.
            allowed_cidrs=[region.network.cidr], zones=region.network.azs)

    def _database(self) -> AuroraGlobalDatabase:
        primary = self.regions[self._config.regions.primary]
        secondary = self._secondary()
        args = AuroraGlobalDatabaseArgs.from_config(
            self._config, self._aurora_region(primary),
            self._aurora_region(secondary) if secondary else None)
        return AuroraGlobalDatabase(f"{self._name}-aurora", args,
                                    pulumi.ResourceOptions(parent=self))

    def _cache(self, region: _Region) -> RedisReplicationGroup:
        args = RedisReplicationGroupArgs.from_config(
            self._config, provider=region.provider, region=region.name,
            vpc_id=region.network.vpc_id, subnet_ids=region.network.database_subnet_ids,
            allowed_cidrs=[region.network.cidr])
        return RedisReplicationGroup(f"{self._name}-{region.name}-redis", args,
                                     pulumi.ResourceOptions(parent=self))

    def _bucket(self) -> VersionedBucket:
        primary = self.regions[self._config.regions.primary]
        secondary = self._secondary()
        replica = ReplicaRegion(secondary.provider, secondary.name) if secondary else None
        args = VersionedBucketArgs.from_config(
            self._config, provider=primary.provider, region=primary.name, replica=replica)
        return VersionedBucket(f"{self._name}-artifacts", args,
                               pulumi.ResourceOptions(parent=self))

    def _secondary(self) -> _Region | None:
        secondary = self._config.regions.secondary
        return self.regions[secondary] if secondary else None

    # ------------------------------------------------------------ orchestrator

    def _database_for(self, region: _Region, primary: bool) -> DatabaseEndpoint | None:
        if self.database is None:
            return None
        if primary:
            return self.database.database_endpoint
        local = self.database.regions[region.name]
        return dataclasses.replace(self.database.database_endpoint, host=local.writer_endpoint)

    def _artifacts_for(self, region: _Region, primary: bool) -> ArtifactStore | None:
        if self.bucket is None:
            return None
        bucket = self.bucket.bucket_name
        key = self.bucket.kms_key_arn
        if not primary and self.bucket.replica_bucket_name is not None:
            # The standby reads and writes its region's replica, which keeps working
            # when the primary region does not.
            bucket = self.bucket.replica_bucket_name
            key = self.bucket.replica_kms_key_arn or key
        return ArtifactStore(
            cloud="aws", bucket=bucket, region=region.name,
            aws_oidc_provider_arn=region.cluster.oidc_provider_arn,
            aws_oidc_issuer=region.cluster.oidc_issuer,
            aws_kms_key_arn=key, aws_provider=region.provider)

    def _orchestrators(self) -> dict[str, Any]:
        from components.k8s.orchestrator import deploy_orchestrator

        config = self._config
        deployments = {}
        for region in self.regions.values():
            primary = region.name == config.regions.primary
            wiring = OrchestratorWiring(
                name=f"{self._name}-{region.name}",
                tier=config.tier,
                orchestrator=config.orchestrator,
                role="primary" if primary else "standby",
                region=region.name,
                zones=list(region.network.azs),
                kubernetes_provider=region.cluster.kubernetes_provider,
                public_hostname=f"{config.dns.hostname}.{config.dns.domain}",
                database=self._database_for(region, primary),
                cache=region.cache.cache_endpoint if region.cache else None,
                artifacts=self._artifacts_for(region, primary),
                server_replicas=config.workflows.server_replicas,
                worker_replicas=config.workflows.worker_replicas,
                controller_replicas=config.workflows.controller_replicas,
                work_pool=config.workflows.work_pool,
                labels={"hastack-tier": config.tier},
            )
            deployments[region.name] = deploy_orchestrator(
                wiring, pulumi.ResourceOptions(parent=self, depends_on=[region.cluster]))
        return deployments

    def _dns(self) -> FailoverDns:
        config = self._config
        primary = self.orchestrators[config.regions.primary]
        secondary = self.orchestrators.get(config.regions.secondary or "")
        args = FailoverDnsArgs(
            tier=config.tier,
            domain=config.dns.domain,
            hostname=config.dns.hostname,
            zone_id=config.dns.zone_id,
            health_check_path=config.dns.health_check_path,
            primary=FailoverEndpoint(target=primary.public_endpoint),
            secondary=FailoverEndpoint(target=secondary.public_endpoint) if secondary else None,
            provider=self.regions[config.regions.primary].provider,
            tags=dict(config.tags),
        )
        return FailoverDns(f"{self._name}-dns", args, pulumi.ResourceOptions(parent=self))

    def _single_region_record(self) -> aws.route53.Record:
        """One region has nothing to fail over to: a plain, short-TTL CNAME."""
        config = self._config
        primary = self.regions[config.regions.primary]
        invoke = pulumi.InvokeOutputOptions(provider=primary.provider)
        zone_id = (pulumi.Output.from_input(config.dns.zone_id) if config.dns.zone_id
                   else aws.route53.get_zone_output(name=config.dns.domain,
                                                    private_zone=False, opts=invoke).zone_id)
        return aws.route53.Record(
            f"{self._name}-dns", zone_id=zone_id,
            name=f"{config.dns.hostname}.{config.dns.domain}", type="CNAME", ttl=60,
            records=[self.orchestrators[config.regions.primary].public_endpoint],
            opts=pulumi.ResourceOptions(parent=self, provider=primary.provider))

    # ------------------------------------------------------------ outputs

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {
            "cloud": "aws",
            "tier": self._config.tier,
            "regions": self._config.regions.all,
            "kubeconfigs": {r: reg.cluster.kubeconfig for r, reg in self.regions.items()},
            "clusterNames": {r: reg.cluster.cluster_name for r, reg in self.regions.items()},
            "vpcIds": {r: reg.network.vpc_id for r, reg in self.regions.items()},
        }
        if self.database is not None:
            outputs["databaseWriterEndpoint"] = (self.database.global_writer_endpoint
                                                 or self.database.writer_endpoint)
            outputs["databaseReaderEndpoints"] = {
                r: c.reader_endpoint for r, c in self.database.regions.items()}
            outputs["databaseSecretArn"] = self.database.secret_arn
        caches = {r: reg.cache for r, reg in self.regions.items() if reg.cache}
        if caches:
            outputs["redisPrimaryEndpoints"] = {r: c.primary_endpoint for r, c in caches.items()}
            outputs["redisSecretArns"] = {r: c.secret_arn for r, c in caches.items()}
        if self.bucket is not None:
            outputs["artifactBucket"] = self.bucket.bucket_name
            if self.bucket.replica_bucket_name is not None:
                outputs["artifactReplicaBucket"] = self.bucket.replica_bucket_name
        if self.orchestrators:
            outputs["orchestratorUrl"] = (
                f"https://{self._config.dns.hostname}.{self._config.dns.domain}")
            outputs["orchestratorEndpoints"] = {
                r: d.public_endpoint for r, d in self.orchestrators.items()}
        return outputs
