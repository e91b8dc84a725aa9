"""`hastack assess` picks the plans of one environment and renders the change against main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hastack.assess.cli import _environment_plans, assess_main
from hastack.assess.render import markdown

GOLDEN = Path(__file__).resolve().parent / "golden"


def _write(path: Path, plan: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan))


def test_environment_takes_its_layers_and_skips_a_prefix_twin(scratch_project: Path) -> None:
    plans = scratch_project / "build" / "plan"
    infra = json.loads((GOLDEN / "prod.json").read_text())
    _write(plans / "prod.json", infra)
    workloads = {"stack": "prod-us-east-1", "environment": "prod", "layer": "workloads",
                 "tier": "prod", "cloud": "aws", "resources": []}
    _write(plans / "prod-us-east-1.json", workloads)
    _write(plans / "prod-eu.json", {**workloads, "stack": "prod-eu", "environment": "prod-eu"})
    chosen = _environment_plans(scratch_project, "prod")
    assert sorted(p["stack"] for p in chosen) == ["prod", "prod-us-east-1"]


def test_unknown_environment_is_a_usage_error(scratch_project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert assess_main(["nope", "--root", str(scratch_project)]) == 2
    assert "no stack or plan named 'nope'" in capsys.readouterr().err


def test_named_environment_writes_json_and_markdown(scratch_project: Path) -> None:
    _write(scratch_project / "build" / "plan" / "prod.json",
           json.loads((GOLDEN / "prod.json").read_text()))
    extra = scratch_project / "copy.json"
    assert assess_main(["prod", "--root", str(scratch_project), "--json", str(extra)]) == 0
    out = scratch_project / "build" / "assess"
    assert json.loads((out / "prod.json").read_text()) == json.loads(extra.read_text())
    assert "| region |" in (out / "prod.md").read_text()


def test_markdown_shows_mains_figures_where_they_changed() -> None:
    plan_doc = {"stack": "prod", "environment": "prod", "tier": "prod", "cloud": "aws",
                "domains": {k: {"rtoSeconds": 70, "rpoSeconds": 0, "targetRtoSeconds": 75,
                                "targetRpoSeconds": 0, "met": True, "terms": [], "notes": []}
                            for k in ("nodeFailure", "zoneFailure", "regionFailure")}}
    main = json.loads(json.dumps(plan_doc))
    main["domains"]["zoneFailure"]["rtoSeconds"] = 40
    text = markdown(plan_doc, main)
    zone = next(line for line in text.splitlines() if line.startswith("| zone"))
    node = next(line for line in text.splitlines() if line.startswith("| node"))
    assert "70 s (main: 40 s)" in zone and "main:" not in node
