"""The stack file's one GPU switch reaches the workloads stack's cluster (and only when on)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.plan.pipeline import PlanResult, plan_environment
from tests.conftest import REPO

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"


def _pools(results: list[PlanResult]) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
            for result in results for r in result.plan["resources"] if r["type"] == NODE_POOL}


def test_gpu_switch_on_adds_the_gpu_pool_with_the_stack_files_type_and_ceiling(
        scratch_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workloads program finds its environment's stack file from the working directory.
    monkeypatch.chdir(scratch_project)
    for name in ("Pulumi.dev.yaml", "Pulumi.dev-us-east-2.yaml"):
        shutil.copy(REPO / "stacks" / name, scratch_project / "stacks" / name)
    path = scratch_project / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].setdefault("hastack:kubernetes", {})["gpu"] = {
        "enabled": True, "instanceType": "g5.2xlarge", "maxNodes": 4}
    path.write_text(yaml.safe_dump(document, sort_keys=True))
    pools = _pools(plan_environment(scratch_project, "dev", scratch_project / "out"))
    assert set(pools) == {"general", "gpu"}
    requirements = pools["gpu"]["template"]["spec"]["requirements"]
    assert {"key": "node.kubernetes.io/instance-type", "operator": "In",
            "values": ["g5.2xlarge"]} in requirements
    assert pools["gpu"]["limits"] == {"nvidia.com/gpu": "4"}


def test_gpu_switch_off_means_no_gpu_pool(
        environment_plan: Callable[[str], list[PlanResult]]) -> None:
    # The committed dev stack file leaves the switch off.
    document = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())
    assert "gpu" not in document["config"].get("hastack:kubernetes", {})
    assert set(_pools(environment_plan("dev"))) == {"general"}
