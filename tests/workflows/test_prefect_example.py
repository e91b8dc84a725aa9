"""The Prefect example under the real engine, against S3 (a moto server on 127.0.0.1).

Prefect runs with the settings the platform gives flow-run pods
(components/k8s/resilience.py), except that retry *delays* are 0 here (no sleeping
in tests; the configured delays are checked by parsing them with Prefect's own
Settings). Result storage is the RemoteFileSystem block that the deploy-time setup
job (components/k8s/prefect_setup.py) creates, created here by the same code.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from components.k8s import prefect_setup, resilience
from examples.ai_pipeline import stages
from hastack_workflows import CorruptCheckpointError
from tests.workflows import killed_run
from tests.workflows.conftest import BUCKET, S3Server

# Prefect is imported where it is used: importing its test harness (the API server) costs
# seconds, and under pytest-xdist every worker collects this module. The module's tests
# share one API server (the `flows` fixture), so they stay on one worker.
pytestmark = pytest.mark.xdist_group("prefect-engine")

TIER = "prod"
DEFAULTS = resilience.for_tier(TIER)
REPO = Path(__file__).resolve().parents[2]
CHECKPOINTS = f"s3://{BUCKET}/{resilience.CHECKPOINTS_PREFIX}"
RESULTS = f"s3://{BUCKET}/{resilience.PREFECT_RESULTS_PREFIX}"


def platform_env(delays_zero: bool) -> dict[str, str]:
    env = dict(resilience.prefect_settings(TIER))
    if delays_zero:
        env["PREFECT_TASKS_DEFAULT_RETRY_DELAY_SECONDS"] = "0"
        env["PREFECT_FLOWS_DEFAULT_RETRY_DELAY_SECONDS"] = "0"
    return env


def test_the_configured_defaults_mean_what_they_say_to_prefect(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.settings

    for name, value in platform_env(delays_zero=False).items():
        monkeypatch.setenv(name, value)
    settings = prefect.settings.Settings()
    assert settings.tasks.default_retries == DEFAULTS.step_retries == 3
    assert settings.tasks.default_retry_delay_seconds == [15.0, 30.0, 60.0]
    assert settings.flows.default_retries == DEFAULTS.flow_retries
    assert settings.results.persist_by_default is True
    assert settings.results.default_storage_block == "remote-file-system/hastack-results"


def _migrated_database(cache: pytest.Cache | None) -> Path | None:
    """Where this Prefect release's freshly migrated API database is kept between runs.

    Migrating a new SQLite database is most of the harness server's start-up (some 9 s of
    CPU: Prefect's whole Alembic history). The result depends only on the release and its
    migration scripts, so it is snapshotted once (below) and each later run starts its
    server on a copy: the same schema, no rows of an earlier run.
    """
    if cache is None:
        return None
    import hashlib

    import prefect

    migrations = Path(prefect.__file__).parent / "server" / "database" / "_migrations"
    digest = hashlib.sha256()
    for script in sorted(migrations.rglob("*.py")):
        digest.update(script.relative_to(migrations).as_posix().encode() + script.read_bytes())
    return cache.mkdir("prefect-api-db") / f"{prefect.__version__}-{digest.hexdigest()[:16]}.db"


@contextmanager
def _harness(template: Path | None) -> Iterator[None]:
    """Prefect's test harness (a local API server on SQLite), started from `template`."""
    import sqlite3
    import tempfile

    import prefect.settings
    import prefect.testing.utilities as harness

    updates: dict[Any, Any] = {}
    with pytest.MonkeyPatch.context() as patch:
        if template is not None and template.is_file():
            # The harness puts its database in a fresh mkdtemp() directory: hand it one
            # holding a copy of the migrated database, and let the server skip migrating.
            directory = tempfile.mkdtemp()
            shutil.copyfile(template, Path(directory) / "prefect-test.db")
            patch.setattr(harness, "mkdtemp", lambda: directory)
            updates[prefect.settings.PREFECT_API_DATABASE_MIGRATE_ON_START] = False
            # The snapshot is taken once the first server has started, after it registered
            # the block types (RemoteFileSystem's among them): registering them again on
            # every start is some 2 s of the server's CPU. (Prefect's memo of that
            # registration never matches here: it hashes the database URL, a new one each
            # run.)
            updates[prefect.settings.PREFECT_API_BLOCKS_REGISTER_ON_START] = False
        # No telemetry from the test server: it only fails a DNS lookup here, every run.
        updates[prefect.settings.PREFECT_SERVER_ANALYTICS_ENABLED] = False
        # The machine is shared and slow: give the harness's API server time to start.
        with (prefect.settings.temporary_settings(updates=updates),
              harness.prefect_test_harness(server_startup_timeout=300)):
            url = prefect.settings.PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
            database = Path(url.removeprefix("sqlite+aiosqlite:///"))
            assert database.is_file(), url
            if template is not None and not template.is_file():
                # Snapshot before any test writes: SQLite's backup API copies a
                # consistent image while the server holds the file open.
                partial = template.with_suffix(".partial")
                with (closing(sqlite3.connect(database)) as source,
                      closing(sqlite3.connect(partial)) as copy):
                    source.backup(copy)
                partial.replace(template)
            yield


