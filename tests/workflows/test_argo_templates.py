"""The Argo example templates and the controller's workflowDefaults against Argo v4.0.6.

The schema is Argo's own JSON schema at the app version the pinned chart runs
(tests/data/argo/README.md), made strict (tests/support/argo_schema.py), so a typo
such as `retryStratgy` fails here.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.k8s import resilience
from examples.ai_pipeline import cli, stages
from tests.support import argo_schema

TEMPLATES = Path(__file__).resolve().parents[2] / "examples" / "ai_pipeline" / "argo"


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return argo_schema.definitions()


def validate(_definitions: dict[str, Any], kind: str, document: Any) -> None:
    argo_schema.validate(kind, document)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((TEMPLATES / name).read_text())
    return document


TEMPLATE_FILES = ["ai-pipeline.yaml", "ai-pipeline-recover.yaml"]


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_templates_validate_against_the_argo_v4_schema(definitions: dict[str, Any],
                                                       name: str) -> None:
    validate(definitions, "WorkflowTemplate", load(name))


def test_strict_validation_catches_a_misspelt_field(definitions: dict[str, Any]) -> None:
    document = load("ai-pipeline.yaml")
    broken = copy.deepcopy(document)
    stage = next(t for t in broken["spec"]["templates"] if t["name"] == "stage")
    stage["retryStratgy"] = stage.pop("retryStrategy")
    with pytest.raises(jsonschema.ValidationError, match="retryStratgy"):
        validate(definitions, "WorkflowTemplate", broken)
    broken = copy.deepcopy(document)
    broken["spec"]["templates"][1]["retryStrategy"]["backoff"]["factor"] = 2.5
    with pytest.raises(jsonschema.ValidationError):
        validate(definitions, "WorkflowTemplate", broken)


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_retry_backoff_and_exit_handler(name: str) -> None:
    spec = load(name)["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    assert spec["onExit"] in templates
    assert spec["serviceAccountName"] == "argo-workflow"  # the platform's artifact identity
    for template in templates.values():
        retry = template["retryStrategy"]
        if "steps" in template:
            # Groups do not retry: the controller default would compound with the stages'.
            assert retry == {"limit": "0"}
            for group in template["steps"]:
                for step in group:
                    assert step["template"] in templates
            continue
        assert int(retry["limit"]) >= 2
        assert retry["retryPolicy"] in ("Always", "OnError")
    stage = templates["stage"]["retryStrategy"]
    assert stage["retryPolicy"] == "Always"
    assert stage["backoff"] == {"duration": "15s", "factor": "2", "cap": "10m"}
    assert stage["affinity"] == {"nodeAntiAffinity": {}}


@pytest.mark.parametrize("tier", ["dev", "staging", "prod"])
def test_controller_workflow_defaults_validate_as_a_workflow_spec(
        definitions: dict[str, Any], tier: str) -> None:
    spec = resilience.argo_workflow_spec_defaults(tier)  # type: ignore[arg-type]
    validate(definitions, "WorkflowSpec", {**spec, "serviceAccountName": "argo-workflow"})
    table = resilience.for_tier(tier)  # type: ignore[arg-type]
    assert spec["retryStrategy"]["limit"] == str(table.step_retries)
    assert spec["retryStrategy"]["retryPolicy"] == "Always"
    assert spec["podGC"]["strategy"] == "OnWorkflowCompletion"
    assert spec["ttlStrategy"]["secondsAfterFailure"] >= spec["ttlStrategy"][
        "secondsAfterSuccess"]
    validate(definitions, "S3ArtifactRepository",
             {"bucket": "b", "keyFormat": resilience.ARGO_ARTIFACT_KEY_FORMAT})
    assert "{{workflow.uid}}" in resilience.ARGO_ARTIFACT_KEY_FORMAT


# --- the templates' steps, executed the way the controller would ------------------------


def run_workflow(document: dict[str, Any], params: dict[str, str],
                 stop_after: str | None = None) -> list[tuple[str, int, str]]:
    """Run the entrypoint's steps in order, in-process (a tiny Argo for these templates)."""
    spec = document["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    values = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
    values.update(params)
    results: dict[str, str] = {}
    ran: list[tuple[str, int, str]] = []

    def render(text: str, inputs: dict[str, str]) -> str:
        text = re.sub(r"\{\{workflow\.parameters\.([\w-]+)\}\}",
                      lambda m: str(values[m.group(1)]), text)
        text = re.sub(r"\{\{inputs\.parameters\.([\w-]+)\}\}", lambda m: inputs[m.group(1)],
                      text)
        return re.sub(r"\{\{steps\.([\w-]+)\.outputs\.result\}\}",
                      lambda m: results[m.group(1)], text)

    for group in templates[spec["entrypoint"]]["steps"]:
        for step in group:
            if "when" in step:
                left, op, right = render(step["when"], {}).split()
                assert op == "<"
                if not int(left) < int(right):
                    continue
            inputs = {p["name"]: p["value"]
                      for p in step.get("arguments", {}).get("parameters", [])}
            container = templates[step["template"]]["container"]
            argv = [render(a, inputs) for a in container["command"] + container["args"]]
            assert argv[:3] == ["python", "-m", "examples.ai_pipeline.cli"]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = cli.main(argv[3:])
            results[step["name"]] = out.getvalue().strip()
            ran.append((step["name"], code, results[step["name"]]))
            if code != 0 or step["name"] == stop_after:
                return ran
    return ran


def test_the_template_steps_checkpoint_and_the_recovery_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.CHECKPOINT_URL_ENV, f"file://{tmp_path}/checkpoints")
    params = {"dataset": "argo", "documents": "4"}
    first = run_workflow(load("ai-pipeline.yaml"), params, stop_after="ingest")  # "killed"
    assert [(name, code) for name, code, _ in first] == [("ingest", 0)]

    recovered = run_workflow(load("ai-pipeline-recover.yaml"), params)
    assert [(name, code) for name, code, _ in recovered] == [
        ("status", 0), ("infer", 0), ("publish", 0)]
    assert recovered[0][2] == "1"  # one stage committed: resume after ingest
    assert all(json.loads(out)["computed"] for _, _, out in recovered[1:])

    again = run_workflow(load("ai-pipeline.yaml"), params)  # a re-run recomputes nothing
    assert [json.loads(out)["computed"] for _, _, out in again] == [False, False, False]
    assert [name for name, _, _ in run_workflow(load("ai-pipeline-recover.yaml"), params)] == [
        "status"]


def test_the_recovery_template_refuses_a_corrupt_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(cli.CHECKPOINT_URL_ENV, f"file://{tmp_path}/checkpoints")
    params = {"dataset": "argo-corrupt", "documents": "2"}
    run_workflow(load("ai-pipeline.yaml"), params)
    run = stages.key_for(stages.parameters("argo-corrupt", 2, "lexicon-v1"))
    (data,) = (tmp_path / "checkpoints" / run.stage_prefix("infer")).glob("*.bin")
    data.write_bytes(b"tampered")
    ran = run_workflow(load("ai-pipeline-recover.yaml"), params)
    assert [(name, code) for name, code, _ in ran] == [("status", 2)]
    assert "is corrupt" in capsys.readouterr().err
