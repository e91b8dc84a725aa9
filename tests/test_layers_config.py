"""Bad layering input: one clear error naming the file and key, nothing registered."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from hastack.config import ConfigError
from hastack.plan.mocks import PlanMocks
from hastack.plan.recorder import RecordingMonitor
from hastack.plan.runner import program_from_file, run_program
from hastack.stacks import load_stack
from tests.conftest import REPO, base_config, run_cli, write_stack

BAD_INFRASTRUCTURE = {
    "unknown AZ ID": ({"zones": {"us-east-1": ["use1-az1", "use1-az2", "use1-az9"]}},
                      "zones.us-east-1", "unknown zone 'use1-az9'"),
    "too few zones pinned": ({"zones": {"us-east-1": ["use1-az1", "use1-az2"]}},
                             "zones.us-east-1", "2 zones pinned, zoneCount is 3"),
    "zone pinned twice": ({"zones": {"us-east-1": ["use1-az1", "use1-az1", "use1-az2"]}},
                          "zones.us-east-1", "pinned once"),
    "zones of a foreign region": ({"zones": {"eu-west-1": ["euw1-az1"]}},
                                  "zones.eu-west-1", "not a region of this environment"),
    "allowlist open to the internet": (
        {"kubernetes": {"apiAccess": "allowlist", "apiAllowlist": ["0.0.0.0/0"]}},
        "kubernetes.apiAllowlist", "never opens the Kubernetes API"),
    "allowlist without CIDRs": ({"kubernetes": {"apiAccess": "allowlist"}},
                                "kubernetes.apiAllowlist", "needs the CIDRs"),
    "active region not built": ({"activeRegion": "eu-west-1"},
                                "activeRegion", "not a region of this environment"),
    "codebuild runner without repository": (
        {"deploy": {"runner": "codebuild"}}, "deploy.githubRepository", "required"),
}


@pytest.mark.parametrize("case", sorted(BAD_INFRASTRUCTURE))
def test_bad_infrastructure_stack_is_one_clear_error(case: str, scratch_project: Path) -> None:
    overrides, key, message = BAD_INFRASTRUCTURE[case]
    write_stack(scratch_project, "bad", base_config(**overrides))
    with pytest.raises(ConfigError) as caught:
        load_stack(scratch_project, "bad")
    text = str(caught.value)
    assert "stacks/Pulumi.bad.yaml" in text and f"hastack:{key}:" in text and message in text


def _environment(root: Path) -> None:
    write_stack(root, "prod", base_config())


BAD_WORKLOADS = {
    "unknown environment": ({"environment": "prd", "region": "us-east-1"},
                            "environment", "did you mean 'prod'"),
    "region the environment does not build": ({"environment": "prod", "region": "eu-west-1"},
                                              "region", "allowed: us-east-1, us-west-2"),
    "infrastructure key in a workloads file": (
        {"environment": "prod", "region": "us-east-1", "tier": "prod"},
        "tier", "unknown key in a workloads stack file"),
    "missing region": ({"environment": "prod"}, "region", "required"),
}


@pytest.mark.parametrize("case", sorted(BAD_WORKLOADS))
def test_bad_workloads_stack_through_the_cli(case: str, scratch_project: Path) -> None:
    settings, key, message = BAD_WORKLOADS[case]
    _environment(scratch_project)
    write_stack(scratch_project, "prod-bad", {"hastack:layer": "workloads",
                                             **{f"hastack:{k}": v for k, v in settings.items()}})
    result = run_cli(scratch_project, "plan", "prod-bad")
    assert result.returncode == 2, result.stderr
    assert "stacks/Pulumi.prod-bad.yaml" in result.stderr
    assert f"hastack:{key}:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing was planned, not even the environment's infrastructure.
    assert not (scratch_project / "build" / "plan").exists()


def test_workloads_stack_with_an_unknown_environment_registers_nothing_under_the_engine(
        scratch_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `pulumi up` of the workloads stack does: the real __main__.py, its config map."""
    _environment(scratch_project)
    monkeypatch.chdir(scratch_project)
    engine_config = {"hastack:layer": "workloads", "hastack:environment": "prd",
                     "hastack:region": "us-east-1"}
    monitor = RecordingMonitor(PlanMocks("us-east-1"))
    with pytest.raises(pulumi.RunError, match=r"hastack:environment: .*did you mean 'prod'"):
        run_program(program_from_file(REPO / "__main__.py"), project="hastack",
                    stack="prod-bad", config=engine_config, monitor=monitor)
    assert monitor.registrations == {}


def test_a_workloads_stack_plans_its_environment_first_on_a_clean_checkout(
        scratch_project: Path) -> None:
    _environment(scratch_project)
    write_stack(scratch_project, "prod-us-west-2", {
        "hastack:layer": "workloads", "hastack:environment": "prod",
        "hastack:region": "us-west-2"})
    result = run_cli(scratch_project, "plan", "prod-us-west-2", "--quiet")
    assert result.returncode == 0, result.stderr
    plans = scratch_project / "build" / "plan"
    assert sorted(p.name for p in plans.glob("*.json")) == ["prod-us-west-2.json", "prod.json"]
    workloads = json.loads((plans / "prod-us-west-2.json").read_text())
    assert (workloads["layer"], workloads["environment"]) == ("workloads", "prod")
    assert workloads["outputs"]["role"] == "standby"
