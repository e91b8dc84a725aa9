"""Argo Workflows (controller + server) with HA, a PostgreSQL archive and bucket artifacts.

HA shape (role "primary"):
* controller replicas >= 2: the chart turns on leader election whenever replicas
  != 1 (it sets LEADER_ELECTION_DISABLE only for exactly one), so one controller
  is hot standby and takes over within the lease time;
* server replicas >= 2 (3 in prod); both spread over zones/nodes with PDBs. The
  chart's PDBs default to `minAvailable: 0` when enabled without a number, so we
  always set `maxUnavailable: 1` explicitly;
* workflow archive + node-status offload in PostgreSQL, so workflow history and
  large workflows survive controller restarts and etcd size limits;
* artifacts and archived logs in the platform bucket via IRSA / Workload Identity.

CRDs: see `CrdSource`. Warm standby: see `_standby_overrides`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from components.k8s import charts, placement, resilience, sizing
from components.k8s.credentials import app_credentials
from components.k8s.dbrole import DATABASE_ROLE_LABEL, app_endpoint, database_role_job
from components.k8s.exposure import expose_service
from components.k8s.identity import ArtifactIdentity, ServiceAccountRef, artifact_identity
from components.k8s.release import helm_release, namespace, platform_labels
from components.k8s.secrets import opaque_secret
from components.k8s.wiring import (
    ArtifactStore,
    DatabaseEndpoint,
    Exposure,
    OrchestratorWiring,
    revision_annotations,
)

RELEASE = "argo-workflows"
FULLNAME = "argo-workflows"  # set as fullnameOverride: Service/SA names derive from it
SERVER_SERVICE = f"{FULLNAME}-server"  # `<fullname>-<server.name>`, server.name = "server"
SERVER_PORT = 2746  # chart default `server.servicePort`
CONTROLLER_SA = f"{FULLNAME}-workflow-controller"
SERVER_SA = f"{FULLNAME}-server"
WORKFLOW_SA = "argo-workflow"  # chart default `workflow.serviceAccount.name`
DB_SECRET = "argo-postgres"
ARCHIVE_TABLE = "argo_workflows"

# How the Workflow CRDs reach a cluster. The chart's default (`crds.full: true`)
# is a pre-install hook Job that downloads the full CRDs from GitHub, which fails
# in clusters without egress.
#   "chart-minimal": the chart renders the minimal CRDs it ships (no Job, no
#       download, no extra image). Default. Trade-off: minimal CRDs carry no OpenAPI
#       schema, so the API server does not validate Workflow specs (the controller
#       and server still do) and `kubectl explain` shows nothing.
#   "mirror": full CRDs, downloaded by the hook Job from `crd_mirror_url`, an
#       in-network copy of argo-helm's `charts/argo-workflows/files/crds/full` at
#       tag argo-workflows-<chart version>; the Job's kubectl image must be pullable.
#   "preinstalled": the chart installs no CRDs; the user applies the full CRDs of
#       Argo Workflows v4.0.6 (server-side apply) before the first `pulumi up`.
CrdSource = Literal["chart-minimal", "mirror", "preinstalled"]


def crd_values(source: CrdSource, mirror_url: str | None = None) -> dict[str, Any]:
    # keep: uninstalling the release must never delete the CRDs (and every Workflow).
    if source == "chart-minimal":
        return {"install": True, "full": False, "keep": True}
    if source == "mirror":
        if not mirror_url:
            raise ValueError("crd_source 'mirror' needs crd_mirror_url")
        return {"install": True, "full": True, "keep": True,
                "upgradeJob": {"crdBaseURL": mirror_url}}
    return {"install": False, "keep": True}


def artifact_service_accounts(namespace_name: str) -> list[ServiceAccountRef]:
    """The service accounts that read or write artifacts, and only those.

    Workflow pods (their `wait` container uploads outputs and logs, artifact GC pods
    delete) run as WORKFLOW_SA; the server downloads artifacts for the UI. The
    controller never touches the bucket.
    """
    return [ServiceAccountRef(namespace_name, SERVER_SA),
            ServiceAccountRef(namespace_name, WORKFLOW_SA)]


# --- values ------------------------------------------------------------------------------


def _persistence(db: DatabaseEndpoint) -> dict[str, Any]:
    return {
        "archive": True,
        "nodeStatusOffLoad": True,
        "postgresql": {
            "host": db.host,
            "port": db.port,
            "database": db.database,
            "tableName": ARCHIVE_TABLE,
            # Secret references only (the controller reads them in its namespace).
            "userNameSecret": {"name": DB_SECRET, "key": "username"},
            "passwordSecret": {"name": DB_SECRET, "key": "password"},
            "ssl": db.ssl_mode != "disable",
            "sslMode": db.ssl_mode,
        },
    }


def _artifact_repository(store: ArtifactStore) -> dict[str, Any]:
    if store.cloud == "aws":
        return {"archiveLogs": True, "s3": {
            "bucket": store.bucket,
            "region": store.region,
            "endpoint": f"s3.{store.region}.amazonaws.com",
            "insecure": False,
            # The SDK's default chain picks up the IRSA web-identity token.
            "useSDKCreds": True,
            "keyFormat": resilience.ARGO_ARTIFACT_KEY_FORMAT,
        }}
    # GCS with Workload Identity: no serviceAccountKeySecret at all.
    return {"archiveLogs": True, "gcs": {"bucket": store.bucket,
                                         "keyFormat": resilience.ARGO_ARTIFACT_KEY_FORMAT}}


def argo_values(wiring: OrchestratorWiring, namespace_name: str, *,
                identity: ArtifactIdentity | None, crds: CrdSource = "chart-minimal",
                crd_mirror_url: str | None = None, service_monitor: bool = False,
                ) -> dict[str, Any]:
    """argo-workflows values for a primary region (standby: `_standby_overrides`)."""
    if wiring.database is None:
        raise ValueError("ArgoWorkflows needs wiring.database for the workflow archive")
    tier = wiring.tier
    sa_annotations = identity.annotations() if identity else {}
    values: dict[str, Any] = {
        "fullnameOverride": FULLNAME,
        "crds": crd_values(crds, crd_mirror_url),
        "controller": {
            "replicas": sizing.replicas(tier, "controller", wiring.controller_replicas),
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "topologySpreadConstraints": placement.topology_spread(tier),
            "tolerations": placement.eviction_tolerations(),
            "resources": sizing.resources(tier, "controller"),
            "persistence": _persistence(wiring.database),
            "metricsConfig": {"enabled": True},
            # Needs the prometheus-operator CRDs, so opt-in; labelled so Prometheus selects it.
            "serviceMonitor": {
                "enabled": service_monitor or bool(wiring.service_monitor_labels),
                "additionalLabels": dict(wiring.service_monitor_labels)},
            "workflowNamespaces": [namespace_name],
            # Workflows that name no service account still get the artifact identity;
            # retries, pod GC and TTL per tier (see resilience.py).
            "workflowDefaults": {"spec": {
                **resilience.argo_workflow_spec_defaults(tier),
                "serviceAccountName": WORKFLOW_SA,
            }},
            "serviceAccount": {"name": CONTROLLER_SA},
        },
        "server": {
            "replicas": sizing.replicas(tier, "api", wiring.server_replicas),
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "topologySpreadConstraints": placement.topology_spread(tier),
            "tolerations": placement.eviction_tolerations(),
            "resources": sizing.resources(tier, "api"),
            # The UI is public: every request must carry a Kubernetes bearer token.
            "authModes": ["client"],
            "serviceAccount": {"name": SERVER_SA, "annotations": sa_annotations},
            "ingress": {"enabled": False},  # the edge is ours, see exposure.py
        },
        "workflow": {
            "serviceAccount": {"create": True, "name": WORKFLOW_SA,
                               "annotations": sa_annotations},
            "rbac": {"create": True},
        },
        "useStaticCredentials": False,
    }
    if wiring.artifacts is not None:
        values["artifactRepository"] = _artifact_repository(wiring.artifacts)
    for section in ("controller", "server"):
        # Both read the archive's database credentials from a Secret at start-up.
        if annotations := revision_annotations(wiring):
            values[section]["podAnnotations"] = annotations
    if wiring.role == "standby":
        _standby_overrides(values, wiring.standby_database)
    return values


def _standby_overrides(values: dict[str, Any],
                       database: Literal["replica", "global-writer"]) -> None:
    """Warm standby: the controller waits for promotion; the server reads if it can.

    The controller migrates the archive schema at start-up and writes on every
    workflow completion, and no workflows are submitted to the standby cluster, so it
    runs zero replicas. The server only *reads* the archive and offloaded node status
    (it shares the controller's persistence config, so both use one endpoint):
    * "replica" (GCP): `wiring.database` is the region's replica, readable now and
      writable at the same address once promoted, so one server replica serves
      workflow history during an incident; failover = promote, `hastack failover`
      scales the controller, `pulumi up` renders the primary shape;
    * "global-writer" (AWS): the Aurora global writer endpoint, which the pods an
      ARC execution scales up (server and controller, region_switch.py
      `orchestrator_workload`) write through at once. Before the switchover it
      resolves to the other region, which is unreachable from here: a server would
      have no database, so it runs zero replicas too.
    CRDs, RBAC, service accounts with the artifact identity and the Service's
    registration with the region's edge are all in place either way.
    """
    values["controller"]["replicas"] = 0
    values["server"]["replicas"] = 1 if database == "replica" else 0


# --- component ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArgoWorkflowsArgs:
    wiring: OrchestratorWiring
    namespace: str = "argo"
    crds: CrdSource = "chart-minimal"
    crd_mirror_url: str | None = None
    service_monitor: bool = False
    # How the server's Service is reached from the internet; None: the wiring's.
    exposure: Exposure | None = None


class ArgoWorkflows(pulumi.ComponentResource):
    """Argo Workflows for one region."""

    namespace: pulumi.Output[str]
    service_hostname: str

    def __init__(self, name: str, args: ArgoWorkflowsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:k8s:ArgoWorkflows", name, None, opts)
        wiring = args.wiring
        if wiring.database is None:
            raise ValueError("ArgoWorkflows needs wiring.database for the workflow archive")
        labels = platform_labels(wiring.tier, "ArgoWorkflows", wiring.labels)
        # The caller's depends_on (the load balancer controller's release, whose Service
        # webhook fails closed) must hold for every object: Pulumi does not pass a
        # component's dependencies on to its children.
        child = pulumi.ResourceOptions(parent=self, provider=wiring.kubernetes_provider,
                                       depends_on=opts.depends_on if opts else None)

        ns = namespace(f"{name}-namespace", args.namespace, wiring.tier, labels, child)
        ns_name = ns.metadata.name
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        # Its own role and database, never the master user (see dbrole.py).
        credentials = wiring.credentials or app_credentials(name, "argo", self)
        master = wiring.database
        wiring = dataclasses.replace(wiring, database=app_endpoint(master, credentials))
        db_secret = opaque_secret(
            f"{name}-postgres", name=DB_SECRET, namespace=ns_name,
            # Which role the (secret) login is: what the guardrail reads.
            labels={**labels, DATABASE_ROLE_LABEL: credentials.database_role},
            entries={"username": credentials.database_role,
                     "password": credentials.database_password},
            opts=in_ns)
        prerequisites: list[pulumi.Resource] = [ns, db_secret, *wiring.release_depends_on]
        if wiring.role == "primary":
            # The standby's replica is read-only and already has the role (replicated).
            prerequisites.append(database_role_job(
                f"{name}-db-role", namespace=ns_name, labels=labels, master=master,
                credentials=credentials, opts=in_ns))

        identity = None
        if wiring.artifacts is not None:
            identity = artifact_identity(name, wiring.artifacts,
                                         artifact_service_accounts(args.namespace),
                                         wiring.tier, self)

        values = argo_values(wiring, args.namespace, identity=identity, crds=args.crds,
                             crd_mirror_url=args.crd_mirror_url,
                             service_monitor=args.service_monitor)
        release = helm_release(
            f"{name}-release", chart=charts.ARGO_WORKFLOWS, release_name=RELEASE,
            namespace=ns_name, values=values,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=prerequisites)))

        expose_service(
            f"{name}-ui", exposure=args.exposure or wiring.exposure, namespace=ns_name,
            service_name=SERVER_SERVICE, service_port=SERVER_PORT, labels=labels,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[release])))

        self.namespace = ns_name
        self.service_hostname = f"{SERVER_SERVICE}.{args.namespace}.svc.cluster.local"
        self.register_outputs({
            "namespace": self.namespace,
            "serviceHostname": self.service_hostname,
            "releaseStatus": release.status,
        })
