"""GCP alert policies: built from the config's receivers, thresholds from the targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack.plan.runner import Recording
from tests.gcp.conftest import config_for, plan_platform

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
ALERTS = {"emails": ["oncall@example.com"], "httpsEndpoints": ["https://pager.example.com/x"]}


def _prod(**overrides: Any) -> Recording:
    return plan_platform(config_for("prod", alerts=ALERTS, **overrides))


@pytest.fixture(scope="module")
def prod(plans: Callable[..., Recording]) -> Recording:
    return plans("prod", alerts=ALERTS)


def _policy(recording: Recording, suffix: str) -> dict[str, Any]:
    found = [r for r in recording.of_type(POLICY) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in recording.of_type(POLICY)]
    return found[0].inputs


def test_channels_come_from_alerts_config(prod: Recording) -> None:
    channels = prod.of_type(CHANNEL)
    assert sorted(c.inputs["type"] for c in channels) == ["email", "webhook_tokenauth"]
    # The webhook URL (it often carries its token) is a secret in the plan.
    assert {c.inputs["labels"].get("email_address") or c.inputs["labels"]["url"]
            for c in channels} == {"oncall@example.com", "[secret]"}


def test_every_policy_notifies_every_channel(prod: Recording) -> None:
    policies = prod.of_type(POLICY)
    assert len(policies) >= 4
    for policy in policies:
        assert len(policy.inputs["notificationChannels"]) == 2, policy.name


def test_replica_lag_threshold_follows_the_region_rpo(prod: Recording) -> None:
    lag = _policy(prod, "sql-replica-lag")["conditions"][0]["conditionThreshold"]
    assert "replication/replica_lag" in lag["filter"]
    tight = _prod(recovery={"zoneFailure": {"rtoSeconds": 60, "rpoSeconds": 1},
                            "regionFailure": {"rtoSeconds": 600, "rpoSeconds": 60}})
    assert _policy(tight, "sql-replica-lag")["conditions"][0]["conditionThreshold"][
        "thresholdValue"] == 30  # 60 s RPO x 0.5
    looser = _prod(recovery={"zoneFailure": {"rtoSeconds": 60, "rpoSeconds": 1},
                             "regionFailure": {"rtoSeconds": 900, "rpoSeconds": 240}})
    assert _policy(looser, "sql-replica-lag")["conditions"][0]["conditionThreshold"][
        "thresholdValue"] == 120


def test_failover_events_are_rate_limited_log_matches(prod: Recording) -> None:
    policy = _policy(prod, "sql-failover")
    assert "cloudsql.instances.failover" in policy["conditions"][0]["conditionMatchedLog"][
        "filter"]
    assert policy["alertStrategy"]["notificationRateLimit"]["period"] == "300s"


def test_memorystore_lag_per_region(prod: Recording) -> None:
    names = [r.name for r in prod.of_type(POLICY) if "redis-" in r.name]
    assert len(names) == 2
