"""GCP drills: no chaos engine, so the services' own failover APIs, timed by their operations.

* writer / zone: Cloud SQL Admin `instances.failover` (POST
  v1/projects/{project}/instances/{instance}/failover, body `failoverContext.
  settingsVersion` from `instances.get`), followed with `operations.get` until
  `status` DONE; the operation's `startTime`/`endTime` time the failover.
* cache: Memorystore `projects.locations.instances.failover` (POST
  v1/{name}:failover, `dataProtectionMode` LIMITED_DATA_LOSS: refuses when the
  replica lags, so a drill never loses data), followed with
  `projects.locations.operations.get` until `done`; `metadata.createTime/endTime`.

Clients are built from the discovery documents bundled with google-api-python-client
(`static_discovery=True`): nothing is fetched at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hastack.drill.clock import Clock, timed

ServiceFactory = Callable[[str, str], Any]  # (api, version) -> googleapiclient Resource


def google_services() -> ServiceFactory:
    import google.auth
    from googleapiclient.discovery import build

    credentials, _ = google.auth.default(
        scopes=["https://www.googleapis.com/auth/cloud-platform"])

    def make(api: str, version: str) -> Any:
        return build(api, version, credentials=credentials, static_discovery=True,
                     cache_discovery=False)
    return make


def cloud_sql_failover(services: ServiceFactory, project: str, instance: str, *,
                       clock: Clock) -> dict[str, Any]:
    sql = services("sqladmin", "v1")
    described = sql.instances().get(project=project, instance=instance).execute()
    version = described["settings"]["settingsVersion"]
    operation = sql.instances().failover(
        project=project, instance=instance,
        body={"failoverContext": {"kind": "sql#failoverContext",
                                  "settingsVersion": version}}).execute()
    for _ in range(clock.max_polls):
        if operation.get("status") == "DONE":
            break
        clock.sleep(clock.poll_seconds)
        operation = sql.operations().get(project=project, operation=operation["name"]).execute()
    error = operation.get("error")
    term = timed("database-failover", "sqladmin:operations.get", operation.get("startTime"),
                 operation.get("endTime") if operation.get("status") == "DONE" else None,
                 resource=instance, operation=operation.get("name"),
                 zoneBefore=described.get("gceZone"), error=error)
    return {"phases": [term], "terms": [term],
            "status": "failed" if error else ("completed" if operation.get("status") == "DONE"
                                               else "unfinished")}


def memorystore_failover(services: ServiceFactory, name: str, *, clock: Clock
                         ) -> dict[str, Any]:
    redis = services("redis", "v1")
    instances = redis.projects().locations().instances()
    operation = instances.failover(name=name,
                                   body={"dataProtectionMode": "LIMITED_DATA_LOSS"}).execute()
    for _ in range(clock.max_polls):
        if operation.get("done"):
            break
        clock.sleep(clock.poll_seconds)
        operation = redis.projects().locations().operations().get(
            name=operation["name"]).execute()
    metadata = operation.get("metadata", {})
    error = operation.get("error")
    term = timed("cache-failover", "redis:projects.locations.operations.get",
                 metadata.get("createTime"), metadata.get("endTime") if operation.get("done")
                 else None, resource=name, operation=operation.get("name"), error=error)
    return {"phases": [term], "terms": [term],
            "status": "failed" if error else ("completed" if operation.get("done")
                                               else "unfinished")}


def targets_from_plan(plan: dict[str, Any], region: str) -> dict[str, str]:
    """Cloud SQL / Memorystore of one region, as the offline plan names them."""
    found: dict[str, str] = {}
    for entry in plan.get("resources", []):
        inputs = entry.get("inputs") or {}
        if inputs.get("region") != region:
            continue
        if entry["type"] == "gcp:sql/databaseInstance:DatabaseInstance":
            found.setdefault("sqlInstance", str(inputs.get("name")))
            found.setdefault("project", str(inputs.get("project") or ""))
        elif entry["type"] == "gcp:redis/instance:Instance":
            found.setdefault("redisInstance", str(inputs.get("name")))
            found.setdefault("project", str(inputs.get("project") or ""))
    return found
