"""Shared test helpers: a scratch copy of the project with stack files of our choosing."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.support.shared_plans import once, run_directory

if TYPE_CHECKING:
    from hastack.plan.pipeline import PlanResult

REPO = Path(__file__).resolve().parents[1]


def write_stack(root: Path, name: str, config: dict) -> Path:
    path = root / "stacks" / f"Pulumi.{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=True))
    return path


@pytest.fixture
def scratch_project(tmp_path: Path) -> Path:
    """Pulumi.yaml and __main__.py of the real project in a temp dir, with no stacks."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(REPO / "__main__.py", tmp_path / "__main__.py")
    (tmp_path / "stacks").mkdir()
    return tmp_path


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run_module(cwd, "hastack.cli", *args)


def _run_module(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def base_config(**overrides: object) -> dict:
    """A valid prod AWS stack's `config:` block; keyword overrides replace `hastack:` keys."""
    config: dict = {
        "aws:region": "us-east-1",
        "hastack:cloud": "aws",
        "hastack:tier": "prod",
        "hastack:regions": {"primary": "us-east-1", "secondary": "us-west-2"},
        "hastack:orchestrator": "prefect",
        "hastack:dns": {"domain": "workflows.example.com"},
    }
    for key, value in overrides.items():
        qualified = f"hastack:{key}"
        if value is None:
            config.pop(qualified, None)
        else:
            config[qualified] = value
    return config


# --- Plans of the committed stacks, once per run ---------------------------------------
# A plan is a pure function of the stack files (the golden tests prove it), so every test
# that needs one shares it. They all come from one `hastack plan --all` process per run,
# the one the CLI tests check as users would run it (tests/support/plan_all_cli.py keeps
# the PlanResults it made): under `pytest -n` the first worker to ask runs it and the
# others read its result (tests/support/shared_plans.py). Before, each stack was also
# planned a second time inside pytest; only test_golden's three-way comparison still
# plans one environment here, on purpose.


@dataclasses.dataclass(frozen=True)
class PlanAllRun:
    """`hastack plan --all --out out` (summaries printed): its files, result and plans."""

    out: Path
    result: CompletedProcess[str]
    plans: dict[str, list[PlanResult]]


_PLAN_ALL_RUNS: dict[str, PlanAllRun] = {}


def _plan_all(tmp_path_factory: pytest.TempPathFactory) -> PlanAllRun:
    """The run's `plan --all` of the committed project (once per run; once per worker read)."""
    digest = _repo_digest()
    if digest not in _PLAN_ALL_RUNS:
        _PLAN_ALL_RUNS[digest] = once(run_directory(tmp_path_factory), ("plan --all", digest),
                                      lambda: _run_plan_all(tmp_path_factory))
    return _PLAN_ALL_RUNS[digest]


def _run_plan_all(tmp_path_factory: pytest.TempPathFactory) -> PlanAllRun:
    import pickle

    out = tmp_path_factory.mktemp("cli-plans")
    keep = out.with_name(out.name + "-results.pickle")  # beside DIR: tests list DIR's files
    result = _run_module(REPO, "tests.support.plan_all_cli", str(keep),
                         "plan", "--all", "--out", str(out))
    plans = pickle.loads(keep.read_bytes()) if keep.is_file() else {}
    return PlanAllRun(out, result, plans)


@pytest.fixture(scope="session")
def plan_all_run(tmp_path_factory: pytest.TempPathFactory) -> PlanAllRun:
    """The run's one `plan --all` of the committed stacks. Read-only."""
    return _plan_all(tmp_path_factory)


@pytest.fixture(scope="session")
def environment_plan(plan_all_run: PlanAllRun) -> Callable[[str], list[PlanResult]]:
    """environment_plan(env): a committed environment's PlanResults, infrastructure first.

    What `plan --all` planned for it, with its written files. Read-only: a test that
    changes a plan deep-copies it first.
    """
    def get(env: str) -> list[PlanResult]:
        if env not in plan_all_run.plans:
            raise AssertionError(f"`hastack plan --all` planned no environment {env!r} "
                                 f"(exit {plan_all_run.result.returncode}):\n"
                                 f"{plan_all_run.result.stderr}")
        return plan_all_run.plans[env]

    return get


@pytest.fixture(scope="session")
def stack_plan(environment_plan: Callable[[str], list[PlanResult]]
               ) -> Callable[[str], PlanResult]:
    """stack_plan(name): the session's plan of one committed stack (from its environment's)."""
    from hastack.stacks import stack_info

    def get(stack: str) -> PlanResult:
        (found,) = [result for result in environment_plan(stack_info(REPO, stack).environment)
                    if result.stack == stack]
        return found

    return get


@pytest.fixture(scope="session")
def cli_plan_all(plan_all_run: PlanAllRun) -> tuple[Path, CompletedProcess[str]]:
    """The one `hastack plan --all --out DIR` process (summaries printed): (DIR, its result).

    The CLI tests that read plan files (diff, check, summary, determinism) share these,
    whichever worker they run on. Read-only.
    """
    return plan_all_run.out, plan_all_run.result


# --- The garbage collector ---------------------------------------------------------------
# By the end of collection the session holds hundreds of thousands of long-lived objects
# (the provider SDKs, every test module); CPython's collector would walk all of them in
# each full collection, a large share of the suite's CPU time. Freezing them moves them out of the
# collector's generations (they live until exit anyway); what tests allocate afterwards is
# collected as usual, only with a larger young generation (hastack/plan/collector.py
# explains the figure), as program runs are.
def pytest_collection_finish(session: pytest.Session) -> None:
    import gc

    from hastack.plan.collector import PROGRAM_GC_THRESHOLD

    gc.collect()
    gc.freeze()
    gc.set_threshold(PROGRAM_GC_THRESHOLD, *gc.get_threshold()[1:])


# --- botocore's service models, parsed once a session ---------------------------------------
# moto's `mock_aws` gives every test a fresh boto3 default session, and each new botocore
# session builds its own loader, which parses the service models (JSON, megabytes for RDS,
# EC2 and S3) and the endpoint rules again: most of the CPU time of the moto-backed tests.
# The files never change during a session; one loader per data path serves them all, as
# one session's loader already serves all of that session's clients.
def _share_botocore_loader() -> None:
    import botocore.loaders
    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def pytest_configure(config: pytest.Config) -> None:
    _share_botocore_loader()
    # pytest-xdist registers its marker only when it is loaded; with `-p no:xdist` (one
    # process) the groups still have to pass --strict-markers.
    config.addinivalue_line(
        "markers", "xdist_group(name): run on the same pytest-xdist worker as its group")


# --- pytest-xdist groups on pytest 9 --------------------------------------------------------
# `--dist loadgroup` keeps an `xdist_group`'s tests on one worker by appending "@group" to
# their node ids; pytest-xdist 3.8 writes the legacy `item._nodeid`, which pytest 9 no longer
# reads (node ids are structured, `item._id`), so the groups silently fall apart and every
# worker plans the stacks and starts its own Prefect API server (pytest-dev/pytest-xdist
# issue #1386, open; PR #1388 sets the structured id, as below). Runs after xdist's hook and
# does nothing where xdist's own suffix took effect (older pytest) or without loadgroup.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set in xdist's workers only
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9: xdist's own suffix works
        return

    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        suffix = f"@{'_'.join(groups)}"
        if groups and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}{suffix}")


