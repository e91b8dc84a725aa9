"""What every environment's plan holds: add-ons, their cloud side, and rollouts that finish."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.aws.karpenter import INTERRUPTION_EVENTS
from components.k8s import rollout
from components.k8s.rollout import Capacity, blocked, plan_blockers, shape
from tests.addons.conftest import AWS_STACKS, environment, golden

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
