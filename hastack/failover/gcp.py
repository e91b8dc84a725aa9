"""The GCP cloud steps of a failover: Cloud SQL Admin, Cloud Monitoring, GKE, Kubernetes.

GCP has no managed region-switch service, so the steps are done here directly:

* preflight: the target GKE cluster is RUNNING (container API `clusters.get`); the
  target Cloud SQL instance is RUNNABLE and still a replica of the source and, with
  Advanced DR, its designated DR replica (`replicationCluster.drReplica`). On
  Enterprise, after a promotion the old primary is a stale standalone: failing back
  onto it would serve old data, so it is refused. The replica's `replica_lag` (Cloud
  Monitoring, in seconds) is known and within the region RPO target, unless
  `--accept-data-loss`.
* database: `instances.switchover` (planned, Enterprise Plus with the target designated
  as DR replica), else `instances.promoteReplica` (with `failover=true` for a
  replica failover to a DR replica); the returned operation is followed with
  `operations.get` until DONE, and its errors are reported by code and message.
* workloads: the orchestrator Deployments are scaled through the Kubernetes API
  (`PATCH .../deployments/<name>/scale`) and followed until their pods are ready:
  the old region's to zero before a planned promotion (no writes while it runs), the
  new region's up once the database moved (kube.py, deployments.py).

The API clients come from the discovery documents bundled with
google-api-python-client (`static_discovery=True`): no discovery fetch at run time.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hastack.failover.steps import FailoverError, Step, instance_id
from hastack.kube import KubeApi, KubeError, gke_kube_api

LAG_METRIC = "cloudsql.googleapis.com/database/replication/replica_lag"
LAG_WINDOW = timedelta(minutes=5)
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ServiceFactory = Callable[[str, str], Any]  # (api, version) -> discovery resource
KubeFactory = Callable[[str, str, str], KubeApi]  # (project, region, cluster)


class StepFailed(RuntimeError):
    pass


def workloads_plans(root: Path, infrastructure: Any, out_dir: Path) -> dict[str, dict[str, Any]]:
    """region -> plan of each workloads stack of the environment (offline, mock engine)."""
    from hastack.plan.pipeline import _reference_of, plan_single, reference_name
    from hastack.stacks import environment_stacks

    env = infrastructure.plan["stack"]
    references = {reference_name(infrastructure.recording.project, env):
                  _reference_of(infrastructure)}
    plans: dict[str, dict[str, Any]] = {}
    for stack in environment_stacks(root, env)[1:]:
        plan = plan_single(root, stack, out_dir, references).plan
        region = (plan.get("outputs") or {}).get("region")
        if region:
            plans[str(region)] = plan
    return plans


def discovery_services(http: Any = None, credentials: Any = None) -> ServiceFactory:
    with warnings.catch_warnings():
        # google-api-core warns on import about Python versions it will drop next
        # year: noise on every command's stderr, nothing the operator can act on.
        warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")
        from googleapiclient.discovery import build

    cache: dict[tuple[str, str], Any] = {}

    def service(api: str, version: str) -> Any:
        if (api, version) not in cache:
            cache[(api, version)] = build(api, version, http=http, credentials=credentials,
                                          static_discovery=True, cache_discovery=False)
        return cache[(api, version)]
    return service


def gcp_runner(rpo_target_seconds: int | None, accept_data_loss: bool) -> Callable[[Step], str]:
    """The real runner: Application Default Credentials of whoever runs the failover."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as error:
        raise FailoverError("no Google credentials: run `gcloud auth application-default "
                            f"login` or set GOOGLE_APPLICATION_CREDENTIALS ({error})") from error
    services = discovery_services(credentials=credentials)
    return GcpSteps(services, lambda project, region, cluster: gke_kube_api(
        services, credentials, project, region, cluster),
        rpo_target_seconds, accept_data_loss).run