# --- Planning a copied project once per content ---------------------------------------
#
# The operation tests (failover, failback) run the real CLI on a copy of the committed
# project, and the CLI plans the environment on every call. The plan of a stack is a
# function of the project's files (plans are deterministic: tests/test_golden.py), so
# the same files are planned once per run (tests/support/shared_plans.py); a test that
# edits a stack file changes the key and gets a fresh plan. The result's files are copied
# where the caller asked.

_PLANS_BY_CONTENT: dict[tuple[str, str, bool], PlanResult] = {}


def _project_digest(root: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([root / "Pulumi.yaml", root / "__main__.py",
                        *(root / "stacks").glob("*.yaml")]):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _repo_digest() -> str:
    """The committed project's digest: its files do not change while the tests run."""
    return _project_digest(REPO)


def _reusing_plan_single(real: Callable[..., PlanResult],
                         tmp_path_factory: pytest.TempPathFactory) -> Callable[..., PlanResult]:
    """`hastack.plan.pipeline.plan_single`, reusing the run's plans of identical files."""
    import copy
    import dataclasses

    def plan_single(root: Path, stack: str, out_dir: Path | None = None,
                    references: object = None) -> PlanResult:
        key = (_project_digest(root), stack, references is not None)
        if key not in _PLANS_BY_CONTENT and key[0] == _repo_digest():
            # An unchanged copy: the same files, the same plans as the run's `plan --all`,
            # whose environments are the infrastructure stack alone, then its workloads
            # stacks with its outputs as their StackReference.
            for results in _plan_all(tmp_path_factory).plans.values():
                for position, planned in enumerate(results):
                    _PLANS_BY_CONTENT.setdefault((key[0], planned.stack, position > 0), planned)
        if key not in _PLANS_BY_CONTENT:
            _PLANS_BY_CONTENT[key] = once(
                run_directory(tmp_path_factory), ("single", *key),
                lambda: real(root, stack, tmp_path_factory.mktemp("plans"),
                             references))  # type: ignore[arg-type]
        cached = _PLANS_BY_CONTENT[key]
        target = out_dir if out_dir is not None else root / "build" / "plan"
        target.mkdir(parents=True, exist_ok=True)
        paths = {}
        for field in ("json_path", "mermaid_path"):
            source: Path = getattr(cached, field)
            paths[field] = target / source.name
            shutil.copyfile(source, paths[field])
        return dataclasses.replace(cached, plan=copy.deepcopy(cached.plan), **paths)

    return plan_single


@pytest.fixture
def plan_once_per_content(monkeypatch: pytest.MonkeyPatch,
                          tmp_path_factory: pytest.TempPathFactory) -> None:
    """Make `hastack.plan.pipeline.plan_single` reuse plans of identical project files."""
    from hastack.plan import pipeline

    monkeypatch.setattr(pipeline, "plan_single",
                        _reusing_plan_single(pipeline.plan_single, tmp_path_factory))
