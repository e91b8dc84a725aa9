"""Results every pytest-xdist worker of one run shares, computed once, keyed by content.

A plan is a pure function of the project's files (tests/test_golden.py proves plans are
byte-identical across processes), yet under `pytest -n` each worker used to plan the same
committed stack for itself: prod alone was planned five or six times per run. The first
worker to ask computes and pickles the result into a directory of this run; a worker asking
meanwhile waits on the key's lock and then reads it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this pytest run, the same for all of its workers."""
    base = tmp_path_factory.getbasetemp()
    # A worker's basetemp is <run>/popen-gwN, and <run> belongs to this run only; without
    # xdist the basetemp itself is the run's (its parent holds earlier runs too).
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "shared-results"
    path.mkdir(exist_ok=True)
    return path


def once(directory: Path, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """compute() the first time any worker asks for `key`; its pickled result afterwards."""
    name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    data = directory / f"{name}.pickle"
    with open(directory / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if data.exists():
            result: T = pickle.loads(data.read_bytes())
            return result
        value = compute()
        partial = data.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(data)
        return value
