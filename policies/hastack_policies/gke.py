"""GKE: zone spread, private control plane and nodes, identity, node hardening."""

from __future__ import annotations

import re

from hastack_policies.catalogue import (
    CRITICAL,
    HA,
    HIGH,
    MEDIUM,
    SECURITY,
    Report,
    Subject,
    checkov,
    own,
    resource_rule,
    setting,
)
from hastack_policies.tokens import BINAUTHZ_POLICY, GKE_CLUSTER, GKE_NODE_POOL
from hastack_policies.values import is_false, is_open_cidr, is_set, items, truthy, value

# "europe-west1" is a region; "europe-west1-b" is a zone.
REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")


def _is_autopilot(subject: Subject) -> bool:
    return truthy(value(subject.props, "enableAutopilot", default=False))


@resource_rule(
    name="gke-regional-or-multi-zone",
    description="GKE clusters and node pools span at least two zones.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-GKE-1"),),
    types=(GKE_CLUSTER, GKE_NODE_POOL),
    remediation="Use a regional location, or list >= 2 nodeLocations.",
)
def gke_regional_or_multi_zone(subject: Subject, report: Report) -> None:
    locations = items(subject.props, "nodeLocations")
    if locations:
        if len(set(locations)) < 2:
            report(f"nodeLocations {locations} is a single zone.")
        return
    location = value(subject.props, "location")
    # A node pool without location or nodeLocations follows its cluster.
    if subject.type == GKE_NODE_POOL and location is None:
        return
    if not (isinstance(location, str) and REGION.match(location)):
        report(f"location {location!r} is a single zone: the control plane and nodes die "
               "with it.")


@resource_rule(
    name="gke-private-nodes",
    description="GKE nodes have no public IP addresses.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_25"), checkov("CKV_GCP_64")),
    types=(GKE_CLUSTER,),
    remediation="Set privateClusterConfig.enablePrivateNodes=true (and a masterIpv4CidrBlock).",
)
def gke_private_nodes(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "privateClusterConfig", "enablePrivateNodes",
                        default=False)):
        report("privateClusterConfig.enablePrivateNodes is not true.")


@resource_rule(
    name="gke-authorized-networks",
    description="The GKE control plane is reachable only from authorized networks, never "
                "0.0.0.0/0.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(checkov("CKV_GCP_20"), checkov("CKV_GCP_18")),
    types=(GKE_CLUSTER,),
    remediation="Set masterAuthorizedNetworksConfig.cidrBlocks to VPN/office ranges, or a "
                "private endpoint.",
)
def gke_authorized_networks(subject: Subject, report: Report) -> None:
    private_endpoint = truthy(value(subject.props, "privateClusterConfig",
                                    "enablePrivateEndpoint", default=False))
    if not is_set(subject.props, "masterAuthorizedNetworksConfig") and not private_endpoint:
        report("no masterAuthorizedNetworksConfig: the public endpoint accepts any source.")
        return
    blocks = items(subject.props, "masterAuthorizedNetworksConfig", "cidrBlocks")
    opened = [value(block, "cidrBlock") for block in blocks
              if is_open_cidr(value(block, "cidrBlock"))]
    if opened:
        report(f"masterAuthorizedNetworksConfig allows {opened}.")


@resource_rule(
    name="gke-release-channel",
    description="GKE clusters are enrolled in a release channel.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_70"),),
    types=(GKE_CLUSTER,),
    remediation="Set releaseChannel.channel to REGULAR or STABLE.",
    settings={"allowedChannels": setting("array", ["REGULAR", "STABLE"],
                                         "Release channels accepted")},
)
def gke_release_channel(subject: Subject, report: Report) -> None:
    channel = value(subject.props, "releaseChannel", "channel")
    if channel not in subject.config["allowedChannels"]:
        report(f"releaseChannel.channel is {channel!r}, not one of "
               f"{subject.config['allowedChannels']}.")


@resource_rule(
    name="gke-workload-identity",
    description="GKE clusters enable Workload Identity (no node service-account keys in pods).",
    severity=HIGH, levels=SECURITY,
    # CKV_GCP_69 (cited before) checks the node pools' GKE metadata server, which is
    # gke-metadata-server; Checkov has no check of the cluster's workload pool.
    anchors=(own("SEC-GKE-2"),),
    types=(GKE_CLUSTER,),
    remediation="Set workloadIdentityConfig.workloadPool='<project>.svc.id.goog'.",
)
def gke_workload_identity(subject: Subject, report: Report) -> None:
    if _is_autopilot(subject):
        return  # always on in Autopilot
    if not is_set(subject.props, "workloadIdentityConfig", "workloadPool"):
        report("workloadIdentityConfig.workloadPool is not set.")


@resource_rule(
    name="gke-metadata-server",
    description="Nodes run the GKE metadata server, hiding the node's credentials from pods.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_69"),),
    types=(GKE_CLUSTER, GKE_NODE_POOL),
    remediation="Set nodeConfig.workloadMetadataConfig.mode='GKE_METADATA'.",
)
def gke_metadata_server(subject: Subject, report: Report) -> None:
    node_config = value(subject.props, "nodeConfig")
    if subject.type == GKE_CLUSTER and node_config is None:
        return  # the default pool is removed; node pools are checked on their own
    mode = value(node_config or {}, "workloadMetadataConfig", "mode")
    if mode != "GKE_METADATA":
        report(f"nodeConfig.workloadMetadataConfig.mode is {mode!r}, not 'GKE_METADATA'.")