def latest_replica_lag(services: ServiceFactory, project: str, instance: str,
                       end: datetime) -> float | None:
    """The newest replica_lag point (seconds) of the five minutes before `end`, if any."""
    response = services("monitoring", "v3").projects().timeSeries().list(
        name=f"projects/{project}",
        filter=(f'metric.type = "{LAG_METRIC}" AND resource.type = "cloudsql_database" '
                f'AND resource.labels.database_id = "{project}:{instance}"'),
        interval_startTime=(end - LAG_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ"),
        interval_endTime=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ).execute()
    points = [point for series in response.get("timeSeries", [])
              for point in series.get("points", [])]
    if not points:
        return None
    newest = max(points, key=lambda p: p["interval"]["endTime"])["value"]
    return float(newest.get("doubleValue", newest.get("int64Value", 0)))


def rfc3339(value: str) -> datetime:
    """Cloud SQL's RFC 3339 timestamps ("2012-11-15T16:19:00.094Z")."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def operation_seconds(operation: Mapping[str, Any]) -> float | None:
    """How long the operation ran, from its own `startTime` and `endTime` (sqladmin v1
    Operation), or None when either is missing."""
    start, end = operation.get("startTime"), operation.get("endTime")
    if not start or not end:
        return None
    return (rfc3339(str(end)) - rfc3339(str(start))).total_seconds()


def _api_error(error: Exception) -> str:
    """`HttpError` -> "403 PERMISSION_DENIED: ..." (the API's own words)."""
    content = getattr(error, "content", b"") or b""
    try:
        body = json.loads(content).get("error", {})
    except (ValueError, AttributeError):
        body = {}
    status = getattr(getattr(error, "resp", None), "status", "?")
    return f"{status} {body.get('status', '')}: {body.get('message') or error}".strip()


class GcpSteps:
    """Executes the cloud steps of a GCP failover plan (steps.py `_gcp_steps`)."""

    def __init__(self, services: ServiceFactory, kube: KubeFactory,
                 rpo_target_seconds: int | None, accept_data_loss: bool,
                 poll_seconds: float = 10.0, timeout_seconds: float = 1800.0,
                 sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.services = services
        self.kube = kube
        self.rpo_target_seconds = rpo_target_seconds
        self.accept_data_loss = accept_data_loss
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.now = now
        self._waited = 0.0
        # The last Cloud SQL operation followed to DONE (a drill times it).
        self.last_operation: Mapping[str, Any] | None = None

    def run(self, step: Step) -> str:
        from google.auth.exceptions import GoogleAuthError
        from googleapiclient.errors import HttpError
        from httplib2 import HttpLib2Error

        try:
            return self._run(step)
        except (GoogleAuthError, HttpLib2Error) as error:  # token refresh, DNS, TLS
            raise StepFailed(f"Google API unreachable or credentials refused: {error}") from error
        except HttpError as error:
            raise StepFailed(f"{error.resp.get('content-location') or error.uri}: "
                             f"{_api_error(error)}") from error
        except KubeError as error:
            raise StepFailed(str(error)) from error

    def _run(self, step: Step) -> str:
        check = step.details.get("check")
        if check == "target-health":
            return self._cluster_running(step)
        if check == "replica-state":
            return self._replica_state(step)
        if check == "replication-lag":
            return self._lag_within_target(step)
        if step.kind == "database":
            return self._move_writer(step)
        if "scale" in step.details:
            return self._scale(step)
        return "nothing to do in the cloud"

    # --- preflight ---------------------------------------------------------------
    def _sql(self) -> Any:
        return self.services("sqladmin", "v1")

    def _instance(self, project: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._sql().instances().get(project=project,
                                                            instance=name).execute()
        return found

    def _cluster_running(self, step: Step) -> str:
        d = step.details
        name = f"projects/{d['project']}/locations/{step.region}/clusters/{d['cluster']}"
        cluster = self.services("container", "v1").projects().locations().clusters().get(
            name=name).execute()
        # RECONCILING: an upgrade or repair in progress; the control plane still serves.
        if cluster.get("status") not in ("RUNNING", "RECONCILING"):
            raise StepFailed(f"GKE cluster {d['cluster']} is {cluster.get('status')}, "
                             "not RUNNING")
        return f"GKE cluster {d['cluster']} is {cluster['status']}"

    def _replica_state(self, step: Step) -> str:
        d = step.details
        found = self._instance(d["project"], d["instance"])
        edition = (found.get("settings") or {}).get("edition", "?")
        if found.get("instanceType") != "READ_REPLICA_INSTANCE":
            if d.get("advancedDr"):
                raise StepFailed(
                    f"{d['instance']} is a standalone primary ({found.get('instanceType')}), "
                    f"not a replica of {d['sourceInstance']}. After a replica failover Cloud "
                    "SQL re-attaches the old primary as a replica once its region is back: "
                    "wait until `gcloud sql instances describe` shows READ_REPLICA_INSTANCE, "
                    "run `pulumi up --refresh` (it designates the DR replica), then rerun")
            raise StepFailed(
                f"{d['instance']} is a standalone primary ({found.get('instanceType')}), not a "
                f"replica of {d['sourceInstance']}: it was promoted before, or was the primary"
                " before the last failover (Enterprise edition: a promotion is one-way). "
                "Failing over onto that copy would serve stale data; rebuild it as a replica "
                "first, or move to Enterprise Plus with Advanced DR (README, Runbook: failover "
                "and failback, On GCP)")
        # Cloud SQL names the primary "project:instance"; the plan names the instance.
        master = found.get("masterInstanceName")
        if master and instance_id(master) != d["sourceInstance"]:
            raise StepFailed(f"{d['instance']} replicates from {master}, not "
                             f"{d['sourceInstance']}")
        if found.get("state") != "RUNNABLE":
            raise StepFailed(f"{d['instance']} is {found.get('state')}, not RUNNABLE")
        if d.get("advancedDr") and not (found.get("replicationCluster") or {}).get("drReplica"):
            raise StepFailed(
                f"{d['instance']} replicates from {d['sourceInstance']} but is not its DR "
                "replica (replicationCluster.drReplica is not true): run `pulumi up --refresh` "
                "of the infrastructure stack (the plan designates it with "
                "replication_cluster.failover_dr_replica_name), then rerun")
        kind = "DR replica" if d.get("advancedDr") else "replica"
        return f"{d['instance']} is a RUNNABLE {kind} of {d['sourceInstance']} ({edition})"

    def latest_lag(self, project: str, instance: str) -> float | None:
        return latest_replica_lag(self.services, project, instance, self.now())

    def _lag_within_target(self, step: Step) -> str:
        lag = self.latest_lag(step.details["project"], step.details["instance"])
        target = self.rpo_target_seconds
        if lag is None:
            if self.accept_data_loss:
                return "replication lag unknown (no replica_lag point); --accept-data-loss given"
            raise StepFailed("the replication lag is unknown (no replica_lag point in 5 "
                             "minutes): rerun with --mode unplanned --accept-data-loss to "
                             "fail over anyway")
        if target is not None and lag > target and not self.accept_data_loss:
            raise StepFailed(f"replication lag {lag:.1f} s is above the RPO target {target} s:"
                             " rerun with --mode unplanned --accept-data-loss to fail over "
                             "anyway")
        return f"replication lag {lag:.1f} s (RPO target {target} s)"

    # --- database ----------------------------------------------------------------
    def _move_writer(self, step: Step) -> str:
        d = step.details
        project, name = d["project"], d["instance"]
        found = self._instance(project, name)
        if found.get("instanceType") == "CLOUD_SQL_INSTANCE" and not found.get(
                "masterInstanceName"):
            return f"{name} is already a primary"  # a rerun after the operation finished
        if d.get("waitForZeroLag"):
            self._wait(lambda: self.latest_lag(project, name) == 0.0,
                       f"{name}'s replica_lag to read 0 s after the writers stopped")
        instances = self._sql().instances()
        if d["operation"] == "switchover":
            operation = instances.switchover(project=project, instance=name).execute()
        elif d.get("replicaFailover"):
            operation = instances.promoteReplica(project=project, instance=name,
                                                 failover=True).execute()
        else:
            operation = instances.promoteReplica(project=project, instance=name).execute()
        done = self.follow(project, operation)
        took = operation_seconds(done)
        timing = (f"{took:.0f} s by the operation's startTime/endTime" if took is not None
                  else f"followed {self._waited:.0f} s")
        return f"{name} is the primary ({d['operation']} done, {timing})"

    def follow(self, project: str, operation: Mapping[str, Any]) -> Mapping[str, Any]:
        """Poll `operations.get` until DONE; raise with the operation's own errors.

        Returns the finished operation (its `startTime`/`endTime` time the change)."""
        waited = 0.0
        while operation.get("status") != "DONE":
            if waited >= self.timeout_seconds:
                raise StepFailed(f"operation {operation.get('name')} still "
                                 f"{operation.get('status')} after {waited:.0f} s; rerun to "
                                 "keep following it")
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds
            operation = self._sql().operations().get(project=project,
                                                     operation=operation["name"]).execute()
        self._waited = waited
        self.last_operation = operation
        errors = (operation.get("error") or {}).get("errors") or []
        if errors:
            raise StepFailed(f"operation {operation.get('name')} "
                             f"({operation.get('operationType')}) failed: " + "; ".join(
                                 f"{e.get('code')}: {e.get('message')}" for e in errors))
        return operation

    def _wait(self, done: Callable[[], bool], what: str) -> float:
        waited = 0.0
        while not done():
            if waited >= self.timeout_seconds:
                raise StepFailed(f"gave up waiting {waited:.0f} s for {what}; rerun to resume")
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds
        return waited

    # --- workloads ---------------------------------------------------------------
    def _scale(self, step: Step) -> str:
        d = step.details
        kube = self.kube(d["project"], step.region, d["cluster"])
        for deployment in d["scale"]:
            kube.scale(deployment["namespace"], deployment["name"], deployment["replicas"])
        waited = self._wait(lambda: all(
            kube.ready(x["namespace"], x["name"], x["replicas"]) for x in d["scale"]),
            f"the Deployments of {d['cluster']} to be ready")
        scaled = ", ".join(f"{x['namespace']}/{x['name']}={x['replicas']}" for x in d["scale"])
        return f"{d['cluster']}: {scaled} ready after {waited:.0f} s"
