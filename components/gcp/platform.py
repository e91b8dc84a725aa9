"""The whole GCP platform of one stack, built from a validated `StackConfig`.

Per region an explicit `gcp.Provider` (project + region) is created and every
regional resource is pinned to it, so nothing depends on ambient gcloud
defaults. Global resources (VPC, private service access, DNS, the bucket) use
the primary region's provider.

What runs where:

* primary region: GKE cluster, Cloud SQL primary (REGIONAL HA), Memorystore,
  orchestrator role "primary".
* secondary region (prod/staging): GKE cluster, the Cloud SQL cross-region
  replica, its own Memorystore, orchestrator role "standby" wired to the replica
  (which keeps its IP when promoted, so failover needs no re-wiring).
* both: one dual-region artifact bucket and one health-checked DNS name.

GCP versus the AWS platform: one global VPC instead of a VPC per region (no
peering), Cloud NAT per region instead of NAT gateways per zone, a Cloud SQL
read replica instead of an Aurora global database (promotion instead of managed
failover), a dual-region bucket instead of S3 cross-region replication, and
Workload Identity instead of IRSA.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp

from components.base import Protection
from components.gcp.bucket import VersionedGcsBucket, VersionedGcsBucketArgs
from components.gcp.cloudsql import CloudSqlPostgres, CloudSqlPostgresArgs
from components.gcp.dns import DnsTarget, FailoverDns, FailoverDnsArgs
from components.gcp.gke import GkeCluster, GkeClusterArgs
from components.gcp.memorystore import READ_REPLICA_MIN_GB, MemorystoreRedis, MemorystoreRedisArgs
from components.gcp.network import GcpNetwork, GcpNetworkArgs, RegionNetwork
from components.k8s.wiring import ArtifactStore, OrchestratorWiring
from hastack.config.model import StackConfig
from hastack.config.regions import zones_of

TYPE_TOKEN = "hastack:gcp:Platform"


def deploy_orchestrator(wiring: OrchestratorWiring, opts: pulumi.ResourceOptions) -> Any:
    """The shared orchestrator hook, imported late: only stacks with workflows need it."""
    from components.k8s.orchestrator import deploy_orchestrator as deploy

    return deploy(wiring, opts)


def check_config(config: StackConfig) -> str:
    """What `GcpPlatform` cannot build, as a clear error; returns the project ID."""
    if config.cloud != "gcp":
        raise ValueError(f"GcpPlatform needs cloud: gcp, got '{config.cloud}'")
    if config.gcp is None:
        raise ValueError("GcpPlatform needs gcp.project (the GCP project ID)")
    if config.dns_provider == "route53":
        raise ValueError("GcpPlatform: dns.provider route53 is not supported on GCP yet; "
                         "use cloud-dns (the default)")
    if config.cache.enabled and config.cache.engine != "redis":
        raise ValueError(f"GcpPlatform: cache.engine '{config.cache.engine}' is not offered "
                         f"by Memorystore for Redis; use engine: redis")
    return config.gcp.project


class GcpPlatform(pulumi.ComponentResource):
    outputs: dict[str, pulumi.Input[Any]]

    def __init__(self, name: str, config: StackConfig,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        project = check_config(config)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.name = name
        self.config = config
        self.project = project
        self.regions = config.regions.all
        self.protection = Protection(
            protect=config.protect_stateful_resources,
            retain_on_delete=config.protect_stateful_resources,
            deletion_protection=config.deletion_protection,
        )
        self.providers = {
            region: gcp.Provider(f"{name}-{region}", project=project, region=region,
                                 opts=pulumi.ResourceOptions(parent=self))
            for region in self.regions
        }
        self.network = self._network()
        self.clusters = {region: self._cluster(region) for region in self.regions}
        self.database = self._database() if config.database.enabled else None
        self.caches = ({region: self._cache(region) for region in self.regions}
                       if config.cache.enabled else {})
        self.bucket = self._bucket() if config.artifacts.enabled else None
        self.orchestrators = self._orchestrators() if config.workflows.enabled else {}
        self.dns = self._dns() if self.orchestrators else None
        self.outputs = self._collect_outputs()
        self.register_outputs(self.outputs)

    # -- building blocks ---------------------------------------------------------

    def _opts(self, region: str | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self,
                                      provider=self.providers[region or self.regions[0]])

    @property
    def primary(self) -> str:
        return self.regions[0]

    def _zones(self, region: str) -> list[str]:
        return zones_of("gcp", region)[:self.config.zone_count]

    def _network(self) -> GcpNetwork:
        network = self.config.network
        # The secondary CIDR only exists as a range once there is a secondary region.
        cidrs = [network.primary_cidr, network.secondary_cidr][:len(self.regions)]
        regions = [RegionNetwork(region, cidr)
                   for region, cidr in zip(self.regions, cidrs, strict=True)]
        return GcpNetwork(
            f"{self.name}-network",
            GcpNetworkArgs(
                name=self.name, tier=self.config.tier, project=self.project,
                regions=regions,
                labels=self.config.tags,
            ),
            providers=self.providers,
            opts=self._opts(),
        )

    def _cluster(self, region: str) -> GkeCluster:
        k8s = self.config.kubernetes
        return GkeCluster(
            f"{self.name}-{region}-gke",
            GkeClusterArgs(
                name=self.name, region=region, tier=self.config.tier, project=self.project,
                network=self.network.network.id,
                subnetwork=self.network.subnets[region].id,
                zones=self._zones(region),
                control_plane_cidr=self.network.layouts[region].control_plane,
                machine_type=k8s.node_instance_type,
                nodes_min=k8s.nodes_min, nodes_max=k8s.nodes_max,
                kubernetes_version=k8s.version,
                authorized_cidrs=list(k8s.public_access_cidrs),
                ignore_scaling_changes=k8s.ignore_scaling_changes,
                labels=self.config.tags, protection=self.protection,
            ),
            opts=self._opts(region),
        )

    def _database(self) -> CloudSqlPostgres:
        db = self.config.database
        return CloudSqlPostgres(
            f"{self.name}-postgres",
            CloudSqlPostgresArgs(
                name=self.name, tier=self.config.tier, project=self.project,
                primary_region=self.primary, replica_region=self.config.regions.secondary,
                network=self.network.network.id,
                engine_version=db.engine_version, machine_tier=db.instance_class,
                high_availability=db.instances_per_region >= 2,
                # Two or more secondary instances = an HA replica (a standby zone too).
                replica_high_availability=db.secondary_instances >= 2,
                backup_retention_days=db.backup_retention_days,
                database_name=db.database_name, username=db.master_username,
                secret_regions=self.regions,
                labels=self.config.tags, protection=self.protection,
                depends_on=[self.network.private_service_access],
            ),
            providers=self.providers,
            opts=self._opts(),
        )

    def _cache(self, region: str) -> MemorystoreRedis:
        cache = self.config.cache
        size = int(cache.node_type)
        # nodesPerRegion counts the primary; read replicas need >= 5 GB nodes, below
        # that Standard HA's single failover replica is what the tier offers.
        read_replicas = cache.nodes_per_region - 1 if size >= READ_REPLICA_MIN_GB else 0
        return MemorystoreRedis(
            f"{self.name}-{region}-redis",
            MemorystoreRedisArgs(
                name=self.name, region=region, tier=self.config.tier, project=self.project,
                network=self.network.network.id, memory_size_gb=size,
                read_replicas=read_replicas, engine_version=cache.engine_version,
                zones=self._zones(region)[:2],
                labels=self.config.tags, protection=self.protection,
                depends_on=[self.network.private_service_access],
            ),
            opts=self._opts(region),
        )

    def _bucket(self) -> VersionedGcsBucket:
        artifacts = self.config.artifacts
        return VersionedGcsBucket(
            f"{self.name}-artifacts",
            VersionedGcsBucketArgs(
                name=self.name, tier=self.config.tier, project=self.project,
                primary_region=self.primary, secondary_region=self.config.regions.secondary,
                replicate=artifacts.replicate,
                noncurrent_version_days=artifacts.noncurrent_version_days,
                labels=self.config.tags, protection=self.protection,
            ),
            opts=self._opts(),
        )

    def _orchestrators(self) -> dict[str, Any]:
        deployments = {}
        for region in self.regions:
            wiring = self._wiring(region)
            deployments[region] = deploy_orchestrator(
                wiring, pulumi.ResourceOptions(parent=self, depends_on=[
                    self.clusters[region].node_pool]))
        return deployments

    def _wiring(self, region: str) -> OrchestratorWiring:
        config = self.config
        role: Literal["primary", "standby"] = "primary" if region == self.primary else "standby"
        database = None
        if self.database is not None:
            database = (self.database.endpoint if role == "primary"
                        else self.database.replica_endpoint or self.database.endpoint)
        artifacts = None if self.bucket is None else ArtifactStore(
            cloud="gcp", bucket=self.bucket.bucket_name, region=region,
            gcp_project=self.project, gcp_provider=self.providers[region])
        return OrchestratorWiring(
            name=f"{self.name}-{region}",
            tier=config.tier,
            orchestrator=config.orchestrator,
            role=role,
            region=region,
            zones=self._zones(region),
            kubernetes_provider=self.clusters[region].kubernetes_provider,
            public_hostname=f"{config.dns.hostname}.{config.dns.domain}",
            database=database,
            cache=self.caches[region].endpoint if region in self.caches else None,
            artifacts=artifacts,
            server_replicas=config.workflows.server_replicas,
            worker_replicas=config.workflows.worker_replicas,
            controller_replicas=config.workflows.controller_replicas,
            work_pool=config.workflows.work_pool,
            labels=dict(config.tags),
        )

    def _dns(self) -> FailoverDns:
        dns = self.config.dns
        targets = [DnsTarget(region, self.orchestrators[region].public_endpoint)
                   for region in self.regions]
        return FailoverDns(
            f"{self.name}-dns",
            FailoverDnsArgs(
                name=self.name, tier=self.config.tier, project=self.project,
                domain=dns.domain, hostname=dns.hostname, managed_zone=dns.zone_id,
                health_check_path=dns.health_check_path,
                primary=targets[0], secondary=targets[1] if len(targets) > 1 else None,
            ),
            opts=self._opts(),
        )

    # -- outputs -----------------------------------------------------------------

    def _collect_outputs(self) -> dict[str, pulumi.Input[Any]]:
        outputs: dict[str, pulumi.Input[Any]] = {
            "cloud": "gcp",
            "project": self.project,
            "network": self.network.network.name,
            "publicHostname": f"{self.config.dns.hostname}.{self.config.dns.domain}",
        }
        for region, cluster in self.clusters.items():
            outputs[f"clusterName.{region}"] = cluster.cluster_name
            outputs[f"clusterEndpoint.{region}"] = cluster.endpoint
            outputs[f"kubeconfig.{region}"] = cluster.kubeconfig
            outputs[f"workloadPool.{region}"] = cluster.workload_pool
        if self.database is not None:
            outputs["database.host"] = self.database.endpoint.host
            outputs["database.connectionName"] = self.database.primary.connection_name
            outputs["database.passwordSecretId"] = self.database.password_secret_id
            if self.database.replica is not None:
                outputs["database.replicaHost"] = self.database.replica.private_ip_address
                outputs["database.replicaConnectionName"] = (
                    self.database.replica.connection_name)
        for region, cache in self.caches.items():
            outputs[f"cache.host.{region}"] = cache.endpoint.host
        if self.bucket is not None:
            outputs["artifacts.bucket"] = self.bucket.bucket_name
        for region, deployment in self.orchestrators.items():
            outputs[f"publicEndpoint.{region}"] = deployment.public_endpoint
        if self.dns is not None:
            outputs["dns.name"] = self.dns.fqdn.rstrip(".")
        return outputs
