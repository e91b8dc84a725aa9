"""A cluster context like the platform builds, and recorded installs of the add-on catalogue."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.addons.base import ClusterContext, install
from components.addons.catalog import ADDONS
from components.addons.gpu_capacity import GpuCapacity
from components.addons.karpenter import KarpenterSettings
from hastack.plan.runner import Recording, run_program
from tests.conftest import REPO
from tests.k8s.conftest import KUBECONFIG

ROLE = "arn:aws:iam::123456789012:role/{}"
GOLDEN = REPO / "tests" / "golden"
AWS_STACKS = ("dev", "staging", "prod")


_PROVIDERS = iter(range(1_000_000))


def make_context(*, gpu: bool = False, tier: str = "prod", **overrides: Any) -> ClusterContext:
    """Call inside a running program (it creates a Kubernetes provider)."""
    ctx = ClusterContext(
        cloud="aws", tier=tier, region="us-east-1",  # type: ignore[arg-type]
        cluster_name="hastack-prod-us-east-1", kubernetes_version="1.33",
        zones=["use1-az1", "use1-az2", "use1-az4"],
        kubernetes_provider=k8s.Provider(f"k8s-{next(_PROVIDERS)}", kubeconfig=KUBECONFIG),
        vpc_id="vpc-0123456789abcdef0",
        identities={"aws-load-balancer-controller": ROLE.format("lbc"),
                    "karpenter": ROLE.format("karpenter")},
        settings={
            "karpenter": KarpenterSettings(
                interruption_queue="hastack-prod-us-east-1",
                node_role_name="karpenter-node",
                subnet_ids=["subnet-a", "subnet-b", "subnet-c"],
                security_group_ids=["sg-cluster"]),
            "gpu": GpuCapacity(gpu, "g6.xlarge", 1, 3),
        })
    return dataclasses.replace(ctx, **overrides)


def record_install(**kwargs: Any) -> Recording:
    def program() -> None:
        install(ADDONS, make_context(**kwargs), "hastack-use1", pulumi.ResourceOptions())

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="session")
def installed() -> Callable[..., Recording]:
    cache: dict[tuple[Any, ...], Recording] = {}

    def get(**kwargs: Any) -> Recording:
        key = tuple(sorted(kwargs.items()))
        if key not in cache:
            cache[key] = record_install(**kwargs)
        return cache[key]

    return get


def golden(stack: str) -> dict[str, Any]:
    """A committed plan; tests/test_golden.py keeps it equal to what the program plans."""
    path: Path = GOLDEN / f"{stack}.json"
    plan: dict[str, Any] = json.loads(path.read_text())
    return plan


def environment(env: str) -> dict[str, Any]:
    """An environment's infrastructure plan with its workloads stacks' resources added.

    Resources carry their region, so per-region questions (node groups and the
    releases on that cluster) work across the two layers.
    """
    plan = golden(env)
    workloads = sorted(p.stem for p in GOLDEN.glob(f"{env}-*.json")
                       if golden(p.stem).get("environment") == env)
    assert workloads, f"no workloads plans for {env}"
    merged = dict(plan)
    merged["resources"] = [*plan["resources"],
                           *(r for stack in workloads for r in golden(stack)["resources"])]
    return merged
