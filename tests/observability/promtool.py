"""Run the real `promtool test rules` (Debian package `prometheus`) on generated files.

Missing promtool fails under CI (CI=true) and skips loudly elsewhere, naming the
package to install: a rule suite that silently did not run would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml


def promtool() -> str:
    path = shutil.which("promtool")
    if path:
        return path
    message = ("promtool not found: install the Debian package `prometheus` "
               "(apt-get install -y prometheus); .ci/run does this in CI")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_rule_tests(tmp: Path, groups: list[dict[str, Any]], tests: list[dict[str, Any]]
                   ) -> subprocess.CompletedProcess[str]:
    rules = tmp / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    spec = tmp / "tests.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m",
                                    "tests": tests}, sort_keys=False))
    return subprocess.run([promtool(), "test", "rules", spec.name], cwd=tmp,
                          capture_output=True, text=True, timeout=120, check=False)


def check_rules(tmp: Path, groups: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    rules = tmp / "check.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return subprocess.run([promtool(), "check", "rules", rules.name], cwd=tmp,
                          capture_output=True, text=True, timeout=120, check=False)
