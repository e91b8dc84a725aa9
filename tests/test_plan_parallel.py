"""How `plan --all` shares environments between its processes (hastack/plan/parallel.py)."""

from __future__ import annotations

import pytest

from hastack.plan.parallel import batches
from tests.conftest import REPO

CLOUDS = {"dev": "aws", "gcp-dev": "gcp", "gcp-prod": "gcp", "prod": "aws", "staging": "aws"}
WEIGHTS = {"dev": 2, "gcp-dev": 2, "gcp-prod": 3, "prod": 3, "staging": 3}
TARGETS = sorted(CLOUDS)


def test_two_processes_plan_one_cloud_each() -> None:
    assert batches(TARGETS, CLOUDS, WEIGHTS, 2) == [["dev", "prod", "staging"],
                                                    ["gcp-dev", "gcp-prod"]]


def test_more_processes_split_the_heaviest_cloud_evenly() -> None:
    three = batches(TARGETS, CLOUDS, WEIGHTS, 3)
    assert sorted(three) == [["dev", "prod"], ["gcp-dev", "gcp-prod"], ["staging"]]
    five = batches(TARGETS, CLOUDS, WEIGHTS, 5)
    assert sorted(five) == [[t] for t in TARGETS]
    # Never more batches than targets, however many processes there are.
    assert batches(TARGETS, CLOUDS, WEIGHTS, 9) == five


def test_one_process_or_many_clouds_merge_the_lightest() -> None:
    assert batches(TARGETS, CLOUDS, WEIGHTS, 1) == [
        ["gcp-dev", "gcp-prod", "dev", "prod", "staging"]]
    clouds = {"a": "aws", "g": "gcp", "x": "other"}
    assert sorted(batches(["a", "g", "x"], clouds, {"a": 5, "g": 1, "x": 1}, 2)) == [
        ["a"], ["g", "x"]]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_every_target_is_planned_exactly_once(count: int) -> None:
    split = batches(TARGETS, CLOUDS, WEIGHTS, count)
    assert sorted(t for batch in split for t in batch) == TARGETS
    assert all(split) and len(split) == min(count, len(TARGETS))


def test_the_committed_environments_name_their_cloud() -> None:
    from hastack.stacks import environment_cloud, environments

    assert {env: environment_cloud(REPO, env) for env in environments(REPO)} == CLOUDS
