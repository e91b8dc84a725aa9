"""Orchestrator access: authenticated APIs, and never the database master user.

Both orchestrators publish their API/UI (the platform's DNS name points at it), so
every release is judged as internet-facing. Database logins are secret in a plan, so
the master-user rule reads what is not: the role a credentials Secret declares in its
`hastack.io/database-role` label, that this Secret is the one the chart reads, and the
master user names of the stack's databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    CRITICAL,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.kubernetes import (
    ARGO_WORKFLOWS_CHART,
    PREFECT_SERVER_CHART,
    _known_values,
    chart_name,
)
from hastack_policies.tokens import (
    GCP_SQL_USER,
    HELM_RELEASE,
    K8S_JOB,
    K8S_SECRET,
    RDS_CLUSTER,
    RDS_INSTANCE,
)
from hastack_policies.values import is_unknown, items, peek, truthy, value

ROLE_LABEL = "hastack.io/database-role"
PURPOSE_LABEL = "hastack.io/purpose"
DATABASE_ROLE_JOB = "database-role"
# prefect-helm's documented example credentials (values.yaml `authString`).
PREFECT_DEFAULT_AUTH = "admin:pass"


@resource_rule(
    name="orchestrator-api-authenticated",
    description="No orchestrator API is reachable without authentication: Prefect has "
                "basic auth on, Argo's server never runs in `server` (anonymous) auth mode.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(own("SEC-K8S-2"),),
    types=(HELM_RELEASE,),
    remediation="prefect-server: server.basicAuth {enabled: true, existingSecret: <Secret "
                "with key auth-string>}; argo-workflows: server.authModes [client] or [sso].",
)
def orchestrator_api_authenticated(subject: Subject, report: Report) -> None:
    chart = chart_name(subject.props)
    if chart == PREFECT_SERVER_CHART:
        values = _known_values(subject)
        auth = value(values, "server", "basicAuth", default={})
        if not truthy(value(auth, "enabled", default=False)):
            report("server.basicAuth is off: anyone who reaches the API can create "
                   "deployments that the workers run inside the cluster.")
        elif not value(auth, "existingSecret") and value(
                auth, "authString", default=PREFECT_DEFAULT_AUTH) == PREFECT_DEFAULT_AUTH:
            report("basic auth uses the chart's example credentials admin:pass.")
    elif chart == ARGO_WORKFLOWS_CHART:
        values = _known_values(subject)
        modes = [str(m) for m in items(values, "server", "authModes")]
        legacy = value(values, "server", "authMode")
        args = [str(a) for a in items(values, "server", "extraArgs")]
        if ("server" in modes or legacy == "server"
                or any(a.replace(" ", "=") == "--auth-mode=server" for a in args)):
            report("the Argo server runs in `server` auth mode: every request acts as the "
                   "server's service account, without any credentials.")


def _labels(resource: PolicyResource) -> Mapping[str, Any]:
    labels = peek(resource.props, "metadata", "labels")
    return labels if isinstance(labels, Mapping) else {}


def master_users(graph: StackGraph) -> set[str]:
    """Login names that are a database's master/admin user.

    Cloud SQL users made through the API (gcp.sql.User) all get cloudsqlsuperuser, so
    each counts as an admin; applications get roles from a database-role Job instead.
    """
    names = set()
    for cluster in graph.of_type(RDS_CLUSTER):
        names.add(value(cluster.props, "masterUsername"))
    for instance in graph.of_type(RDS_INSTANCE):
        names.add(value(instance.props, "username"))
    for user in graph.of_type(GCP_SQL_USER):
        names.add(value(user.props, "name"))
    return {n for n in names if isinstance(n, str) and n and not is_unknown(n)}


def _credentials_secret_name(chart: str, values: Any) -> Any:
    if chart == PREFECT_SERVER_CHART:
        return (value(values, "externalDatabase", "existingSecret")
                or value(values, "secret", "name"))
    return value(values, "controller", "persistence", "postgresql", "userNameSecret", "name")


def _job_env(job: PolicyResource) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for container in items(job.props, "spec", "template", "spec", "containers"):
        for entry in items(container, "env"):
            env[str(value(entry, "name"))] = value(entry, "value")
    return env


@stack_rule(
    name="no-app-uses-master-db-user",
    description="No application logs in to a database as its master user: each "
                "orchestrator reads a credentials Secret declaring its own role.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(own("SEC-DB-1"),),
    remediation="Create the orchestrator's role with a database-role Job "
                "(components/k8s/dbrole.py) and point the chart at a Secret labelled "
                f"{ROLE_LABEL}: <role> that holds that role's login.",
)
def no_app_uses_master_db_user(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    masters = master_users(graph)
    for release in graph.of_type(HELM_RELEASE):
        chart = chart_name(release.props)
        values = peek(release.props, "values")
        if chart not in (PREFECT_SERVER_CHART, ARGO_WORKFLOWS_CHART) or is_unknown(values):
            continue
        if chart == PREFECT_SERVER_CHART and truthy(value(values, "postgresql", "enabled",
                                                          default=True)):
            continue  # the chart's own bundled database, not the platform's
        wanted = _credentials_secret_name(chart, values)
        declared = [s for s in release.dependencies if s.resource_type == K8S_SECRET
                    and peek(s.props, "metadata", "name") == wanted
                    and ROLE_LABEL in _labels(s)]
        if not declared:
            report(f"reads database credentials from Secret {wanted!r}, which no Secret it "
                   f"depends on declares with a {ROLE_LABEL} label: the login may be the "
                   "master user.", release.urn)
            continue
        role = _labels(declared[0])[ROLE_LABEL]
        if role in masters:
            report(f"connects as {role!r}, the database's master user.", release.urn)
    for job in graph.of_type(K8S_JOB):
        if _labels(job).get(PURPOSE_LABEL) != DATABASE_ROLE_JOB:
            continue
        role = _job_env(job).get("APP_ROLE")
        if role in masters or role == _job_env(job).get("PGUSER"):
            report(f"creates application role {role!r}, which is the master user.", job.urn)
