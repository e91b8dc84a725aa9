"""One region's GKE Standard cluster, hardened the way "safer-cluster" hardens a base.

What every cluster gets, and why:

* Regional control plane (`location=region`), nodes in >= 3 zones in prod: a zone
  outage loses neither the API nor the workloads' quorum.
* The default node pool is removed (`remove_default_node_pool=True`, created with
  one node because the API insists) in favour of a separately managed
  `container.NodePool`, so node changes never replace the cluster.
* Private nodes, control plane behind authorized networks. With no
  `authorized_cidrs` the endpoint is private only (deploy from inside the VPC);
  prod never accepts 0.0.0.0/0.
* Workload Identity (`<project>.svc.id.goog`) + `GKE_METADATA` on nodes: pods get
  Google credentials per Kubernetes service account and never see the node's.
* Shielded nodes with secure boot and integrity monitoring.
* Dataplane V2 (`ADVANCED_DATAPATH`): eBPF datapath with NetworkPolicy enforcement
  built in, so no Calico add-on to operate.
* Application-layer secrets encryption: etcd Secrets are encrypted with a CMEK in
  the cluster's own region (a key elsewhere would make the cluster depend on
  another region's availability); GKE's service agent is granted the key.
* A release channel and a maintenance window, so upgrades are automatic but land
  at a known time; node pools surge one node at a time with none unavailable.
* A dedicated node service account with only `roles/container.defaultNodeServiceAccount`
  (logging, monitoring, metadata) and Artifact Registry read, instead of the
  Compute Engine default account (Editor).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp

from components.base import Protection, Tier, child_options, standard_labels
from components.gcp.kms import RegionalKey, RegionalKeyArgs
from components.gcp.service_agents import agent_member, project_number
from hastack.config.tiers import floor
from hastack.config.versions import DEFAULT_KUBERNETES, GKE_RELEASE_CHANNEL

TYPE_TOKEN = "hastack:gcp:GkeCluster"
ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]
NODE_ROLES = (
    # The least-privilege role GKE documents for node service accounts (CIS GKE 5.2.1).
    "roles/container.defaultNodeServiceAccount",
    # Pull images from the project's Artifact Registry.
    "roles/artifactregistry.reader",
)
MAX_NAME = 40  # GKE cluster and node pool names
OPEN_WORLD = ipaddress.ip_network("0.0.0.0/0")


@dataclass(frozen=True)
class MaintenanceWindow:
    """A weekly recurring window. GKE needs >= 48h of windows per 32 days:
    two 6-hour windows a week give about 52."""

    start_time: str = "2025-01-04T02:00:00Z"
    end_time: str = "2025-01-04T08:00:00Z"
    recurrence: str = "FREQ=WEEKLY;BYDAY=SA,SU"


@dataclass(frozen=True)
class GkeGpuPool:
    """GPU capacity for model steps: a tainted node pool that autoscales from zero."""

    machine_type: str = "g2-standard-4"
    accelerator_type: str = "nvidia-l4"
    accelerators_per_node: int = 1
    max_nodes: int = 2


@dataclass(frozen=True)
class GkeClusterArgs:
    name: str
    region: str
    tier: Tier
    project: str
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    # Zones the nodes run in; prod needs >= 3.
    zones: Sequence[str]
    # A /28 for the control plane's private endpoint, outside every subnet range.
    control_plane_cidr: str
    pods_range_name: str = "pods"
    services_range_name: str = "services"
    machine_type: str = "e2-standard-4"
    nodes_min: int = 2
    nodes_max: int = 4
    # Minimum control-plane version; the release channel upgrades beyond it.
    kubernetes_version: str = DEFAULT_KUBERNETES
    # Operator CIDRs allowed to the public endpoint; empty = private endpoint only.
    authorized_cidrs: Sequence[str] = ()
    release_channel: ReleaseChannel = GKE_RELEASE_CHANNEL
    gateway_api_channel: Literal["CHANNEL_STANDARD", "CHANNEL_EXPERIMENTAL"] = "CHANNEL_STANDARD"
    maintenance: MaintenanceWindow = field(default_factory=MaintenanceWindow)
    disk_size_gb: int = 100
    # Leave autoscaler bounds to out-of-band tuning (ignore `autoscaling` diffs).
    ignore_scaling_changes: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None
    # Resources (the project's APIs) that must exist before any child or lookup.
    depends_on: Sequence[pulumi.Resource] = ()
    # None: no GPU pool (the stack file's `kubernetes.gpu.enabled: false`).
    gpu: GkeGpuPool | None = None

    @property
    def cluster_name(self) -> str:
        return f"{self.name}-{self.region}"

    def validate(self) -> None:
        if len(self.cluster_name) > MAX_NAME:
            raise ValueError(f"GkeCluster: name '{self.cluster_name}' is longer than "
                             f"{MAX_NAME} characters; shorten the platform name")
        if len(set(self.zones)) != len(self.zones) or not self.zones:
            raise ValueError(f"GkeCluster: zones must be distinct and non-empty, got {self.zones}")
        foreign = [zone for zone in self.zones if not zone.startswith(f"{self.region}-")]
        if foreign:
            raise ValueError(f"GkeCluster: zones {foreign} are not in region {self.region}")
        if len(self.zones) < floor(self.tier, "zoneCount"):
            raise ValueError(f"GkeCluster: {self.tier} spreads nodes over "
                             f">= {floor(self.tier, 'zoneCount')} zones, "
                             f"got {len(self.zones)}")
        if not 1 <= self.nodes_min <= self.nodes_max:
            raise ValueError(f"GkeCluster: need 1 <= nodes_min ({self.nodes_min}) "
                             f"<= nodes_max ({self.nodes_max})")
        if ipaddress.ip_network(self.control_plane_cidr).prefixlen != 28:
            raise ValueError("GkeCluster: control_plane_cidr must be a /28")
        for cidr in self.authorized_cidrs:
            network = ipaddress.ip_network(cidr, strict=True)
            if self.tier == "prod" and network.prefixlen == 0:
                raise ValueError(f"GkeCluster: prod never opens the Kubernetes API to "
                                 f"{network}; list operator CIDRs or leave it empty for "
                                 f"a private endpoint")

    @property
    def private_endpoint(self) -> bool:
        return not self.authorized_cidrs


def service_account_id(wanted: str) -> str:
    """A valid account ID (6..30 chars); long names keep a hash so regions never collide."""
    if len(wanted) <= 30:
        return wanted
    digest = hashlib.sha256(wanted.encode()).hexdigest()[:6]
    return f"{wanted[:23].rstrip('-')}-{digest}"


def _dns_endpoint(config: object) -> str:
    dns = getattr(config, "dns_endpoint_config", None)
    return str(getattr(dns, "endpoint", None) or "")


def render_kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str | None) -> str:
    """A kubeconfig that authenticates through gke-gcloud-auth-plugin (no static token)."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "installHint": "Install gke-gcloud-auth-plugin: "
                           "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl",
            "provideClusterInfo": True,
        }
    }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {
            "server": f"https://{endpoint}",
            **({"certificate-authority-data": ca_certificate} if ca_certificate else {}),
        }}],
        "contexts": [{"name": cluster_name,
                      "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": user}],
    }
    return json.dumps(config, indent=2)


