"""One region's EKS cluster: private API, encrypted secrets, audited, managed nodes in every zone.

Secure by default, and why:

* **Private API endpoint.** The public endpoint is enabled only when explicit
  operator CIDRs are given; prod refuses any CIDR that opens it to the internet.
  A private-only cluster is reachable only from inside the VPC (or a network
  joined to it), so `pulumi up` for the Kubernetes layer must run from there.
* **Access entries, not aws-auth.** `authentication_mode="API"` and no implicit
  admin for whoever created the cluster: cluster admins are exactly the IAM role
  ARNs in `admin_role_arns` (default none, i.e. nobody can use kubectl until a role
  is listed). Managed node groups get their node access entry from EKS itself.
* **Envelope encryption** of Kubernetes secrets with a KMS key this component
  creates (rotation on), and **control-plane logs** (all five types) in a
  pre-created, KMS-encrypted log group with a retention period; without the
  pre-created group EKS creates one that keeps logs forever.
* **Nodes**: one managed node group spread over the private subnets of every
  zone, from a launch template that requires IMDSv2 with a hop limit of 1 (pods
  cannot reach the node role's credentials; they use Pod Identity or IRSA), and
  an encrypted gp3 root volume.
* **Core add-ons** as EKS managed add-ons. EKS' self-managed bootstrap copies are
  disabled so that exactly one owner (this component) manages vpc-cni, kube-proxy
  and CoreDNS; the networking add-ons are created before the nodes so that nodes
  come up Ready. The EBS CSI driver gets its IAM role through Pod Identity.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws.kms import KeyScope, customer_managed_key, key_policy
from components.base import (
    ApiAccess,
    Protection,
    Tier,
    child_options,
    standard_tags,
    stateful_options,
)
from hastack.config.model import StackConfig
from hastack.config.tiers import floor
from hastack.config.versions import DEFAULT_KUBERNETES, EKS_SUPPORT_TYPE

COMPONENT = "EksCluster"
TYPE_TOKEN = "hastack:aws:EksCluster"

# Every control-plane log type EKS offers; api/audit/authenticator are the security minimum.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# Add-ons the nodes need to become Ready: created before the node group. CoreDNS
# and the EBS CSI driver run as Deployments, need nodes, and are created after it.
BEFORE_NODES_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")

EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"

# IAM role or user ARNs (paths allowed). STS assumed-role session ARNs are rejected
# because an access entry cannot name a session.
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")

CapacityType = Literal["ON_DEMAND", "SPOT"]


@dataclass(frozen=True)
class NodeGroupArgs:
    """One managed node group. It always spans the private subnets of every zone."""

    name: str = "general"
    instance_types: tuple[str, ...] = ("m6i.large",)
    # Every tier requires min_size >= the kubernetes.nodesMin floor (2): losing a node or a
    # zone keeps capacity.
    min_size: int = 2
    max_size: int = 4
    # Defaults to min_size.
    desired_size: int | None = None
    capacity_type: CapacityType = "ON_DEMAND"
    # AL2023: the EKS-optimised AMI family still published (AL2 is retired).
    ami_type: str = "AL2023_x86_64_STANDARD"
    root_volume_gib: int = 50
    # Nodes replaced at a time during an update; 1 keeps the most capacity.
    max_unavailable: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def initial_desired_size(self) -> int:
        return self.min_size if self.desired_size is None else self.desired_size


@dataclass(frozen=True)
class EksClusterArgs:
    """What a region's EKS cluster needs. Only naming, tier and the network are required."""

    # Platform name; the cluster is named `<name>-<region>`.
    name: str
    region: str
    tier: Tier
    vpc_id: pulumi.Input[str]
    # The private subnets of *every* zone (Network.private_subnet_ids): the control
    # plane's ENIs and the nodes go there.
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    version: str = DEFAULT_KUBERNETES
    node_groups: tuple[NodeGroupArgs, ...] = (NodeGroupArgs(),)
    # Private endpoint only by default; `ApiAccess.only_from(...)` opens the public
    # endpoint to exactly those CIDRs (never 0.0.0.0/0).
    api_access: ApiAccess = field(default_factory=ApiAccess)
    log_retention_days: int = 365
    # IAM role/user ARNs that get AmazonEKSClusterAdminPolicy on the whole cluster.
    # Default none: no human or pipeline can use the Kubernetes API until listed.
    admin_role_arns: tuple[str, ...] = ()
    # Role the generated kubeconfig assumes (`aws eks get-token --role-arn`); must be
    # one of `admin_role_arns`. None: the caller's own credentials are used, and they
    # must belong to one of `admin_role_arns`.
    kubeconfig_role_arn: str | None = None
    # 1 keeps pods (which sit one network hop behind the node) away from IMDS and so
    # from the node role. Raise to 2 only for workloads that must read IMDS from a
    # pod, e.g. the AWS Load Balancer Controller run without --aws-region/--aws-vpc-id.
    imds_hop_limit: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)
    # Defaults to `Protection.for_tier(tier)`.
    protection: Protection | None = None

    @staticmethod
    def from_config(config: StackConfig, name: str, region: str, vpc_id: pulumi.Input[str],
                    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
                    admin_role_arns: Sequence[str] = (),
                    kubeconfig_role_arn: str | None = None) -> EksClusterArgs:
        k8s_config = config.kubernetes
        return EksClusterArgs(
            name=name,
            region=region,
            tier=config.tier,
            vpc_id=vpc_id,
            private_subnet_ids=private_subnet_ids,
            version=k8s_config.version,
            node_groups=(NodeGroupArgs(
                instance_types=(k8s_config.node_instance_type,),
                min_size=k8s_config.nodes_min,
                max_size=k8s_config.nodes_max,
            ),),
            api_access=(ApiAccess.only_from(*k8s_config.api_allowlist)
                        if k8s_config.api_access == "allowlist" else ApiAccess()),
            log_retention_days=k8s_config.log_retention_days,
            admin_role_arns=tuple(admin_role_arns),
            kubeconfig_role_arn=kubeconfig_role_arn,
            tags=dict(config.tags),
            protection=Protection.requested(config.protect_stateful_resources,
                                            config.deletion_protection),
        )

    @property
    def cluster_name(self) -> str:
        return f"{self.name}-{self.region}"

    def validate(self) -> None:
        """Raise `ValueError` for arguments AWS would reject or the tier forbids."""
        _validate_public_access(self.tier, self.api_access.allowlist)
        if not self.node_groups:
            raise ValueError("at least one node group is required")
        names = [group.name for group in self.node_groups]
        if len(set(names)) != len(names):
            raise ValueError(f"node group names must be unique, got {names}")
        for group in self.node_groups:
            _validate_node_group(self.tier, group)
        if not 1 <= self.imds_hop_limit <= 64:
            raise ValueError(f"imds_hop_limit must be 1..64, got {self.imds_hop_limit}")
        if self.log_retention_days < 1:
            raise ValueError("log_retention_days must be >= 1")
        for arn in self.admin_role_arns:
            if not _PRINCIPAL_ARN.match(arn):
                raise ValueError(f"admin_role_arns: {arn!r} is not an IAM role or user ARN "
                                 "(assumed-role session ARNs cannot have access entries)")
        if len(set(self.admin_role_arns)) != len(self.admin_role_arns):
            raise ValueError("admin_role_arns has duplicates; each principal gets one entry")
        if self.kubeconfig_role_arn and self.kubeconfig_role_arn not in self.admin_role_arns:
            raise ValueError("kubeconfig_role_arn must be one of admin_role_arns, otherwise "
                             "the kubeconfig authenticates as a principal with no access entry")


