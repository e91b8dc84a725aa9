"""`hastack verify` on GCP against recorded HTTP: a deployment built as the gcp-prod plan
says passes every check, and each kind of drift fails exactly the check that owns it.

The live answers are shaped as the Cloud SQL Admin, Memorystore, Cloud Storage, Cloud DNS
and Compute APIs send them (their discovery documents' schemas); the routed mock
below answers by method and path and records every request.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httplib2
import pytest

from hastack.failover.gcp import discovery_services
from hastack.verify import cli as verify_cli
from hastack.verify.cli import verify_main
from hastack.verify.gcp import GcpApiError, GcpTargets, plan_targets, verify
from tests.conftest import REPO

PLAN_PATH = REPO / "tests" / "golden" / "gcp-prod.json"
PROJECT = "acme-hastack-prod"
CENTRAL, EAST = "hastack-gcp-prod-us-central1-pg", "hastack-gcp-prod-us-east1-pg"
SQL = f"https://sqladmin.googleapis.com/v1/projects/{PROJECT}/instances/"
BUCKET = "acme-hastack-prod-hastack-gcp-prod-artifacts"
RECORD = ("https://dns.googleapis.com/dns/v1/projects/acme-hastack-prod/managedZones/"
          "gcp-example-com/rrsets/workflows.gcp.example.com./A")
LAG = "https://monitoring.googleapis.com/v3/projects/acme-hastack-prod/timeSeries"
HEALTH = ("https://compute.googleapis.com/compute/v1/projects/acme-hastack-prod/global/"
          "healthChecks/hastack-gcp-prod-dns-health")


class RoutedHttp:
    """Answers (method, URL without query) from `routes`; anything else is a test bug."""

    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                redirections: int = 1, connection_type: Any = None) -> tuple[Any, bytes]:
        parts = urlsplit(uri)
        url = unquote(f"{parts.scheme}://{parts.netloc}{parts.path}")
        self.requests.append((method, url))
        assert method == "GET", f"hastack verify only reads: {method} {url}"
        assert url in self.routes, f"unexpected request {url}"
        status, payload = self.routes[url]
        return httplib2.Response({"status": str(status)}), json.dumps(payload).encode()


def _plan() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PLAN_PATH.read_text())
    return loaded


def _lag(*seconds: float) -> dict[str, Any]:
    points = [{"interval": {"endTime": f"2026-12-02T00:5{i}:00Z"},
               "value": {"doubleValue": value}} for i, value in enumerate(seconds)]
    return {"timeSeries": [{"points": points}]} if points else {}


def deployment() -> dict[str, tuple[int, Any]]:
    """What the live APIs answer for a deployment that matches the plan."""
    backup = {"enabled": True, "pointInTimeRecoveryEnabled": True, "location": "us-east1",
              "backupRetentionSettings": {"retainedBackups": 21, "retentionUnit": "COUNT"}}
    return {
        SQL + CENTRAL: (200, {"name": CENTRAL, "region": "us-central1", "state": "RUNNABLE",
                              "instanceType": "CLOUD_SQL_INSTANCE", "replicaNames": [EAST],
                              "replicationCluster": {
                                  "failoverDrReplicaName": f"{PROJECT}:{EAST}"},
                              "settings": {"availabilityType": "REGIONAL",
                                           "backupConfiguration": backup}}),
        SQL + EAST: (200, {"name": EAST, "region": "us-east1", "state": "RUNNABLE",
                           "instanceType": "READ_REPLICA_INSTANCE",
                           # The API names the primary "project:instance".
                           "masterInstanceName": f"{PROJECT}:{CENTRAL}",
                           "replicationCluster": {"drReplica": True},
                           "settings": {"availabilityType": "REGIONAL",
                                        "databaseReplicationEnabled": True,
                                        "backupConfiguration": {"enabled": False}}}),
        **{f"https://redis.googleapis.com/v1/projects/{PROJECT}/locations/{region}/instances/"
           f"hastack-gcp-prod-{region}-redis": (200, {
               "tier": "STANDARD_HA", "replicaCount": 2, "state": "READY",
               "readReplicasMode": "READ_REPLICAS_ENABLED"})
           for region in ("us-central1", "us-east1")},
        f"https://storage.googleapis.com/storage/v1/b/{BUCKET}": (200, {
            "name": BUCKET, "location": "US", "locationType": "dual-region",
            "customPlacementConfig": {"dataLocations": ["US-EAST1", "US-CENTRAL1"]},
            "rpo": "ASYNC_TURBO", "versioning": {"enabled": True}}),
        RECORD: (200, {"name": "workflows.gcp.example.com.", "type": "A", "routingPolicy": {
            "healthCheck": "https://www.googleapis.com/compute/v1/projects/acme-hastack-prod/"
                           "global/healthChecks/hastack-gcp-prod-dns-health",
            "primaryBackup": {
                "primaryTargets": {"externalEndpoints": ["203.0.113.109"]},
                "backupGeoTargets": {"items": [{"location": "us-east1",
                                                "rrdatas": ["203.0.113.246"]}]},
                "trickleTraffic": 0}}}),
        LAG: (200, _lag(12.0)),
        HEALTH: (200, {"name": "hastack-gcp-prod-dns-health", "type": "HTTPS",
                       "httpsHealthCheck": {"port": 443, "requestPath": "/api/health"},
                       "sourceRegions": ["us-east4", "us-central1", "us-east1"]}),
    }


def run(routes: dict[str, tuple[int, Any]], plan: dict[str, Any] | None = None
        ) -> tuple[dict[str, list[Any]], RoutedHttp]:
    http = RoutedHttp(routes)
    findings = verify(plan_targets(plan or _plan()), discovery_services(http=http))
    by_check: dict[str, list[Any]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    return by_check, http


def _merge(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(body)
    for key, value in change.items():
        if isinstance(value, dict) and value and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _failed(by_check: dict[str, list[Any]]) -> dict[str, list[str]]:
    return {check: [f.detail for f in found if f.status == "fail"]
            for check, found in by_check.items() if any(f.status == "fail" for f in found)}


def test_targets_follow_the_gcp_prod_plan() -> None:
    targets: GcpTargets = plan_targets(_plan())
    assert {(t.identifier, t.availability, t.backups, t.master, t.dr_replica)
            for t in targets.sql} == {(CENTRAL, "REGIONAL", True, None, EAST),
                                      (EAST, "REGIONAL", False, CENTRAL, None)}
    assert [t.data_locations for t in targets.buckets] == [("US-CENTRAL1", "US-EAST1")]
    assert targets.active[0].active_region == "us-central1"
    assert [(t.primary, t.backups) for t in targets.routing] == [
        (("203.0.113.109",), (("us-east1", ("203.0.113.246",)),))]


def test_a_compliant_deployment_passes_every_check_with_reads_only() -> None:
    by_check, http = run(deployment())
    assert set(by_check) == {"active-region", "cloudsql.availability", "cloudsql.backups-pitr",
                             "cloudsql.replica", "cloudsql.dr-replica",
                             "cloudsql.replica-lag", "memorystore.tier-replicas", "gcs.versioning",
                             "gcs.placement", "dns.routing-policy", "dns.health-check"}
    assert _failed(by_check) == {}
    assert all(f.status == "pass" for found in by_check.values() for f in found)
    # Each resource is read once, however many checks use it.
    assert len(http.requests) == len(set(http.requests)) == 8


@pytest.mark.parametrize(("path", "change", "check", "message"), [
    (SQL + CENTRAL, {"settings": {"availabilityType": "ZONAL"}}, "cloudsql.availability",
     "ZONAL, the plan has REGIONAL"),
    (SQL + CENTRAL, {"settings": {"backupConfiguration": {
        "pointInTimeRecoveryEnabled": False, "location": "us"}}}, "cloudsql.backups-pitr",
     "point-in-time recovery is off; backups stored in us, the plan has us-east1"),
    (SQL + EAST, {"settings": {"databaseReplicationEnabled": False}}, "cloudsql.replica",
     "replication is stopped"),
    (SQL + CENTRAL, {"replicationCluster": {"failoverDrReplicaName": ""}},
     "cloudsql.dr-replica", "designates no DR replica, the plan has "
                            "hastack-gcp-prod-us-east1-pg: run `pulumi up --refresh`"),
    (f"https://redis.googleapis.com/v1/projects/{PROJECT}/locations/us-east1/instances/"
     "hastack-gcp-prod-us-east1-redis", {"tier": "BASIC", "replicaCount": 0},
     "memorystore.tier-replicas", "tier BASIC, the plan has STANDARD_HA; 0 replica(s)"),
    (f"https://storage.googleapis.com/storage/v1/b/{BUCKET}", {"versioning": {}},
     "gcs.versioning", "versioning is off"),
    (f"https://storage.googleapis.com/storage/v1/b/{BUCKET}", {
        "location": "US-CENTRAL1", "locationType": "region", "customPlacementConfig": {}},
     "gcs.placement", "a single-region bucket"),
    (LAG, _lag(30.0, 1200.0), "cloudsql.replica-lag",
     "1200.0 s behind, above the region RPO target 900 s"),
    (HEALTH, {"type": "HTTP", "sourceRegions": ["us-central1"]}, "dns.health-check",
     "type HTTP, not HTTPS"),
])
def test_each_drift_fails_the_check_that_owns_it(path: str, change: dict[str, Any],
                                                 check: str, message: str) -> None:
    routes = deployment()
    status, body = routes[path]
    routes[path] = (status, _merge(body, change))
    failed = _failed(run(routes)[0])
    assert list(failed) == [check]
    assert message in failed[check][0]


def test_a_replica_without_a_recent_lag_point_is_a_warning() -> None:
    routes = deployment()
    routes[LAG] = (200, {})
    (finding,) = run(routes)[0]["cloudsql.replica-lag"]
    assert (finding.status, finding.resource) == ("warn", EAST)
    assert "replication state unknown" in finding.detail


def test_a_routing_policy_that_still_prefers_the_old_region_fails() -> None:
    routes = deployment()
    record = copy.deepcopy(routes[RECORD][1])
    policy = record["routingPolicy"]["primaryBackup"]
    policy["primaryTargets"]["externalEndpoints"] = ["203.0.113.246"]
    routes[RECORD] = (200, record)
    assert "a failover done without `pulumi up`" in _failed(run(routes)[0])[
        "dns.routing-policy"][0]
    del record["routingPolicy"]
    assert "DNS never fails over" in _failed(run(routes)[0])["dns.routing-policy"][0]


def test_a_promotion_the_stack_file_does_not_know_about_fails_saying_what_to_do() -> None:
    routes = deployment()
    routes[SQL + EAST] = (200, {**routes[SQL + EAST][1], "instanceType": "CLOUD_SQL_INSTANCE",
                                "masterInstanceName": None})
    routes[SQL + CENTRAL] = (200, {**routes[SQL + CENTRAL][1],
                                   "instanceType": "READ_REPLICA_INSTANCE"})
    failed = _failed(run(routes)[0])
    assert failed["active-region"] == [
        f"the writer is {EAST} in us-east1, but hastack:activeRegion is us-central1: the next "
        "`pulumi up` would treat us-east1 as the standby. If the move was intended (a "
        "failover), set hastack:activeRegion: us-east1 in stacks/Pulumi.gcp-prod.yaml; "
        "otherwise fail back: hastack failover gcp-prod --to us-central1 --mode planned"]
    assert "promoted, not a replica" in failed["cloudsql.replica"][0]


def test_after_a_failover_the_stale_former_primary_is_a_warning() -> None:
    plan = _plan()
    plan["outputs"]["activeRegion"] = "us-east1"
    routes = deployment()
    routes[SQL + EAST] = (200, {**routes[SQL + EAST][1], "instanceType": "CLOUD_SQL_INSTANCE"})
    by_check, _ = run(routes, plan)
    statuses = [(f.status, f.region) for f in by_check["active-region"]]
    assert statuses == [("pass", "us-east1"), ("warn", "us-central1")]


def test_a_deleted_resource_fails_and_an_api_error_stops_the_run() -> None:
    routes = deployment()
    routes[HEALTH] = (404, {"error": {"code": 404, "message": "not found"}})
    assert _failed(run(routes)[0]) == {"dns.health-check": ["health check not found"]}
    routes[HEALTH] = (403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                      "message": "compute.healthChecks.get denied"}})
    with pytest.raises(GcpApiError, match=r"403 PERMISSION_DENIED: compute\.healthChecks\.get"):
        run(routes)


def test_the_command_dispatches_on_the_plan_s_cloud(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    routes = deployment()
    routes[SQL + EAST] = (200, {**routes[SQL + EAST][1], "instanceType": "CLOUD_SQL_INSTANCE"})
    monkeypatch.setattr(verify_cli, "gcp_services",
                        lambda: discovery_services(http=RoutedHttp(routes)))
    report = tmp_path / "report.json"
    assert verify_main(["--plan", str(PLAN_PATH), "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert "verify gcp-prod: " in out and "FAILED" in out
    # Both are primaries: the one in activeRegion passes, the promoted replica is no
    # replica any more (fail) and a second standalone primary (warn).
    # us-central1 still answers with its DR designation here: that check passes.
    assert json.loads(report.read_text())["summary"] == {"pass": 12, "warn": 1, "fail": 1}


def test_the_command_without_google_credentials_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    assert verify_main(["--plan", str(PLAN_PATH)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no Google credentials") and "Traceback" not in err
