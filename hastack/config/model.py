"""The typed stack configuration.

A stack file's `hastack:*` keys, merged over the tier defaults (`tiers.py`), are
validated into `StackConfig`. Field names are snake_case in Python and camelCase
in the stack file, like every Pulumi config key. Unknown keys are errors: a typo
in a stack file must never silently fall back to a default.

Rules that involve several fields (prod needs a secondary region, a secondary
region differs from the primary, a region has enough zones) live in
`validate_semantics`, which returns every problem instead of stopping at the first.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from hastack.config.namespaces import did_you_mean
from hastack.config.regions import AWS_AZ_ID, REGION_ZONES, known_zone_ids
from hastack.config.tiers import profile
from hastack.config.versions import (
    cache_problem,
    kubernetes_problem,
    postgresql_problem,
    tier_edition_problem,
)

# A rotation label such as "2026-12" or "r7": any change triggers a new credential.
ROTATION_LABEL = r"^[A-Za-z0-9._-]{1,32}$"
Cloud = Literal["aws", "gcp"]
Layer = Literal["infrastructure", "workloads"]
Tier = Literal["dev", "staging", "prod"]
Orchestrator = Literal["prefect", "argo"]

PositiveSeconds = Annotated[int, Field(ge=1, le=7 * 24 * 3600)]
HOSTNAME_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
K8S_VERSION = re.compile(r"^1\.\d{2}$")
ENGINE_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


class _Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
    )


class Regions(_Section):
    primary: str
    secondary: str | None = None

    @property
    def all(self) -> list[str]:
        return [self.primary] + ([self.secondary] if self.secondary else [])


class NetworkSettings(_Section):
    primary_cidr: str
    secondary_cidr: str
    # "per-zone": one NAT gateway per AZ (a zone outage keeps egress elsewhere).
    # "single": one NAT gateway for the VPC (dev only: cheaper, not zone-redundant).
    nat_gateways: Literal["per-zone", "single"]
    flow_log_retention_days: Annotated[int, Field(ge=1, le=3653)]

    @field_validator("primary_cidr", "secondary_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True)
        if not network.is_private or network.version != 4:
            raise ValueError("must be a private IPv4 CIDR such as 10.10.0.0/16")
        if not 16 <= network.prefixlen <= 20:
            raise ValueError("prefix length must be between /16 and /20 to fit the subnets")
        return value


class GpuSettings(_Section):
    """GPU capacity for model steps: off by default, scales to zero when on."""

    enabled: bool
    # AWS: an EC2 GPU instance type (g6.xlarge); GCP: a GCE machine type (g2-standard-4).
    instance_type: str
    # GCP only: the accelerator attached to each node (e.g. nvidia-l4).
    accelerator_type: str | None = None
    gpus_per_node: Annotated[int, Field(ge=1, le=16)]
    # Most GPU nodes at once (cost ceiling); the minimum is always zero.
    max_nodes: Annotated[int, Field(ge=1, le=100)]


class KubernetesSettings(_Section):
    version: str
    node_instance_type: str
    nodes_min: Annotated[int, Field(ge=1, le=100)]
    nodes_max: Annotated[int, Field(ge=1, le=1000)]
    # Who can reach the Kubernetes API. "private": only from inside the region's VPC
    # (EKS) or through GKE's DNS-based endpoint with IAM; the workloads stacks are then
    # deployed from a runner that can reach it (see `deploy`). "allowlist": the public
    # endpoint, limited to `apiAllowlist` (never 0.0.0.0/0 in prod).
    api_access: Literal["private", "allowlist"]
    api_allowlist: list[str]
    log_retention_days: Annotated[int, Field(ge=1, le=3653)]
    # Leave node-group scaling to an autoscaler (Cluster Autoscaler, Karpenter) so
    # that `pulumi up` does not fight it.
    ignore_scaling_changes: bool
    # AWS: IAM roles granted cluster-admin through EKS access entries. The cluster
    # creator gets no implicit admin, so the deploying role must be listed here.
    admin_role_arns: list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")]]
    # AWS: role the kubeconfig (and so the Kubernetes provider) assumes; one of
    # adminRoleArns, and one the deploying identity may assume (IAM no longer lets a
    # role assume itself implicitly). Unset: the deploying identity is used as it is.
    kubeconfig_role_arn: str | None = None
    gpu: GpuSettings

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not K8S_VERSION.match(value):
            raise ValueError("must be a Kubernetes minor version such as '1.35'")
        return value

    @field_validator("api_allowlist")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=True)
        return value


class DatabaseSettings(_Section):
    enabled: bool
    engine_version: str
    instance_class: str
    instances_per_region: Annotated[int, Field(ge=1, le=15)]
    secondary_instances: Annotated[int, Field(ge=0, le=15)]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    master_username: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
    # Changing this label rotates the generated master password at the next
    # `pulumi up` (unset: the password of the first deployment is kept).
    credentials_rotation: Annotated[str | None, Field(pattern=ROTATION_LABEL)] = None
    # GCP only: the Cloud SQL edition. ENTERPRISE_PLUS with a secondary region builds
    # an Advanced DR pair (switchover and failback); the tier defaults set it per tier.
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] | None = None

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        if not ENGINE_VERSION.match(value):
            raise ValueError("must be a PostgreSQL version such as '17.7'")
        return value


class CacheSettings(_Section):
    enabled: bool
    engine: Literal["redis", "valkey"]
    engine_version: str
    node_type: str
    nodes_per_region: Annotated[int, Field(ge=1, le=6)]
    snapshot_retention_days: Annotated[int, Field(ge=0, le=35)]
    # Changing this label rotates the AUTH token at the next `pulumi up`.
    credentials_rotation: Annotated[str | None, Field(pattern=ROTATION_LABEL)] = None


class ArtifactSettings(_Section):
    enabled: bool
    noncurrent_version_days: Annotated[int, Field(ge=1, le=3650)]
    # Copy objects to the secondary region (needs regions.secondary).
    replicate: bool


class WorkflowSettings(_Section):
    enabled: bool
    server_replicas: Annotated[int, Field(ge=1, le=20)]
    worker_replicas: Annotated[int, Field(ge=1, le=50)]
    # The workers' HPA may scale up to this many (>= workerReplicas, its minimum).
    worker_max_replicas: Annotated[int, Field(ge=1, le=100)]
    controller_replicas: Annotated[int, Field(ge=1, le=5)]
    work_pool: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class DnsSettings(_Section):
    domain: str
    # Hosted zone ID (Route 53) or managed zone name (Cloud DNS); looked up by domain when absent.
    zone_id: str | None = None
    # Create the public zone in this stack (then delegate to its name servers, an output).
    create_zone: bool = False
    hostname: str
    health_check_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")]
    provider: Literal["route53", "cloud-dns"] | None = None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not DOMAIN.match(value):
            raise ValueError("must be a lower-case DNS domain such as 'example.com'")
        return value

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if not HOSTNAME_LABEL.match(value):
            raise ValueError("must be a single lower-case DNS label such as 'workflows'")
        return value


class RecoveryTarget(_Section):
    rto_seconds: PositiveSeconds
    rpo_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)]


class RecoveryTargets(_Section):
    zone_failure: RecoveryTarget
    region_failure: RecoveryTarget | None = None


EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$"


class AlertSettings(_Section):
    """Who is told, and how sensitive the alarms are (tier defaults in tiers.py)."""

    # Subscribed to every region's alert topic (AWS SNS) / notification channels (GCP).
    emails: list[Annotated[str, Field(pattern=EMAIL)]]
    # HTTPS webhooks (a pager, a chat bridge); plain http is refused: alerts name resources.
    https_endpoints: list[Annotated[str, Field(pattern=r"^https://[^\s]+$")]]
    # An RPO alarm fires at this share of the RPO target: headroom to act before it is missed.
    rpo_alarm_fraction: Annotated[float, Field(gt=0, le=1)]
    # An outage must be detected within this share of the RTO target.
    detection_fraction: Annotated[float, Field(gt=0, le=1)]
    # Load balancer 5xx responses per minute that count as an incident.
    load_balancer_errors_per_minute: Annotated[int, Field(ge=1)]
    # Container restarts per hour that count as a restart loop.
    pod_restarts_per_hour: Annotated[int, Field(ge=1)]
    # Share of finished workflow runs that failed, over an hour, that pages.
    workflow_failure_ratio: Annotated[float, Field(gt=0, le=1)]
    # Minutes a PodDisruptionBudget may allow zero disruptions before it is an alert.
    pdb_blocked_minutes: Annotated[int, Field(ge=5, le=1440)]


class MonitoringSettings(_Section):
    """The in-cluster metrics stack (kube-prometheus-stack) of every cluster."""

    enabled: bool
    prometheus_replicas: Annotated[int, Field(ge=1, le=5)]
    alertmanager_replicas: Annotated[int, Field(ge=1, le=5)]
    retention_days: Annotated[int, Field(ge=1, le=365)]
    storage_gi: Annotated[int, Field(ge=5, le=4096)]


class DrillSettings(_Section):
    """Chaos drills the infrastructure stack prepares (AWS: FIS experiment templates).

    A template costs nothing until it runs; its log group and key cost a little, so
    dev leaves them out by default (tiers.py) and staging/prod have them.
    """

    enabled: bool


class GcpSettings(_Section):
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]


def credentials_revision(config: StackConfig) -> str | None:
    """What the orchestrator pods are stamped with: the rotation labels in use."""
    labels = [f"{name}={label}" for name, label in (
        ("database", config.database.credentials_rotation),
        ("cache", config.cache.credentials_rotation)) if label]
    return ",".join(labels) or None


class DeploySettings(_Section):
    """Where the workloads stacks of a private cluster are deployed from."""

    # "codebuild": the infrastructure stack creates an AWS CodeBuild project in each
    # region's VPC that serves GitHub Actions jobs as a self-hosted runner; "external":
    # bring your own runner with a network path to the API (a VPN, a runner in the VPC).
    runner: Literal["codebuild", "external"]
    # owner/name of the GitHub repository whose workflow jobs the runner serves.
    github_repository: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")] | None = None
    # AWS CodeConnections (CodeStar) connection to GitHub, authorised once in the console.
    code_connection_arn: Annotated[
        str, Field(pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):"
                           r"[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+$")] | None = None


class StackConfig(_Section):
    """One environment's infrastructure stack, fully resolved (tier defaults applied)."""

    layer: Literal["infrastructure"] = "infrastructure"
    cloud: Cloud
    tier: Tier
    regions: Regions
    # The one key a failover changes: which region serves and writes. Defaults to the
    # primary; regions.primary/secondary describe what is built and never change.
    active_region: str | None = None
    zone_count: Annotated[int, Field(ge=2, le=6)]
    # Zones per region, pinned: AZ IDs on AWS (use1-az1), zone names on GCP. The
    # loader fills a region the file does not pin from the regions table.
    zones: dict[str, list[str]] = Field(default_factory=dict)
    orchestrator: Orchestrator
    network: NetworkSettings
    kubernetes: KubernetesSettings
    database: DatabaseSettings
    cache: CacheSettings
    artifacts: ArtifactSettings
    workflows: WorkflowSettings
    dns: DnsSettings
    recovery: RecoveryTargets
    alerts: AlertSettings
    monitoring: MonitoringSettings
    drills: DrillSettings
    protect_stateful_resources: bool
    deletion_protection: bool
    tags: dict[str, str]
    deploy: DeploySettings
    gcp: GcpSettings | None = None

    @property
    def multi_region(self) -> bool:
        return self.regions.secondary is not None

    @property
    def active(self) -> str:
        """The region that serves traffic and holds the database writer."""
        return self.active_region or self.regions.primary

    @property
    def standby(self) -> str | None:
        return next((r for r in self.regions.all if r != self.active), None)

    def role_of(self, region: str) -> Literal["active", "standby"]:
        return "active" if region == self.active else "standby"

    def zones_of(self, region: str) -> list[str]:
        return list(self.zones.get(region, []))

    @property
    def dns_provider(self) -> str:
        if self.dns.provider:
            return self.dns.provider
        return "route53" if self.cloud == "aws" else "cloud-dns"