@pytest.fixture(scope="module")
def flows(s3_server: S3Server, request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    import prefect.settings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    updates = {getattr(prefect.settings, name): value
               for name, value in platform_env(delays_zero=True).items()}
    previous_url = os.environ.get(resilience.CHECKPOINT_URL_ENV)
    os.environ[resilience.CHECKPOINT_URL_ENV] = CHECKPOINTS
    with (_harness(_migrated_database(getattr(request.config, "cache", None))),
          prefect.settings.temporary_settings(updates=updates)):
        prefect_setup.main({
            prefect_setup.ENV_RESULTS_URL: RESULTS,
            prefect_setup.ENV_RESULT_BLOCK: resilience.PREFECT_RESULT_BLOCK,
            prefect_setup.ENV_WORK_POOL: "kubernetes-pool",
            prefect_setup.ENV_FLOW_RUN_SA: "prefect-flow-run",
            prefect_setup.ENV_FLOW_RUN_ENV: json.dumps({"HASTACK_CHECKPOINT_URL": CHECKPOINTS}),
        })
        # Tasks read their retry defaults when defined: import the flows now.
        sys.modules.pop("examples.ai_pipeline.prefect_flows", None)
        yield importlib.import_module("examples.ai_pipeline.prefect_flows")
    if previous_url is None:
        os.environ.pop(resilience.CHECKPOINT_URL_ENV, None)
    else:
        os.environ[resilience.CHECKPOINT_URL_ENV] = previous_url


def counting_model(fail_times: int) -> tuple[Callable[[str], float], list[int]]:
    calls: list[int] = []

    def model(text: str) -> float:
        calls.append(1)
        if len(calls) <= fail_times:
            raise ConnectionError(f"model endpoint unavailable (call {len(calls)})")
        return stages.lexicon_model(text)

    return model, calls


def stage_prefix(params: dict[str, Any]) -> str:
    return f"{resilience.CHECKPOINTS_PREFIX}/{stages.key_for(params).prefix}"


def test_setup_job_program_is_idempotent_and_configures_the_pool(flows: ModuleType) -> None:
    env = {
        prefect_setup.ENV_RESULTS_URL: RESULTS,
        prefect_setup.ENV_RESULT_BLOCK: resilience.PREFECT_RESULT_BLOCK,
        prefect_setup.ENV_WORK_POOL: "kubernetes-pool",
        prefect_setup.ENV_FLOW_RUN_SA: "prefect-flow-run",
        prefect_setup.ENV_FLOW_RUN_ENV: json.dumps({"HASTACK_CHECKPOINT_URL": CHECKPOINTS}),
    }
    from prefect.client.orchestration import get_client

    prefect_setup.main(env)  # the second run (the fixture ran it once): no error
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool("kubernetes-pool")
    props = pool.base_job_template["variables"]["properties"]
    assert props["service_account_name"]["default"] == "prefect-flow-run"
    assert props["env"]["default"] == {"HASTACK_CHECKPOINT_URL": CHECKPOINTS}


def test_a_task_failing_twice_is_retried_with_the_configured_defaults(
        flows: ModuleType, s3_server: S3Server) -> None:
    model, calls = counting_model(fail_times=2)
    stages.MODELS["flaky-twice"] = model
    result = flows.ai_pipeline(dataset="retry", documents=1, model="flaky-twice")
    assert len(calls) == 3  # two failures, then success
    assert [stage["computed"] for stage in result["stages"]] == [True, True, True]
    params = stages.parameters("retry", 1, "flaky-twice")
    committed = s3_server.keys(stage_prefix(params))
    assert {key.rsplit("/", 2)[1] for key in committed if key.endswith("manifest.json")} == {
        "ingest", "infer", "publish"}
    # Prefect's own task results went to the result storage block, in the bucket.
    assert s3_server.keys(resilience.PREFECT_RESULTS_PREFIX + "/")


def test_the_retry_limit_is_the_configured_one(flows: ModuleType) -> None:
    model, calls = counting_model(fail_times=10**6)
    stages.MODELS["always-down"] = model
    with pytest.raises(ConnectionError):
        flows.ai_pipeline(dataset="limit", documents=1, model="always-down")
    # Each flow attempt tries the task 1 + step_retries times; the flow retries too.
    assert len(calls) == (1 + DEFAULTS.step_retries) * (1 + DEFAULTS.flow_retries)


def test_a_killed_run_is_resumed_without_recomputing_finished_stages(
        flows: ModuleType, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.settings

    dataset, documents = "killed", 5
    env = {**os.environ, **s3_server.env, **platform_env(delays_zero=True),
           resilience.CHECKPOINT_URL_ENV: CHECKPOINTS, "PYTHONPATH": str(REPO),
           # The harness's API: it outlives the killed run, as the real server would.
           "PREFECT_API_URL": str(prefect.settings.PREFECT_API_URL.value())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.workflows.killed_run", dataset, str(documents)],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        lines = iter(proc.stdout.readline, "")
        assert "INFER-STARTED" in next(line for line in lines if "INFER-STARTED" in line
                                       or proc.poll() is not None)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # mid-stage, no chance to report or clean up
        proc.wait()

    # In this process the model of the killed run works (the node it stalled on is gone).
    stages.MODELS[killed_run.MODEL] = stages.lexicon_model
    params = stages.parameters(dataset, documents, killed_run.MODEL)
    prefix = stage_prefix(params)
    before = s3_server.keys(prefix)
    assert {key.split("/")[-2] for key in before} == {"ingest"}, "ingest committed, infer not"

    ingests: list[int] = []
    original_ingest = stages.ingest
    monkeypatch.setattr(stages, "ingest", lambda p: ingests.append(1) or original_ingest(p))
    result = flows.recover_ai_pipeline(dataset=dataset, documents=documents,
                                       model=killed_run.MODEL)
    assert result["resumedAfter"] == "ingest"
    assert [(s["stage"], s["computed"]) for s in result["stages"]] == [
        ("infer", True), ("publish", True)]
    assert ingests == [], "the finished stage was not recomputed"
    after = s3_server.keys(prefix)
    assert {k: v for k, v in after.items() if "/ingest/" in k} == before, "ingest untouched"
    report = json.loads(s3_server.client().get_object(
        Bucket=BUCKET, Key=next(k for k in after if "/publish/" in k and k.endswith(".bin"))
    )["Body"].read())
    assert report["documents"] == documents


def test_a_corrupt_checkpoint_is_refused_with_a_clear_error(
        flows: ModuleType, s3_server: S3Server) -> None:
    flows.ai_pipeline(dataset="corrupt", documents=2)
    params = stages.parameters("corrupt", 2, "lexicon-v1")
    (infer_key,) = [k for k in s3_server.keys(stage_prefix(params))
                    if "/infer/" in k and k.endswith(".bin")]
    s3_server.client().put_object(Bucket=BUCKET, Key=infer_key, Body=b"[]")

    with pytest.raises(CorruptCheckpointError, match=r"infer/.*\.bin is corrupt.*refusing"):
        flows.recover_ai_pipeline(dataset="corrupt", documents=2)

    # A plain re-run refuses too, and does not burn retries on it.
    model, calls = counting_model(fail_times=0)
    stages.MODELS["lexicon-v1"] = model
    try:
        with pytest.raises(CorruptCheckpointError):
            flows.ai_pipeline(dataset="corrupt", documents=2)
    finally:
        stages.MODELS["lexicon-v1"] = stages.lexicon_model
    assert calls == []
