"""Prefect server (API + UI + background services) and Prefect workers, HA on Kubernetes.

HA shape (role "primary"):
* API replicas >= 2 (3 in prod) behind one Service, spread over zones and nodes;
* background services in their own Deployment (>= 2 replicas coordinated through
  Redis/Docket), which is also what makes the chart inject Redis messaging;
* state in the platform's PostgreSQL (TLS), events/leases/Docket in its Redis (TLS);
* a PodDisruptionBudget we create (the chart has none for the server);
* >= 2 workers polling the same work pool (the API hands each run to one worker),
  with the chart's worker PDB;
* no open doors: basic auth on the API/UI (a generated password the worker shares),
  its own database role (dbrole.py), flow runs as `prefect-flow-run` with the bucket
  identity; the tier's retry/result defaults handed to every flow run and the result
  block + work pool template set by a setup Job (resilience.py, prefect_setup.py).

Warm standby (role "standby", secondary region): see `_standby_overrides`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import charts, placement, prefect_setup, resilience, sizing, trust
from components.k8s.credentials import API_AUTH_USER, app_credentials
from components.k8s.dbrole import DATABASE_ROLE_LABEL, app_endpoint, database_role_job
from components.k8s.exposure import expose_service
from components.k8s.identity import ServiceAccountRef, artifact_identity
from components.k8s.release import helm_release, namespace, platform_labels
from components.k8s.secrets import opaque_secret, postgres_asyncpg_url, redis_url
from components.k8s.wiring import (
    CacheEndpoint,
    Exposure,
    OrchestratorWiring,
    revision_annotations,
)

SERVER_RELEASE = "prefect-server"
WORKER_RELEASE = "prefect-worker"
# The chart's `fullnameOverride` default, set explicitly: it names the Service.
SERVER_FULLNAME = "prefect-server"
SERVER_PORT = 4200  # chart default `service.port`

DB_SECRET = "prefect-database"
DB_SECRET_KEY = "connection-string"  # the key the chart's legacy `secret.name` path reads
REDIS_SECRET = "prefect-redis"
REDIS_PASSWORD_KEY = "redis-password"
DOCKET_URL_KEY = "docket-url"
# Basic auth: the charts read key `auth-string` (`admin:<password>`) of this Secret.
AUTH_SECRET = "prefect-api-auth"
AUTH_SECRET_KEY = "auth-string"
# The service account flow-run pods run as (the work pool's base job template names
# it): the only Prefect identity that may use the artifact bucket.
FLOW_RUN_SA = "prefect-flow-run"
SETUP_IMAGE = f"prefecthq/prefect:{charts.PREFECT_WORKER_IMAGE_TAG}"
SERVER_IMAGE = f"prefecthq/prefect:{charts.PREFECT_SERVER_IMAGE_TAG}"
# The chart's background-services Deployment (rendered only with
# `runAsSeparateDeployment: true`); the AWS standby's own: prefect_standby.py.
BACKGROUND_DEPLOYMENT = f"{SERVER_FULLNAME}-background-services"


# The setup Job's program: the module's own source (it imports nothing from here).
SETUP_PROGRAM = Path(prefect_setup.__file__).read_text()


def server_pod_labels(release: str = SERVER_RELEASE) -> dict[str, str]:
    """The labels the prefect-server chart puts on API pods (and nothing else)."""
    return {
        "app.kubernetes.io/name": charts.PREFECT_SERVER.name,
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "server",
    }


def background_pod_labels(release: str = SERVER_RELEASE) -> dict[str, str]:
    return {**server_pod_labels(release), "app.kubernetes.io/component": "background-services"}


def worker_pod_labels(release: str = WORKER_RELEASE) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": charts.PREFECT_WORKER.name,
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "worker",
    }


def in_cluster_api_url(namespace_name: str) -> str:
    return f"http://{SERVER_FULLNAME}.{namespace_name}.svc.cluster.local:{SERVER_PORT}/api"


# --- values ------------------------------------------------------------------------------


def _messaging(cache: CacheEndpoint) -> dict[str, Any]:
    return {
        "redis": {
            "host": cache.host,
            "port": cache.port,
            "ssl": cache.tls,
            "existingSecret": REDIS_SECRET,
            "existingSecretPasswordKey": REDIS_PASSWORD_KEY,
        },
        # Docket coordinates the background-service replicas; its default
        # (memory://) only works for a single replica.
        "docket": {"existingSecret": REDIS_SECRET, "existingSecretKey": DOCKET_URL_KEY},
    }


def server_values(wiring: OrchestratorWiring) -> dict[str, Any]:
    """prefect-server values for a primary region (standby: `_standby_overrides`)."""
    if wiring.cache is None:
        raise ValueError("Prefect with several API replicas needs Redis (wiring.cache)")
    tier = wiring.tier
    values: dict[str, Any] = {
        "fullnameOverride": SERVER_FULLNAME,
        "global": {"prefect": {"image": {"prefectTag": charts.PREFECT_SERVER_IMAGE_TAG}}},
        "server": {
            "replicaCount": sizing.replicas(tier, "api", wiring.server_replicas),
            "resources": sizing.resources(tier, "api"),
            "affinity": placement.anti_affinity(server_pod_labels(), tier),
            # Replace before adding: with one API pod per node (required anti-affinity)
            # a surge pod may find no node, and the PDB allows one pod down anyway.
            # The chart's schema types both as strings.
            "updateStrategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxSurge": "0", "maxUnavailable": "1"}},
            "tolerations": placement.eviction_tolerations(),
            "uiConfig": {"prefectUiApiUrl": f"https://{wiring.public_hostname}/api"},
            # The API never calls the Kubernetes API: no token in its pods.
            "automountServiceAccountToken": False,
            # Every API and UI request needs the password (PREFECT_SERVER_API_AUTH_STRING).
            "basicAuth": {"enabled": True, "existingSecret": AUTH_SECRET},
        },
        "backgroundServices": {
            "runAsSeparateDeployment": True,
            "replicaCount": sizing.replicas(tier, "background"),
            "resources": sizing.resources(tier, "background"),
            "affinity": placement.anti_affinity(background_pod_labels(), tier),
            "tolerations": placement.eviction_tolerations(),
            "automountServiceAccountToken": False,
            "messaging": _messaging(wiring.cache),
        },
        "migrations": {"enabled": True},
        "serviceAccount": {"automountServiceAccountToken": False},
        # External PostgreSQL only; the connection URL (with the password) is read
        # from our Secret. `secret.create: false` stops the chart from rendering its
        # own Secret from `secret.*` fields (which would need the password in values).
        "postgresql": {"enabled": False},
        "externalDatabase": {"existingSecret": DB_SECRET,
                             "connectionStringSecretKey": DB_SECRET_KEY},
        "secret": {"create": False, "name": DB_SECRET},
        # The edge is ours (exposure.py registers the Service with it): no chart Ingress/Gateway.
        "ingress": {"enabled": False},
        "gateway": {"enabled": False},
    }
    if wiring.cache.ca_certificate is not None:
        # A private CA (Memorystore): both pods that talk to Redis must trust it.
        image = f"prefecthq/prefect:{charts.PREFECT_SERVER_IMAGE_TAG}"
        for section in ("server", "backgroundServices"):
            values[section].update(trust.pod_trust_values(image))
    for section in ("server", "backgroundServices"):
        # Both read the database URL and the Redis token from Secrets at start-up.
        if annotations := revision_annotations(wiring):
            values[section]["podAnnotations"] = annotations
    if wiring.role == "standby":
        _standby_overrides(values)
        if wiring.standby_database == "global-writer":
            # Imported here: prefect_standby builds on this module's names.
            from components.k8s.prefect_standby import arc_standby_overrides
            arc_standby_overrides(values, wiring.cache)
    return values


def _standby_overrides(values: dict[str, Any]) -> None:
    """Warm standby: everything installed and wired, nothing that writes is running.

    What the standby connects to: `wiring.database` is an address that is writable
    once the standby's region is promoted: on AWS the Aurora global writer endpoint
    (it follows a switchover or failover; nothing connects before, as no pod runs),
    on GCP the cross-region replica (it keeps its IP when promoted); `wiring.cache`
    is the secondary region's own Redis (messaging state is ephemeral and not
    replicated). Prefect cannot serve from a read-only database
    (background services and the migration hook write, the API writes on every run
    state change), so API, background services and workers are scaled to zero and
    the migration hook is off; namespace, Secrets, release, Service, its
    registration with the region's edge (exposure.py) and the PDB are all in place.
    On GCP `hastack failover` then starts one API pod (this single-deployment shape,
    services in-process: hastack/failover/deployments.py) and the workers; on AWS an
    ARC execution scales the Deployments to the active region's counts, so the API
    pods start without services (prefect_standby.py). `pulumi up` with the
    region's role set to primary then renders the primary shape (migrations run).
    """
    values["server"]["replicaCount"] = 0
    values["backgroundServices"]["runAsSeparateDeployment"] = False
    values["backgroundServices"]["replicaCount"] = 1  # schema minimum; not rendered
    values["migrations"]["enabled"] = False


def worker_values(wiring: OrchestratorWiring, api_url: str) -> dict[str, Any]:
    """prefect-worker values: self-hosted API in-cluster, >= 2 replicas with a PDB."""
    tier = wiring.tier
    # Standby workers would pick up runs from the primary's queue.
    standby = wiring.role == "standby"
    replica_count = 0 if standby else sizing.replicas(tier, "worker", wiring.worker_replicas)
    return {
        "fullnameOverride": WORKER_RELEASE,
        "worker": {
            "apiConfig": "selfHostedServer",
            "selfHostedServerApiConfig": {
                "apiUrl": api_url,
                "basicAuth": {"enabled": True, "existingSecret": AUTH_SECRET},
            },
            "config": {
                "workPool": wiring.work_pool,
                "type": "kubernetes",
                # The -kubernetes image already contains the worker; never pip-install
                # at start-up (clusters may have no egress).
                "installPolicy": "never",
            },
            "image": {"prefectTag": charts.PREFECT_WORKER_IMAGE_TAG},
            "replicaCount": replica_count,
            # The chart renders an autoscaling/v2 HPA and then leaves `replicas` out of
            # the Deployment, so Helm upgrades do not reset what the HPA chose (our own
            # HPA next to the chart's `replicas` would be undone by every upgrade).
            # What scales: a worker polls the work pool and submits each flow run as a
            # Kubernetes Job; submission bursts cost worker CPU, the runs themselves
            # run in their Job pods (on nodes Karpenter adds).
            "autoscaling": {
                "enabled": not standby,
                "minReplicas": max(replica_count, 1),
                "maxReplicas": max(replica_count, wiring.worker_max_replicas),
                "targetCPUUtilizationPercentage": 70,
                # Python pollers do not give memory back: scale on CPU only.
                "targetMemoryUtilizationPercentage": 0,
            },
            "resources": sizing.resources(tier, "worker"),
            # Preferred, not required: with an HPA the count may exceed the nodes, and a
            # worker is a stateless poller (the PDB still bounds voluntary disruption).
            "affinity": placement.anti_affinity(worker_pod_labels(), tier,
                                                hard_on_nodes=False),
            "tolerations": placement.eviction_tolerations(),
            "podDisruptionBudget": {"maxUnavailable": 1},
            # Retry/result defaults: the worker passes its Prefect settings on to every
            # flow-run pod it creates (see resilience.py).
            "extraEnvVars": [
                {"name": key, "value": value} for key, value in resilience.prefect_settings(
                    tier, result_storage=wiring.artifacts is not None).items()],
        },
    }


# --- component ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefectServerArgs:
    wiring: OrchestratorWiring
    namespace: str = "prefect"
    # How the Service is reached from the internet; None: the wiring's.
    exposure: Exposure | None = None


class PrefectServer(pulumi.ComponentResource):
    """Prefect server + workers for one region."""

    namespace: pulumi.Output[str]
    service_hostname: str
    api_url: str

    def __init__(self, name: str, args: PrefectServerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:k8s:PrefectServer", name, None, opts)
        wiring = args.wiring
        if wiring.database is None:
            raise ValueError("PrefectServer needs wiring.database (PostgreSQL >= 14.9)")
        labels = platform_labels(wiring.tier, "PrefectServer", wiring.labels)
        # The caller's depends_on (the load balancer controller's release, whose Service
        # webhook fails closed) must hold for every object: Pulumi does not pass a
        # component's dependencies on to its children.
        child = pulumi.ResourceOptions(parent=self, provider=wiring.kubernetes_provider,
                                       depends_on=opts.depends_on if opts else None)

        ns = namespace(f"{name}-namespace", args.namespace, wiring.tier, labels, child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        ns_name = ns.metadata.name
        credentials = wiring.credentials or app_credentials(name, "prefect", self)
        database = app_endpoint(wiring.database, credentials)
        api_password = credentials.api_password
        if api_password is None:
            raise ValueError("PrefectServer needs credentials.api_password: the API is "
                             "public and must require basic auth")

        secrets = [
            opaque_secret(f"{name}-database", name=DB_SECRET, namespace=ns_name,
                          # Which role the (secret) login is: what the guardrail reads.
                          labels={**labels, DATABASE_ROLE_LABEL: credentials.database_role},
                          entries={DB_SECRET_KEY: postgres_asyncpg_url(database)}, opts=in_ns),
            opaque_secret(f"{name}-api-auth", name=AUTH_SECRET, namespace=ns_name,
                          labels=labels,
                          entries={AUTH_SECRET_KEY: pulumi.Output.concat(
                              API_AUTH_USER, ":", api_password)},
                          opts=in_ns),
        ]
        if wiring.cache is not None:
            secrets.append(opaque_secret(
                f"{name}-redis", name=REDIS_SECRET, namespace=ns_name, labels=labels,
                entries={REDIS_PASSWORD_KEY: wiring.cache.auth_token,
                         DOCKET_URL_KEY: redis_url(wiring.cache)},
                opts=in_ns))
        prerequisites: list[pulumi.Resource] = []
        if wiring.cache is not None and wiring.cache.ca_certificate is not None:
            prerequisites.append(trust.ca_configmap(
                f"{name}-redis-ca", namespace=ns_name,
                ca_certificate=wiring.cache.ca_certificate, labels=labels, opts=in_ns))
        if wiring.role == "primary":
            # The standby's replica is read-only and already has the role (replicated).
            prerequisites.append(database_role_job(
                f"{name}-db-role", namespace=ns_name, labels=labels, master=wiring.database,
                credentials=credentials, opts=in_ns))
        if wiring.artifacts is not None:
            prerequisites.append(self._flow_run_account(name, args.namespace, ns_name, labels,
                                                        wiring, in_ns))
        after_secrets = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[ns, *secrets, *prerequisites]))

        server = helm_release(f"{name}-server", chart=charts.PREFECT_SERVER,
                              release_name=SERVER_RELEASE, namespace=ns_name,
                              values=server_values(wiring), opts=after_secrets)
        self._server_pdb(name, ns_name, labels, pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[server])))
        if wiring.role == "standby" and wiring.standby_database == "global-writer":
            from components.k8s.prefect_standby import standby_services
            standby_services(name, ns_name, labels, wiring, after_secrets)

        self.service_hostname = f"{SERVER_FULLNAME}.{args.namespace}.svc.cluster.local"
        self.api_url = in_cluster_api_url(args.namespace)
        worker = helm_release(f"{name}-worker", chart=charts.PREFECT_WORKER,
                              release_name=WORKER_RELEASE, namespace=ns_name,
                              values=worker_values(wiring, self.api_url),
                              opts=pulumi.ResourceOptions.merge(
                                  child, pulumi.ResourceOptions(depends_on=[server])))
        if wiring.role == "primary" and wiring.artifacts is not None:
            # Needs a running API: not on the standby (no API pods until promotion).
            self._setup_job(name, ns_name, labels, wiring, pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[server, worker])))

        expose_service(
            f"{name}-ui", exposure=args.exposure or wiring.exposure, namespace=ns_name,
            service_name=SERVER_FULLNAME, service_port=SERVER_PORT, labels=labels,
            # The Service is the chart's: register it once the release exists.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[server])))

        self.namespace = ns_name
        self.register_outputs({
            "namespace": self.namespace,
            "serviceHostname": self.service_hostname,
            "apiUrl": self.api_url,
            "releaseStatus": server.status,
        })

    def _flow_run_account(self, name: str, namespace_name: str, ns_name: pulumi.Input[str],
                          labels: dict[str, str], wiring: OrchestratorWiring,
                          opts: pulumi.ResourceOptions) -> k8s.core.v1.ServiceAccount:
        """The flow-run service account, with IRSA / Workload Identity for the bucket."""
        assert wiring.artifacts is not None
        identity = artifact_identity(f"{name}-flow-run", wiring.artifacts,
                                     [ServiceAccountRef(namespace_name, FLOW_RUN_SA)],
                                     wiring.tier, self, purpose="Prefect flow runs")
        return k8s.core.v1.ServiceAccount(
            f"{name}-flow-run",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=FLOW_RUN_SA, namespace=ns_name,
                                                labels=labels,
                                                annotations=identity.annotations()),
            # Flows do not call the Kubernetes API; a flow that needs to asks for it.
            automount_service_account_token=False,
            opts=opts)

    def _setup_job(self, name: str, ns_name: pulumi.Input[str], labels: dict[str, str],
                   wiring: OrchestratorWiring, opts: pulumi.ResourceOptions
                   ) -> k8s.batch.v1.Job:
        """Result storage block + work pool template, idempotently (prefect_setup.py)."""
        assert wiring.artifacts is not None
        store = wiring.artifacts
        bucket = pulumi.Output.from_input(store.bucket)
        flow_env = bucket.apply(lambda b: json.dumps({resilience.CHECKPOINT_URL_ENV:
                                                      resilience.bucket_url(
                                                          store.cloud, b,
                                                          resilience.CHECKPOINTS_PREFIX)}))
        env = [
            k8s.core.v1.EnvVarArgs(name="PREFECT_API_URL", value=self.api_url),
            k8s.core.v1.EnvVarArgs(
                name="PREFECT_API_AUTH_STRING",
                value_from=k8s.core.v1.EnvVarSourceArgs(secret_key_ref=(
                    k8s.core.v1.SecretKeySelectorArgs(name=AUTH_SECRET, key=AUTH_SECRET_KEY)))),
            k8s.core.v1.EnvVarArgs(name=prefect_setup.ENV_RESULTS_URL, value=bucket.apply(
                lambda b: resilience.bucket_url(store.cloud, b,
                                                resilience.PREFECT_RESULTS_PREFIX))),
            k8s.core.v1.EnvVarArgs(name=prefect_setup.ENV_RESULT_BLOCK,
                                   value=resilience.PREFECT_RESULT_BLOCK),
            k8s.core.v1.EnvVarArgs(name=prefect_setup.ENV_WORK_POOL, value=wiring.work_pool),
            k8s.core.v1.EnvVarArgs(name=prefect_setup.ENV_FLOW_RUN_SA, value=FLOW_RUN_SA),
            k8s.core.v1.EnvVarArgs(name=prefect_setup.ENV_FLOW_RUN_ENV, value=flow_env),
        ]
        job_labels = {**labels, "hastack.io/purpose": "prefect-setup"}
        return k8s.batch.v1.Job(
            f"{name}-setup",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=ns_name, labels=job_labels),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                active_deadline_seconds=900,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=job_labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        automount_service_account_token=False,
                        containers=[k8s.core.v1.ContainerArgs(
                            name="prefect-setup", image=SETUP_IMAGE,
                            command=["python", "-c", SETUP_PROGRAM], env=env,
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "256Mi"},
                                limits={"memory": "512Mi"}))],
                    ),
                ),
            ),
            opts=opts)

    def _server_pdb(self, name: str, ns_name: pulumi.Input[str], labels: dict[str, str],
                    opts: pulumi.ResourceOptions) -> k8s.policy.v1.PodDisruptionBudget:
        """At most one API pod down for voluntary disruptions (drains, node upgrades)."""
        return k8s.policy.v1.PodDisruptionBudget(
            f"{name}-server-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{SERVER_FULLNAME}-server",
                                                namespace=ns_name, labels=labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                # Exactly the chart's API pod labels: background-services pods share
                # name/instance but not the component, and must not count here.
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=server_pod_labels()),
                # A crash-looping pod must not block a node drain.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=opts,
        )
