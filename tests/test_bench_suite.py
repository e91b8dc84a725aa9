"""bench/bench_suite.py accounts for the command's whole process tree and its exit status."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_suite", REPO / "bench" / "bench_suite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_of_grandchildren_is_counted_and_the_status_kept() -> None:
    bench = _bench()
    # A child that spends its CPU in a grandchild: the tree's CPU, not the child's own.
    busy = "import subprocess,sys; subprocess.run([sys.executable,'-c','sum(range(5_000_000))'])"
    result = bench.measure([sys.executable, "-c", busy], loop=200_000)
    assert result["returncode"] == 0
    assert result["cpuSeconds"] > 0.02, result
    assert len(result["calibrationSeconds"]) == 2
    assert all(seconds > 0 for seconds in result["calibrationSeconds"])
    if Path("/proc/stat").is_file():
        assert {"idleSeconds", "stealSeconds", "iowaitSeconds"} <= result.keys()
    failing = bench.measure([sys.executable, "-c", "raise SystemExit(3)"], loop=200_000)
    assert failing["returncode"] == 3


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _bench().main(["--", "no-such-command-here"])
    assert exit_info.value.code == 2
    assert "command not found: 'no-such-command-here'" in capsys.readouterr().err


def test_a_relative_command_runs_in_the_callers_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "probe.py").write_text("raise SystemExit(5)\n")
    monkeypatch.chdir(tmp_path)
    assert _bench().measure([sys.executable, "probe.py"], loop=200_000)["returncode"] == 5
