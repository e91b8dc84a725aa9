"""No command passes what it never checked: stale plans, empty or foreign plan files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hastack.plan.planfile import PlanFileError, load_plan
from tests.conftest import REPO, base_config, run_cli, write_stack

GOLDEN = REPO / "tests" / "golden"


@pytest.mark.parametrize(("content", "expected"), [
    ({}, "no formatVersion"),
    ({"databaseWriterEndpoint": "x", "vpcIds": {}}, "stack outputs"),
    ([], "not a JSON object"),
    ({"formatVersion": 99, "project": "hastack", "resources": [{}]}, "formatVersion 99"),
    ({"formatVersion": 1, "project": "other", "resources": []}, "project 'other'"),
    ({"formatVersion": 1, "project": "hastack", "resources": []}, "no resources"),
    ({"formatVersion": 1, "project": "hastack", "layer": "apps",
      "resources": [{"urn": "u", "type": "t", "name": "n"}]}, "unknown layer 'apps'"),
    ({"formatVersion": 1, "project": "hastack", "resources": [{"urn": 1}]}, "resources[0]"),
])
def test_load_plan_refuses_what_is_not_a_plan(tmp_path: Path, content: object,
                                              expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(content))
    with pytest.raises(PlanFileError, match=expected.replace("[", r"\[")):
        load_plan(path)


def test_load_plan_accepts_a_real_plan() -> None:
    assert load_plan(GOLDEN / "dev.json")["stack"] == "dev"


@pytest.mark.parametrize("command", [
    ["check", "--plan"], ["verify", "--plan"], ["diff", str(GOLDEN / "dev.json")],
])
def test_commands_exit_2_on_an_empty_plan(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    result = run_cli(REPO, *command, str(empty))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not a hastack plan" in result.stderr
    assert "passed" not in result.stdout and "nothing to check" not in result.stdout


def test_check_plans_afresh_instead_of_reusing_a_stale_plan(scratch_project: Path) -> None:
    (scratch_project / "policies").symlink_to(REPO / "policies")
    # A plan that passed, left over from before the stack file was edited ...
    (scratch_project / "build" / "plan").mkdir(parents=True)
    shutil.copy(GOLDEN / "prod.json", scratch_project / "build" / "plan" / "prod.json")
    # ... and the edit: prod without deletion protection.
    write_stack(scratch_project, "prod", base_config(deletionProtection=False))
    result = run_cli(scratch_project, "check", "prod")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "hastack:deletionProtection" in result.stderr
    assert "passed" not in result.stdout


def test_check_runs_from_a_subdirectory_and_defaults_to_prod(tmp_path: Path) -> None:
    # The installed entry point, as users run it (`python -m` from components/ would let
    # components/platform.py shadow the standard library's platform module).
    entry = Path(sys.executable).parent / "hastack"
    result = subprocess.run([str(entry), "check", "--quiet", "--out", str(tmp_path)],
                            cwd=REPO / "components" / "aws", capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "prod.json").is_file()
