"""The `hastack` command as users run it."""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

import yaml

from hastack.plan.stackfile import stack_names
from tests.conftest import REPO, base_config, run_cli, write_stack

PlanAll = tuple[Path, CompletedProcess[str]]


def test_plan_all_plans_every_stack(cli_plan_all: PlanAll) -> None:
    out, result = cli_plan_all
    assert result.returncode == 0, result.stderr
    planned = sorted(p.stem for p in out.glob("*.json"))
    assert planned == stack_names(REPO)
    assert all((out / f"{stack}.mmd").is_file() for stack in planned)
    # Every stack's summary names the plan it wrote.
    assert all(str(out / f"{stack}.json") in result.stdout for stack in planned)
    assert all(f"hastack plan · stack {stack} · " in result.stdout for stack in planned)


def test_plan_prints_a_readable_summary(cli_plan_all: PlanAll) -> None:
    plans, result = cli_plan_all
    assert result.returncode == 0, result.stderr
    # prod's summary: from its header to the next stack's header.
    out = result.stdout.split("hastack plan · stack prod · ", 1)[1].split("hastack plan · ", 1)[0]
    assert out.startswith("cloud aws · tier prod")
    assert "hastack:aws:AuroraGlobalDatabase" in out and "Resources per region:" in out
    assert "us-east-1" in out and "us-west-2" in out
    assert str(plans / "prod.json") in out


def test_diff_between_two_stacks(cli_plan_all: PlanAll) -> None:
    plans, planned = cli_plan_all
    assert planned.returncode == 0, planned.stderr
    result = run_cli(REPO, "diff", str(plans / "dev.json"), str(plans / "prod.json"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("diff dev → prod")
    # The same component lines up across environments, by role rather than name...
    assert "~ hastack:aws:Network$aws:ec2/vpc:Vpc::hastack-{stack}-{primary}-network-vpc" in out
    # ...and what only prod has (the secondary region) is listed as added.
    assert "+ hastack:aws:Platform$hastack:aws:EksCluster::hastack-{stack}-{secondary}-eks" in out
    # Property-level differences are shown with both values.
    assert "protect: false → true" in out


def test_check_reports_and_exit_status(tmp_path: Path, cli_plan_all: PlanAll) -> None:
    plans, planned = cli_plan_all
    assert planned.returncode == 0, planned.stderr
    plan = plans / "dev.json"
    result = run_cli(REPO, "check", "--plan", str(plan))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mandatory" in result.stdout
    broken = json.loads(plan.read_text())
    for resource in broken["resources"]:
        if resource["type"] == "aws:kms/key:Key":
            resource["inputs"]["enableKeyRotation"] = False
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    result = run_cli(REPO, "check", "--plan", str(tmp_path / "broken.json"))
    assert result.returncode == 1
    assert "kms-key-rotation" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli(REPO, "deploy")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_verify_is_wired_and_fails_cleanly_without_a_plan() -> None:
    result = run_cli(REPO, "verify")
    assert result.returncode == 2
    assert "--plan" in result.stderr and "Traceback" not in result.stderr
    assert "usage: hastack verify" in run_cli(REPO, "verify", "--help").stdout


def test_plan_all_reports_a_bad_stack_and_still_plans_the_others(scratch_project: Path) -> None:
    """`--all` plans stacks in parallel processes; a bad one is reported like alone."""
    # The committed dev stack's settings: the cheapest stack that plans (prod's would
    # only take longer to show the same thing).
    dev = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    write_stack(scratch_project, "good", dev)
    write_stack(scratch_project, "bad", base_config(zoneCount="three"))
    out = scratch_project / "out"
    result = run_cli(scratch_project, "plan", "--all", "--quiet", "--out", str(out))
    assert result.returncode == 2
    assert "stacks/Pulumi.bad.yaml" in result.stderr and "zoneCount" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good.json", "good.mmd"]
    assert "planned good: out/good.json" in result.stdout
