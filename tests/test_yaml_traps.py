"""What YAML and the engine accept but nobody meant is an error naming file, key and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hastack.config import ConfigError, load_from_engine_values
from hastack.plan.stackfile import NoSuchStack, read_stack
from tests.conftest import base_config, run_cli, write_stack

PROD = """\
config:
  aws:region: us-east-1
  hastack:cloud: aws
  hastack:tier: prod
  hastack:regions:
    primary: us-east-1
    secondary: us-west-2
  hastack:dns:
    domain: workflows.example.com
"""


def problems(root: Path, text: str) -> list[tuple[str, str]]:
    (root / "stacks" / "Pulumi.t.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_stack(root, "t")
    return caught.value.problems


def test_a_duplicate_key_names_both_lines(scratch_project: Path) -> None:
    found = problems(scratch_project, PROD + "  hastack:tier: dev\n")
    assert found == [("tier", "duplicate key at lines 4 and 10; YAML keeps only the last: "
                              "keep one")]


def test_a_nested_duplicate_key_is_found_too(scratch_project: Path) -> None:
    text = PROD + "  hastack:cache:\n    enabled: true\n    enabled: false\n"
    assert [p for p, _ in problems(scratch_project, text)] == ["cache.enabled"]


def test_an_unquoted_version_gets_a_quote_it_hint(scratch_project: Path) -> None:
    text = PROD + "  hastack:database:\n    engineVersion: 16.10\n"
    [(path, message)] = problems(scratch_project, text)
    assert path == "database.engineVersion"
    assert "16.1" in message and 'quote it: engineVersion: "16.10"' in message


def test_a_number_version_from_the_engine_gets_the_hint_too() -> None:
    engine = {k: v if isinstance(v, str) else json.dumps(v)
              for k, v in base_config(kubernetes={"version": 1.3}).items()}
    with pytest.raises(ConfigError) as caught:
        load_from_engine_values(engine, "stacks/Pulumi.t.yaml")
    [(path, message)] = caught.value.problems
    assert path == "kubernetes.version" and "quote it" in message


def test_a_misspelt_namespace_and_provider_key_are_errors(scratch_project: Path) -> None:
    text = PROD + "  hastak:zoneCount: 3\n  aws:regoin: us-east-1\n"
    write_stack(scratch_project, "t", {})
    (scratch_project / "stacks" / "Pulumi.t.yaml").write_text(text)
    stack = read_stack(scratch_project, "t")
    with pytest.raises(ConfigError) as caught:
        load_from_engine_values(stack.engine_config, stack.display_path)
    found = dict(caught.value.problems)
    assert "did you mean 'hastack'?" in found["hastak:zoneCount"]
    assert "did you mean 'region'?" in found["aws:regoin"]
    assert "  - hastak:zoneCount: unknown namespace" in str(caught.value)


def test_a_misspelt_top_level_config_is_an_error(scratch_project: Path) -> None:
    [(path, message)] = problems(scratch_project, PROD.replace("config:", "confg:"))
    assert path == "" and "'confg'" in message and "did you mean 'config'?" in message


def test_the_provider_region_must_be_the_primary_region() -> None:
    engine = {k: v if isinstance(v, str) else json.dumps(v)
              for k, v in base_config().items()}
    engine["aws:region"] = "eu-west-1"
    with pytest.raises(ConfigError) as caught:
        load_from_engine_values(engine, "stacks/Pulumi.t.yaml")
    assert [p for p, _ in caught.value.problems] == ["aws:region"]
    del engine["aws:region"]  # a stack (a workloads stack) without it is fine
    assert load_from_engine_values(engine, "stacks/Pulumi.t.yaml").regions.primary == "us-east-1"


def test_a_misspelt_region_gets_a_suggestion() -> None:
    engine = {k: v if isinstance(v, str) else json.dumps(v)
              for k, v in base_config(regions={"primary": "eu-west1",
                                               "secondary": "us-west-2"}).items()}
    del engine["aws:region"]
    with pytest.raises(ConfigError) as caught:
        load_from_engine_values(engine, "stacks/Pulumi.t.yaml")
    assert "did you mean 'eu-west-1'?" in dict(caught.value.problems)["regions.primary"]


def test_no_such_stack_lists_the_stacks_and_suggests(scratch_project: Path) -> None:
    write_stack(scratch_project, "staging", base_config())
    with pytest.raises(NoSuchStack) as caught:
        read_stack(scratch_project, "stagin")
    text = str(caught.value)
    assert "no such stack 'stagin'" in text and "did you mean 'staging'?" in text
    assert "stacks: staging" in text
    result = run_cli(scratch_project, "plan", "stagin")
    assert result.returncode == 2 and "invalid" not in result.stderr
    assert "no such stack 'stagin'" in result.stderr