def _validate_public_access(tier: Tier, cidrs: Sequence[str]) -> None:
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise ValueError(f"public_access_cidrs: {cidr!r} is not a CIDR: {error}") from None
        if tier == "prod" and network.prefixlen == 0:
            raise ValueError(
                f"public_access_cidrs: prod never opens the Kubernetes API to {cidr}; "
                "list the operator CIDRs or leave it empty for a private endpoint")


def _validate_node_group(tier: Tier, group: NodeGroupArgs) -> None:
    where = f"node group {group.name!r}"
    minimum = floor(tier, "kubernetes.nodesMin")
    if group.min_size < minimum:
        raise ValueError(f"{where}: {tier} needs min_size >= {minimum} so that one node or zone "
                         f"failure leaves capacity, got {group.min_size}")
    if group.min_size < 0 or group.max_size < 1 or group.max_size < group.min_size:
        raise ValueError(f"{where}: need 0 <= min_size <= max_size and max_size >= 1, "
                         f"got {group.min_size}..{group.max_size}")
    if not group.min_size <= group.initial_desired_size <= group.max_size:
        raise ValueError(f"{where}: desired_size must lie in {group.min_size}..{group.max_size}")
    if not 1 <= group.max_unavailable <= group.max_size:
        raise ValueError(f"{where}: max_unavailable must be 1..max_size")
    if not group.instance_types:
        raise ValueError(f"{where}: at least one instance type is required")
    if group.root_volume_gib < 20:
        raise ValueError(f"{where}: root_volume_gib must be >= 20 for the EKS AMIs")


