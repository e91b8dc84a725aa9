"""GCP drills against recorded HTTP: the exact failover requests, timed by the operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from googleapiclient.discovery import build
from googleapiclient.http import HttpMockSequence

from hastack.drill import gcp
from hastack.drill.clock import Clock


class RecordingHttp(HttpMockSequence):
    """HttpMockSequence that also keeps (method, uri, body) of every request."""

    def __init__(self, responses: list[tuple[dict[str, str], str]]) -> None:
        super().__init__(responses)
        self.requests: list[tuple[str, str, Any]] = []

    def request(self, uri: str, method: str = "GET", body: Any = None,  # type: ignore[override]
                headers: Any = None, redirections: int = 1, connection_type: Any = None
                ) -> Any:
        self.requests.append((method, uri, json.loads(body) if body else None))
        return super().request(uri, method, body, headers, redirections, connection_type)


def _services(http: RecordingHttp) -> gcp.ServiceFactory:
    # The bundled discovery documents: no discovery fetch (the mock would fail on one).
    return lambda api, version: build(api, version, http=http, static_discovery=True)


def _clock(slept: list[float]) -> Clock:
    return Clock(now=lambda: datetime(2026, 12, 2, tzinfo=UTC), sleep=slept.append,
                 poll_seconds=10, max_polls=10)


OK = {"status": "200"}


def test_cloud_sql_failover_sends_the_settings_version_and_times_the_operation() -> None:
    http = RecordingHttp([
        (OK, json.dumps({"name": "pg", "gceZone": "us-central1-a",
                         "settings": {"settingsVersion": "42"}})),
        (OK, json.dumps({"name": "op-1", "status": "RUNNING"})),
        (OK, json.dumps({"name": "op-1", "status": "RUNNING"})),
        (OK, json.dumps({"name": "op-1", "status": "DONE",
                         "startTime": "2026-12-02T01:00:03.000Z",
                         "endTime": "2026-12-02T01:00:58.500Z"})),
    ])
    slept: list[float] = []
    measured = gcp.cloud_sql_failover(_services(http), "acme-prod", "pg", clock=_clock(slept))
    base = "https://sqladmin.googleapis.com/v1/projects/acme-prod"
    assert [(m, u.split("?")[0], b) for m, u, b in http.requests] == [
        ("GET", f"{base}/instances/pg", None),
        ("POST", f"{base}/instances/pg/failover",
         {"failoverContext": {"kind": "sql#failoverContext", "settingsVersion": "42"}}),
        ("GET", f"{base}/operations/op-1", None),
        ("GET", f"{base}/operations/op-1", None),
    ]
    assert measured["status"] == "completed" and slept == [10, 10]
    (term,) = measured["terms"]
    assert term["seconds"] == 55.5 and term["zoneBefore"] == "us-central1-a"
    assert term["from"] == "2026-12-02T01:00:03Z"


def test_memorystore_failover_protects_data_and_reads_the_operation_metadata() -> None:
    name = "projects/acme-prod/locations/us-central1/instances/hastack-redis"
    http = RecordingHttp([
        (OK, json.dumps({"name": "projects/acme-prod/locations/us-central1/operations/o1",
                         "done": False})),
        (OK, json.dumps({"name": "projects/acme-prod/locations/us-central1/operations/o1",
                         "done": True, "metadata": {
                             "createTime": "2026-12-02T01:00:00Z",
                             "endTime": "2026-12-02T01:00:21Z"}})),
    ])
    slept: list[float] = []
    measured = gcp.memorystore_failover(_services(http), name, clock=_clock(slept))
    assert [(m, u.split("?")[0], b) for m, u, b in http.requests] == [
        ("POST", f"https://redis.googleapis.com/v1/{name}:failover",
         {"dataProtectionMode": "LIMITED_DATA_LOSS"}),
        ("GET", "https://redis.googleapis.com/v1/projects/acme-prod/locations/us-central1/"
                "operations/o1", None),
    ]
    assert measured["terms"][0]["seconds"] == 21.0 and measured["status"] == "completed"


def test_a_failed_operation_is_reported_failed_with_its_error() -> None:
    http = RecordingHttp([
        (OK, json.dumps({"settings": {"settingsVersion": "1"}})),
        (OK, json.dumps({"name": "op-2", "status": "DONE", "startTime": "2026-12-02T01:00:00Z",
                         "endTime": "2026-12-02T01:00:01Z",
                         "error": {"errors": [{"code": "NOT_HA"}]}})),
    ])
    measured = gcp.cloud_sql_failover(_services(http), "p", "i", clock=_clock([]))
    assert measured["status"] == "failed"
    assert measured["terms"][0]["error"] == {"errors": [{"code": "NOT_HA"}]}


def test_targets_come_from_the_plan_of_the_region() -> None:
    plan = {"resources": [
        {"type": "gcp:sql/databaseInstance:DatabaseInstance",
         "inputs": {"name": "pg-east", "region": "us-east1", "project": "p"}},
        {"type": "gcp:sql/databaseInstance:DatabaseInstance",
         "inputs": {"name": "pg-central", "region": "us-central1", "project": "p"}},
        {"type": "gcp:redis/instance:Instance",
         "inputs": {"name": "redis-central", "region": "us-central1", "project": "p"}}]}
    assert gcp.targets_from_plan(plan, "us-central1") == {
        "sqlInstance": "pg-central", "redisInstance": "redis-central", "project": "p"}
