"""Shared test helpers: a scratch copy of the project with stack files of our choosing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", *args],
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
