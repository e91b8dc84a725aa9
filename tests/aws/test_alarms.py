"""Cloud-side alarms: every one has an action, thresholds follow the recovery targets."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from components.aws.alarms import (
    PUBLISHERS,
    Alarms,
    AlarmsArgs,
    AlertTopics,
    AlertTopicsArgs,
    BucketReplication,
    LoadBalancer,
    RegionWatch,
    topic_key_policy,
)
from components.observability import from_config
from components.observability.thresholds import S3_RTC_SECONDS, Target, Thresholds, Tuning
from hastack.config import load_settings
from hastack.plan.runner import Recording, run_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ZONE, REGION_TARGET = Target(60, 1), Target(900, 60)


def thresholds(region: Target | None = REGION_TARGET, **tuning: Any) -> Thresholds:
    return Thresholds.from_targets(ZONE, region, Tuning(**tuning))


def _plan(single_region: bool = False, **overrides: Any) -> Recording:
    def program() -> None:
        east = aws.Provider("east", region="us-east-1")
        west = aws.Provider("west", region="us-west-2")
        providers = {"us-east-1": east} if single_region else {"us-east-1": east,
                                                                "us-west-2": west}
        topics = AlertTopics("hastack-prod-alerts", AlertTopicsArgs(
            tier="prod", account_id="123456789012", partition="aws", providers=providers,
            emails=("oncall@example.com",), https_endpoints=("https://pager.example.com",)))
        fields: dict[str, Any] = {
            "tier": "prod", "account_id": "123456789012", "partition": "aws",
            "regions": [
                RegionWatch("us-east-1", east, database_cluster_id="db-east",
                            cache_node_ids=("c-001", "c-002"),
                            load_balancer=LoadBalancer("app/lb/1", "targetgroup/tg/2")),
                RegionWatch("us-west-2", west, database_cluster_id="db-west",
                            global_secondary=True, cache_node_ids=("w-001",)),
            ],
            "thresholds": thresholds(rpo_alarm_fraction=0.5), "topics": topics.topic_arns,
            "health_checks": {"primary": "hc-1", "secondary": "hc-2"},
            "bucket": BucketReplication("src", "dst", "replicate-everything", "us-east-1"),
        }
        if single_region:
            fields.update(regions=[RegionWatch("us-east-1", east, database_cluster_id="db")],
                          thresholds=thresholds(None), health_checks={}, bucket=None)
        fields.update(overrides)
        Alarms("hastack-prod-alarms", AlarmsArgs(**fields))

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan()


def _alarm(recording: Recording, suffix: str) -> dict[str, Any]:
    found = [r for r in recording.of_type(ALARM) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in recording.of_type(ALARM)]
    return found[0].inputs


def test_every_alarm_notifies_its_regions_topic(prod: Recording) -> None:
    alarms = prod.of_type(ALARM)
    assert len(alarms) >= 10
    for alarm in alarms:
        assert alarm.inputs.get("alarmActions"), f"{alarm.name} has no action"
        assert alarm.inputs.get("actionsEnabled") is True


def test_rpo_alarm_on_the_secondary_at_half_the_target(prod: Recording) -> None:
    rpo = _alarm(prod, "us-west-2-aurora-rpo-lag")
    assert rpo["metricName"] == "AuroraGlobalDBRPOLag" and rpo["namespace"] == "AWS/RDS"
    assert rpo["dimensions"] == {"DBClusterIdentifier": "db-west"}
    assert rpo["threshold"] == 30_000  # 60 s RPO, in ms, at 0.5
    assert not [r for r in prod.of_type(ALARM) if r.name.endswith("us-east-1-aurora-rpo-lag")]


def test_thresholds_follow_the_targets() -> None:
    base = thresholds()
    looser = thresholds(Target(1800, 120))
    assert looser.global_rpo_lag_ms == 2 * (base.global_rpo_lag_ms or 0)
    assert looser.outage_periods > base.outage_periods
    assert thresholds(None).global_rpo_lag_ms is None
    assert Thresholds.from_targets(Target(60, 4), REGION_TARGET, Tuning()).replica_lag_ms == 3200


def test_thresholds_follow_a_stack_files_target() -> None:
    def config(rpo: int) -> Any:
        return load_settings({"cloud": "aws", "tier": "prod", "orchestrator": "prefect",
                              "regions": {"primary": "us-east-1", "secondary": "us-west-2"},
                              "dns": {"domain": "example.com"},
                              "recovery": {"zoneFailure": {"rtoSeconds": 60, "rpoSeconds": 1},
                                           "regionFailure": {"rtoSeconds": 900,
                                                             "rpoSeconds": rpo}}}, "t")
    # prod's rpoAlarmFraction is 0.5 (tiers.py): the alarm sits at half the target.
    assert from_config.thresholds(config(60)).global_rpo_lag_ms == 30_000
    assert from_config.thresholds(config(300)).global_rpo_lag_ms == 150_000


def test_health_checks_alarmed_in_us_east_1_and_missing_data_breaches(prod: Recording) -> None:
    check = _alarm(prod, "primary-health-check")
    assert check["namespace"] == "AWS/Route53" and check["treatMissingData"] == "breaching"
    assert check["comparisonOperator"] == "LessThanThreshold" and check["threshold"] == 1


def test_route53_outside_us_east_1_needs_its_provider() -> None:
    def program() -> None:
        west = aws.Provider("w", region="us-west-2")
        Alarms("x", AlarmsArgs(tier="prod", account_id="1", partition="aws",
                               regions=[RegionWatch("us-west-2", west)],
                               thresholds=thresholds(), topics={"us-west-2": "arn"},
                               health_checks={"primary": "hc"}))

    with pytest.raises(Exception, match="us-east-1"):
        run_program(program, project="hastack", stack="test", config={})


def test_topics_are_encrypted_with_a_key_the_publishers_may_use(prod: Recording) -> None:
    topics = prod.of_type("aws:sns/topic:Topic")
    assert len(topics) == 2 and all(t.inputs.get("kmsMasterKeyId") for t in topics)
    topic = "arn:aws:sns:us-east-1:123456789012:hastack-prod-alerts-us-east-1"
    policy = json.loads(topic_key_policy("aws", "123456789012", topic))
    grant = next(s for s in policy["Statement"] if s["Sid"] == "AlarmSourcesEncryptForTheTopic")
    assert set(grant["Principal"]["Service"]) == set(PUBLISHERS)
    assert "cloudwatch.amazonaws.com" in PUBLISHERS and "events.amazonaws.com" in PUBLISHERS
    assert set(grant["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    # Account principals (Alertmanager) only through this topic; root only administers.
    account = next(s for s in policy["Statement"]
                   if s["Sid"] == "AccountPublishersUseThroughTheTopic")
    assert account["Condition"]["StringEquals"][
        "kms:EncryptionContext:aws:sns:topicArn"] == topic
    admin = next(s for s in policy["Statement"] if s["Sid"] == "AccountAdministersKeyThroughIam")
    assert "kms:Decrypt" not in admin["Action"] and admin["Action"] != "kms:*"


def test_subscriptions_from_config(prod: Recording) -> None:
    subs = prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted({s.inputs["protocol"] for s in subs}) == ["email", "https"]
    assert len(subs) == 4  # two receivers in each of two regions


def test_an_alarm_region_without_a_topic_is_refused() -> None:
    def program() -> None:
        east = aws.Provider("e", region="us-east-1")
        Alarms("x", AlarmsArgs(tier="prod", account_id="1", partition="aws",
                               regions=[RegionWatch("us-east-1", east)],
                               thresholds=thresholds(), topics={}))

    with pytest.raises(Exception, match="no alert topic"):
        run_program(program, project="hastack", stack="test", config={})


def test_alarms_reach_the_other_regions_topic(prod: Recording) -> None:
    rules = prod.of_type("aws:cloudwatch/eventRule:EventRule")
    assert len(rules) == 4
    targets = prod.of_type("aws:cloudwatch/eventTarget:EventTarget")
    buses = [t.inputs["arn"] for t in targets if "event-bus" in str(t.inputs.get("arn"))]
    assert sorted(buses) == ["arn:aws:events:us-east-1:123456789012:event-bus/default",
                             "arn:aws:events:us-west-2:123456789012:event-bus/default"]


def test_rds_failover_events_and_s3_and_alb(prod: Recording) -> None:
    subs = prod.of_type("aws:rds/eventSubscription:EventSubscription")
    assert len(subs) == 2 and all(s.inputs["eventCategories"] == ["failover"] for s in subs)
    assert _alarm(prod, "s3-replication-latency")["threshold"] == S3_RTC_SECONDS
    assert _alarm(prod, "s3-replication-failed")["metricName"] == "OperationsFailedReplication"
    assert _alarm(prod, "alb-unhealthy-hosts")["dimensions"] == {
        "LoadBalancer": "app/lb/1", "TargetGroup": "targetgroup/tg/2"}
    assert _alarm(prod, "c-002-replication-lag")["metricName"] == "ReplicationLag"


def test_single_region_has_no_forwarding() -> None:
    recording = _plan(single_region=True)
    assert recording.of_type("aws:cloudwatch/eventRule:EventRule") == []
    assert len(recording.of_type("aws:sns/topic:Topic")) == 1
