"""The AWS infrastructure stack of one environment, built from a validated `StackConfig`.

Per region an explicit `aws.Provider` is created and every regional resource is
pinned to it, so nothing depends on the ambient `aws:region`.

What this layer builds (cloud credentials only; it never talks to a cluster's API):

* every region: a VPC over the pinned AZ IDs, an EKS cluster, a Redis
  replication group;
* across the two regions: the Aurora global database (a regional cluster in each
  region), the artifact bucket replicated to the secondary region, and Route 53
  failover records for the orchestrator's public name onto each region's edge
  (components/aws/edge.py: ALB, certificate, target group; the workloads stack
  registers the orchestrator's pods in the target group with a TargetGroupBinding);
* dev (one region): a regional Aurora cluster, no replication, one alias record.

The orchestrator and the cluster add-ons are installed by one *workloads* stack per
region (components/workloads/), which reads the `workloads` / `workloadsSecrets`
outputs below through a StackReference.

Construction is fixed, roles flip: `regions.primary/secondary` decide what is built
(and where the global database was created) and never change for a living
environment; `activeRegion` decides which region serves and writes. Every resource
is named, parented and provided by its region, so flipping `activeRegion` changes
DNS roles and what the workloads stacks run, and replaces nothing.

Which database endpoint each region's orchestrator gets, and why: both regions get
the Aurora *global writer endpoint*, which follows a managed switchover or failover
to whichever cluster is the writer (never a secondary's own writer endpoint, which
AWS documents as inactive). So the pods an ARC Region switch execution scales up
write at once; until then the standby runs no pod that connects, because the
endpoint resolves to the other region, which it cannot reach.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.addons.base import ClusterContext, identity_requests
from components.addons.catalog import ADDONS
from components.aws.addon_identity import AddOnIdentities, AddOnIdentitiesArgs
from components.aws.aurora import AuroraGlobalDatabase, AuroraGlobalDatabaseArgs, AuroraRegion
from components.aws.backup import AuroraBackup, AuroraBackupArgs, BackupRegion
from components.aws.bucket import ReplicaRegion, VersionedBucket, VersionedBucketArgs
from components.aws.dns import FailoverDns, FailoverDnsArgs, RegionEndpoint
from components.aws.edge import RegionalEdge, RegionalEdgeArgs
from components.aws.eks import EksCluster, EksClusterArgs
from components.aws.karpenter import KarpenterInfra, KarpenterInfraArgs
from components.aws.network import Network, NetworkArgs
from components.aws.redis import RedisReplicationGroup, RedisReplicationGroupArgs
from components.aws.runner import DeployRunner, DeployRunnerArgs
from components.aws.zone import PublicZone, PublicZoneArgs, public_zone
from components.base import Protection, standard_tags
from components.k8s.orchestrator import EdgeTarget, edge_target
from hastack.config.model import StackConfig, recovery_document

TYPE_TOKEN = "hastack:aws:Platform"


@dataclasses.dataclass
class _Region:
    """Everything the platform built in one region."""

    name: str
    provider: aws.Provider
    network: Network
    cluster: EksCluster
    cache: RedisReplicationGroup | None = None
    runner: DeployRunner | None = None
    # The cloud side of the cluster add-ons (their releases are the workloads stack's).
    karpenter: KarpenterInfra | None = None
    identities: AddOnIdentities | None = None
    edge: RegionalEdge | None = None


class AwsPlatform(pulumi.ComponentResource):
    """One environment on AWS: networks, clusters, data layer, DNS and the orchestrator."""

    outputs: dict[str, Any]

    def __init__(self, name: str, config: StackConfig,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # Targets and region roles ride on the root component so that the plan and the
        # policy pack (which see resources, not the stack file) can assess recovery.
        recovery = {"hastackRecovery": recovery_document(config)}
        super().__init__(TYPE_TOKEN, name, recovery, opts)
        if config.cloud != "aws":
            raise ValueError(f"AwsPlatform needs cloud: aws, got '{config.cloud}'")
        self._name = name
        self._config = config
        self.regions = {region: self._region(region) for region in config.regions.all}
        # Before the data stores: ElastiCache takes its notification topic at creation.
        self._us_east_1 = self._us_east_1_provider()
        self.alert_topics = self._alert_topics()
        self.database = self._database() if config.database.enabled else None
        self.backup = self._backup() if self.database and config.multi_region else None
        for region in self.regions.values():
            region.cache = self._cache(region) if config.cache.enabled else None
        self.bucket = self._bucket() if config.artifacts.enabled else None
        for region in self.regions.values():
            self._addon_infrastructure(region)
        # The edge serves the orchestrator: with workflows off there is nothing to serve.
        self.zone = self._zone() if config.workflows.enabled else None
        if self.zone is not None:
            for region in self.regions.values():
                region.edge = self._edge(region, self.zone)
        self._control_checks: Any = None
        self.dns = self._dns(self.zone) if self.zone is not None else None
        try:
            self.alarms = self._alarms()
            self.region_switch = self._region_switch()
        finally:
            # Never leave the records waiting on a plan that is not coming: an error
            # must end the run, not hang it.
            self._resolve_control_checks(pulumi.Output.from_input({}))
        self.drills = self._drills() if config.drills.enabled else None
        self.outputs = self._outputs()
        # Also as an output: a component's state keeps its registered outputs.
        self.register_outputs({**self.outputs, **recovery})

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
        built = _Region(region, provider, network, cluster)
        built.runner = self._runner(built)
        return built

    def _runner(self, region: _Region) -> DeployRunner | None:
        """A private API needs a deploy path inside this region's VPC."""
        config = self._config
        deploy = config.deploy
        if config.kubernetes.api_access != "private" or deploy.runner != "codebuild":
            return None
        assert deploy.github_repository and deploy.code_connection_arn  # validated
        return DeployRunner(
            f"{self._name}-{region.name}-runner",
            DeployRunnerArgs(
                name=self._name, region=region.name, tier=config.tier,
                vpc_id=region.network.vpc_id, subnet_ids=region.network.private_subnet_ids,
                github_repository=deploy.github_repository,
                code_connection_arn=deploy.code_connection_arn,
                cluster_name=region.cluster.cluster_name, cluster_arn=region.cluster.cluster_arn,
                tags=dict(config.tags)),
            provider=region.provider, opts=pulumi.ResourceOptions(parent=self))

    def _addon_infrastructure(self, region: _Region) -> None:
        """Karpenter's queue/node role/policies and the add-ons' IRSA roles, per cluster.

        The workloads stack installs the add-ons and learns these through the
        `workloads` output (`addons` per region).
        """
        config = self._config
        cluster_name = f"{self._name}-{region.name}"  # EksClusterArgs.cluster_name
        options = pulumi.ResourceOptions(parent=self)
        region.karpenter = KarpenterInfra(
            f"{cluster_name}-karpenter-infra",
            KarpenterInfraArgs(name=self._name, tier=config.tier, region=region.name,
                               cluster_name=cluster_name, tags=dict(config.tags)),
            cluster=region.cluster, provider=region.provider, opts=options)
        # What the add-ons ask for depends only on cloud, tier, region and switches.
        ctx = ClusterContext(cloud="aws", tier=config.tier, region=region.name,
                             cluster_name=cluster_name,
                             kubernetes_version=config.kubernetes.version,
                             zones=config.zones_of(region.name), kubernetes_provider=None,
                             settings=self._identity_settings(region.name))
        region.identities = AddOnIdentities(
            f"{cluster_name}-addon-identities",
            AddOnIdentitiesArgs(
                tier=config.tier, cluster_name=cluster_name,
                oidc_provider_arn=region.cluster.oidc_provider_arn,
                oidc_issuer=region.cluster.oidc_issuer,
                requests=identity_requests(ADDONS, ctx),
                extra_policy_arns={"karpenter": region.karpenter.controller_policy_arns},
                tags=dict(config.tags)),
            provider=region.provider, opts=options)

    def _identity_settings(self, region: str) -> dict[str, Any]:
        """What the add-ons' identity requests read: Alertmanager's topic and its key."""
        from components.observability.from_config import monitoring_profile

        config = self._config
        role: Literal["primary", "standby"] = (
            "primary" if region == config.active else "standby")
        return {"monitoringEnabled": config.monitoring.enabled,
                "monitoring": monitoring_profile(
                    config, role, alert_topic_arn=self.alert_topics.topic_arns[region],
                    alert_topic_key_arn=self.alert_topics.key_arns[region])}

    def _aurora_region(self, region: _Region) -> AuroraRegion:
        # Zones: the network's names for its pinned AZ IDs (read from its subnets).
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

    def _backup(self) -> AuroraBackup:
        """Recovery points of the writer's cluster, copied to the other region.

        Follows `activeRegion`: after a failover the plan backs up the promoted
        cluster and copies into the old region's vault (vaults are keyed by region
        and stay; the plan, selection and role move, they hold no data).
        """
        assert self.database is not None
        primary = self.regions[self._config.active]
        standby = self._config.standby
        assert standby is not None
        secondary = self.regions[standby]
        return AuroraBackup(f"{self._name}-aurora-backup", AuroraBackupArgs(
            tier=self._config.tier,
            primary=BackupRegion(primary.provider, primary.name),
            secondary=BackupRegion(secondary.provider, secondary.name),
            cluster_arn=self.database.regions[primary.name].cluster.arn,
            retention_days=self._config.database.backup_retention_days,
            tags=dict(self._config.tags)), pulumi.ResourceOptions(parent=self))

    def _cache(self, region: _Region) -> RedisReplicationGroup:
        args = RedisReplicationGroupArgs.from_config(
            self._config, provider=region.provider, region=region.name,
            vpc_id=region.network.vpc_id, subnet_ids=region.network.database_subnet_ids,
            allowed_cidrs=[region.network.cidr], zones=region.network.azs)
        # ElastiCache sends failover/replacement events to the region's alert topic.
        args = dataclasses.replace(
            args, notification_topic_arn=self.alert_topics.topic_arns[region.name])
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

    # ------------------------------------------------------------ what the workloads stacks get

    def _database_for(self, region: str) -> dict[str, Any] | None:
        """Where this region's orchestrator finds PostgreSQL (see the module docstring)."""
        if self.database is None:
            return None
        endpoint = self.database.database_endpoint
        # Both regions use the global writer endpoint: it follows a switchover or
        # failover, so the pods an ARC execution scales up in the new active region
        # write at once, and nothing ever points at the secondary's inactive writer.
        # Before promotion it resolves to the other region, which a standby cannot
        # reach (no cross-region connectivity): the standby runs no pod that connects
        # (components/k8s/argo.py and prefect.py `_standby_overrides`, "global-writer").
        return {"host": endpoint.host, "port": endpoint.port, "name": endpoint.database,
                "username": endpoint.username, "sslMode": endpoint.ssl_mode}

    def _artifacts_for(self, region: str) -> dict[str, Any] | None:
        """Each region reads and writes its own region's copy of the bucket."""
        if self.bucket is None:
            return None
        bucket, key = self.bucket.bucket_name, self.bucket.kms_key_arn
        if region != self._config.regions.primary and self.bucket.replica_bucket_name:
            bucket = self.bucket.replica_bucket_name
            key = self.bucket.replica_kms_key_arn or key
        return {"bucket": bucket, "kmsKeyArn": key}

    def _workloads_contract(self) -> dict[str, Any]:
        """Plain facts per region for the workloads stacks (no secrets in here)."""
        config = self._config
        regions: dict[str, Any] = {}
        for name, region in self.regions.items():
            cache = region.cache.cache_endpoint if region.cache else None
            regions[name] = {
                "role": config.role_of(name),
                "clusterName": region.cluster.cluster_name,
                "vpcId": region.network.vpc_id,
                "zones": region.network.azs,
                "zoneIds": region.network.zone_ids,
                "oidcProviderArn": region.cluster.oidc_provider_arn,
                "oidcIssuer": region.cluster.oidc_issuer,
                "nodeSecurityGroupId": region.cluster.cluster_security_group_id,
                "database": self._database_for(name),
                "cache": None if cache is None else {"host": cache.host, "port": cache.port,
                                                     "tls": cache.tls},
                "artifacts": self._artifacts_for(name),
                "privateSubnetIds": region.network.private_subnet_ids,
                "addons": self._addons_contract(region),
                "edge": None if region.edge is None else {
                    "targetGroupArn": region.edge.target_group_arn,
                    "healthPath": self._edge_target.health_path,
                    "regionalHostname": region.edge.regional_fqdn},
                # Alertmanager's SNS receiver in the workloads stack (with its IRSA role).
                "alertTopicArn": self.alert_topics.topic_arns[name],
                "alertTopicKeyArn": self.alert_topics.key_arns[name],
            }
        return {"environment": self._name.removeprefix("hastack-"), "cloud": "aws",
                "tier": config.tier, "activeRegion": config.active,
                "publicHostname": f"{config.dns.hostname}.{config.dns.domain}",
                "regions": regions}

    @staticmethod
    def _addons_contract(region: _Region) -> dict[str, Any]:
        assert region.karpenter is not None and region.identities is not None
        return {"roleArns": dict(region.identities.role_arns),
                "karpenterInterruptionQueue": region.karpenter.queue_name,
                "karpenterNodeRole": region.karpenter.node_role_name}

    def _workloads_secrets(self) -> pulumi.Output[Any]:
        """Kubeconfigs and credentials per region, exported as one Pulumi secret."""
        from components.k8s.credentials import app_credentials, credential_secrets

        # The orchestrator's own credentials, once for both regions (its database role
        # replicates with the database; users keep one API password across a failover).
        app = (app_credentials(self._name, self._config.orchestrator, self,
                               database_rotation=self._config.database.credentials_rotation)
               if self._config.workflows.enabled and self.database is not None else None)
        if app is not None:
            self.credential_store = self._store_credentials(app)
        secrets: dict[str, Any] = {}
        for name, region in self.regions.items():
            entry: dict[str, Any] = {"kubeconfig": region.cluster.kubeconfig}
            if app is not None:
                entry.update(credential_secrets(app))
            if self.database is not None:
                entry["databasePassword"] = self.database.database_endpoint.password
            if region.cache is not None:
                entry["cacheAuthToken"] = region.cache.cache_endpoint.auth_token
            secrets[name] = entry
        return pulumi.Output.secret(secrets)

    def _store_credentials(self, app: Any) -> Any:
        """The orchestrator's credentials in Secrets Manager, replicated to the other region."""
        from components.aws.secrets import OrchestratorSecrets, OrchestratorSecretsArgs
        from components.k8s.credentials import stored_entries

        config = self._config
        return OrchestratorSecrets(f"{self._name}-orchestrator-secrets", OrchestratorSecretsArgs(
            tier=config.tier, primary_region=config.regions.primary,
            regions={r: reg.provider for r, reg in self.regions.items()},
            entries=stored_entries(config.orchestrator, app),
            protection=Protection.requested(config.protect_stateful_resources,
                                            config.deletion_protection),
            tags=dict(config.tags)), pulumi.ResourceOptions(parent=self))

    # ------------------------------------------------------------ edge and DNS

    @property
    def _edge_target(self) -> EdgeTarget:
        return edge_target(self._config.orchestrator, self._config.dns.health_check_path)

    def _zone(self) -> PublicZone:
        from hastack.program import stack_file_display

        config = self._config
        return public_zone(f"{self._name}-zone", PublicZoneArgs(
            tier=config.tier, domain=config.dns.domain, zone_id=config.dns.zone_id,
            create=config.dns.create_zone,
            protection=Protection.for_tier(config.tier, config.deletion_protection),
            settings_key=f"{stack_file_display(pulumi.get_stack())} hastack:dns",
            provider=self.regions[config.regions.primary].provider, tags=dict(config.tags),
        ), parent=self)

    def _edge(self, region: _Region, zone: PublicZone) -> RegionalEdge:
        config = self._config
        target = self._edge_target
        return RegionalEdge(f"{self._name}-{region.name}-edge", RegionalEdgeArgs(
            name=self._name, tier=config.tier, region=region.name,
            domain=config.dns.domain, hostname=config.dns.hostname, zone_id=zone.zone_id,
            vpc_id=region.network.vpc_id, public_subnet_ids=region.network.public_subnet_ids,
            # Managed node groups without a custom security group carry the cluster's.
            node_security_group_id=region.cluster.cluster_security_group_id,
            target_port=target.port, health_path=target.health_path,
            # ACM's validation record for the shared name is the same in every region:
            # the primary region (which never changes) owns it.
            owns_shared_validation=region.name == config.regions.primary,
            protection=Protection.for_tier(config.tier, config.deletion_protection),
            provider=region.provider, tags=dict(config.tags),
        ), pulumi.ResourceOptions(parent=self))

    def _dns(self, zone: PublicZone) -> FailoverDns:
        # The failover pair follows the *active* region; records are keyed by region.
        config = self._config
        endpoints = [
            RegionEndpoint(
                region=name, alias_name=region.edge.dns_name,
                alias_zone_id=region.edge.canonical_zone_id,
                # The standby is warm (pods at zero, empty target group): its record
                # carries no health check, so DNS flips as soon as the active fails.
                evaluate_health=name == config.active)
            for name, region in self.regions.items() if region.edge is not None]
        args = FailoverDnsArgs(
            tier=config.tier, domain=config.dns.domain, hostname=config.dns.hostname,
            zone_id=zone.zone_id, endpoints=endpoints, active_region=config.active,
            health_check_path=self._edge_target.health_path,
            provider=self.regions[config.regions.primary].provider,
            tags=dict(config.tags),
            control_health_checks=self._deferred_control_checks(),
        )
        return FailoverDns(f"{self._name}-dns", args, pulumi.ResourceOptions(parent=self))

    # ------------------------------------------------------------ Region switch

    def _arc_planned(self) -> bool:
        """A two-region environment with the database and the orchestrator's edge."""
        config = self._config
        return (config.multi_region and config.database.enabled and config.workflows.enabled
                and config.recovery.region_failure is not None)

    def _deferred_control_checks(self) -> Any:
        # The records need ARC's health-check IDs, the plan needs the alarms, the alarms
        # need the records' endpoint checks: resolved once the plan exists.
        if not self._arc_planned():
            return None
        control, self._control_checks = pulumi.deferred_output()
        return control

    def _region_switch(self) -> Any:
        config = self._config
        if not self._arc_planned() or self.database is None or self.dns is None:
            return None
        assert config.recovery.region_failure is not None and self.zone is not None
        identifier = f"{self._name}-aurora"  # AuroraGlobalDatabase: its name is the ID
        alarm_names = {f"{self._name}-alarms-{r}-health-check": r for r in self.regions}
        health_alarms = {alarm_names[a._name]: a.arn for a in self.alarms.alarms
                         if a._name in alarm_names}
        plan = self._region_switch_plan(identifier, health_alarms)
        self._resolve_control_checks(plan.health_check_ids)
        return plan

    def _resolve_control_checks(self, checks: pulumi.Output[Any]) -> None:
        if self._control_checks is not None:
            resolve, self._control_checks = self._control_checks, None
            resolve(checks)

    def _region_switch_plan(self, identifier: str, health_alarms: dict[str, Any]) -> Any:
        from components.aws.region_switch import (
            PlanRegion,
            RegionSwitchPlan,
            RegionSwitchPlanArgs,
            orchestrator_workload,
        )

        config = self._config
        assert self.database is not None and self.dns is not None and self.zone is not None
        assert config.recovery.region_failure is not None
        return RegionSwitchPlan(f"{self._name}-region-switch", RegionSwitchPlanArgs(
            name=self._name, tier=config.tier, primary_region=config.regions.primary,
            regions=[PlanRegion(
                region=name, database_cluster_arn=self.database.regions[name].cluster.arn,
                eks_cluster_arn=region.cluster.cluster_arn,
                eks_cluster_name=region.cluster.cluster_name, provider=region.provider)
                for name, region in self.regions.items()],
            global_cluster_identifier=identifier,
            # The ARN shape the ARC Aurora sample policy uses (global clusters are regionless).
            global_cluster_arn=self._account_id().apply(
                lambda account: f"arn:aws:rds::{account}:global-cluster:{identifier}"),
            workload=orchestrator_workload(
                config.orchestrator, {name: config.role_of(name) for name in self.regions}),
            hosted_zone_id=self.zone.zone_id, record_name=self.dns.fqdn,
            rto_seconds=config.recovery.region_failure.rto_seconds,
            health_alarm_arns=health_alarms,
            provider=self.regions[config.regions.primary].provider, tags=dict(config.tags),
        ), pulumi.ResourceOptions(parent=self))

    # ------------------------------------------------------------ alarms

    def _account_id(self) -> pulumi.Output[str]:
        primary = self.regions[self._config.regions.primary]
        return aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=primary.provider)).account_id

    def _us_east_1_provider(self) -> aws.Provider | None:
        """Route 53 health-check metrics exist only in us-east-1.

        Every region's edge has a health check when workflows are on (a one-region
        stack too), so their alarms need a provider there.
        """
        if "us-east-1" in self.regions or not self._config.workflows.enabled:
            return None
        return aws.Provider(f"{self._name}-us-east-1-alarms", region="us-east-1",
                            opts=pulumi.ResourceOptions(parent=self))

    def _alert_topics(self) -> Any:
        from components.aws.alarms import ROUTE53_METRICS_REGION, AlertTopics, AlertTopicsArgs

        config = self._config
        providers: dict[str, pulumi.ProviderResource] = {
            r: reg.provider for r, reg in self.regions.items()}
        if self._us_east_1 is not None:
            providers[ROUTE53_METRICS_REGION] = self._us_east_1
        emails, endpoints = tuple(config.alerts.emails), tuple(config.alerts.https_endpoints)
        if not emails and not endpoints:
            pulumi.log.warn("alerts.emails and alerts.httpsEndpoints are empty: alarms "
                            "publish to their topics, but nobody is subscribed")
        return AlertTopics(f"{self._name}-alerts", AlertTopicsArgs(
            tier=config.tier, account_id=self._account_id(), partition="aws",
            providers=providers, emails=emails, https_endpoints=endpoints,
            # Prod keys are protected like every key (stateful-resources-protected).
            protection=Protection(protect=config.protect_stateful_resources,
                                  retain_on_delete=config.protect_stateful_resources,
                                  deletion_protection=config.deletion_protection),
            tags=dict(config.tags)), pulumi.ResourceOptions(parent=self))

    def _alarms(self) -> Any:
        from components.aws.alarms import (
            Alarms,
            AlarmsArgs,
            BucketReplication,
            LoadBalancer,
            RegionWatch,
        )
        from components.aws.bucket import REPLICATION_RULE_ID
        from components.observability.from_config import thresholds

        config = self._config
        primary = self.regions[config.regions.primary]
        watches = []
        for region in self.regions.values():
            cluster = self.database.regions.get(region.name) if self.database else None
            watches.append(RegionWatch(
                region=region.name, provider=region.provider,
                database_cluster_id=cluster.identifier if cluster else None,
                # Both clusters: after a failover the other one is the secondary, and
                # the metric is only published for a secondary (no redeploy needed).
                global_secondary=cluster is not None and config.multi_region,
                cache_node_ids=tuple(region.cache.node_ids) if region.cache else (),
                load_balancer=None if region.edge is None else LoadBalancer(
                    arn_suffix=region.edge.alb_arn_suffix,
                    target_group_arn_suffix=region.edge.target_group_arn_suffix)))
        bucket = None
        if self.bucket is not None and self.bucket.replica_bucket_name is not None:
            bucket = BucketReplication(
                source_bucket=self.bucket.bucket_name,
                destination_bucket=self.bucket.replica_bucket_name,
                rule_id=REPLICATION_RULE_ID, region=primary.name)
        return Alarms(f"{self._name}-alarms", AlarmsArgs(
            tier=config.tier, account_id=self._account_id(), partition="aws",
            regions=watches, thresholds=thresholds(config),
            topics=self.alert_topics.topic_arns,
            health_checks=dict(self.dns.health_check_ids) if self.dns else {},
            us_east_1_provider=self._us_east_1, bucket=bucket, tags=dict(config.tags)),
            pulumi.ResourceOptions(parent=self))

    # ------------------------------------------------------------ drills

    def _drills(self) -> Any:
        """FIS experiment templates per region (components/aws/fis.py, `hastack drill`)."""
        from components.aws.fis import DrillRegion, DrillTemplates, DrillTemplatesArgs

        config = self._config
        drill_regions = []
        for name, region in self.regions.items():
            cluster = self.database.regions.get(name) if self.database else None
            prefix = f"{self._name}-alarms-{name}"  # how Alarms names a region's alarms
            stops = [self.alarms.arns[alarm] for alarm in (
                f"{prefix}-alb-5xx", f"{prefix}-aurora-replica-lag") if alarm in self.alarms.arns]
            network = region.network
            subnets = pulumi.Output.all(network.public_subnet_ids, network.private_subnet_ids,
                                        network.database_subnet_ids).apply(_zone_subnets)
            assert region.identities is not None
            karpenter = region.identities.role_arns.get("karpenter")
            drill_regions.append(DrillRegion(
                region=name, provider=region.provider,
                cluster_name=region.cluster.cluster_name, cluster_arn=region.cluster.cluster_arn,
                zone=network.azs[0], zone_subnet_ids=subnets, stop_alarm_arns=stops,
                node_group_arn=next(iter(region.cluster.node_group_arns.values()), None),
                database_cluster_arn=cluster.cluster.arn if cluster else None,
                cache_group_arn=None if region.cache is None else pulumi.Output.concat(
                    f"arn:aws:elasticache:{name}:", self._account_id(), ":replicationgroup:",
                    region.cache.replication_group_id),
                launch_role_arns=(karpenter,) if karpenter is not None else (),
                # Both registered for ARC zonal shift outside dev (eks.py, edge.py).
                zonal_shift=config.tier != "dev",
                load_balancer_arns=(region.edge.alb_arn,) if region.edge else (),
                vpc_id=network.vpc_id))
        return DrillTemplates(f"{self._name}-drills", DrillTemplatesArgs(
            name=self._name, tier=config.tier, partition="aws",
            account_id=self._account_id(), regions=drill_regions,
            protection=Protection(protect=config.protect_stateful_resources,
                                  retain_on_delete=config.protect_stateful_resources,
                                  deletion_protection=config.deletion_protection),
            tags=dict(config.tags)), pulumi.ResourceOptions(parent=self))

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
        if self._config.workflows.enabled:
            outputs["orchestratorUrl"] = (
                f"https://{self._config.dns.hostname}.{self._config.dns.domain}")
        edges = {r: reg.edge for r, reg in self.regions.items() if reg.edge}
        if edges:
            outputs["edgeDnsNames"] = {r: e.dns_name for r, e in edges.items()}
            outputs["edgeTargetGroupArns"] = {r: e.target_group_arn for r, e in edges.items()}
            outputs["edgeRegionalUrls"] = {r: f"https://{e.regional_fqdn}"
                                           for r, e in edges.items()}
        if self.zone is not None and self.zone.name_servers is not None:
            outputs["dnsNameServers"] = self.zone.name_servers
        runners = {r: reg.runner.label for r, reg in self.regions.items() if reg.runner}
        if runners:
            # What each region's workloads job puts in `runs-on`.
            outputs["deployRunners"] = runners
        outputs["addonRoleArns"] = {
            r: dict(reg.identities.role_arns) for r, reg in self.regions.items() if reg.identities}
        outputs["karpenterInterruptionQueues"] = {
            r: reg.karpenter.queue_name for r, reg in self.regions.items() if reg.karpenter}
        outputs["karpenterNodeRoles"] = {
            r: reg.karpenter.node_role_name for r, reg in self.regions.items() if reg.karpenter}
        outputs["alertTopicArns"] = self.alert_topics.topic_arns
        if self.drills is not None:
            # {scenario: {region: FIS experiment template ID}}: what `hastack drill` starts.
            outputs["drillTemplates"] = self.drills.template_ids
        if self.region_switch is not None:
            # `hastack failover` / `hastack drill` start executions of this plan.
            outputs["regionSwitchPlanArn"] = self.region_switch.plan_arn
        outputs["activeRegion"] = self._config.active
        outputs["workloads"] = self._workloads_contract()
        outputs["workloadsSecrets"] = self._workloads_secrets()
        store = getattr(self, "credential_store", None)
        if store is not None:
            outputs["orchestratorSecretArn"] = store.secret_arn
        return outputs



def _zone_subnets(tiers: list[list[str]]) -> list[str]:
    """The public, private and database subnets of the first pinned zone (the zone drill's)."""
    return [ids[0] for ids in tiers]
