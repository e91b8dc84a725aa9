"""`hastack stacks`: the environments CI deploys are the stack files in the tree."""

from __future__ import annotations

import json
from pathlib import Path

from hastack.plan.stacks import github_outputs, list_stacks
from tests.conftest import REPO, base_config, run_cli, write_stack


def test_lists_every_committed_stack_file() -> None:
    listed = {e.stack for e in list_stacks(REPO)}
    assert listed == {p.name[len("Pulumi."):-len(".yaml")]
                      for p in (REPO / "stacks").glob("Pulumi.*.yaml")}


def test_a_new_stack_file_is_in_the_matrix_and_workloads_come_apart(
        scratch_project: Path) -> None:
    write_stack(scratch_project, "qa", base_config(tier="staging"))
    write_stack(scratch_project, "qa-us-east-1", {
        "hastack:layer": "workloads", "hastack:environment": "qa",
        "hastack:region": "us-east-1"})
    entries = {e.stack: e for e in list_stacks(scratch_project)}
    assert entries["qa"].layer == "infrastructure" and entries["qa"].tier == "staging"
    workloads = entries["qa-us-east-1"]
    assert (workloads.layer, workloads.environment, workloads.region) == (
        "workloads", "qa", "us-east-1")
    # The workloads stack inherits its environment's tier and cloud.
    assert (workloads.tier, workloads.cloud) == ("staging", "aws")
    outputs = dict(line.split("=", 1) for line in
                   github_outputs(list(entries.values())).splitlines())
    assert [e["stack"] for e in json.loads(outputs["staging_infrastructure"])] == ["qa"]
    assert [e["stack"] for e in json.loads(outputs["staging_workloads"])] == ["qa-us-east-1"]
    assert json.loads(outputs["prod_workloads"]) == []


def test_cli_json(scratch_project: Path) -> None:
    write_stack(scratch_project, "qa", base_config(tier="dev"))
    result = run_cli(scratch_project, "stacks", "--json")
    assert result.returncode == 0, result.stderr
    assert [e["stack"] for e in json.loads(result.stdout)] == ["qa"]


def test_the_readme_new_environment_is_valid_and_listed(scratch_project: Path) -> None:
    """The stack files README "Adding an environment" writes validate and are listed."""
    from hastack.stacks import load_stack

    readme = (REPO / "README.md").read_text()
    for name in ("qa", "qa-us-east-2"):
        body = readme.split(f"cat > stacks/Pulumi.{name}.yaml <<'YAML'\n", 1)[1]
        (scratch_project / "stacks" / f"Pulumi.{name}.yaml").write_text(
            body.split("\nYAML\n", 1)[0] + "\n")
    _, infrastructure = load_stack(scratch_project, "qa")
    _, workloads = load_stack(scratch_project, "qa-us-east-2")
    assert infrastructure.tier == "dev" and workloads is not None
    entries = {e.stack: e for e in list_stacks(scratch_project)}
    assert (entries["qa"].layer, entries["qa-us-east-2"].layer) == ("infrastructure",
                                                                    "workloads")
    assert entries["qa-us-east-2"].tier == "dev"
