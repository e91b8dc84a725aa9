"""The database-role Job's script against a real PostgreSQL (a throw-away local cluster).

The "master" here is what RDS/Aurora and Cloud SQL hand out: CREATEROLE and CREATEDB
but not a superuser. The script runs twice (every deploy runs it), and the role it
leaves must log in to its own database only, with no superuser-like attributes.
Needs the PostgreSQL server binaries (initdb, pg_ctl) on PATH; skips LOUDLY without.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.k8s import dbrole

NOBODY = 65534


def _as_owner(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and sessions here run as root.
    if os.geteuid() == 0:
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    return cmd


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    missing = [b for b in ("initdb", "pg_ctl", "psql") if shutil.which(b) is None]
    if missing or (os.geteuid() == 0 and shutil.which("setpriv") is None):
        pytest.skip(f"DATABASE ROLE SQL NOT CHECKED: PostgreSQL binaries missing: {missing}")
    # Not pytest's tmp_path: its parents are 0700 root, which the server's user can't enter.
    base = Path(tempfile.mkdtemp(prefix="hastack-pg-"))
    base.chmod(0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    sock.chmod(0o777)
    if os.geteuid() == 0:
        os.chown(base, NOBODY, NOBODY)
        os.chown(sock, NOBODY, NOBODY)
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(_as_owner(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
                              "-E", "UTF8"]), **run)  # type: ignore[call-overload]
    subprocess.run(_as_owner(["pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"),
                              "-o", f"-k {sock} -c listen_addresses=''", "start"]),
                   **run)  # type: ignore[call-overload]
    env = {"PATH": os.environ["PATH"], "PGHOST": str(sock), "PGPORT": "5432"}
    try:
        psql(env, "postgres", "CREATE ROLE hastack_admin LOGIN CREATEROLE CREATEDB "
                              "PASSWORD 'master'")
        psql(env, "postgres", "CREATE DATABASE workflows OWNER hastack_admin")
        yield env
    finally:
        subprocess.run(_as_owner(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def psql(env: dict[str, str], user: str, sql: str, database: str = "postgres") -> str:
    result = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", user,
                             "-d", database, "-c", sql],
                            env=env, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def run_job_script(env: dict[str, str], password: str) -> subprocess.CompletedProcess[str]:
    job_env = {**env, "PGUSER": "hastack_admin", "PGDATABASE": "workflows",
               "PGPASSWORD": "master", "APP_ROLE": "prefect_app", "APP_DATABASE": "prefect",
               "APP_PASSWORD": password}
    return subprocess.run(["sh", "-ec", dbrole.SCRIPT], env=job_env, capture_output=True,
                          text=True)


def test_the_script_is_idempotent_and_leaves_a_least_privilege_owner(
        cluster: dict[str, str]) -> None:
    first = run_job_script(cluster, "first-pass'word")  # a quote: psql quotes, not us
    assert first.returncode == 0, first.stderr
    second = run_job_script(cluster, "second-password")  # a re-deploy, a rotated password
    assert second.returncode == 0, second.stderr

    attributes = psql(cluster, "postgres",
                      "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication"
                      " FROM pg_roles WHERE rolname = 'prefect_app'")
    assert attributes == "t|f|f|f|f"
    owner = psql(cluster, "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database "
                                      "WHERE datname = 'prefect'")
    assert owner == "prefect_app"
    # It can build its schema in its own database (migrations) ...
    assert psql(cluster, "prefect_app", "CREATE TABLE t (x int); SELECT 1",
                "prefect").endswith("1")
    # ... and cannot reach the other database: PUBLIC's CONNECT is not revoked there by
    # us, so check the one that matters: no other role may connect to *its* database.
    psql(cluster, "postgres", "CREATE ROLE someone LOGIN")
    denied = subprocess.run(["psql", "-X", "-U", "someone", "-d", "prefect", "-c", "SELECT 1"],
                            env=cluster, capture_output=True, text=True)
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def test_a_failing_statement_fails_the_job(cluster: dict[str, str]) -> None:
    job_env = {**cluster, "PGUSER": "hastack_admin", "PGDATABASE": "workflows",
               "APP_ROLE": "postgres", "APP_DATABASE": "x", "APP_PASSWORD": "p"}
    # The master may not alter a superuser: ON_ERROR_STOP makes that a failed Job.
    result = subprocess.run(["sh", "-ec", dbrole.SCRIPT], env=job_env, capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert "ERROR" in result.stderr