@resource_rule(
    name="gke-shielded-nodes",
    description="GKE clusters use Shielded GKE Nodes.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_71"),),
    types=(GKE_CLUSTER,),
    remediation="Leave enableShieldedNodes unset or true.",
)
def gke_shielded_nodes(subject: Subject, report: Report) -> None:
    if is_false(value(subject.props, "enableShieldedNodes")):
        report("enableShieldedNodes is false.")


@resource_rule(
    name="gke-node-secure-boot",
    description="Node pools boot with Secure Boot and integrity monitoring.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_68"), checkov("CKV_GCP_72")),
    types=(GKE_NODE_POOL,),
    remediation="Set nodeConfig.shieldedInstanceConfig.enableSecureBoot=true and keep "
                "enableIntegrityMonitoring on.",
)
def gke_node_secure_boot(subject: Subject, report: Report) -> None:
    shielded = value(subject.props, "nodeConfig", "shieldedInstanceConfig", default={})
    if not truthy(value(shielded, "enableSecureBoot", default=False)):
        report("shieldedInstanceConfig.enableSecureBoot is not true.")
    if is_false(value(shielded, "enableIntegrityMonitoring")):
        report("shieldedInstanceConfig.enableIntegrityMonitoring is false.")


@resource_rule(
    name="gke-network-policy",
    description="Pod-to-pod traffic can be restricted (NetworkPolicy or Dataplane V2).",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_12"),),
    types=(GKE_CLUSTER,),
    remediation="Set datapathProvider='ADVANCED_DATAPATH' (Dataplane V2) or "
                "networkPolicy.enabled=true.",
)
def gke_network_policy(subject: Subject, report: Report) -> None:
    if _is_autopilot(subject) or value(subject.props, "datapathProvider") == "ADVANCED_DATAPATH":
        return
    if not truthy(value(subject.props, "networkPolicy", "enabled", default=False)):
        report("neither Dataplane V2 nor networkPolicy.enabled: NetworkPolicies are ignored.")


@resource_rule(
    name="gke-default-pool-removed",
    description="The default node pool is removed in favour of managed node pools.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(own("SEC-GKE-1"),),
    types=(GKE_CLUSTER,),
    remediation="Set removeDefaultNodePool=true (initialNodeCount=1) and define node pools.",
)
def gke_default_pool_removed(subject: Subject, report: Report) -> None:
    if _is_autopilot(subject):
        return
    if not truthy(value(subject.props, "removeDefaultNodePool", default=False)):
        report("removeDefaultNodePool is not true: the unhardened default pool stays.")


@resource_rule(
    name="gke-node-auto-repair-upgrade",
    description="Node pools repair and upgrade their nodes automatically.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_9"), checkov("CKV_GCP_10")),
    types=(GKE_NODE_POOL,),
    remediation="Keep management.autoRepair and management.autoUpgrade true.",
)
def gke_node_auto_repair_upgrade(subject: Subject, report: Report) -> None:
    management = value(subject.props, "management", default={})
    for key in ("autoRepair", "autoUpgrade"):
        if is_false(value(management, key)):
            report(f"management.{key} is false.")


@resource_rule(
    name="gke-binary-authorization",
    description="GKE clusters admit images through the project's Binary Authorization policy.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_66"),),
    types=(GKE_CLUSTER,),
    remediation="Set binaryAuthorization.evaluationMode='PROJECT_SINGLETON_POLICY_ENFORCE' "
                "and manage the project policy (components/gcp/binauthz.py).",
)
def gke_binary_authorization(subject: Subject, report: Report) -> None:
    mode = value(subject.props, "binaryAuthorization", "evaluationMode")
    if mode != "PROJECT_SINGLETON_POLICY_ENFORCE":
        report(f"binaryAuthorization.evaluationMode is {mode!r}: any image runs.")


@resource_rule(
    name="gke-intranode-visibility",
    description="Pod-to-pod traffic on the same node is visible to VPC flow logs and "
                "firewall rules.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_61"),),
    types=(GKE_CLUSTER,),
    remediation="Set enableIntranodeVisibility=true.",
)
def gke_intranode_visibility(subject: Subject, report: Report) -> None:
    if _is_autopilot(subject):
        return  # on by default in Autopilot
    if not truthy(value(subject.props, "enableIntranodeVisibility", default=False)):
        report("enableIntranodeVisibility is not true: same-node pod traffic bypasses "
               "flow logs and firewall rules.")


@resource_rule(
    name="binauthz-policy-enforced",
    description="The Binary Authorization policy denies unlisted images by default, and "
                "blocks them where the tier requires enforcement.",
    severity=HIGH, levels=SECURITY,
    anchors=(own("SEC-GKE-3"),),
    types=(BINAUTHZ_POLICY,),
    remediation="defaultAdmissionRule.evaluationMode ALWAYS_DENY (or REQUIRE_ATTESTATION) "
                "with allowlisted registries; enforcementMode ENFORCED_BLOCK_AND_AUDIT_LOG "
                "in prod (DRYRUN_AUDIT_LOG_ONLY is accepted where not required).",
    settings={"requireEnforcement": setting(
        "boolean", True, "Dry-run is not enough: denied images must be blocked",
        dev=False, staging=False, prod=True)},
)
def binauthz_policy_enforced(subject: Subject, report: Report) -> None:
    rule = value(subject.props, "defaultAdmissionRule", default={})
    if value(rule, "evaluationMode") == "ALWAYS_ALLOW":
        report("defaultAdmissionRule.evaluationMode is ALWAYS_ALLOW: the policy admits "
               "every image.")
    mode = value(rule, "enforcementMode")
    if subject.config["requireEnforcement"] and mode != "ENFORCED_BLOCK_AND_AUDIT_LOG":
        report(f"defaultAdmissionRule.enforcementMode is {mode!r}: denied images still run.")