Problem = tuple[str, str]  # (key path in stack-file spelling, message)


def validate_semantics(config: StackConfig) -> list[Problem]:
    """Cross-field rules. Every problem is returned, none raised."""
    problems: list[Problem] = []
    zones = REGION_ZONES[config.cloud]
    allowed = ", ".join(sorted(zones))
    for field, region in (("primary", config.regions.primary),
                          ("secondary", config.regions.secondary)):
        if region is None:
            continue
        if region not in zones:
            hint = did_you_mean(region, zones)
            problems.append((f"regions.{field}",
                             f"unknown {config.cloud} region '{region}'{hint}; allowed: {allowed}"))
        elif len(zones[region]) < config.zone_count:
            problems.append(("zoneCount",
                             f"{region} offers {len(zones[region])} zones, "
                             f"fewer than zoneCount={config.zone_count}"))
    problems += _placement_rules(config)
    problems += _access_rules(config)
    if config.dns.create_zone and config.dns.zone_id:
        problems.append(("dns.createZone", "createZone creates the zone, zoneId names an "
                                           "existing one; set one of them, not both"))
    problems += _tier_rules(config)
    problems += floor_rules(config)
    problems += _composition_rules(config)
    problems += _version_rules(config)
    problems += _cross_region_rules(config)
    problems += _sizing_rules(config)
    return problems


