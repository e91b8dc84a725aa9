"""The GCP region drill end to end: the planned Advanced DR switchover to the standby,
against recorded HTTP (exact URIs and methods) and a fake Kubernetes API server, timed
by the Cloud SQL operation's own startTime/endTime, reported beside the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from hastack.drill.cli import Runtime, drill_main
from hastack.drill.clock import Clock
from hastack.failover.gcp import discovery_services
from tests.conftest import REPO
from tests.test_failover_gcp import (  # the recorded responses and the fake Kubernetes API
    NOW,
    PRIMARY,
    REPLICA,
    SQL,
    FakeKube,
    _json,
    _operation,
    _replica,
    _uri,
    kube,
)

__all__ = ["kube"]  # a fixture, used by name


@pytest.fixture
def project(tmp_path: Path, plan_once_per_content: None) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def test_region_drill_switches_over_to_the_standby_and_times_the_operation(
        project: Path, kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    http = HttpMockSequence([
        _json({"name": "hastack-gcp-prod-us-east1", "status": "RUNNING"}),
        _replica(),                                     # preflight: the DR replica
        _replica(),                                     # database: not yet the primary
        _operation("PENDING", operation_type="SWITCHOVER"),
        _operation("DONE", operation_type="SWITCHOVER",
                   startTime="2026-12-02T01:00:04.000Z", endTime="2026-12-02T01:02:10.000Z")])
    slept: list[float] = []
    modeled: dict[str, Any] = {"domains": {"regionFailure": {
        "rtoSeconds": 400, "rpoSeconds": 60, "targetRtoSeconds": 600,
        "targetRpoSeconds": 900, "terms": [{"name": "database: replica failover",
                                            "seconds": 120}]}}}
    runtime = Runtime(aws=lambda: pytest.fail("no AWS call"),
                      gcp=lambda: discovery_services(http=http), gke=kube.api,
                      clock=Clock(now=lambda: NOW, sleep=slept.append, poll_seconds=5,
                                  max_polls=10),
                      assess=lambda root, env: modeled)
    stack_file = project / "stacks" / "Pulumi.gcp-prod.yaml"
    before = stack_file.read_text()
    report = project / "drill.json"
    code = drill_main(["gcp-prod", "--scenario", "region", "--yes", "--json", str(report),
                       "--root", str(project)], runtime)
    assert code == 0, capsys.readouterr().err
    central_cluster = ("https://container.googleapis.com/v1/projects/acme-hastack-prod/"
                       "locations/us-east1/clusters/hastack-gcp-prod-us-east1")
    assert [(method, _uri(uri)) for uri, method, _b, _h in http.request_sequence] == [
        ("GET", (central_cluster, {})),
        ("GET", (f"{SQL}/instances/{REPLICA}", {})),
        ("GET", (f"{SQL}/instances/{REPLICA}", {})),
        ("POST", (f"{SQL}/instances/{REPLICA}/switchover", {})),
        ("GET", (f"{SQL}/operations/op-1", {}))]
    # No Monitoring call (a switchover loses nothing) and the old writers keep running.
    assert kube.deployments == {"prefect/prefect-server": 1, "prefect/prefect-worker": 3}
    # The standby is now active in the stack file: `hastack failback` is the way back.
    assert stack_file.read_text() == before.replace("hastack:activeRegion: us-central1",
                                                    "hastack:activeRegion: us-east1")
    doc = json.loads(report.read_text())
    (term,) = doc["measured"]["terms"]
    assert (term["term"], term["seconds"], term["source"]) == (
        "database-switchover", 126.0, "sqladmin:operations.get")
    assert (doc["measured"]["rtoSeconds"], doc["modeled"]["rtoSeconds"],
            doc["targets"]["rtoSeconds"], doc["rtoMet"]) == (126.0, 400, 600, True)
    assert doc["followUp"].startswith("hastack failback gcp-prod")
    markdown = next((project / "build" / "drill").glob("gcp-prod-region-*.md")).read_text()
    assert "**Next:** run `hastack failback gcp-prod" in markdown
    assert PRIMARY not in [_uri(u)[0].rsplit("/", 1)[-1] for u, *_ in http.request_sequence]


def test_region_drill_unconfirmed_starts_nothing(project: Path) -> None:
    runtime = Runtime(gcp=lambda: pytest.fail("a cloud call before confirmation"),
                      confirm=lambda prompt: "gcp-dev",
                      assess=lambda root, env: {"domains": {"regionFailure": {}}})
    stack_file = project / "stacks" / "Pulumi.gcp-prod.yaml"
    before = stack_file.read_text()
    assert drill_main(["gcp-prod", "--scenario", "region", "--root", str(project)],
                      runtime) == 2
    assert stack_file.read_text() == before
    assert not (project / "build" / "failover" / "gcp-prod.json").exists()
