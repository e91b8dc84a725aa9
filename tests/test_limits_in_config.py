"""Every limit a component enforces is a config rule: one ConfigError, nothing registered.

Each case below used to pass config validation and fail inside a component as a bare
ValueError after 130+ registrations (a partial deployment under `pulumi up`).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hastack.config import ConfigError, load_from_engine_values, load_settings
from hastack.config.tiers import PROFILES, floor, tier_defaults
from hastack.config.versions import KUBERNETES
from hastack.plan.mocks import PlanMocks
from hastack.plan.recorder import RecordingMonitor
from hastack.plan.runner import program_from_file, run_program
from tests.conftest import REPO, base_config

SOURCE = "stacks/Pulumi.t.yaml"
GCP_PROD = {"cloud": "gcp", "tier": "prod", "gcp": {"project": "acme-hastack-prod"},
            "regions": {"primary": "us-central1", "secondary": "us-east1"},
            "orchestrator": "prefect", "dns": {"domain": "example.com"}}
AWS_DEV = {"cloud": "aws", "tier": "dev", "regions": {"primary": "us-east-2"},
           "orchestrator": "prefect", "dns": {"domain": "example.com"}}


def prod(**overrides: Any) -> dict[str, Any]:
    config = base_config(**overrides)
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("hastack:")}


EIGHT_LIMITS = {
    "prod backups 3 days": (prod(database={"backupRetentionDays": 3}),
                            "database.backupRetentionDays", "prod needs >= 14"),
    "prod backups 7 days": (prod(database={"backupRetentionDays": 7}),
                            "database.backupRetentionDays", "allowed: 14..35"),
    "prod one secondary instance": (prod(database={"secondaryInstances": 1}),
                                    "database.secondaryInstances", "prod needs >= 2"),
    "dev one instance": ({**AWS_DEV, "database": {"instancesPerRegion": 1}},
                         "database.instancesPerRegion", "dev needs >= 2"),
    "dev one cache node": ({**AWS_DEV, "cache": {"nodesPerRegion": 1}},
                           "cache.nodesPerRegion", "dev needs >= 2"),
    "prod two cache nodes": (prod(cache={"nodesPerRegion": 2}),
                             "cache.nodesPerRegion", "allowed: 3..6"),
    "no database with prefect": (prod(database={"enabled": False}),
                                 "database.enabled", "PostgreSQL"),
    "prod no cache with prefect": (prod(cache={"enabled": False}),
                                   "cache.enabled", "Redis"),
    "gcp valkey": ({**GCP_PROD, "cache": {"engine": "valkey"}}, "cache.engine", "allowed: redis"),
    "gcp route53": ({**GCP_PROD, "dns": {"domain": "example.com", "provider": "route53"}},
                    "dns.provider", "allowed: cloud-dns"),
    "aws cloud-dns is not silently ignored": (
        prod(dns={"domain": "example.com", "provider": "cloud-dns"}), "dns.provider",
        "allowed: route53"),
    "cache snapshots 0 days": (prod(cache={"snapshotRetentionDays": 0}),
                               "cache.snapshotRetentionDays", "prod needs >= 7"),
    "old kubernetes": (prod(kubernetes={"version": "1.20"}), "kubernetes.version",
                       "allowed: 1.35"),
    "old redis for TLS-only": (prod(cache={"engineVersion": "6.2"}), "cache.engineVersion",
                               "TLS-only"),
}


@pytest.mark.parametrize("case", sorted(EIGHT_LIMITS))
def test_component_limits_are_config_errors(case: str) -> None:
    settings_, key, phrase = EIGHT_LIMITS[case]
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_, SOURCE)
    messages = [message for path, message in caught.value.problems if path == key]
    assert messages and any(phrase in m for m in messages), caught.value.problems


def test_every_tier_default_meets_its_own_floors() -> None:
    for tier, profile in PROFILES.items():
        defaults = tier_defaults("aws", tier)
        for key, floor_ in profile.floors.items():
            value: Any = defaults
            for part in key.split("."):
                value = value[part]
            assert floor_.multi_region_only or value >= floor_.minimum, (tier, key)


def test_the_pack_reads_the_same_floors() -> None:
    prod_pack = json.loads((REPO / "policies" / "config" / "prod.json").read_text())
    assert prod_pack["elasticache-node-count"]["minNodes"] == floor("prod", "cache.nodesPerRegion")
    assert prod_pack["rds-backup-retention"]["minimumDays"] == floor(
        "prod", "database.backupRetentionDays")
    assert prod_pack["eks-supported-version"]["minimumVersion"] == KUBERNETES["aws"][0]


def test_staging_protection_is_honoured_on_aws() -> None:
    from components.aws.aurora import AuroraGlobalDatabaseArgs, AuroraRegion, resolve_settings

    config = load_settings(prod(tier="staging", protectStatefulResources=True), SOURCE)
    region = AuroraRegion(provider=None, region="us-east-1", vpc_id="vpc",  # type: ignore[arg-type]
                          subnet_ids=["a", "b"], allowed_cidrs=["10.0.0.0/16"])
    settings_ = resolve_settings(AuroraGlobalDatabaseArgs.from_config(config, region))
    assert settings_.protection.protect and settings_.protection.retain_on_delete


# --- Property: whatever the loader accepts plans; whatever it refuses registers nothing ----

def _engine(settings_: dict[str, Any]) -> dict[str, str]:
    return {f"hastack:{k}": v if isinstance(v, str) else json.dumps(v)
            for k, v in settings_.items()}


NUMERIC_KEYS = sorted(PROFILES["prod"].floors)
CHOICES: dict[str, list[Any]] = {
    "database.enabled": [True, False], "cache.enabled": [True, False],
    "cache.engine": ["redis", "valkey"], "dns.provider": ["route53", "cloud-dns"],
    "orchestrator": ["prefect", "argo"],
}


@st.composite
def stack_values(draw: st.DrawFn) -> dict[str, Any]:
    """A valid stack of some tier and cloud with one to three keys moved near a limit."""
    cloud = draw(st.sampled_from(["aws", "gcp"]))
    tier = draw(st.sampled_from(["dev", "staging", "prod"]))
    settings_ = prod(tier=tier) if cloud == "aws" else {**GCP_PROD, "tier": tier}
    settings_ = json.loads(json.dumps(settings_))
    if tier == "dev":  # dev is single-region by default (no secondary cluster, no replication)
        settings_["regions"].pop("secondary")
    for key in draw(st.lists(st.sampled_from(NUMERIC_KEYS + sorted(CHOICES)),
                             min_size=1, max_size=3, unique=True)):
        if key in CHOICES:
            value = draw(st.sampled_from(CHOICES[key]))
        else:
            value = floor(tier, key) + draw(st.sampled_from([-1, 0, 1]))
        *parents, leaf = key.split(".")
        node = settings_
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return settings_


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_values())
def test_only_config_errors_escape_and_refusals_register_nothing(
        settings_: dict[str, Any]) -> None:
    engine = _engine(settings_)
    monitor = RecordingMonitor(PlanMocks(settings_["regions"]["primary"]))
    try:
        load_from_engine_values(engine, SOURCE)
    except ConfigError:
        event("refused by the config")
        with pytest.raises(pulumi.RunError):
            run_program(program_from_file(REPO / "__main__.py"), project="hastack", stack="t",
                        config=engine, monitor=monitor)
        assert monitor.registrations == {}
        return
    # Accepted: the real program builds it without a component ValueError.
    event("accepted and planned")
    run_program(program_from_file(REPO / "__main__.py"), project="hastack", stack="t",
                config=engine, monitor=monitor)
    assert monitor.registrations


def test_the_version_table_decides_per_cloud() -> None:
    from hastack.config.versions import kubernetes_problem, postgresql_problem

    assert kubernetes_problem("aws", "1.35") is None
    assert kubernetes_problem("aws", "1.29") and kubernetes_problem("gcp", "1.20")
    assert postgresql_problem("aws", "17.7") is None
    assert postgresql_problem("aws", "17.4")    # deprecated minor: refused on Aurora
    assert postgresql_problem("gcp", "16.4") is None  # Cloud SQL picks the minor
    assert postgresql_problem("gcp", "14.9")
