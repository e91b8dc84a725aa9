"""The AWS warm standby of Prefect: what an ARC Region switch execution starts.

On AWS the standby's database address is the Aurora global writer endpoint, which
answers from the standby region only after the switchover, and an ARC execution
scales the standby's Deployments to the active region's counts in place (no
`pulumi up` in between). So the API pods start without in-process services on the
region's Redis (`arc_standby_overrides`) and one zero-replica Deployment holds the
background services (`standby_services`); the primary shape (prefect.py) replaces
both with the next `pulumi up`. GCP's standby keeps the chart's single-deployment
shape (prefect.py `_standby_overrides`).
"""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import placement, sizing
from components.k8s.prefect import (
    DB_SECRET,
    DB_SECRET_KEY,
    DOCKET_URL_KEY,
    REDIS_PASSWORD_KEY,
    REDIS_SECRET,
    SERVER_FULLNAME,
    SERVER_IMAGE,
    SERVER_RELEASE,
    server_pod_labels,
)
from components.k8s.wiring import CacheEndpoint, OrchestratorWiring, revision_annotations

# The standby's own background-services Deployment, which ARC scales from zero.
STANDBY_BACKGROUND_DEPLOYMENT = f"{SERVER_FULLNAME}-standby-services"

# Probes of the AWS standby's services pod. Prefect's services serve no health
# endpoint (`prefect server services start`, prefect/cli/server.py), so:
# ready = the database and Redis from its own env accept a connection (an ARC
# execution waits for ready pods, so this is "the services reach the new writer");
# live = the services process still exists (its hangs have no signal to probe).
SERVICES_READY_CHECK = """\
import os, socket
from sqlalchemy.engine import make_url
db = make_url(os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"])
redis = (os.environ["PREFECT_REDIS_MESSAGING_HOST"],
         int(os.environ["PREFECT_REDIS_MESSAGING_PORT"]))
for address in ((db.host, db.port or 5432), redis):
    socket.create_connection(address, timeout=3).close()
"""
SERVICES_LIVE_CHECK = """\
import os, sys
def services(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"services\\x00start" in f.read()
    except OSError:
        return False
sys.exit(0 if any(services(p) for p in os.listdir("/proc") if p.isdigit()) else 1)
"""


def standby_background_pod_labels(release: str = SERVER_RELEASE) -> dict[str, str]:
    # Its own component: the chart's Deployment must never select these pods.
    return {**server_pod_labels(release),
            "app.kubernetes.io/component": "standby-background-services"}


def messaging_env(cache: CacheEndpoint) -> list[dict[str, Any]]:
    """The env the chart gives API and background pods in separate-deployment mode.

    prefect-helm `_helpers.tpl` `backgroundServices.envVars` (chart 2026.8.18172642),
    for `messaging.broker: prefect_redis.messaging` and our `existingSecret`s: Redis
    messaging, causal ordering and lease storage, the Docket URL, and no migration on
    start (the hook Job migrates). Without them Prefect 3.8.3 defaults to in-memory
    messaging, `prefect.server.concurrency.lease_storage.memory` and Docket
    `memory://` (settings/models/server/{events,concurrency,docket}.py), each private
    to one process.
    """
    env: list[dict[str, Any]] = [
        {"name": "PREFECT_SERVER_DATABASE_MIGRATE_ON_START", "value": "false"},
        {"name": "PREFECT_MESSAGING_BROKER", "value": "prefect_redis.messaging"},
        {"name": "PREFECT_MESSAGING_CACHE", "value": "prefect_redis.messaging"},
        {"name": "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING", "value": "prefect_redis.ordering"},
        {"name": "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE",
         "value": "prefect_redis.lease_storage"},
        {"name": "PREFECT_REDIS_MESSAGING_HOST", "value": cache.host},
        {"name": "PREFECT_REDIS_MESSAGING_PORT",
         "value": pulumi.Output.from_input(cache.port).apply(str)},
    ]
    if cache.tls:
        env.append({"name": "PREFECT_REDIS_MESSAGING_SSL", "value": "true"})
    env += [
        {"name": "PREFECT_REDIS_MESSAGING_DB", "value": "0"},
        {"name": "PREFECT_REDIS_MESSAGING_PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": REDIS_SECRET, "key": REDIS_PASSWORD_KEY}}},
        {"name": "PREFECT_SERVER_DOCKET_URL", "valueFrom": {"secretKeyRef": {
            "name": REDIS_SECRET, "key": DOCKET_URL_KEY}}},
    ]
    return env


