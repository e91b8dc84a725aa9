"""EKS: control-plane exposure, secrets encryption, logging, version, nodes."""

from __future__ import annotations

from hastack.config.versions import KUBERNETES
from hastack_policies.catalogue import (
    CRITICAL,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    checkov,
    floor_setting,
    fsbp,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.tokens import EKS_CLUSTER, EKS_NODE_GROUP, LAUNCH_TEMPLATE
from hastack_policies.values import (
    as_int,
    is_false,
    is_open_cidr,
    is_set,
    items,
    value,
    version_tuple,
)

REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


@resource_rule(
    name="eks-endpoint-private",
    description="The EKS API endpoint is private, or public only to allow-listed CIDRs.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(fsbp("EKS.1"), checkov("CKV_AWS_38"), checkov("CKV_AWS_39")),
    types=(EKS_CLUSTER,),
    remediation="Set vpcConfig.endpointPrivateAccess=true and either endpointPublicAccess="
                "false or publicAccessCidrs to office/VPN ranges (never 0.0.0.0/0); in "
                "hastack, set kubernetes.apiAccess: private (or allowlist with apiAllowlist).",
    settings={"allowedPublicCidrs": setting(
        "array", [], "CIDRs allowed to reach a public endpoint; empty allows any "
                     "non-open CIDR")},
)
def eks_endpoint_private(subject: Subject, report: Report) -> None:
    vpc = value(subject.props, "vpcConfig", default={})
    if not value(vpc, "endpointPrivateAccess", default=False):
        report("vpcConfig.endpointPrivateAccess is not true: nodes reach the API over the "
               "internet.")
    # EKS turns the public endpoint on unless told otherwise.
    if is_false(value(vpc, "endpointPublicAccess")):
        return
    cidrs = items(vpc, "publicAccessCidrs")
    if not cidrs or any(is_open_cidr(cidr) for cidr in cidrs):
        report("the public API endpoint is open to 0.0.0.0/0; disable it or restrict "
               "publicAccessCidrs.")
        return
    allowed = set(subject.config["allowedPublicCidrs"])
    outside = sorted(set(cidrs) - allowed) if allowed else []
    if outside:
        report(f"publicAccessCidrs {outside} are not in the allow-list.")


@resource_rule(
    name="eks-secrets-encryption",
    description="EKS envelope-encrypts Kubernetes secrets with a KMS key.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("EKS.3"), checkov("CKV_AWS_58")),
    types=(EKS_CLUSTER,),
    remediation="Set encryptionConfig = {resources: ['secrets'], provider: {keyArn: <CMK>}}.",
)
def eks_secrets_encryption(subject: Subject, report: Report) -> None:
    config = value(subject.props, "encryptionConfig", default={})
    if "secrets" not in items(config, "resources"):
        report("encryptionConfig.resources does not include 'secrets'.")
    if not is_set(config, "provider", "keyArn"):
        report("encryptionConfig.provider.keyArn is not set.")


@resource_rule(
    name="eks-control-plane-logging",
    description="EKS sends api, audit and authenticator control-plane logs to CloudWatch.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("EKS.8"), checkov("CKV_AWS_37")),
    types=(EKS_CLUSTER,),
    remediation="Add api, audit and authenticator to enabledClusterLogTypes.",
)
def eks_control_plane_logging(subject: Subject, report: Report) -> None:
    enabled = set(items(subject.props, "enabledClusterLogTypes"))
    missing = [kind for kind in REQUIRED_LOG_TYPES if kind not in enabled]
    if missing:
        report(f"enabledClusterLogTypes lacks {', '.join(missing)}.")


@resource_rule(
    name="eks-supported-version",
    description="EKS runs a Kubernetes version at or above the supported minimum.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("EKS.2"), checkov("CKV_AWS_339")),
    types=(EKS_CLUSTER,),
    remediation="Raise kubernetes.version in the stack file (and upgrade node groups).",
    settings={"minimumVersion": setting(
        "string", KUBERNETES["aws"][0],
        "Oldest Kubernetes minor version still in standard support "
        "(hastack/config/versions.py)")},
)
def eks_supported_version(subject: Subject, report: Report) -> None:
    version = value(subject.props, "version")
    minimum = subject.config["minimumVersion"]
    if version is None:
        report("version is not pinned: EKS would pick its default and upgrades would drift.")
    elif version_tuple(version) < version_tuple(minimum):
        report(f"version {version} is older than the supported minimum {minimum}.")


@stack_rule(
    name="eks-node-group-spread",
    description="Every EKS node group keeps at least two nodes across at least two AZs.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-EKS-1"),),
    remediation="Set kubernetes.nodesMin >= 2 and give the node group one private subnet per AZ.",
    settings={
        "minNodes": floor_setting("kubernetes.nodesMin",
                                  "Smallest scalingConfig.minSize per node group"),
        "minZones": floor_setting("zoneCount", "Fewest distinct AZs of a node group's subnets"),
    },
)
def eks_node_group_spread(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    min_nodes, min_zones = stack.config["minNodes"], stack.config["minZones"]
    for group in graph.of_type(EKS_NODE_GROUP):
        minimum = as_int(value(group.props, "scalingConfig", "minSize"))
        if minimum < min_nodes:
            report(f"scalingConfig.minSize is {minimum} (< {min_nodes}).",
                   group.urn)
        zones = graph.subnet_zones(group)
        if zones is not None and len(zones) < min_zones:
            report(f"its subnets are all in {sorted(zones)}; a zone outage "
                   "takes every node.", group.urn)
        elif zones is None and len(items(group.props, "subnetIds")) < min_zones:
            report(f"fewer than {min_zones} subnets.", group.urn)


@resource_rule(
    name="eks-node-group-no-open-ssh",
    description="EKS node groups allow no SSH, or SSH only from named security groups.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_AWS_100"),),
    types=(EKS_NODE_GROUP,),
    remediation="Drop remoteAccess (use SSM), or set remoteAccess.sourceSecurityGroupIds.",
)
def eks_node_group_no_open_ssh(subject: Subject, report: Report) -> None:
    remote = value(subject.props, "remoteAccess")
    # With a key but no source groups, EKS opens port 22 to 0.0.0.0/0.
    if remote and is_set(remote, "ec2SshKey") and not is_set(remote, "sourceSecurityGroupIds"):
        report("remoteAccess has an SSH key but no sourceSecurityGroupIds: SSH is open to "
               "the internet.")


@resource_rule(
    name="eks-launch-template-imdsv2",
    description="Launch templates require IMDSv2 session tokens.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("EC2.170"), checkov("CKV_AWS_79")),
    types=(LAUNCH_TEMPLATE,),
    remediation="Set metadataOptions.httpTokens='required' (and a hop limit of 1-2 for pods).",
)
def eks_launch_template_imdsv2(subject: Subject, report: Report) -> None:
    if value(subject.props, "metadataOptions", "httpTokens") != "required":
        report("metadataOptions.httpTokens is not 'required': IMDSv1 stays reachable "
               "from pods.")
