"""Scheduled rotation: the label bump, its workflow, and what a bump changes end to end."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.k8s.wiring import REVISION_ANNOTATION
from hastack.failover.stackfile_edit import StackFileEditError
from hastack.rotation import bump, main
from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "rotate-credentials.yml"


def _config(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["config"]


def test_bump_keeps_every_comment_and_changes_only_the_labels(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(REPO / "stacks" / "Pulumi.prod.yaml", path)
    before_text, before = path.read_text(), _config(path)
    assert bump(path, "2026-12") == ["database", "cache"]
    after = _config(path)
    assert after["hastack:database"]["credentialsRotation"] == "2026-12"
    assert after["hastack:cache"]["credentialsRotation"] == "2026-12"
    for key in set(before) - {"hastack:database", "hastack:cache"}:
        assert after[key] == before[key], key
    for section in ("hastack:database", "hastack:cache"):
        rest = {k: v for k, v in after[section].items() if k != "credentialsRotation"}
        assert rest == {k: v for k, v in (before.get(section) or {}).items()
                        if k != "credentialsRotation"}
    comments = [line for line in before_text.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(line in path.read_text().splitlines() for line in comments)
    # Idempotent, and a new month replaces the value on its line.
    assert bump(path, "2026-12") == []
    assert bump(path, "2027-01") == ["database", "cache"]
    assert path.read_text().count("credentialsRotation") == 2


def test_gcp_gets_no_cache_label_and_workloads_stacks_none(tmp_path: Path) -> None:
    gcp = tmp_path / "Pulumi.gcp-prod.yaml"
    shutil.copy(REPO / "stacks" / "Pulumi.gcp-prod.yaml", gcp)
    assert bump(gcp, "r1") == ["database"]
    assert "credentialsRotation" not in (_config(gcp).get("hastack:cache") or {})
    workloads = tmp_path / "Pulumi.prod-us-east-1.yaml"
    shutil.copy(REPO / "stacks" / "Pulumi.prod-us-east-1.yaml", workloads)
    text = workloads.read_text()
    assert bump(workloads, "r1") == [] and workloads.read_text() == text


def test_bad_labels_and_files_are_refused_cleanly(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(REPO / "stacks" / "Pulumi.dev.yaml", path)
    with pytest.raises(StackFileEditError, match="must match"):
        bump(path, "no spaces")
    assert main(["--label", "bad label", str(path)]) == 2
    assert "error:" in capsys.readouterr().err
    inline = tmp_path / "Pulumi.x.yaml"
    inline.write_text("config:\n  hastack:cloud: aws\n  hastack:database: {enabled: true}\n")
    assert main(["--label", "r1", str(inline)]) == 2


def test_the_workflow_bumps_monthly_and_opens_a_pull_request() -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    triggers = document[True]  # YAML 1.1 reads the `on:` key as True
    assert triggers["schedule"][0]["cron"].split()[2:4] == ["1", "*"]
    assert "workflow_dispatch" in triggers
    steps = [s for job in document["jobs"].values() for s in job["steps"]]
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "python -m hastack.rotation --label" in runs
    assert "hastack check" in runs and "gh pr create" in runs
    # Inputs reach the shell through the environment, never pasted into the script.
    assert "${{ inputs" not in runs


def test_a_bumped_label_rotates_the_secrets_and_rolls_the_pods(
        tmp_path: Path, environment_plan: Any) -> None:
    from hastack.plan.pipeline import plan_environment

    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(REPO / "__main__.py", tmp_path / "__main__.py")
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    assert bump(tmp_path / "stacks" / "Pulumi.dev.yaml", "2026-12")
    before, after = environment_plan("dev"), plan_environment(tmp_path, "dev", tmp_path / "out")

    def values(results: list[Any], token: str, field: str) -> dict[str, Any]:
        return {r.name: (r.inputs if field in r.inputs else r.outputs).get(field)
                for result in results for r in result.recording.registrations
                if r.type == token}

    passwords = "random:index/randomPassword:RandomPassword"
    old, new = values(before, passwords, "result"), values(after, passwords, "result")
    rotated = {name for name in old if old[name] != new[name]}
    # The master password, the orchestrator's role password and both Redis tokens ...
    assert any(n.endswith("-master-password") for n in rotated)
    assert any(n.endswith("-prefect-db-password") for n in rotated)
    assert any(n.endswith("-auth-token") for n in rotated)
    # ... but not the API password people and external workers hold.
    assert not any(n.endswith("-prefect-api-password") for n in rotated)
    # Every Secrets Manager copy is written from a rotated credential (the plan shows
    # secret values redacted, so the dependency is what proves it) ...
    urns = {r.urn for result in after for r in result.recording.registrations
            if r.type == passwords and r.name in rotated}
    versions = [r for result in after for r in result.recording.registrations
                if r.type == "aws:secretsmanager/secretVersion:SecretVersion"]
    assert len(versions) == 3
    for version in versions:
        assert urns & set(version.property_dependencies["secretString"]), version.name
    # ... and what the workloads stack reads (into its Kubernetes Secrets) changes.
    def handed_over(results: list[Any]) -> Any:
        reference = results[0].recording.reference
        assert reference is not None
        return reference.outputs["workloadsSecrets"]["us-east-2"]

    old_s, new_s = handed_over(before), handed_over(after)
    for key in ("databasePassword", "appDatabasePassword", "cacheAuthToken"):
        assert old_s[key] != new_s[key], key
    assert old_s["apiPassword"] == new_s["apiPassword"]
    # The pods that read them carry the new revision, so they roll.
    release = "kubernetes:helm.sh/v3:Release"
    old_r, new_r = values(before, release, "values"), values(after, release, "values")
    server = next(n for n in new_r if n.endswith("-server"))
    for section in ("server", "backgroundServices"):
        assert REVISION_ANNOTATION not in (old_r[server][section].get("podAnnotations") or {})
        assert new_r[server][section]["podAnnotations"][REVISION_ANNOTATION] == \
            "database=2026-12,cache=2026-12"
