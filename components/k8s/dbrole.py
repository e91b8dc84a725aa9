"""The orchestrator's own PostgreSQL role and database, created idempotently at deploy.

A Kubernetes Job in the orchestrator's namespace logs in with the master credentials
(from a Secret, never in the Job spec) and runs SQL that is safe to run on every
deploy: create the role if missing, (re)set its password and attributes, create its
database if missing, owned by it, and revoke PUBLIC's access. pulumi-kubernetes
waits for a Job to complete, and the Helm release depends on it, so the orchestrator
never starts before its role exists. The orchestrator then connects as that role.

Only where the database is writable (the primary region): roles live in the catalog,
which Aurora global databases and Cloud SQL replicas replicate, so the standby's
replica already has the role, with the same password, when it is promoted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.secrets import opaque_secret
from components.k8s.wiring import AppCredentials, DatabaseEndpoint

# The PostgreSQL client (psql 16, matching the pinned engine major version).
# Fully qualified: Binary Authorization allowlists match `registry/path` patterns.
IMAGE = "docker.io/library/postgres:16.6-alpine"
POSTGRES_UID = 70  # the `postgres` user of the alpine image
MASTER_PASSWORD_KEY = "master-password"
APP_PASSWORD_KEY = "app-password"
JOB_LABEL = "hastack.io/purpose"
JOB_PURPOSE = "database-role"
# On the credentials Secret a chart reads: the role its login is (policies read it).
DATABASE_ROLE_LABEL = "hastack.io/database-role"

# psql variables (-v) are quoted by psql itself (:'x' literal, :"x" identifier), so no
# value is ever pasted into SQL text; \gexec runs the generated statement only when the
# guarding SELECT returns a row (CREATE ROLE / DATABASE have no IF NOT EXISTS).
SQL = r"""
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role') \gexec
-- New roles are NOSUPERUSER NOREPLICATION already; naming those attributes at all
-- needs a superuser, which managed masters are not. The rest is reset every deploy.
ALTER ROLE :"app_role" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
-- Managed services' master users are not superusers: they may make a role own a
-- database only as a member of it.
GRANT :"app_role" TO CURRENT_USER;
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db') \gexec
ALTER DATABASE :"app_db" OWNER TO :"app_role";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"app_db" TO :"app_role";
"""

SCRIPT = ('psql -X -q -v app_role="$APP_ROLE" -v app_db="$APP_DATABASE" '
          '-v app_password="$APP_PASSWORD" <<\'SQL\'\n' + SQL.strip() + "\nSQL\n")


def app_endpoint(master: DatabaseEndpoint, credentials: AppCredentials) -> DatabaseEndpoint:
    """The endpoint the orchestrator uses: same host, its own role, password and database."""
    return dataclasses.replace(master, username=credentials.database_role,
                               password=credentials.database_password,
                               database=credentials.database_name)


def _env(name: str, value: pulumi.Input[str]) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(name=name, value=value)


def _secret_env(name: str, secret: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(name=name, value_from=k8s.core.v1.EnvVarSourceArgs(
        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)))


def database_role_job(resource_name: str, *, namespace: pulumi.Input[str],
                      labels: Mapping[str, str], master: DatabaseEndpoint,
                      credentials: AppCredentials, opts: pulumi.ResourceOptions
                      ) -> k8s.batch.v1.Job:
    """The Secret with both passwords and the Job that applies `SQL` with them."""
    secret_name = f"{credentials.database_role.replace('_', '-')}-bootstrap"
    secret = opaque_secret(
        f"{resource_name}-secret", name=secret_name, namespace=namespace, labels=labels,
        entries={MASTER_PASSWORD_KEY: master.password,
                 APP_PASSWORD_KEY: credentials.database_password},
        opts=opts)
    job_labels = {**labels, JOB_LABEL: JOB_PURPOSE}
    container = k8s.core.v1.ContainerArgs(
        name="create-role",
        image=IMAGE,
        command=["sh", "-ec", SCRIPT],
        env=[
            _env("PGHOST", pulumi.Output.from_input(master.host).apply(str)),
            _env("PGPORT", pulumi.Output.from_input(master.port).apply(str)),
            _env("PGUSER", master.username),
            _env("PGDATABASE", master.database),
            _env("PGSSLMODE", master.ssl_mode),
            _env("PGCONNECT_TIMEOUT", "10"),
            _secret_env("PGPASSWORD", secret_name, MASTER_PASSWORD_KEY),
            _env("APP_ROLE", credentials.database_role),
            _env("APP_DATABASE", credentials.database_name),
            _secret_env("APP_PASSWORD", secret_name, APP_PASSWORD_KEY),
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"}),
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True, run_as_user=POSTGRES_UID,
            allow_privilege_escalation=False, read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])),
    )
    return k8s.batch.v1.Job(
        resource_name,
        # No fixed name: a changed Job (its pod template is immutable) is replaced by a
        # new one created before the old one is deleted.
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace=namespace, labels=job_labels),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=4,
            active_deadline_seconds=600,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=job_labels),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    containers=[container],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[secret])),
    )
