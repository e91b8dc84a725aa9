"""Helpers for planning GCP components offline under the recording mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.gcp.platform import GcpPlatform
from hastack.config import load_settings
from hastack.config.model import StackConfig
from hastack.config.tiers import deep_merge
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program
from tests.support.shared_plans import once, run_directory

PROJECT = "hastack-test"
PRIMARY, SECONDARY = "us-central1", "us-east1"


def stack_settings(tier: str, **overrides: Any) -> dict[str, Any]:
    """A valid stack's `hastack:` keys: prod is two regions, dev one."""
    settings: dict[str, Any] = {
        "cloud": "gcp",
        "tier": tier,
        "orchestrator": "prefect",
        "regions": {"primary": PRIMARY},
        "gcp": {"project": PROJECT},
        "dns": {"domain": "example.com"},
        "workflows": {"enabled": False},
    }
    if tier != "dev":
        settings["regions"]["secondary"] = SECONDARY
    return deep_merge(settings, overrides)


def config_for(tier: str, **overrides: Any) -> StackConfig:
    return load_settings(stack_settings(tier, **overrides), f"test-{tier}")


def run(program: Callable[[], None]) -> Recording:
    return run_program(program, project="hastack", stack="test", config={},
                       default_project=PROJECT)


def plan_platform(config: StackConfig) -> Recording:
    def program() -> None:
        platform = GcpPlatform("hastack", config)
        for key, value in platform.outputs.items():
            pulumi.export(key, value)

    return run(program)


@cache
def _cached_plan(shared: Path, tier: str, overrides_json: str) -> Recording:
    return once(shared, ("gcp platform", tier, overrides_json),
                lambda: plan_platform(config_for(tier, **json.loads(overrides_json))))


@pytest.fixture(scope="session")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Recording]:
    """plans(tier, **overrides): a platform plan (workflows off unless overridden).

    Planned once per run, whichever pytest-xdist worker asks first
    (tests/support/shared_plans.py): a module's tests are spread over the workers, and
    several modules ask for the same plans. Read-only.
    """
    shared = run_directory(tmp_path_factory)

    def get(tier: str, **overrides: Any) -> Recording:
        return _cached_plan(shared, tier, json.dumps(overrides, sort_keys=True))

    return get


of_type = Recording.of_type


def only(recording: Recording, type_token: str, name_contains: str = "") -> Registration:
    found = [r for r in of_type(recording, type_token) if name_contains in r.name]
    assert len(found) == 1, f"expected one {type_token} matching '{name_contains}', got " \
                            f"{[r.name for r in found]}"
    return found[0]


def by_urn(recording: Recording) -> dict[str, Registration]:
    return {r.urn: r for r in recording.registrations}


def provider_region(recording: Recording, registration: Registration) -> str | None:
    """The `region` of the explicit provider a resource is pinned to (or its ancestors')."""
    urns = by_urn(recording)
    current: Registration | None = registration
    while current is not None:
        if current.provider:
            provider = urns.get(current.provider)
            return provider.inputs.get("region") if provider else None
        current = urns.get(current.parent) if current.parent else None
    return None


def key_location(key_id: str) -> str:
    """'projects/p/locations/us-east1/keyRings/r/cryptoKeys/k' -> 'us-east1'."""
    parts = key_id.split("/")
    return parts[parts.index("locations") + 1]