def _placement_rules(config: StackConfig) -> list[Problem]:
    """activeRegion is one of the built regions; every region pins zoneCount known zones."""
    problems: list[Problem] = []
    regions = config.regions.all
    if config.active_region is not None and config.active_region not in regions:
        problems.append(("activeRegion", f"'{config.active_region}' is not a region of this "
                                         f"environment; allowed: {', '.join(regions)}"))
    for region in sorted(set(config.zones) - set(regions)):
        problems.append((f"zones.{region}", "not a region of this environment; "
                                            f"allowed: {', '.join(regions)}"))
    what = ("AZ IDs such as use1-az1" if config.cloud == "aws"
            else "zone names such as us-central1-a")
    for region in regions:
        pinned = config.zones.get(region, [])
        key = f"zones.{region}"
        if len(pinned) != config.zone_count:
            known = known_zone_ids(config.cloud, region)
            hint = (f"pin {config.zone_count} {what}"
                    + (f" from: {', '.join(known)}" if known else ""))
            problems.append((key, f"{len(pinned)} zones pinned, zoneCount is "
                                  f"{config.zone_count}; {hint}"))
        if len(set(pinned)) != len(pinned):
            problems.append((key, "each zone may be pinned once"))
        known = known_zone_ids(config.cloud, region)
        for zone in pinned:
            if known is not None and zone not in known:
                problems.append((key, f"unknown zone '{zone}' in {region}; "
                                      f"allowed: {', '.join(known)}"))
            elif known is None and config.cloud == "aws" and not re.match(AWS_AZ_ID, zone):
                problems.append((key, f"'{zone}' is not an AZ ID such as use1-az1"))
    return problems


