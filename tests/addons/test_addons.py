"""The add-on catalogue: values, identities, order, extras, and the GPU switch."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.addons import aws_load_balancer_controller as lbc
from components.addons import karpenter, metrics_server, storage
from components.addons.base import AddOnError, identity_requests, install_order
from components.addons.catalog import ADDONS
from components.k8s import conformance
from components.k8s.identity import IRSA_ANNOTATION
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program
from tests.addons.conftest import make_context

RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
Installed = Callable[..., Recording]


def _releases(recording: Recording) -> dict[str, Registration]:
    return {r.inputs["name"]: r for r in Recording.of_type(recording, RELEASE)}


def _in_program(check: Callable[[], None]) -> None:
    """Run `check` inside a mock program (contexts create a Kubernetes provider)."""
    errors: list[BaseException] = []

    def program() -> None:
        try:
            check()
        except BaseException as error:
            errors.append(error)

    run_program(program, project="hastack", stack="test", config={})
    if errors:
        raise errors[0]


# --- the load balancer controller ---------------------------------------------------------


def test_controller_policy_is_the_published_one() -> None:
    try:
        root = conformance.chart_data_dir()
    except conformance.ChartDataMissing as missing:
        pytest.skip(f"IAM POLICY NOT COMPARED: {missing}")
    published = json.loads((root / "aws-load-balancer-controller" / "3.5.0" /
                            "iam_policy.json").read_text())
    assert lbc.controller_policy() == published
    # IAM counts the policy without whitespace; an inline policy may hold 10,240.
    assert len(json.dumps(published, separators=(",", ":"))) < 10240


def test_other_partitions_are_refused_not_guessed() -> None:
    with pytest.raises(AddOnError, match="aws-cn"):
        lbc.controller_policy("aws-cn")


def test_controller_values_survive_imds_hop_limit_and_are_ha(installed: Installed) -> None:
    values = _releases(installed())["aws-load-balancer-controller"].inputs["values"]
    assert (values["clusterName"], values["region"], values["vpcId"]) == (
        "hastack-prod-us-east-1", "us-east-1", "vpc-0123456789abcdef0")
    assert values["replicaCount"] >= 2
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["keepTLSSecret"] is True
    (spread,) = values["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == lbc.RELEASE
    assert values["serviceAccount"] == {
        "create": True, "name": "aws-load-balancer-controller",
        "annotations": {IRSA_ANNOTATION: "arn:aws:iam::123456789012:role/lbc"}}


def test_missing_identity_or_vpc_is_one_clear_error() -> None:
    def check() -> None:
        with pytest.raises(AddOnError, match="needs its cloud identity"):
            lbc.values(make_context(identities={}))
        with pytest.raises(AddOnError, match="vpc_id"):
            lbc.values(make_context(vpc_id=None))
        with pytest.raises(AddOnError, match="KarpenterSettings"):
            karpenter.values(make_context(settings={}))
    _in_program(check)


def test_identity_requests_name_exact_service_accounts() -> None:
    found: dict[str, Any] = {}
    _in_program(lambda: found.update(identity_requests(ADDONS, make_context())))
    # No alert topic in this context: Alertmanager needs no cloud identity.
    assert sorted(found) == ["aws-load-balancer-controller", "karpenter"]
    assert [a.irsa_subject for a in found["aws-load-balancer-controller"].service_accounts] == [
        "system:serviceaccount:kube-system:aws-load-balancer-controller"]
    assert [a.irsa_subject for a in found["karpenter"].service_accounts] == [
        "system:serviceaccount:karpenter:karpenter"]
    assert json.loads(found["aws-load-balancer-controller"].aws_policy_json) == (
        lbc.controller_policy())
    # Karpenter's policies need queue/role ARNs: the infrastructure side attaches them.
    assert found["karpenter"].aws_policy_json is None


# --- order and dependencies ----------------------------------------------------------------


def test_everything_with_a_service_waits_for_the_controller_webhook(installed: Installed
                                                                    ) -> None:
    order = [a.name for a in install_order(ADDONS)]
    assert order[0] == "aws-load-balancer-controller"
    assert order.index("karpenter") < order.index("gpu-capacity")
    releases = _releases(installed())
    controller = releases["aws-load-balancer-controller"].urn
    for name in ("karpenter", "metrics-server"):
        assert controller in releases[name].dependencies, name


def test_extras_wait_for_their_release(installed: Installed) -> None:
    recording = installed()
    karpenter_release = _releases(recording)["karpenter"].urn
    for registration in (*Recording.of_type(recording, NODE_POOL),
                         *Recording.of_type(recording, NODE_CLASS)):
        assert karpenter_release in registration.dependencies, registration.name


# --- metrics-server, storage ----------------------------------------------------------------


def test_metrics_server_is_ha_and_its_update_cannot_wedge(installed: Installed) -> None:
    values = _releases(installed())["metrics-server"].inputs["values"]
    assert values["replicas"] == 2
    assert values["podDisruptionBudget"]["enabled"] is True
    anti = values["affinity"]["podAntiAffinity"]
    (term,) = anti["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server"}
    assert values["updateStrategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_one_default_storage_class_encrypted_gp3(installed: Installed) -> None:
    (sc,) = Recording.of_type(installed(), STORAGE_CLASS)
    assert sc.inputs["metadata"]["annotations"] == {storage.DEFAULT_ANNOTATION: "true"}
    assert sc.inputs["provisioner"] == "ebs.csi.aws.com"
    assert sc.inputs["parameters"]["type"] == "gp3"
    assert sc.inputs["parameters"]["encrypted"] == "true"
    assert sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"


def test_storage_class_refuses_clusters_whose_gp2_is_still_default() -> None:
    def check() -> None:
        with pytest.raises(AddOnError, match="gp2"):
            storage.extras(make_context(kubernetes_version="1.29"), "x", None,
                           pulumi.ResourceOptions())
    _in_program(check)


# --- Karpenter and GPU capacity --------------------------------------------------------------


def test_karpenter_values_keep_the_chart_placement(installed: Installed) -> None:
    values = _releases(installed())["karpenter"].inputs["values"]
    assert values["settings"]["clusterName"] == "hastack-prod-us-east-1"
    assert values["settings"]["interruptionQueue"] == "hastack-prod-us-east-1"
    # The chart's default affinity keeps the controller off Karpenter's own nodes.
    for key in ("affinity", "topologySpreadConstraints", "tolerations", "nodeSelector"):
        assert key not in values
    assert values["replicas"] == 2
    assert {"name": "AWS_REGION", "value": "us-east-1"} in values["controller"]["env"]


def test_general_pool_uses_our_subnets_and_imdsv2(installed: Installed) -> None:
    recording = installed()
    (node_class,) = Recording.of_type(recording, NODE_CLASS)
    spec = node_class.inputs["spec"]
    assert spec["subnetSelectorTerms"] == [{"id": s} for s in ("subnet-a", "subnet-b",
                                                               "subnet-c")]
    assert spec["securityGroupSelectorTerms"] == [{"id": "sg-cluster"}]
    assert spec["role"] == "karpenter-node"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert all(d["ebs"]["encrypted"] is True for d in spec["blockDeviceMappings"])
    (pool,) = Recording.of_type(recording, NODE_POOL)
    assert pool.inputs["spec"]["limits"] == {"cpu": str(karpenter.CPU_LIMIT["prod"])}
    zones = next(r for r in pool.inputs["spec"]["template"]["spec"]["requirements"]
                 if r["key"] == "topology.k8s.aws/zone-id")
    assert zones["values"] == ["use1-az1", "use1-az2", "use1-az4"]


def test_gpu_capacity_is_off_by_default(installed: Installed) -> None:
    names = {r.inputs["metadata"]["name"] for r in Recording.of_type(installed(), NODE_POOL)}
    assert names == {"general"}


def test_gpu_switch_adds_a_tainted_pool_that_scales_to_zero(installed: Installed) -> None:
    recording = installed(gpu=True)
    pools = {r.inputs["metadata"]["name"]: r for r in Recording.of_type(recording, NODE_POOL)}
    spec = pools["gpu"].inputs["spec"]
    assert spec["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert spec["limits"] == {"nvidia.com/gpu": "3"}
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    classes = {r.inputs["metadata"]["name"]: r for r in Recording.of_type(recording, NODE_CLASS)}
    # Bottlerocket's NVIDIA variant carries the device plugin: no DaemonSet to install.
    assert classes["gpu"].inputs["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
    karpenter_release = _releases(recording)["karpenter"].urn
    assert karpenter_release in pools["gpu"].dependencies


def test_no_aws_add_on_on_gcp(installed: Installed) -> None:
    recording = installed(cloud="gcp")
    # Only the cloud-neutral monitoring add-ons (components/addons/monitoring.py) remain.
    names = {r.inputs["name"] for r in Recording.of_type(recording, RELEASE)}
    assert names <= {"kube-prometheus-stack", "prometheus-prefect-exporter"}
    assert not Recording.of_type(recording, STORAGE_CLASS)


def test_metrics_server_has_no_cloud_identity() -> None:
    assert metrics_server.ADDON.identity is None