def build_kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str,
                     role_arn: str | None = None) -> str:
    """A kubeconfig that authenticates with a short-lived token from `aws eks get-token`.

    No credential is written into it; it is still a secret because it names the
    endpoint and, with `role_arn`, the admin role.
    """
    args = ["eks", "get-token", "--cluster-name", cluster_name, "--region", region,
            "--output", "json"]
    if role_arn:
        args += ["--role-arn", role_arn]
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name,
                      "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name,
                      "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": args,
            "interactiveMode": "Never",
        }}}],
    }, sort_keys=True)


def _trust(service: str, *actions: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                       "Action": list(actions) or "sts:AssumeRole"}],
    }, sort_keys=True)


class EksCluster(pulumi.ComponentResource):
    """A private, encrypted, audited EKS cluster for one region."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]

    def __init__(self, resource_name: str, args: EksClusterArgs, *,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        args.validate()
        self._args = args
        self._prefix = resource_name
        self._provider = provider
        self._protection = args.protection or Protection.for_tier(args.tier)
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        invoke_opts = pulumi.InvokeOptions(parent=self, provider=provider)
        self._partition = aws.get_partition(opts=invoke_opts)
        self._account_id = aws.get_caller_identity(opts=invoke_opts).account_id

        cluster_role = self._cluster_role()
        key = self._kms_key(cluster_role)
        self._cluster_role_grants = self._cluster_role_grants_for(cluster_role, key)
        log_group = self._log_group(key)
        cluster = self._cluster(key, log_group, cluster_role)
        oidc = self._oidc_provider(cluster)
        self._admin_access(cluster)
        early_addons = [self._addon(cluster, name) for name in BEFORE_NODES_ADDONS]
        node_role = self._node_role()
        node_groups = [self._node_group(cluster, node_role, group, early_addons)
                       for group in args.node_groups]
        self._late_addons(cluster, node_groups, early_addons)

        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        # The security group EKS creates for the control plane and managed nodes.
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = cluster.identities.apply(_issuer_host)
        self.kms_key_arn = key.arn
        self.node_role_arn = node_role.arn
        # Managed node group ARNs by group name (the node drill's FIS target).
        self.node_group_arns = {group.name: ng.arn for group, ng in zip(
            args.node_groups, node_groups, strict=True)}
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data,
        ).apply(lambda values: build_kubeconfig(
            values[0], values[1], values[2], args.region, args.kubeconfig_role_arn)))
        self.cluster_arn = cluster.arn
        # No Kubernetes provider here: the infrastructure layer never talks to the
        # cluster's API (it may be unreachable from where it runs). The workloads
        # stack builds its provider from `kubeconfig` (see components/workloads/).
        self.register_outputs({
            "cluster_name": self.cluster_name,
            "endpoint": self.endpoint,
            "cluster_security_group_id": self.cluster_security_group_id,
            "oidc_provider_arn": self.oidc_provider_arn,
            "oidc_issuer": self.oidc_issuer,
            "kubeconfig": self.kubeconfig,
        })

    # -- helpers ---------------------------------------------------------------------

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return child_options(self, self._provider, **kwargs)

    def _stateful(self, **kwargs: object) -> pulumi.ResourceOptions:
        return stateful_options(self._protection, self._child(**kwargs))

    def _policy_arn(self, name: str) -> str:
        return f"arn:{self._partition.partition}:iam::aws:policy/{name}"

    def _kms_key(self, cluster_role: aws.iam.Role) -> aws.kms.Key:
        # One key for the cluster's secrets and its control-plane logs. Only two
        # principals use it: the cluster role (envelope encryption calls KMS directly
        # with the role's credentials, so kms:ViaService does not apply) and CloudWatch
        # Logs for this cluster's log group; the account only administers it.
        args = self._args
        partition = self._partition
        return customer_managed_key(
            f"{self._prefix}-key",
            description=f"Encrypts the Kubernetes secrets and control-plane logs of "
                        f"{args.cluster_name}",
            tier=args.tier, protection=self._protection, tags=self._tags,
            opts=self._child(),
            policy=cluster_role.arn.apply(lambda role_arn: key_policy(KeyScope(
                partition.partition, self._account_id, args.region, partition.dns_suffix,
                # The EKS service creates the key's grants for the cluster.
                services=("eks",), log_groups=(self._log_group_name,),
                role_arns=(role_arn,)))))

    @property
    def _log_group_name(self) -> str:
        # The exact name EKS writes control-plane logs to.
        return f"/aws/eks/{self._args.cluster_name}/cluster"

    def _log_group(self, key: aws.kms.Key) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self._prefix}-control-plane-logs",
            name=self._log_group_name,
            retention_in_days=self._args.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags,
            opts=self._stateful(),
        )

    def _cluster_role(self) -> aws.iam.Role:
        return aws.iam.Role(
            f"{self._prefix}-cluster-role",
            description=f"EKS control plane of {self._args.cluster_name}",
            assume_role_policy=_trust("eks.amazonaws.com", "sts:AssumeRole"),
            tags=self._tags,
            opts=self._child(),
        )

    def _cluster_role_grants_for(self, role: aws.iam.Role, key: aws.kms.Key
                                 ) -> list[pulumi.Resource]:
        return [
            aws.iam.RolePolicyAttachment(
                f"{self._prefix}-cluster-policy", role=role.name,
                policy_arn=self._policy_arn("AmazonEKSClusterPolicy"), opts=self._child()),
            # Envelope encryption: the control plane wraps data keys with the CMK.
            aws.iam.RolePolicy(
                f"{self._prefix}-cluster-kms", role=role.id,
                policy=key.arn.apply(lambda arn: json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow",
                                   "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants",
                                              "kms:DescribeKey"],
                                   "Resource": arn}],
                }, sort_keys=True)),
                opts=self._child()),
        ]

    def _cluster(self, key: aws.kms.Key, log_group: aws.cloudwatch.LogGroup,
                 role: aws.iam.Role) -> aws.eks.Cluster:
        args = self._args
        public = not args.api_access.private
        return aws.eks.Cluster(
            f"{self._prefix}-cluster",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.private_subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.api_access.allowlist) if public else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            bootstrap_self_managed_addons=False,
            # Upgraded at the end of standard support instead of entering paid extended
            # support; versions.py only accepts versions in standard support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=EKS_SUPPORT_TYPE),
            # Zonal shift lets ARC move traffic away from an impaired zone.
            zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(
                enabled=args.tier != "dev"),
            deletion_protection=self._protection.deletion_protection,
            tags=self._tags,
            # The log group must exist first or EKS creates one without retention;
            # the role must hold its policies before EKS assumes it.
            opts=self._stateful(depends_on=[log_group, *self._cluster_role_grants]),
        )

    def _oidc_provider(self, cluster: aws.eks.Cluster) -> aws.iam.OpenIdConnectProvider:
        # No thumbprint: IAM fetches the issuer's CA thumbprint itself when none is given,
        # so no hard-coded, expiring fingerprint lives in the program.
        return aws.iam.OpenIdConnectProvider(
            f"{self._prefix}-oidc",
            url=cluster.identities.apply(lambda ids: f"https://{_issuer_host(ids)}"),
            client_id_lists=["sts.amazonaws.com"],
            tags=self._tags,
            opts=self._child(),
        )

    def _admin_access(self, cluster: aws.eks.Cluster) -> None:
        policy_arn = (f"arn:{self._partition.partition}:eks::aws:cluster-access-policy/"
                      f"{CLUSTER_ADMIN_POLICY}")
        for index, principal in enumerate(self._args.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{self._prefix}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=self._tags,
                opts=self._child(),
            )
            aws.eks.AccessPolicyAssociation(
                f"{self._prefix}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=policy_arn,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=self._child(),
            )

    def _addon(self, cluster: aws.eks.Cluster, name: str,
               depends_on: Sequence[pulumi.Resource] = (),
               pod_identity: Sequence[aws.eks.AddonPodIdentityAssociationArgs] = (),
               ) -> aws.eks.Addon:
        # No addon_version: EKS installs the default version for the cluster's
        # Kubernetes version, and Pulumi is the only writer of the add-on's config.
        return aws.eks.Addon(
            f"{self._prefix}-{name}",
            cluster_name=cluster.name,
            addon_name=name,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            pod_identity_associations=list(pod_identity) or None,
            tags=self._tags,
            opts=self._child(depends_on=list(depends_on)),
        )

    def _node_role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._prefix}-node-role",
            description=f"EKS managed nodes of {self._args.cluster_name}",
            assume_role_policy=_trust("ec2.amazonaws.com", "sts:AssumeRole"),
            tags=self._tags,
            opts=self._child(),
        )
        self._node_role_grants = [
            aws.iam.RolePolicyAttachment(
                f"{self._prefix}-node-{policy}", role=role.name,
                policy_arn=self._policy_arn(policy), opts=self._child())
            for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                           "AmazonEC2ContainerRegistryReadOnly")
        ]
        return role

    def _launch_template(self, group: NodeGroupArgs) -> aws.ec2.LaunchTemplate:
        args = self._args
        # No image, instance profile or security groups: EKS fills those in for
        # managed node groups (an instance profile here makes the node group fail).
        return aws.ec2.LaunchTemplate(
            f"{self._prefix}-{group.name}-lt",
            description=f"Nodes of {args.cluster_name}/{group.name}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=args.imds_hop_limit,
            ),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                # The root device of the AL2023 EKS AMIs.
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=group.root_volume_gib,
                    volume_type="gp3",
                    # The account's aws/ebs key: a customer key would need grants for
                    # the Auto Scaling service-linked role or nodes fail to launch.
                    encrypted="true",
                    delete_on_termination="true",
                ),
            )],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=self._tags)
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=self._tags,
            opts=self._child(),
        )

    def _node_group(self, cluster: aws.eks.Cluster, role: aws.iam.Role, group: NodeGroupArgs,
                    early_addons: Sequence[aws.eks.Addon]) -> aws.eks.NodeGroup:
        args = self._args
        template = self._launch_template(group)
        # desiredSize is only the initial size: after creation it belongs to whoever
        # scales the group (node repair, an operator, an autoscaler), and re-applying it
        # on every `up` would undo them. min/max stay Pulumi's.
        ignore = ["scalingConfig.desiredSize"]
        return aws.eks.NodeGroup(
            f"{self._prefix}-{group.name}",
            cluster_name=cluster.name,
            node_group_name_prefix=f"{group.name}-",
            node_role_arn=role.arn,
            # Every zone's private subnet: the Auto Scaling group balances across them.
            subnet_ids=args.private_subnet_ids,
            version=cluster.version,
            ami_type=group.ami_type,
            capacity_type=group.capacity_type,
            instance_types=list(group.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=group.min_size,
                max_size=group.max_size,
                desired_size=group.initial_desired_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(
                max_unavailable=group.max_unavailable),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id,
                version=template.latest_version.apply(str),
            ),
            # Replace unhealthy nodes automatically instead of paging someone.
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            labels=dict(group.labels) or None,
            tags=self._tags,
            opts=self._child(
                ignore_changes=ignore,
                depends_on=[*self._node_role_grants, *early_addons],
            ),
        )

    def _late_addons(self, cluster: aws.eks.Cluster, node_groups: Sequence[aws.eks.NodeGroup],
                     early_addons: Sequence[aws.eks.Addon]) -> None:
        self._addon(cluster, "coredns", depends_on=node_groups)
        ebs_role = aws.iam.Role(
            f"{self._prefix}-ebs-csi-role",
            description=f"EBS CSI controller of {self._args.cluster_name} (Pod Identity)",
            assume_role_policy=_trust("pods.eks.amazonaws.com", "sts:AssumeRole",
                                      "sts:TagSession"),
            tags=self._tags,
            opts=self._child(),
        )
        grant = aws.iam.RolePolicyAttachment(
            f"{self._prefix}-ebs-csi-policy", role=ebs_role.name,
            policy_arn=self._policy_arn("service-role/AmazonEBSCSIDriverPolicy"),
            opts=self._child())
        self._addon(
            cluster, "aws-ebs-csi-driver",
            depends_on=[*node_groups, *early_addons, grant],
            pod_identity=[aws.eks.AddonPodIdentityAssociationArgs(
                role_arn=ebs_role.arn, service_account=EBS_CSI_SERVICE_ACCOUNT)],
        )


def _issuer_host(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The OIDC issuer without its scheme, as IAM trust-policy conditions spell it."""
    for identity in identities or []:
        for oidc in identity.oidcs or []:
            if oidc.issuer:
                return oidc.issuer.removeprefix("https://")
    return ""
