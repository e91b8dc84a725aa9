"""The GCP infrastructure stack of one environment, built from a validated `StackConfig`.

Per region an explicit `gcp.Provider` (project + region) is created and every
regional resource is pinned to it, so nothing depends on ambient gcloud
defaults. Global resources (VPC, private service access, DNS, the bucket) use
the primary region's provider.

What runs where:

* primary region: GKE cluster, Cloud SQL primary (REGIONAL HA), Memorystore.
* secondary region (prod/staging): GKE cluster, the Cloud SQL cross-region
  replica, its own Memorystore.
* both: a reserved external IP per region for the edge, one dual-region artifact
  bucket and one health-checked DNS name.

The orchestrators are installed by one workloads stack per region
(components/workloads/), which reads the `workloads`/`workloadsSecrets` outputs.
`activeRegion` decides the roles: with Cloud SQL Enterprise Plus (prod) the active
region's instance is the primary and designates the other as its DR replica, both
ways (the API swaps them: `hastack failover`/`failback`); with Enterprise the replica
is promoted once the secondary is active (one way). The DNS failover policy prefers
the active region.

GCP versus the AWS platform: one global VPC instead of a VPC per region (no
peering), Cloud NAT per region instead of NAT gateways per zone, a Cloud SQL
read replica instead of an Aurora global database (Advanced DR switchover / replica
failover, or a one-way promotion on Enterprise, instead of managed failover), a
dual-region bucket instead of S3 cross-region replication, and Workload Identity
instead of IRSA.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.base import Protection
from components.gcp.binauthz import BinaryAuthorization, BinaryAuthorizationArgs
from components.gcp.bucket import VersionedGcsBucket, VersionedGcsBucketArgs
from components.gcp.cloudsql import CloudSqlPostgres, CloudSqlPostgresArgs
from components.gcp.dns import CloudDnsZone, DnsTarget, FailoverDns, FailoverDnsArgs, cloud_dns_zone
from components.gcp.edge import GcpRegionalEdge, GcpRegionalEdgeArgs, shared_validation_record
from components.gcp.gke import GkeCluster, GkeClusterArgs, GkeGpuPool
from components.gcp.memorystore import READ_REPLICA_MIN_GB, MemorystoreRedis, MemorystoreRedisArgs
from components.gcp.network import GcpNetwork, GcpNetworkArgs, RegionNetwork
from components.gcp.secrets import SecretManagerKeys, SecretManagerKeysArgs, stored_secret
from components.gcp.services import ProjectServices
from hastack.config.model import StackConfig, recovery_document

TYPE_TOKEN = "hastack:gcp:Platform"


def check_config(config: StackConfig) -> str:
    """What `GcpPlatform` cannot build, as a clear error; returns the project ID."""
    if config.cloud != "gcp":
        raise ValueError(f"GcpPlatform needs cloud: gcp, got '{config.cloud}'")
    if config.gcp is None:
        raise ValueError("GcpPlatform needs gcp.project (the GCP project ID)")
    if config.cache.credentials_rotation:
        raise ValueError("GcpPlatform: cache.credentialsRotation is not supported on GCP "
                         "(Memorystore generates and keeps its own AUTH string); leave it "
                         "unset")
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
        # Targets and region roles ride on the root component so that the plan and the
        # policy pack (which see resources, not the stack file) can assess recovery.
        recovery = {"hastackRecovery": recovery_document(config)}
        super().__init__(TYPE_TOKEN, name, recovery, opts)
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
        # First: a fresh project has none of the APIs the components need.
        self.services = ProjectServices(
            f"{name}-apis", project,
            opts=pulumi.ResourceOptions(parent=self, provider=self.providers[self.regions[0]]))
        self.network = self._network()
        self.admission = BinaryAuthorization(
            f"{name}-binauthz", BinaryAuthorizationArgs(project=project, tier=config.tier),
            provider=self.providers[self.regions[0]], opts=self._opts())
        self.clusters = {region: self._cluster(region) for region in self.regions}
        self.secret_keys = self._secret_keys()
        self.database = self._database() if config.database.enabled else None
        self.caches = ({region: self._cache(region) for region in self.regions}
                       if config.cache.enabled else {})
        self.bucket = self._bucket() if config.artifacts.enabled else None
        # The edge serves the orchestrator: with workflows off there is nothing to serve.
        self.zone = self._zone() if config.workflows.enabled else None
        self.edges = self._edges(self.zone) if self.zone is not None else {}
        self.dns = self._dns(self.zone) if self.zone is not None else None
        self.alerting = self._alerting()
        self.outputs = self._collect_outputs()
        # Also as an output: a component's state keeps its registered outputs.
        self.register_outputs({**self.outputs, **recovery})

    # -- building blocks ---------------------------------------------------------

    def _opts(self, region: str | None = None) -> pulumi.ResourceOptions:
        # Every component waits for the project's APIs (depends_on a component
        # waits for all of its children).
        return pulumi.ResourceOptions(parent=self,
                                      provider=self.providers[region or self.regions[0]],
                                      depends_on=[self.services])

    @property
    def primary(self) -> str:
        return self.regions[0]

    def _zones(self, region: str) -> list[str]:
        # Pinned in the stack file (or by the loader from the regions table).
        return self.config.zones_of(region)

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
                authorized_cidrs=list(k8s.api_allowlist),
                ignore_scaling_changes=k8s.ignore_scaling_changes,
                labels=self.config.tags, protection=self.protection,
                depends_on=[self.services],
                gpu=GkeGpuPool(k8s.gpu.instance_type, k8s.gpu.accelerator_type or "",
                               k8s.gpu.gpus_per_node, k8s.gpu.max_nodes)
                if k8s.gpu.enabled else None,
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
                edition=db.edition or "ENTERPRISE",
                high_availability=db.instances_per_region >= 2,
                # Two or more secondary instances = an HA replica (a standby zone too).
                replica_high_availability=db.secondary_instances >= 2,
                backup_retention_days=db.backup_retention_days,
                credentials_rotation=db.credentials_rotation,
                database_name=db.database_name, username=db.master_username,
                secret_regions=self.regions, secret_keys=self.secret_keys,
                # The writer follows the active region (both ways on ENTERPRISE_PLUS).
                active_region=self.config.active,
                labels=self.config.tags, protection=self.protection,
                depends_on=[self.network.private_service_access, self.services],
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
                depends_on=[self.network.private_service_access, self.services],
                secret_keys=self.secret_keys,
            ),
            opts=self._opts(region),
        )

    def _secret_keys(self) -> SecretManagerKeys:
        """Secret Manager's CMEK per region, shared by every secret of the environment."""
        return SecretManagerKeys(f"{self.name}-secret-keys", SecretManagerKeysArgs(
            name=self.name, tier=self.config.tier, project=self.project, regions=self.regions,
            providers=self.providers, labels=self.config.tags, protection=self.protection,
            depends_on=[self.services]),
            opts=self._opts())

    def _store_credentials(self, app: Any) -> gcp.secretmanager.Secret:
        """The orchestrator's credentials in Secret Manager, a CMEK replica per region."""
        from components.base import standard_labels
        from components.k8s.credentials import stored_entries

        return stored_secret(
            f"{self.name}-orchestrator-credentials",
            secret_id=f"{self.name}-orchestrator-credentials", project=self.project,
            value=pulumi.Output.json_dumps(stored_entries(self.config.orchestrator, app)),
            replicas={region: self.secret_keys.key_ids[region] for region in self.regions},
            protection=self.protection,
            labels=standard_labels(self.config.tier, "OrchestratorSecrets", self.config.tags),
            opts=self._opts(), depends_on=self.secret_keys.grants)

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
                depends_on=[self.services],
            ),
            opts=self._opts(),
        )

    # -- edge ----------------------------------------------------------------------

    def _health_path(self) -> str:
        from components.k8s.orchestrator import edge_target

        return edge_target(self.config.orchestrator, self.config.dns.health_check_path
                           ).health_path

    def _zone(self) -> CloudDnsZone:
        from hastack.program import stack_file_display

        dns = self.config.dns
        return cloud_dns_zone(
            f"{self.name}-zone", project=self.project, domain=dns.domain,
            zone_name=dns.zone_id, create=dns.create_zone,
            protect=self.protection.protect,
            settings_key=f"{stack_file_display(pulumi.get_stack())} hastack:dns",
            opts=self._opts())

    def _edges(self, zone: CloudDnsZone) -> dict[str, GcpRegionalEdge]:
        """Per region the reserved public IP (DNS points at it before any workload
        exists) and the regional certificate the workloads stack's Gateway serves."""
        dns = self.config.dns
        edges = {region: GcpRegionalEdge(
            f"{self.name}-{region}-edge",
            GcpRegionalEdgeArgs(name=self.name, tier=self.config.tier, project=self.project,
                                region=region, domain=dns.domain, hostname=dns.hostname,
                                labels=self.config.tags),
            opts=self._opts(region)) for region in self.regions}
        for region, edge in edges.items():
            edge.validation_record(f"{self.name}-{region}-cert-validation", self.project,
                                   zone.name, "regional", self._opts())
        # One CNAME serves every region's authorization of the shared name.
        shared_validation_record(f"{self.name}-shared-cert-validation", list(edges.values()),
                                 self.project, zone.name, self._opts())
        return edges

    def _database_for(self, region: str) -> dict[str, Any] | None:
        """Active region: the writer; standby: a read-only replica (never written)."""
        if self.database is None:
            return None
        endpoint = self.database.endpoint
        replica = self.database.replica_endpoint
        secondary = self.config.regions.secondary
        writer = replica if (replica and self.config.active == secondary) else endpoint
        if self.config.role_of(region) == "active":
            chosen = writer
        elif self.database.reader is not None:
            # Each region reads its own instance: the standby's is the replica (with
            # Advanced DR in either direction).
            chosen = replica if (replica and region == secondary) else endpoint
        else:
            # ENTERPRISE after the one-way promotion: the old primary is stale, so the
            # standby gets the writer (one global VPC: reachable from every region) and
            # runs nothing that writes.
            chosen = writer
        return {"host": chosen.host, "port": chosen.port, "name": chosen.database,
                "username": chosen.username, "sslMode": chosen.ssl_mode}

    def _workloads_contract(self) -> dict[str, Any]:
        regions: dict[str, Any] = {}
        for region, cluster in self.clusters.items():
            cache = self.caches.get(region)
            regions[region] = {
                "role": self.config.role_of(region),
                "clusterName": cluster.cluster_name,
                "zones": self._zones(region),
                "workloadPool": cluster.workload_pool,
                "edgeAddressName": self.edges[region].address_name if region in self.edges
                else None,
                "edge": None if region not in self.edges else {
                    "addressName": self.edges[region].address_name,
                    "certificateName": self.edges[region].certificate_name,
                    "hostnames": self.edges[region].hostnames,
                    "healthPath": self._health_path()},
                "database": self._database_for(region),
                "cache": None if cache is None else {
                    "host": cache.endpoint.host, "port": cache.endpoint.port,
                    "tls": cache.endpoint.tls, "caCertificate": cache.endpoint.ca_certificate},
                "artifacts": None if self.bucket is None else {"bucket": self.bucket.bucket_name},
            }
        return {"environment": self.name.removeprefix("hastack-"), "cloud": "gcp",
                "tier": self.config.tier, "activeRegion": self.config.active,
                "project": self.project,
                "publicHostname": f"{self.config.dns.hostname}.{self.config.dns.domain}",
                "regions": regions}

    def _workloads_secrets(self) -> pulumi.Output[Any]:
        from components.k8s.credentials import app_credentials, credential_secrets

        # The orchestrator's own credentials, once for both regions (its database role
        # replicates with the database; users keep one API password across a failover).
        app = (app_credentials(self.name, self.config.orchestrator, self,
                               database_rotation=self.config.database.credentials_rotation)
               if self.config.workflows.enabled and self.database is not None else None)
        if app is not None:
            self.credential_secret = self._store_credentials(app)
        secrets: dict[str, Any] = {}
        for region, cluster in self.clusters.items():
            entry: dict[str, Any] = {"kubeconfig": cluster.kubeconfig}
            if app is not None:
                entry.update(credential_secrets(app))
            if self.database is not None:
                entry["databasePassword"] = self.database.endpoint.password
            if region in self.caches:
                entry["cacheAuthToken"] = self.caches[region].endpoint.auth_token
            secrets[region] = entry
        return pulumi.Output.secret(secrets)

    def _alerting(self) -> Any:
        """Cloud Monitoring policies (components/gcp/alerting.py): global to the project."""
        from components.gcp.alerting import GcpAlerting, GcpAlertingArgs
        from components.observability.from_config import thresholds

        config = self.config
        db = self.database
        return GcpAlerting(f"{self.name}-alerting", GcpAlertingArgs(
            tier=config.tier, project=self.project, thresholds=thresholds(config),
            emails=tuple(config.alerts.emails),
            https_endpoints=tuple(config.alerts.https_endpoints),
            # By role: "up" watches the writer, the lag alert the instance replicating.
            database_primary=db.writer.name if db else None,
            database_replica=db.reader.name if db and db.reader is not None else None,
            caches={region: cache.instance.name for region, cache in self.caches.items()},
            public_host=(f"{config.dns.hostname}.{config.dns.domain}"
                         if self.edges else None),
            health_check_path=config.dns.health_check_path,
            labels=dict(config.tags)), opts=self._opts())

    def _dns(self, zone: CloudDnsZone) -> FailoverDns:
        dns = self.config.dns
        active = self.config.active
        # The standby is warm (pods at zero): a plain backup target, not health-checked.
        targets = [DnsTarget(region, edge.ip_address, evaluate_health=region == active)
                   for region, edge in self.edges.items()]
        return FailoverDns(
            f"{self.name}-dns",
            FailoverDnsArgs(
                name=self.name, tier=self.config.tier, project=self.project,
                domain=dns.domain, hostname=dns.hostname, managed_zone=zone.name,
                health_check_path=self._health_path(), targets=targets, active_region=active,
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
        for region, edge in self.edges.items():
            outputs[f"publicEndpoint.{region}"] = edge.ip_address
        if self.zone is not None and self.zone.name_servers is not None:
            outputs["dns.nameServers"] = self.zone.name_servers
        outputs["activeRegion"] = self.config.active
        outputs["workloads"] = self._workloads_contract()
        outputs["workloadsSecrets"] = self._workloads_secrets()
        if getattr(self, "credential_secret", None) is not None:
            outputs["orchestratorSecretId"] = self.credential_secret.id
        if self.dns is not None:
            outputs["dns.name"] = self.dns.fqdn.rstrip(".")
        return outputs
