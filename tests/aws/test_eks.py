"""The AWS EKS cluster component under the recording mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.eks import (
    CONTROL_PLANE_LOG_TYPES,
    EksCluster,
    EksClusterArgs,
    NodeGroupArgs,
    build_kubeconfig,
)
from components.aws.network import Network, NetworkArgs
from components.base import ApiAccess, Tier
from hastack.config.loader import load_settings
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ADMIN_ARN = "arn:aws:iam::123456789012:role/platform-admin"
BREAK_GLASS_ARN = "arn:aws:iam::123456789012:role/ops/break-glass"


def _plan(tier: Tier = "prod", **overrides: Any) -> Recording:
    zone_ids = ("use1-az1", "use1-az2", "use1-az4")[:2 if tier == "dev" else 3]
    nat = "single" if tier == "dev" else "per-zone"

    def program() -> None:
        provider = aws.Provider("regional", region="us-east-1")
        network = Network("net", NetworkArgs(
            name="hastack", region="us-east-1", tier=tier, cidr="10.10.0.0/16",
            zone_ids=zone_ids, nat_gateways=nat), provider=provider)
        fields: dict[str, Any] = {"node_groups": (NodeGroupArgs(min_size=3, max_size=6),)}
        fields.update(overrides)
        cluster = EksCluster("eks", EksClusterArgs(
            name="hastack", region="us-east-1", tier=tier, vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids, **fields), provider=provider)
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("oidc_issuer", cluster.oidc_issuer)
        pulumi.export("oidc_provider_arn", cluster.oidc_provider_arn)
        pulumi.export("cluster_name", cluster.cluster_name)
        pulumi.export("endpoint", cluster.endpoint)

    return run_program(program, project="hastack", stack="test", config={})


_of = Recording.of_type


def _one(recording: Recording, type_token: str,
         where: Callable[[Registration], bool] = lambda _: True) -> Registration:
    found = _of(recording, type_token, where)
    assert len(found) == 1, f"expected one {type_token}, got {len(found)}"
    return found[0]


def _named(suffix: str) -> Callable[[Registration], bool]:
    return lambda r: r.name.endswith(suffix)


def _eks_key(recording: Recording) -> Registration:
    return _one(recording, "aws:kms/key:Key", _named("eks-key"))


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev", node_groups=(NodeGroupArgs(min_size=2, max_size=3),))


def test_api_endpoint_is_private_by_default(prod: Recording) -> None:
    vpc_config = _one(prod, CLUSTER).inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config


def test_public_endpoint_only_for_the_given_cidrs() -> None:
    recording = _plan("prod", api_access=ApiAccess.only_from("198.51.100.0/24"))
    vpc_config = _one(recording, CLUSTER).inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_prod_refuses_an_api_open_to_the_internet() -> None:
    with pytest.raises(ValueError, match=r"0\.0\.0\.0/0"):
        _plan("prod", api_access=ApiAccess(("0.0.0.0/0",)))


def test_an_allowlist_never_names_the_whole_internet() -> None:
    with pytest.raises(ValueError, match=r"never 0\.0\.0\.0/0"):
        ApiAccess.only_from("0.0.0.0/0")
    with pytest.raises(ValueError, match="at least one"):
        ApiAccess.only_from()


def test_no_kubernetes_provider_in_the_infrastructure_layer(prod: Recording) -> None:
    # The cluster's API may be unreachable from where the infrastructure is deployed.
    assert not [r for r in prod.registrations if r.type.startswith("pulumi:providers:kubernetes")]
    assert not [r for r in prod.registrations if r.type.startswith("kubernetes:")]


def test_cluster_spans_the_private_subnets_of_every_zone(prod: Recording) -> None:
    private = _of(prod, "aws:ec2/subnet:Subnet",
                  lambda r: r.inputs["tags"]["hastack:subnet-tier"] == "private")
    assert set(_one(prod, CLUSTER).inputs["vpcConfig"]["subnetIds"]) == {s.id for s in private}


def test_secrets_are_envelope_encrypted_with_the_components_rotating_key(
        prod: Recording) -> None:
    key = _eks_key(prod)
    assert key.inputs["enableKeyRotation"] is True
    encryption = _one(prod, CLUSTER).inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"] == key.outputs["arn"]
    grant = json.loads(_one(prod, "aws:iam/rolePolicy:RolePolicy",
                            _named("cluster-kms")).inputs["policy"])
    assert grant["Statement"][0]["Resource"] == key.outputs["arn"]
    assert "kms:Encrypt" in grant["Statement"][0]["Action"]


def test_control_plane_logs_go_to_a_precreated_group_with_retention(prod: Recording) -> None:
    cluster = _one(prod, CLUSTER)
    assert cluster.inputs["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
    assert {"api", "audit", "authenticator"} <= set(CONTROL_PLANE_LOG_TYPES)
    group = _one(prod, "aws:cloudwatch/logGroup:LogGroup", _named("control-plane-logs"))
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["kmsKeyId"] == _eks_key(prod).outputs["arn"]
    assert group.urn in cluster.dependencies


def test_access_is_by_api_with_no_implicit_creator_admin(prod: Recording) -> None:
    access = _one(prod, CLUSTER).inputs["accessConfig"]
    assert access == {"authenticationMode": "API",
                      "bootstrapClusterCreatorAdminPermissions": False}
    assert _of(prod, "aws:eks/accessEntry:AccessEntry") == []
    assert _of(prod, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation") == []


def test_listed_admin_roles_get_cluster_admin() -> None:
    recording = _plan("prod", admin_role_arns=(ADMIN_ARN, BREAK_GLASS_ARN))
    entries = _of(recording, "aws:eks/accessEntry:AccessEntry")
    assert sorted(e.inputs["principalArn"] for e in entries) == sorted(
        [ADMIN_ARN, BREAK_GLASS_ARN])
    assert all(e.inputs["type"] == "STANDARD" for e in entries)
    associations = _of(recording, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert sorted(a.inputs["principalArn"] for a in associations) == sorted(
        [ADMIN_ARN, BREAK_GLASS_ARN])
    for association in associations:
        assert association.inputs["policyArn"] == (
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
        assert association.inputs["accessScope"] == {"type": "cluster"}


def test_node_group_covers_every_zone(prod: Recording) -> None:
    zone_of = {s.id: s.inputs["availabilityZoneId"]
               for s in _of(prod, "aws:ec2/subnet:Subnet")}
    group = _one(prod, NODE_GROUP)
    zones = {zone_of[subnet] for subnet in group.inputs["subnetIds"]}
    assert zones == {"use1-az1", "use1-az2", "use1-az4"}
    assert all(s.startswith("subnet-") for s in group.inputs["subnetIds"])


def test_node_group_scaling_and_rolling_updates(prod: Recording) -> None:
    group = _one(prod, NODE_GROUP)
    assert group.inputs["scalingConfig"] == {"minSize": 3, "maxSize": 6, "desiredSize": 3}
    assert group.inputs["updateConfig"] == {"maxUnavailable": 1}
    assert group.inputs["version"] == _one(prod, CLUSTER).inputs["version"]


def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(prod: Recording) -> None:
    template = _one(prod, "aws:ec2/launchTemplate:LaunchTemplate")
    metadata = template.inputs["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpEndpoint"] == "enabled"
    assert metadata["httpPutResponseHopLimit"] == 1
    (mapping,) = template.inputs["blockDeviceMappings"]
    assert mapping["ebs"]["encrypted"] == "true"
    assert mapping["ebs"]["volumeType"] == "gp3"
    assert "iamInstanceProfile" not in template.inputs
    launch = _one(prod, NODE_GROUP).inputs["launchTemplate"]
    assert launch == {"id": template.id, "version": "1"}


def test_desired_size_is_left_alone_after_creation(prod: Recording) -> None:
    group = _one(prod, NODE_GROUP)
    assert group.ignore_changes == ["scalingConfig.desiredSize"]
    scaling = group.inputs["scalingConfig"]
    # min/max stay managed (nodesMax is applied), desired starts at the minimum.
    assert (scaling["minSize"], scaling["maxSize"], scaling["desiredSize"]) == (3, 6, 3)


def test_core_addons_are_managed_and_ordered_around_the_nodes(prod: Recording) -> None:
    addons = {a.inputs["addonName"]: a for a in _of(prod, ADDON)}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent",
                           "aws-ebs-csi-driver"}
    assert _one(prod, CLUSTER).inputs["bootstrapSelfManagedAddons"] is False
    group = _one(prod, NODE_GROUP)
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[name].urn in group.dependencies, name
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert group.urn in addons[name].dependencies, name


def test_ebs_csi_driver_gets_its_role_through_pod_identity(prod: Recording) -> None:
    addon = _one(prod, ADDON, lambda a: a.inputs["addonName"] == "aws-ebs-csi-driver")
    role = _one(prod, "aws:iam/role:Role", _named("ebs-csi-role"))
    assert addon.inputs["podIdentityAssociations"] == [
        {"roleArn": role.outputs["arn"], "serviceAccount": "ebs-csi-controller-sa"}]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    attachment = _one(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                      _named("ebs-csi-policy"))
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")


def test_cluster_and_node_roles_carry_the_aws_managed_policies(prod: Recording) -> None:
    attached = {a.inputs["policyArn"].rsplit("/", 1)[-1]
                for a in _of(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert {"AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly"} <= attached
    cluster_role = _one(prod, "aws:iam/role:Role", _named("cluster-role"))
    assert _one(prod, CLUSTER).inputs["roleArn"] == cluster_role.outputs["arn"]
    node_role = _one(prod, "aws:iam/role:Role", _named("node-role"))
    assert _one(prod, NODE_GROUP).inputs["nodeRoleArn"] == node_role.outputs["arn"]


def test_oidc_provider_for_irsa(prod: Recording) -> None:
    oidc = _one(prod, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    assert "thumbprintLists" not in oidc.inputs
    issuer = prod.outputs["oidc_issuer"]
    assert not issuer.startswith("https://")
    assert oidc.inputs["url"] == f"https://{issuer}"
    assert prod.outputs["oidc_provider_arn"] == oidc.outputs["arn"]


def test_kubeconfig_is_a_secret_everywhere(prod: Recording) -> None:
    assert prod.outputs["kubeconfig"] == "[secret]"
    assert "kubeconfig" in prod.output_secrets
    # No Kubernetes provider in the infrastructure layer; the workloads stack builds it.
    assert not _of(prod, "pulumi:providers:kubernetes")
    assert prod.outputs["cluster_name"] == "hastack-us-east-1"
    assert prod.outputs["endpoint"].startswith("https://")


def test_kubeconfig_fetches_a_token_with_the_aws_cli() -> None:
    config = json.loads(build_kubeconfig("c1", "https://api.example", "Q0E=", "eu-west-1",
                                         role_arn=ADMIN_ARN))
    assert config["clusters"][0]["cluster"] == {"server": "https://api.example",
                                                "certificate-authority-data": "Q0E="}
    execution = config["users"][0]["user"]["exec"]
    assert execution["command"] == "aws"
    assert execution["args"][:4] == ["eks", "get-token", "--cluster-name", "c1"]
    assert execution["args"][-2:] == ["--role-arn", ADMIN_ARN]
    assert "--region" in execution["args"] and "eu-west-1" in execution["args"]
    plain = json.loads(build_kubeconfig("c1", "https://api.example", "Q0E=", "eu-west-1"))
    assert "--role-arn" not in plain["users"][0]["user"]["exec"]["args"]


def test_prod_protects_the_cluster_and_its_key_and_dev_does_not(
        prod: Recording, dev: Recording) -> None:
    for recording, expected in ((prod, True), (dev, False)):
        cluster = _one(recording, CLUSTER)
        assert cluster.protect is expected
        assert cluster.inputs["deletionProtection"] is expected
        assert _eks_key(recording).protect is expected


def test_every_aws_resource_is_pinned_to_the_regions_provider(prod: Recording) -> None:
    provider = _one(prod, "pulumi:providers:aws")
    component = _one(prod, "hastack:aws:EksCluster")
    children = [r for r in prod.registrations
                if r.parent == component.urn and r.type.startswith("aws:")]
    assert len(children) >= 20
    assert all(r.provider == provider.urn for r in children)


@pytest.mark.parametrize("tier", ["dev", "staging", "prod"])
def test_every_tier_needs_at_least_two_nodes(tier: Tier) -> None:
    # The tier profile's kubernetes.nodesMin floor (hastack/config/tiers.py), as the config.
    with pytest.raises(ValueError, match="min_size >= 2"):
        _plan(tier, node_groups=(NodeGroupArgs(min_size=1, max_size=3),))


def test_dev_runs_the_floor_of_two_nodes(dev: Recording) -> None:
    assert _one(dev, NODE_GROUP).inputs["scalingConfig"]["minSize"] == 2


@pytest.mark.parametrize("overrides, message", [
    ({"admin_role_arns": ("arn:aws:sts::123456789012:assumed-role/admin/session",)},
     "not an IAM role or user ARN"),
    ({"kubeconfig_role_arn": ADMIN_ARN}, "must be one of admin_role_arns"),
    ({"api_access": ApiAccess(("10.0.0.1/8",))}, "not a CIDR"),
    ({"node_groups": (NodeGroupArgs(min_size=4, max_size=3),)}, "min_size <= max_size"),
    ({"imds_hop_limit": 0}, "imds_hop_limit"),
])
def test_invalid_arguments_are_errors(overrides: dict[str, Any], message: str) -> None:
    args = EksClusterArgs(name="hastack", region="us-east-1", tier="prod", vpc_id="vpc-1",
                          private_subnet_ids=["subnet-1", "subnet-2"], **overrides)
    with pytest.raises(ValueError, match=message):
        args.validate()


def test_from_config_uses_the_tier_sizes() -> None:
    config = load_settings({
        "cloud": "aws", "tier": "prod", "orchestrator": "prefect",
        "regions": {"primary": "us-east-1", "secondary": "us-west-2"},
        "dns": {"domain": "example.com"},
        "kubernetes": {"ignoreScalingChanges": True},
    }, "test")
    args = EksClusterArgs.from_config(config, "hastack", "us-east-1", "vpc-1", ["subnet-1"],
                                      admin_role_arns=[ADMIN_ARN])
    (group,) = args.node_groups
    assert (group.min_size, group.max_size, group.instance_types) == (3, 12, ("m6i.2xlarge",))
    assert args.log_retention_days == 365
    assert args.api_access.private and args.admin_role_arns == (ADMIN_ARN,)
    args.validate()


def test_cluster_key_is_usable_only_by_the_cluster_role_eks_and_its_log_group(
        prod: Recording) -> None:
    key = _eks_key(prod)
    role = _one(prod, "aws:iam/role:Role", _named("cluster-role"))
    policy = json.loads(key.inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["UseByRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        role.outputs["arn"]]
    assert by_sid["UseThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"] == [
        "eks.us-east-1.amazonaws.com"]
    assert "kms:Decrypt" not in by_sid["AccountAdministersKeyThroughIam"]["Action"]