def _access_rules(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    k8s = config.kubernetes
    if k8s.api_access == "allowlist" and not k8s.api_allowlist:
        problems.append(("kubernetes.apiAllowlist",
                         "apiAccess: allowlist needs the CIDRs that may reach the API"))
    if any(ipaddress.ip_network(c).prefixlen == 0 for c in k8s.api_allowlist):
        problems.append(("kubernetes.apiAllowlist",
                         "never opens the Kubernetes API to the whole internet (0.0.0.0/0); "
                         "list the operator/runner CIDRs, or use apiAccess: private"))
    if k8s.api_access == "private" and k8s.api_allowlist:
        problems.append(("kubernetes.apiAllowlist",
                         "only for apiAccess: allowlist; a private endpoint has no allowlist"))
    deploy = config.deploy
    if (config.cloud == "aws" and k8s.api_access == "private"
            and deploy.runner == "codebuild"):
        for key, value in (("githubRepository", deploy.github_repository),
                           ("codeConnectionArn", deploy.code_connection_arn)):
            if value is None:
                problems.append((f"deploy.{key}",
                                 "required for deploy.runner: codebuild (the CodeBuild runner "
                                 "in each VPC deploys the workloads stacks of a private cluster)"))
    if (config.cloud == "aws" and deploy.runner == "codebuild"
            and k8s.kubeconfig_role_arn is not None):
        problems.append(("kubernetes.kubeconfigRoleArn",
                         "not with deploy.runner: codebuild; the runner authenticates as its "
                         "own role, which gets an access entry on its region's cluster"))
    if config.cloud == "gcp" and deploy.runner == "codebuild":
        problems.append(("deploy.runner", "codebuild is AWS only; on GCP the private "
                                          "cluster is reached through its DNS-based endpoint; "
                                          "allowed: external"))
    return problems


def floor_rules(config: StackConfig) -> list[Problem]:
    """Each floor of the tier profile (tiers.PROFILES), for the parts the stack builds."""
    problems: list[Problem] = []
    tier = profile(config.tier)
    for key, floor in tier.floors.items():
        if not _floor_applies(config, key, floor.multi_region_only):
            continue
        value = _value_at(config, key)
        if isinstance(value, int) and value < floor.minimum:
            upper = _upper_bound(key)
            allowed = f"{floor.minimum}..{upper}" if upper is not None else f">= {floor.minimum}"
            problems.append((key, f"{config.tier} needs >= {floor.minimum}: {floor.reason}; "
                                  f"allowed: {allowed}"))
    return problems


def _floor_applies(config: StackConfig, key: str, multi_region_only: bool) -> bool:
    if multi_region_only and not config.multi_region:
        return False
    section = key.split(".")[0]
    if section == "database":
        return config.database.enabled
    if section == "cache":
        return config.cache.enabled
    if section == "monitoring":
        return config.monitoring.enabled
    if section == "workflows":
        used = {"workflows.workerReplicas": "prefect", "workflows.controllerReplicas": "argo"}
        return config.workflows.enabled and used.get(key, config.orchestrator) == \
            config.orchestrator
    return True


def _value_at(config: StackConfig, key: str) -> object:
    node: object = config
    for part in key.split("."):
        node = getattr(node, _snake(part))
    return node


def _upper_bound(key: str) -> int | None:
    model: type[BaseModel] = StackConfig
    parts = key.split(".")
    for part in parts[:-1]:
        annotation = model.model_fields[_snake(part)].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    for meta in model.model_fields[_snake(parts[-1])].metadata:
        if getattr(meta, "le", None) is not None:
            return int(meta.le)
    return None


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _composition_rules(config: StackConfig) -> list[Problem]:
    """Combinations the components cannot build: refused here, before any registration."""
    problems: list[Problem] = []
    if config.workflows.enabled and not config.database.enabled:
        problems.append(("database.enabled",
                         f"{config.orchestrator} keeps its state in PostgreSQL; allowed: true "
                         "(or workflows.enabled: false)"))
    if (config.workflows.enabled and config.orchestrator == "prefect"
            and not config.cache.enabled):
        problems.append(("cache.enabled",
                         "Prefect with several API replicas coordinates them through Redis; "
                         "allowed: true (or orchestrator: argo)"))
    if config.cloud == "gcp":
        if config.cache.enabled and config.cache.engine != "redis":
            problems.append(("cache.engine", "Memorystore for Redis offers no "
                                             f"{config.cache.engine} on GCP; allowed: redis"))
        if config.dns.provider == "route53":
            problems.append(("dns.provider", "route53 is not supported on GCP; "
                                             "allowed: cloud-dns (the default)"))
    elif config.dns.provider == "cloud-dns":
        problems.append(("dns.provider", "cloud-dns is not supported on AWS; "
                                         "allowed: route53 (the default)"))
    return problems


def _version_rules(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    if message := kubernetes_problem(config.cloud, config.kubernetes.version):
        problems.append(("kubernetes.version", message))
    if config.database.enabled and (
            message := postgresql_problem(config.cloud, config.database.engine_version)):
        problems.append(("database.engineVersion", message))
    if config.cache.enabled and (message := cache_problem(
            config.cloud, config.cache.engine, config.cache.engine_version)):
        problems.append(("cache.engineVersion", message))
    return problems


def _tier_rules(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    if profile(config.tier).protection_enforced:
        if not config.protect_stateful_resources:
            problems.append(("protectStatefulResources",
                             f"{config.tier} always protects stateful resources; allowed: true"))
        if not config.deletion_protection:
            problems.append(("deletionProtection", f"{config.tier} always enables deletion "
                                                   "protection; allowed: true"))
    if config.tier != "prod":
        return problems
    if config.regions.secondary is None:
        problems.append(("regions.secondary",
                         "prod needs a secondary region for regional failover"))
    if config.network.nat_gateways != "per-zone":
        problems.append(("network.natGateways", "prod needs a NAT gateway per zone; "
                                                "allowed: per-zone"))
    return problems


def _cross_region_rules(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    secondary = config.regions.secondary
    if secondary is not None and secondary == config.regions.primary:
        problems.append(("regions.secondary",
                         f"must differ from regions.primary ('{secondary}')"))
    if secondary is None and config.artifacts.enabled and config.artifacts.replicate:
        problems.append(("artifacts.replicate",
                         "replication needs regions.secondary; set it or set replicate: false"))
    if secondary is None and config.recovery.region_failure is not None:
        problems.append(("recovery.regionFailure",
                         "a region-failure target needs regions.secondary"))
    if secondary is not None and config.recovery.region_failure is None:
        problems.append(("recovery.regionFailure",
                         "a two-region stack states its region-failure RTO/RPO"))
    region_target = config.recovery.region_failure
    if region_target is not None and region_target.rpo_seconds < 1:
        problems.append(("recovery.regionFailure.rpoSeconds",
                         "cross-region replication is asynchronous; allowed: >= 1"))
    primary_net = ipaddress.ip_network(config.network.primary_cidr)
    secondary_net = ipaddress.ip_network(config.network.secondary_cidr)
    if secondary is not None and primary_net.overlaps(secondary_net):
        problems.append(("network.secondaryCidr",
                         "must not overlap network.primaryCidr (the regions may be peered)"))
    return problems


def _sizing_rules(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    k8s = config.kubernetes
    if k8s.nodes_max < k8s.nodes_min:
        problems.append(("kubernetes.nodesMax",
                         f"must be >= kubernetes.nodesMin ({k8s.nodes_min})"))
    if config.workflows.worker_max_replicas < config.workflows.worker_replicas:
        problems.append(("workflows.workerMaxReplicas",
                         f"must be >= workflows.workerReplicas "
                         f"({config.workflows.worker_replicas})"))
    if config.cloud == "aws":
        problems += _aws_sizes(config)
    else:
        problems += _gcp_sizes(config)
    return problems


def _aws_sizes(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    k8s = config.kubernetes
    if k8s.kubeconfig_role_arn and k8s.kubeconfig_role_arn not in k8s.admin_role_arns:
        problems.append(("kubernetes.kubeconfigRoleArn",
                         "must be one of kubernetes.adminRoleArns (only they can use the API)"))
    if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", config.kubernetes.node_instance_type):
        problems.append(("kubernetes.nodeInstanceType",
                         "must be an EC2 instance type such as 'm6i.large'"))
    if not re.match(r"^db\.[a-z0-9-]+\.[a-z0-9]+$", config.database.instance_class):
        problems.append(("database.instanceClass",
                         "must be an RDS instance class such as 'db.r6g.large'"))
    elif config.multi_region and config.database.instance_class.startswith("db.t"):
        problems.append(("database.instanceClass",
                         "Aurora global databases need memory-optimised (db.r*) instances"))
    if not re.match(r"^cache\.[a-z0-9-]+\.[a-z0-9]+$", config.cache.node_type):
        problems.append(("cache.nodeType",
                         "must be an ElastiCache node type such as 'cache.r7g.large'"))
    if config.gcp is not None:
        problems.append(("gcp", "only for cloud: gcp"))
    if config.database.edition is not None:
        problems.append(("database.edition",
                         "only for cloud: gcp (the Cloud SQL edition); Aurora has none"))
    gpu = config.kubernetes.gpu
    if gpu.accelerator_type is not None:
        problems.append(("kubernetes.gpu.acceleratorType",
                         "only for cloud: gcp (on AWS the instance type implies the GPU)"))
    if not re.match(r"^(g|p)[0-9][a-z0-9-]*\.[a-z0-9]+$", gpu.instance_type):
        problems.append(("kubernetes.gpu.instanceType",
                         "must be an EC2 GPU instance type (g or p family) such as 'g6.xlarge'"))
    return problems


def _gcp_sizes(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    if config.gcp is None:
        problems.append(("gcp.project", "required for cloud: gcp (the GCP project ID)"))
    if not re.match(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", config.kubernetes.node_instance_type):
        problems.append(("kubernetes.nodeInstanceType",
                         "must be a GCE machine type such as 'n2-standard-4'"))
    if not re.match(r"^db-(custom-\d+-\d+|perf-optimized-N-\d+|[a-z0-9-]+)$",
                    config.database.instance_class):
        problems.append(("database.instanceClass",
                         "must be a Cloud SQL tier such as 'db-custom-4-15360' (ENTERPRISE) "
                         "or 'db-perf-optimized-N-8' (ENTERPRISE_PLUS)"))
    else:
        edition = config.database.edition or "ENTERPRISE"
        problem = tier_edition_problem(config.database.instance_class, edition)
        if problem:
            problems.append(("database.instanceClass", f"{problem} (database.edition is "
                             f"{edition}; allowed: ENTERPRISE, ENTERPRISE_PLUS)"))
    gpu = config.kubernetes.gpu
    if gpu.enabled and not gpu.accelerator_type:
        problems.append(("kubernetes.gpu.acceleratorType",
                         "required on GCP when kubernetes.gpu.enabled, e.g. 'nvidia-l4'"))
    if not re.match(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", gpu.instance_type):
        problems.append(("kubernetes.gpu.instanceType",
                         "must be a GCE machine type such as 'g2-standard-4'"))
    size = config.cache.node_type
    if not re.match(r"^\d+$", size) or not 1 <= int(size) <= 300:
        problems.append(("cache.nodeType",
                         "on GCP: the Memorystore memory size in GB, '1'..'300'"))
    return problems


def recovery_document(config: StackConfig) -> dict[str, Any]:
    """The stack's recovery targets and region roles, as the platform component's input
    `hastackRecovery`: what `hastack assess` and the `recovery-targets-met` policy read
    (policies see resources, not the stack file)."""
    targets: dict[str, Any] = {}
    for key, target in (("zoneFailure", config.recovery.zone_failure),
                        ("regionFailure", config.recovery.region_failure)):
        if target is not None:
            targets[key] = {"rtoSeconds": target.rto_seconds, "rpoSeconds": target.rpo_seconds}
    # Roles follow `activeRegion` (what a failover changes); primary/secondary never change.
    regions = {"primary": config.regions.primary, "active": config.active}
    if config.regions.secondary:
        regions["secondary"] = config.regions.secondary
    if config.standby:
        regions["standby"] = config.standby
    return {"targets": targets, "regions": regions}