class GkeCluster(pulumi.ComponentResource):
    """Regional private GKE cluster + node pool + its CMEK + node identity."""

    cluster: gcp.container.Cluster
    node_pool: gcp.container.NodePool
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    workload_pool: str
    kubeconfig: pulumi.Output[str]
    dns_endpoint: pulumi.Output[str]

    def __init__(self, resource_name: str, args: GkeClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        protection = args.protection or Protection.for_tier(args.tier)
        self.workload_pool = f"{args.project}.svc.id.goog"
        labels = standard_labels(args.tier, "GkeCluster", args.labels)
        number = project_number(args.project, self, None, args.depends_on)
        key = RegionalKey(
            f"{resource_name}-secrets-kms",
            RegionalKeyArgs(name=args.name, location=args.region, purpose="gke",
                            tier=args.tier, project=args.project, labels=args.labels,
                            encrypters=[agent_member("container", number)],
                            protection=protection),
            opts=child_options(self),
        )
        node_sa, node_grants = self._node_identity(resource_name, args)
        self.cluster = self._cluster(resource_name, args, protection, labels, key, node_sa)
        self.node_pool = self._node_pool(resource_name, args, labels, node_sa, node_grants)
        self.gpu_node_pool = (self._gpu_node_pool(resource_name, args, args.gpu, labels,
                                                  node_sa, node_grants)
                              if args.gpu is not None else None)
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.dns_endpoint = self.cluster.control_plane_endpoints_config.apply(_dns_endpoint)
        if args.private_endpoint:
            # The DNS-based endpoint: reachable from anywhere, authorised by IAM
            # (container.clusters.connect), so a runner needs no network path to the
            # VPC; its certificate is publicly trusted, so no CA is pinned.
            self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
                self.cluster.name, self.dns_endpoint,
            ).apply(lambda parts: render_kubeconfig(parts[0], parts[1], None)))
        else:
            self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
                self.cluster.name, self.cluster.endpoint,
                self.cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate or ""),
            ).apply(lambda parts: render_kubeconfig(parts[0], parts[1], parts[2])))
        # No Kubernetes provider here: the infrastructure layer never talks to the
        # cluster's API; the workloads stack builds one from `kubeconfig`.
        self.register_outputs({
            "clusterName": self.cluster_name,
            "endpoint": self.endpoint,
            "workloadPool": self.workload_pool,
            "kubeconfig": self.kubeconfig,
        })

    def _node_identity(self, resource_name: str, args: GkeClusterArgs
                       ) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
        account_id = service_account_id(f"gke-{args.name}-{args.region}")
        account = gcp.serviceaccount.Account(
            f"{resource_name}-nodes-sa",
            account_id=account_id,
            display_name=f"GKE nodes of {args.cluster_name}",
            project=args.project,
            opts=child_options(self),
        )
        grants = [
            gcp.projects.IAMMember(
                f"{resource_name}-nodes-{role.split('/')[-1]}",
                project=args.project,
                role=role,
                member=account.member,
                opts=child_options(self),
            )
            for role in NODE_ROLES
        ]
        return account, grants

    def _cluster(self, resource_name: str, args: GkeClusterArgs, protection: Protection,
                 labels: dict[str, str], key: RegionalKey,
                 node_sa: gcp.serviceaccount.Account) -> gcp.container.Cluster:
        C = gcp.container
        return C.Cluster(
            f"{resource_name}-cluster",
            name=args.cluster_name,
            project=args.project,
            location=args.region,
            node_locations=list(args.zones),
            min_master_version=args.kubernetes_version,
            release_channel=C.ClusterReleaseChannelArgs(channel=args.release_channel),
            # GKE's own Gateway controller (and the Gateway API CRDs): it serves the
            # orchestrator's Gateway on the regional external Application Load Balancer.
            gateway_api_config=C.ClusterGatewayApiConfigArgs(channel=args.gateway_api_channel),
            remove_default_node_pool=True,
            initial_node_count=1,
            # The transient default pool is hardened too (org policies such as
            # "require Shielded VM" would otherwise block cluster creation).
            node_config=C.ClusterNodeConfigArgs(
                service_account=node_sa.email,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                shielded_instance_config=C.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True),
                workload_metadata_config=C.ClusterNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"),
            ),
            network=args.network,
            subnetwork=args.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=C.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pods_range_name,
                services_secondary_range_name=args.services_range_name,
            ),
            private_cluster_config=C.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=args.private_endpoint,
                master_ipv4_cidr_block=args.control_plane_cidr,
                # Reach the private endpoint from the other region of the same VPC.
                master_global_access_config=C.ClusterPrivateClusterConfigMasterGlobalAccessConfigArgs(
                    enabled=True),
            ),
            # The DNS-based endpoint is how a private cluster is reached at all (from CI
            # and operators): IAM decides who, not a network path.
            control_plane_endpoints_config=C.ClusterControlPlaneEndpointsConfigArgs(
                dns_endpoint_config=C.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                    allow_external_traffic=True)),
            master_authorized_networks_config=C.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    C.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"operators-{index}")
                    for index, cidr in enumerate(args.authorized_cidrs)
                ],
                # Not "any Google Cloud VM's public IP": only the listed CIDRs.
                gcp_public_cidrs_access_enabled=False,
            ),
            workload_identity_config=C.ClusterWorkloadIdentityConfigArgs(
                workload_pool=self.workload_pool),
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",
            # Pod-to-pod traffic on one node goes through the VPC too: flow logs and
            # firewall rules see it (the Autopilot default).
            enable_intranode_visibility=True,
            # Admission by the project's Binary Authorization policy (components/gcp/
            # binauthz.py): enforced in prod, dry-run elsewhere.
            binary_authorization=C.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
            database_encryption=C.ClusterDatabaseEncryptionArgs(
                state="ENCRYPTED", key_name=key.key_id),
            maintenance_policy=C.ClusterMaintenancePolicyArgs(
                recurring_window=C.ClusterMaintenancePolicyRecurringWindowArgs(
                    start_time=args.maintenance.start_time,
                    end_time=args.maintenance.end_time,
                    recurrence=args.maintenance.recurrence,
                )),
            # No legacy ABAC; client certificates are off by default since GKE 1.12
            # (`master_auth` is left unset so the provider reports the CA it issued).
            enable_legacy_abac=False,
            deletion_protection=protection.deletion_protection,
            resource_labels=labels,
            # `nodeConfig` only describes the removed default pool; GKE reports it
            # differently afterwards and a diff there would replace the cluster.
            opts=child_options(self, depends_on=key.grants, ignore_changes=["nodeConfig"]),
        )

    def _node_pool(self, resource_name: str, args: GkeClusterArgs, labels: dict[str, str],
                   node_sa: gcp.serviceaccount.Account,
                   node_grants: list[gcp.projects.IAMMember]) -> gcp.container.NodePool:
        C = gcp.container
        # Autoscaling bounds are totals across zones; the initial count is per zone.
        initial_per_zone = max(1, math.ceil(args.nodes_min / len(args.zones)))
        ignored = ["initialNodeCount"] + (["autoscaling"] if args.ignore_scaling_changes else [])
        return C.NodePool(
            f"{resource_name}-pool",
            name=f"{args.name}-pool",
            project=args.project,
            cluster=self.cluster.id,
            location=args.region,
            node_locations=list(args.zones),
            initial_node_count=initial_per_zone,
            autoscaling=C.NodePoolAutoscalingArgs(
                total_min_node_count=args.nodes_min,
                total_max_node_count=args.nodes_max,
                location_policy="BALANCED",
            ),
            management=C.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=C.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=_node_config(args.machine_type, args.disk_size_gb, node_sa, labels),
            opts=child_options(self, depends_on=node_grants, ignore_changes=ignored),
        )

    def _gpu_node_pool(self, resource_name: str, args: GkeClusterArgs, gpu: GkeGpuPool,
                       labels: dict[str, str], node_sa: gcp.serviceaccount.Account,
                       node_grants: list[gcp.projects.IAMMember]) -> gcp.container.NodePool:
        """Zero nodes until a pod requests `nvidia.com/gpu`.

        `gpu_driver_version: DEFAULT` on COS: GKE installs the NVIDIA driver, configures
        containerd and runs the device plugin itself, so nothing of ours runs on these
        nodes; pods requesting GPUs get the toleration from GKE's
        ExtendedResourceToleration admission plugin (the taint is set explicitly too).
        """
        C = gcp.container
        return C.NodePool(
            f"{resource_name}-gpu-pool",
            name=f"{args.name}-gpu",
            project=args.project,
            cluster=self.cluster.id,
            location=args.region,
            node_locations=list(args.zones),
            initial_node_count=0,
            autoscaling=C.NodePoolAutoscalingArgs(
                total_min_node_count=0, total_max_node_count=gpu.max_nodes,
                # GPUs are scarce per zone: take whichever zone has them.
                location_policy="ANY"),
            management=C.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=C.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=_node_config(
                gpu.machine_type, args.disk_size_gb, node_sa, labels,
                guest_accelerators=[C.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=gpu.accelerator_type, count=gpu.accelerators_per_node,
                    # GKE installs and upgrades the NVIDIA driver (no DaemonSet of ours).
                    gpu_driver_installation_config=(
                        C.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                            gpu_driver_version="DEFAULT")))],
                taints=[C.NodePoolNodeConfigTaintArgs(
                    key="nvidia.com/gpu", value="present", effect="NO_SCHEDULE")]),
            opts=child_options(self, depends_on=node_grants,
                               ignore_changes=["initialNodeCount"]),
        )


def _node_config(machine_type: str, disk_size_gb: int, node_sa: gcp.serviceaccount.Account,
                 labels: dict[str, str], **extra: Any) -> gcp.container.NodePoolNodeConfigArgs:
    """The hardened node settings every pool shares."""
    C = gcp.container
    return C.NodePoolNodeConfigArgs(
        machine_type=machine_type,
        image_type="COS_CONTAINERD",
        disk_type="pd-balanced",
        disk_size_gb=disk_size_gb,
        service_account=node_sa.email,
        # Access is governed by IAM on the service account, not by scopes.
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        metadata={"disable-legacy-endpoints": "true"},
        shielded_instance_config=C.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True),
        workload_metadata_config=C.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"),
        resource_labels=labels,
        **extra,
    )