def arc_standby_overrides(values: dict[str, Any], cache: CacheEndpoint | None) -> None:
    """The AWS standby's API pods as ARC starts them: webserver only, shared Redis.

    An ARC execution scales `prefect-server` to the active region's API count. The
    chart's single-deployment shape would start each of those pods with the
    background services in-process and Prefect's in-memory defaults for messaging,
    lease storage and Docket (`messaging_env`): every pod would schedule its own
    copy of every perpetual service (each is added under its function name as key,
    prefect/server/services/perpetual_services.py, and pydocket 0.27.2 `Docket.add`
    skips a key only if it is already scheduled or running in the same Docket) and
    see only its own events and leases. So the API pods start as in the primary
    shape: `prefect server start --no-services` (the chart appends `server.extraArgs`
    to its command; `--no-services` is `webserver_only`, prefect/cli/server.py) with
    the Redis environment. The one set of services runs in
    `STANDBY_BACKGROUND_DEPLOYMENT`, which ARC scales from zero. The chart's own
    background Deployment cannot stand in: its schema's `replicaCount` minimum is 1,
    and that pod would start before promotion, with no reachable database.
    """
    if cache is None:
        raise ValueError("a Prefect standby on the Aurora global writer endpoint needs "
                         "wiring.cache: the pods ARC scales up share its Redis")
    if cache.ca_certificate is not None:
        # The standby's own services Deployment does not carry the trust bundle.
        raise ValueError("a Prefect standby on the Aurora global writer endpoint expects "
                         "a Redis with a public CA (ElastiCache); got a private CA")
    values["server"]["extraArgs"] = ["--no-services"]
    values["server"]["env"] = [*values["server"].get("env", []), *messaging_env(cache)]


def standby_services(name: str, ns_name: pulumi.Input[str], labels: dict[str, str],
                     wiring: OrchestratorWiring, opts: pulumi.ResourceOptions
                     ) -> k8s.apps.v1.Deployment:
    """The AWS standby's background services: zero replicas until ARC scales them.

    The pod the chart's `background-services/deployment.yaml` renders (command,
    env, security contexts, scratch volumes as its defaults), with the env of
    `messaging_env`, so its Docket, messaging and leases are the API pods'. ARC
    names it for this region (region_switch.py `orchestrator_workload`); the
    primary shape replaces it with the chart's own Deployment.
    """
    assert wiring.cache is not None  # arc_standby_overrides refused it already
    tier = wiring.tier
    pod_labels = standby_background_pod_labels()
    env = [
        {"name": "HOME", "value": "/home/prefect"},
        {"name": "PREFECT_DEBUG_MODE", "value": "false"},
        {"name": "PREFECT_LOGGING_SERVER_LEVEL", "value": "WARNING"},
        {"name": "PREFECT_UI_ENABLED", "value": "false"},
        {"name": "PREFECT_SERVER_DATABASE_CONNECTION_URL", "valueFrom": {
            "secretKeyRef": {"name": DB_SECRET, "key": DB_SECRET_KEY}}},
        *messaging_env(wiring.cache),
    ]
    # The root filesystem is read-only: home and /tmp live on one emptyDir.
    scratch = [{"mountPath": "/home/prefect", "name": "scratch", "subPathExpr": "home"},
               {"mountPath": "/tmp", "name": "scratch", "subPathExpr": "tmp"}]
    template_metadata: dict[str, Any] = {"labels": pod_labels}
    if annotations := revision_annotations(wiring):
        template_metadata["annotations"] = annotations
    # camelCase dicts, passed through verbatim: the shapes the chart values use.
    spec: dict[str, Any] = {
        # Zero until an ARC execution scales it (a Deployment with no replicas is
        # ready at once, so the first `pulumi up` does not wait on a database:
        # pulumi-kubernetes' await, provider/pkg/await/deployment.go, counts a
        # ReplicaSet of `spec.replicas: 0` as ready).
        "replicas": 0,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": pod_labels},
        "template": {"metadata": template_metadata, "spec": {
            # The services never call the Kubernetes API.
            "automountServiceAccountToken": False,
            "affinity": placement.anti_affinity(pod_labels, tier),
            "tolerations": placement.eviction_tolerations(),
            "securityContext": {"runAsUser": 1001, "runAsNonRoot": True,
                                "fsGroup": 1001},
            "containers": [{
                "name": "prefect-background-services",
                "image": SERVER_IMAGE,
                "command": ["/usr/bin/tini", "-g", "--", "/opt/prefect/entrypoint.sh"],
                "args": ["prefect", "server", "services", "start"],
                "workingDir": "/home/prefect",
                "env": env,
                "resources": sizing.resources(tier, "background"),
                "securityContext": {"runAsUser": 1001, "runAsNonRoot": True,
                                    "readOnlyRootFilesystem": True,
                                    "allowPrivilegeEscalation": False},
                "volumeMounts": scratch,
                "readinessProbe": {
                    "exec": {"command": ["python", "-c", SERVICES_READY_CHECK]},
                    "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
                "livenessProbe": {
                    "exec": {"command": ["python", "-c", SERVICES_LIVE_CHECK]},
                    "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3},
            }],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        }},
    }
    return k8s.apps.v1.Deployment(
        f"{name}-standby-services",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=STANDBY_BACKGROUND_DEPLOYMENT,
                                            namespace=ns_name, labels=labels),
        spec=cast(Any, spec), opts=opts)
