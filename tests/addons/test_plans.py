"""What every environment's plan holds: add-ons, their cloud side, and rollouts that finish."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.aws.karpenter import INTERRUPTION_EVENTS
from components.k8s import rollout
from components.k8s.charts import chart_by_name
from components.k8s.rollout import Capacity, blocked, plan_blockers, shape
from hastack.plan.stackfile import stack_names
from hastack.stacks import stack_info
from tests.addons.conftest import AWS_STACKS, environment, golden
from tests.conftest import REPO

RELEASE = "kubernetes:helm.sh/v3:Release"
ADDON_RELEASES = {"aws-load-balancer-controller", "karpenter", "metrics-server"}


def _regions(plan: dict[str, Any]) -> list[str]:
    return [r for r in plan["regions"].values() if r]


def _of(plan: dict[str, Any], type_: str, region: str | None = None) -> list[dict[str, Any]]:
    return [r for r in plan["resources"]
            if r["type"] == type_ and (region is None or r.get("region") == region)]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_cluster_gets_the_add_ons(stack: str) -> None:
    plan = environment(stack)
    for region in _regions(plan):
        releases = {r["inputs"]["name"]: r for r in _of(plan, RELEASE, region)}
        assert set(releases) >= ADDON_RELEASES, (stack, region)
        classes = _of(plan, "kubernetes:storage.k8s.io/v1:StorageClass", region)
        assert [c["inputs"]["metadata"]["annotations"] for c in classes] == [
            {"storageclass.kubernetes.io/is-default-class": "true"}]
        pools = [p["inputs"]["metadata"]["name"]
                 for p in _of(plan, "kubernetes:karpenter.sh/v1:NodePool", region)]
        assert pools == ["general"], "GPU capacity is off unless the stack file turns it on"
        # The orchestrator's releases wait for the controller's fail-closed webhook.
        controller = releases["aws-load-balancer-controller"]["urn"]
        for name, release in releases.items():
            if name.startswith(("prefect", "argo")):
                assert controller in release["dependencies"], (stack, region, name)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_cluster_has_karpenters_cloud_side(stack: str) -> None:
    plan = golden(stack)
    for region in _regions(plan):
        (queue,) = _of(plan, "aws:sqs/queue:Queue", region)
        assert queue["inputs"]["sqsManagedSseEnabled"] is True
        assert queue["inputs"]["messageRetentionSeconds"] == 300
        (queue_policy,) = _of(plan, "aws:sqs/queuePolicy:QueuePolicy", region)
        deny = json.loads(queue_policy["inputs"]["policy"])["Statement"][1]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}}
        patterns = sorted(json.loads(r["inputs"]["eventPattern"])["detail-type"][0]
                          for r in _of(plan, "aws:cloudwatch/eventRule:EventRule", region)
                          # Alarm forwarding (components/aws/alarms.py) is not Karpenter's.
                          if json.loads(r["inputs"]["eventPattern"])["source"]
                          != ["aws.cloudwatch"])
        assert patterns == sorted(d for _, d in INTERRUPTION_EVENTS.values())
        targets = [t for t in _of(plan, "aws:cloudwatch/eventTarget:EventTarget", region)
                   if "-alarms-" not in t["name"]]
        assert len(targets) == 5
        entries = [e for e in _of(plan, "aws:eks/accessEntry:AccessEntry", region)
                   if e["inputs"].get("type") == "EC2_LINUX"]
        assert len(entries) == 1, "Karpenter's nodes need an EC2_LINUX access entry to join"


def test_irsa_roles_trust_exact_service_accounts_only() -> None:
    plan = golden("prod")
    roles = [r for r in _of(plan, "aws:iam/role:Role") if "addon-identities" in r["name"]]
    # The load balancer controller, Karpenter and Alertmanager (its alert topic), per region.
    assert len(roles) == 3 * len(_regions(plan))
    subjects = {"karpenter": "system:serviceaccount:karpenter:karpenter",
                "kube-prometheus-stack":
                    "system:serviceaccount:monitoring:kube-prometheus-stack-alertmanager",
                "aws-load-balancer-controller":
                    "system:serviceaccount:kube-system:aws-load-balancer-controller"}
    for role in roles:
        (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        (sub,) = [v for k, v in statement["Condition"]["StringEquals"].items()
                  if k.endswith(":sub")]
        (addon,) = [a for a in subjects if role["name"].endswith(a)]
        assert sub == [subjects[addon]]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_node_groups_leave_desired_size_alone(stack: str) -> None:
    for group in _of(golden(stack), "aws:eks/nodeGroup:NodeGroup"):
        assert group["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_outputs_name_the_add_on_identities_per_region() -> None:
    outputs = golden("prod")["outputs"]
    assert set(outputs["addonRoleArns"]) == {"us-east-1", "us-west-2"}
    assert set(outputs["addonRoleArns"]["us-east-1"]) == {"aws-load-balancer-controller",
                                                          "karpenter", "kube-prometheus-stack"}
    assert set(outputs["karpenterInterruptionQueues"]) == {"us-east-1", "us-west-2"}
    assert set(outputs["karpenterNodeRoles"]) == {"us-east-1", "us-west-2"}


# --- rolling updates -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [*AWS_STACKS, "gcp-dev", "gcp-prod"])
def test_no_rolling_update_in_any_plan_can_deadlock(stack: str) -> None:
    assert plan_blockers(environment(stack)["resources"]) == {}


def test_every_release_in_every_plan_is_modelled() -> None:
    for stack in (*AWS_STACKS, "gcp-dev", "gcp-prod"):
        for release in _of(environment(stack), RELEASE):
            assert rollout.chart_name(release["inputs"]["chart"]) in rollout.CHART_MODELS


def test_the_old_prod_shape_is_caught() -> None:
    # prod before: 3 workers, required hostname anti-affinity, default strategy, 3 nodes.
    plan = copy.deepcopy(environment("prod"))
    plan["resources"] = [r for r in plan["resources"]
                         if not (r["type"] == RELEASE and "karpenter" in r["inputs"]["chart"])]
    for release in _of(plan, RELEASE):
        values = release["inputs"]["values"]
        if release["inputs"]["name"] == "prefect-worker" and values["worker"]["replicaCount"]:
            worker = values["worker"]
            worker["autoscaling"]["enabled"] = False
            worker["affinity"] = {"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "kubernetes.io/hostname"}]}}
    problems = plan_blockers(plan["resources"])
    assert list(problems) == ["us-east-1"]  # the standby runs no workers
    (reason,) = problems["us-east-1"]
    assert "prefect-worker/worker" in reason and "maxUnavailable 0" in reason


HARD = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"topologyKey": "kubernetes.io/hostname"}]}}
SOFT = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
    {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}


@pytest.mark.parametrize(("replicas", "rolling", "affinity", "capacity", "stuck"), [
    (3, None, HARD, Capacity(3, False), True),            # the deadlock
    (3, None, HARD, Capacity(4, False), False),           # a spare node
    (3, None, HARD, Capacity(3, True), False),            # the autoscaler adds one
    (3, {"maxSurge": "0", "maxUnavailable": "1"}, HARD, Capacity(3, False), False),
    (3, None, SOFT, Capacity(3, False), False),
    (4, None, HARD, Capacity(3, False), True),            # cannot even place them
    (4, None, HARD, Capacity(8, False), False),           # 25% of 4 = 1 unavailable
    (0, None, HARD, Capacity(0, False), False),           # a standby
])
def test_blocked(replicas: int, rolling: dict[str, Any] | None, affinity: dict[str, Any],
                 capacity: Capacity, stuck: bool) -> None:
    assert (blocked(shape("w", replicas, rolling, affinity), capacity) is not None) is stuck


def test_karpenter_itself_cannot_count_on_the_nodes_it_makes() -> None:
    (controller,) = rollout.release_shapes("oci://public.ecr.aws/karpenter/karpenter",
                                           "karpenter", {"replicas": 3})
    assert controller.required_host_anti_affinity and controller.max_unavailable == 1
    assert blocked(controller, Capacity(2, True)) is not None
    assert blocked(controller, Capacity(3, True)) is None


# --- custom resources on a fresh cluster ------------------------------------------------
# Documented behaviour this relies on (pulumi-kubernetes provider, provider.go): on a first
# `pulumi preview` the cluster does not know a CRD that a chart will install, and the
# provider skips the preview of that kind (Create returns the inputs when the GVK has no
# REST mapping) and Check does not fail it (unless the provider variable
# `rejectUnknownResources` is set, which the Python SDK's Provider does not expose). On
# `pulumi up` Helm applies the chart's `crds/` before its templates, and the provider
# retries a create that meets "no matches for kind". So each custom resource must depend
# on the release whose chart ships its CRD, and a release that renders Prometheus
# Operator kinds (ServiceMonitor, PrometheusRule) on kube-prometheus-stack's.
BUILT_IN_GROUPS = {"core", "apps", "batch", "policy", "autoscaling", "helm.sh",
                   "rbac.authorization.k8s.io", "networking.k8s.io", "storage.k8s.io",
                   "scheduling.k8s.io"}
# Installed by GKE itself: the clusters enable the Gateway API (gatewayApiConfig), which
# brings gateway.networking.k8s.io and GKE's policy kinds (HealthCheckPolicy).
GKE_GROUPS = {"gateway.networking.k8s.io", "networking.gke.io"}
OPERATOR_KEYS = {"serviceMonitor", "podMonitor", "prometheusRule"}
WORKLOADS = [s for s in stack_names(REPO) if stack_info(REPO, s).layer == "workloads"]


def _group(type_token: str) -> str:
    return type_token.split(":")[1].split("/")[0]


def _renders_operator_kinds(values: Any) -> bool:
    if isinstance(values, dict):
        return any((key in OPERATOR_KEYS and isinstance(value, dict) and value.get("enabled"))
                   or _renders_operator_kinds(value) for key, value in values.items())
    return isinstance(values, list) and any(_renders_operator_kinds(v) for v in values)


@pytest.mark.parametrize("stack", WORKLOADS)
def test_custom_resources_wait_for_the_release_that_installs_their_crds(stack: str) -> None:
    plan = golden(stack)
    releases = {r["urn"]: chart_by_name(r["inputs"]["chart"]) for r in _of(plan, RELEASE)}
    shipping = {group: chart.name for chart in releases.values() for group in chart.crd_groups}
    custom = [r for r in plan["resources"] if r["type"].startswith("kubernetes:")
              and _group(r["type"]) not in BUILT_IN_GROUPS]
    assert custom, "no custom resources: the check below would pass vacuously"
    for resource in custom:
        group = _group(resource["type"])
        if group in GKE_GROUPS:
            assert plan["cloud"] == "gcp", (stack, resource["type"])
            continue
        assert group in shipping, (
            f"{resource['type']} ({resource['name']}): no release in {stack} installs its CRD")
        charts = {releases[u].name for u in resource["dependencies"] if u in releases}
        assert shipping[group] in charts, (stack, resource["name"], sorted(charts))
    for urn, chart in releases.items():
        (release,) = [r for r in plan["resources"] if r["urn"] == urn]
        if chart.name != "kube-prometheus-stack" and _renders_operator_kinds(
                release["inputs"]["values"]):
            charts = {releases[u].name for u in release["dependencies"] if u in releases}
            assert "kube-prometheus-stack" in charts, (stack, release["name"])


@pytest.mark.parametrize("env", ["gcp-dev", "gcp-prod"])
def test_gke_clusters_bring_the_gateway_api_kinds(env: str) -> None:
    clusters = _of(golden(env), "gcp:container/cluster:Cluster")
    assert clusters
    assert all(c["inputs"]["gatewayApiConfig"]["channel"] == "CHANNEL_STANDARD"
               for c in clusters)
