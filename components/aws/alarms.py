"""Cloud-side alarms: they fire when a cluster, or a whole region, is gone.

Per region an SNS topic encrypted with its own customer-managed key receives:
CloudWatch alarms on Aurora (`AuroraGlobalDBRPOLag` on the secondary cluster,
`AuroraReplicaLag`), ElastiCache `ReplicationLag`, S3 replication (RTC metrics),
ALB 5xx and unhealthy hosts (when the load balancer is known), Route 53
`HealthCheckStatus` (published only in us-east-1, so alarmed there), RDS failover
events (an event subscription) and ElastiCache events (the replication group's
notification topic). Subscribers come from `alerts.emails` / `alerts.httpsEndpoints`.

Why EventBridge between the regions: a CloudWatch alarm can only notify a topic
in its own region. Each region forwards its alarms' state changes to the other
region's default event bus, where a rule publishes them to that region's topic,
so losing a region (its topic included) still tells someone.

Thresholds come from `components/observability/thresholds.py` (the recovery
targets), never from literals here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.kms import KeyScope, customer_managed_key, key_policy
from components.base import Protection, Tier, standard_tags
from components.observability.thresholds import PERIOD_SECONDS, Thresholds

COMPONENT = "Alarms"
ROUTE53_METRICS_REGION = "us-east-1"
# Service principals that publish to an encrypted topic (SNS developer guide, "Enable
# compatibility between event sources from AWS services and encrypted topics").
PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com",
              "events.rds.amazonaws.com", "elasticache.amazonaws.com")


@dataclass(frozen=True)
class LoadBalancer:
    """An ALB and its target group, as their CloudWatch dimensions name them (ARN suffixes)."""

    arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class RegionWatch:
    """What to watch in one region."""

    region: str
    provider: pulumi.ProviderResource
    # Aurora regional cluster identifier; `global_secondary` = it is the global DB's
    # secondary, the only cluster AuroraGlobalDBRPOLag is published for.
    database_cluster_id: pulumi.Input[str] | None = None
    global_secondary: bool = False
    cache_node_ids: Sequence[str] = ()
    load_balancer: LoadBalancer | None = None


@dataclass(frozen=True)
class BucketReplication:
    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str
    region: str  # the source bucket's region (where S3 publishes the metrics)


@dataclass(frozen=True)
class AlertTopicsArgs:
    tier: Tier
    account_id: pulumi.Input[str]
    partition: str
    # Region -> the provider pinned to it; include us-east-1 when Route 53 is alarmed.
    providers: Mapping[str, pulumi.ProviderResource]
    emails: Sequence[str] = ()
    https_endpoints: Sequence[str] = ()
    # The topic keys: losing one loses nothing but queued messages; the tier decides.
    protection: Protection = field(default_factory=lambda: Protection(False, False, False))
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmsArgs:
    tier: Tier
    account_id: pulumi.Input[str]
    partition: str
    regions: Sequence[RegionWatch]
    thresholds: Thresholds
    # Region -> alert topic ARN (AlertTopics.topic_arns); every alarm notifies its region's.
    topics: Mapping[str, pulumi.Input[str]]
    # Route 53 health check ID per endpoint name (e.g. "primary"), alarmed in us-east-1.
    health_checks: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # A provider pinned to us-east-1, needed only when no watched region is us-east-1.
    us_east_1_provider: pulumi.ProviderResource | None = None
    bucket: BucketReplication | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def topic_key_policy(partition: str, account_id: str, topic_arn: str) -> str:
    """Key policy of one topic's key: the account administers it (components.aws.kms);
    the publishing services, and account principals publishing to this topic, use it.

    CloudWatch, EventBridge, RDS and ElastiCache encrypt messages for the topic with
    this key, which needs `kms:GenerateDataKey*` and `kms:Decrypt`. No source
    conditions on the EventBridge grant: SNS documents that aws:SourceArn /
    SourceAccount are not supported in a KMS policy for EventBridge delivery.
    Account principals (Alertmanager's role) publish through SNS, which names the
    topic in the encryption context (`aws:sns:topicArn`): no other use of the key.
    """
    region = topic_arn.split(":")[3]
    document = json.loads(key_policy(KeyScope(partition, account_id, region)))
    document["Statement"] += [
        {"Sid": "AlarmSourcesEncryptForTheTopic", "Effect": "Allow",
         "Principal": {"Service": list(PUBLISHERS)},
         "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"},
        {"Sid": "AccountPublishersUseThroughTheTopic", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
         "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account_id,
                                        "kms:EncryptionContext:aws:sns:topicArn": topic_arn}}},
    ]
    return json.dumps(document, sort_keys=True)


def topic_policy(topic_arn: str, account_id: str) -> str:
    """Topic policy: the account's own alarm/event sources may publish, nobody else."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAlarmSourcesPublish", "Effect": "Allow",
         "Principal": {"Service": list(PUBLISHERS)}, "Action": "sns:Publish",
         "Resource": topic_arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
    ]}, sort_keys=True)


class AlertTopics(pulumi.ComponentResource):
    """One CMK-encrypted SNS topic per region, with the configured subscribers.

    Built before the data stores: ElastiCache takes its notification topic at creation.
    """

    topic_arns: dict[str, pulumi.Output[str]]
    key_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AlertTopicsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:AlertTopics", name, None, opts)
        self._name, self._args = name, args
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        self.topic_arns, self.key_arns = {}, {}
        for region, provider in sorted(args.providers.items()):
            self._topic(region, provider)
        self.register_outputs({"topicArns": self.topic_arns})

    def _opts(self, provider: pulumi.ProviderResource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=provider)

    def _topic(self, region: str, provider: pulumi.ProviderResource) -> None:
        args = self._args
        prefix = f"{self._name}-{region}"
        key = customer_managed_key(
            f"{prefix}-key", description=f"Alert topic of {self._name} in {region}",
            tier=args.tier, protection=args.protection, tags=self._tags,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: topic_key_policy(
                    args.partition, account,
                    f"arn:{args.partition}:sns:{region}:{account}:{prefix}")),
            opts=self._opts(provider))
        topic = aws.sns.Topic(prefix, name=prefix, kms_master_key_id=key.arn, tags=self._tags,
                              opts=self._opts(provider))
        aws.sns.TopicPolicy(
            f"{prefix}-policy", arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id).apply(
                lambda parts: topic_policy(str(parts[0]), str(parts[1]))),
            opts=self._opts(provider))
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(f"{prefix}-email-{i}", topic=topic.arn,
                                      protocol="email", endpoint=email,
                                      opts=self._opts(provider))
        for i, url in enumerate(args.https_endpoints):
            # Webhook URLs often carry their token (chat, pager): kept secret in state.
            aws.sns.TopicSubscription(f"{prefix}-https-{i}", topic=topic.arn,
                                      protocol="https", endpoint=pulumi.Output.secret(url),
                                      opts=self._opts(provider))
        self.topic_arns[region] = topic.arn
        self.key_arns[region] = key.arn


class Alarms(pulumi.ComponentResource):
    """Every cloud-side alarm, each notifying its region's alert topic."""

    topic_arns: dict[str, pulumi.Output[str]]
    alarms: list[aws.cloudwatch.MetricAlarm]
    # Alarm ARN by alarm name (e.g. `<name>-<region>-alb-5xx`): stop conditions of drills.
    arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AlarmsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:Alarms", name, None, opts)
        if args.thresholds.global_rpo_lag_ms is None and any(
                r.global_secondary for r in args.regions):
            raise ValueError("a global secondary cluster needs a region-failure RPO target "
                             "to alarm on")
        self._name, self._args = name, args
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        self.alarms, self.arns = [], {}
        providers = {r.region: r.provider for r in args.regions}
        if args.health_checks and ROUTE53_METRICS_REGION not in providers:
            if args.us_east_1_provider is None:
                raise ValueError("Route 53 health-check metrics live in us-east-1: pass "
                                 "us_east_1_provider when no watched region is us-east-1")
            providers[ROUTE53_METRICS_REGION] = args.us_east_1_provider
        missing = sorted(set(providers) - set(args.topics))
        if missing:
            raise ValueError(f"no alert topic for {missing}: every alarm needs its region's "
                             "topic (AlertTopics.topic_arns)")
        self.topic_arns = {region: pulumi.Output.from_input(args.topics[region])
                           for region in providers}
        for watch in args.regions:
            self._region_alarms(watch)
        self._health_check_alarms(providers.get(ROUTE53_METRICS_REGION))
        self._bucket_alarms(providers)
        self._cross_region_forwarding(providers)
        self.register_outputs({"alarmCount": len(self.alarms)})

    def _opts(self, provider: pulumi.ProviderResource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=provider)

    def _alarm(self, resource: str, region: str, *, description: str, namespace: str,
               metric: str, dimensions: Mapping[str, pulumi.Input[str]], statistic: str,
               comparison: str, threshold: float, periods: int = 3,
               missing: str = "notBreaching") -> aws.cloudwatch.MetricAlarm:
        provider = self._provider_for(region)
        topic = self.topic_arns[region]
        alarm = aws.cloudwatch.MetricAlarm(
            resource, name=resource, alarm_description=description,
            namespace=namespace, metric_name=metric, dimensions=dict(dimensions),
            statistic=statistic, period=PERIOD_SECONDS, evaluation_periods=periods,
            datapoints_to_alarm=periods, comparison_operator=comparison, threshold=threshold,
            treat_missing_data=missing, actions_enabled=True,
            alarm_actions=[topic], ok_actions=[topic], tags=self._tags,
            opts=self._opts(provider))
        self.alarms.append(alarm)
        self.arns[resource] = alarm.arn
        return alarm

    def _provider_for(self, region: str) -> pulumi.ProviderResource:
        for watch in self._args.regions:
            if watch.region == region:
                return watch.provider
        assert self._args.us_east_1_provider is not None
        return self._args.us_east_1_provider

    # ---------------------------------------------------------------- alarms

    def _region_alarms(self, watch: RegionWatch) -> None:
        t = self._args.thresholds
        prefix = f"{self._name}-{watch.region}"
        if watch.database_cluster_id is not None:
            cluster = {"DBClusterIdentifier": watch.database_cluster_id}
            if watch.global_secondary and t.global_rpo_lag_ms is not None:
                self._alarm(f"{prefix}-aurora-rpo-lag", watch.region,
                            description="Aurora global database replication is behind the "
                                        "region RPO target (AuroraGlobalDBRPOLag, ms).",
                            namespace="AWS/RDS", metric="AuroraGlobalDBRPOLag",
                            dimensions=cluster, statistic="Maximum",
                            comparison="GreaterThanThreshold", threshold=t.global_rpo_lag_ms)
            self._alarm(f"{prefix}-aurora-replica-lag", watch.region,
                        description="An Aurora reader lags its writer (AuroraReplicaLag, ms): "
                                    "a zone failover would lose more than the zone RPO.",
                        namespace="AWS/RDS", metric="AuroraReplicaLag", dimensions=cluster,
                        statistic="Maximum", comparison="GreaterThanThreshold",
                        threshold=t.replica_lag_ms)
            aws.rds.EventSubscription(
                f"{prefix}-rds-failover", name=f"{prefix}-rds-failover",
                sns_topic=self.topic_arns[watch.region], source_type="db-cluster",
                source_ids=[watch.database_cluster_id], event_categories=["failover"],
                tags=self._tags, opts=self._opts(watch.provider))
        for node in watch.cache_node_ids:
            self._alarm(f"{node}-replication-lag", watch.region,
                        description="A cache replica lags its primary (ReplicationLag, s).",
                        namespace="AWS/ElastiCache", metric="ReplicationLag",
                        dimensions={"CacheClusterId": node}, statistic="Maximum",
                        comparison="GreaterThanThreshold", threshold=t.cache_lag_seconds)
        if watch.load_balancer is not None:
            lb = watch.load_balancer
            self._alarm(f"{prefix}-alb-5xx", watch.region,
                        description="The load balancer answers with 5xx errors.",
                        namespace="AWS/ApplicationELB", metric="HTTPCode_ELB_5XX_Count",
                        dimensions={"LoadBalancer": lb.arn_suffix}, statistic="Sum",
                        comparison="GreaterThanThreshold",
                        threshold=float(t.tuning.load_balancer_errors_per_minute),
                        periods=t.outage_periods)
            if lb.target_group_arn_suffix is not None:
                self._alarm(f"{prefix}-alb-unhealthy-hosts", watch.region,
                            description="The load balancer has unhealthy targets.",
                            namespace="AWS/ApplicationELB", metric="UnHealthyHostCount",
                            dimensions={"LoadBalancer": lb.arn_suffix,
                                        "TargetGroup": lb.target_group_arn_suffix},
                            statistic="Maximum", comparison="GreaterThanThreshold",
                            threshold=0.0, periods=t.outage_periods)

    def _health_check_alarms(self, provider: pulumi.ProviderResource | None) -> None:
        if provider is None:
            return
        for endpoint, check_id in sorted(self._args.health_checks.items()):
            # Missing data means Route 53 stopped reporting: treat it as failing.
            self._alarm(f"{self._name}-{endpoint}-health-check", ROUTE53_METRICS_REGION,
                        description=f"The {endpoint} endpoint fails its Route 53 health check.",
                        namespace="AWS/Route53", metric="HealthCheckStatus",
                        dimensions={"HealthCheckId": check_id}, statistic="Minimum",
                        comparison="LessThanThreshold", threshold=1.0,
                        periods=self._args.thresholds.outage_periods, missing="breaching")

    def _bucket_alarms(self, providers: Mapping[str, pulumi.ProviderResource]) -> None:
        bucket = self._args.bucket
        if bucket is None:
            return
        dims = {"SourceBucket": bucket.source_bucket,
                "DestinationBucket": bucket.destination_bucket, "RuleId": bucket.rule_id}
        self._alarm(f"{self._name}-s3-replication-latency", bucket.region,
                    description="Artifact replication is slower than S3 RTC promises.",
                    namespace="AWS/S3", metric="ReplicationLatency", dimensions=dims,
                    statistic="Maximum", comparison="GreaterThanThreshold",
                    threshold=self._args.thresholds.s3_replication_latency_seconds)
        self._alarm(f"{self._name}-s3-replication-failed", bucket.region,
                    description="Artifact objects failed to replicate.",
                    namespace="AWS/S3", metric="OperationsFailedReplication", dimensions=dims,
                    statistic="Sum", comparison="GreaterThanThreshold", threshold=0.0,
                    periods=1)

    # ---------------------------------------------------------------- cross-region

    def _cross_region_forwarding(self, providers: Mapping[str, pulumi.ProviderResource]) -> None:
        regions = [r.region for r in self._args.regions]
        if len(regions) < 2:
            return
        args = self._args
        pattern_base = {"source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "detail": {"alarmName": [{"prefix": self._name}]}}
        for here in regions:
            there = next(r for r in regions if r != here)
            prefix = f"{self._name}-{here}"
            bus = pulumi.Output.from_input(args.account_id).apply(
                _bus_arn(args.partition, there))
            role = aws.iam.Role(
                f"{prefix}-alarm-forwarder",
                assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}),
                tags=self._tags, opts=self._opts(providers[here]))
            aws.iam.RolePolicy(
                f"{prefix}-alarm-forwarder", role=role.id,
                policy=bus.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "events:PutEvents", "Resource": arn}]})),
                opts=self._opts(providers[here]))
            forward = aws.cloudwatch.EventRule(
                f"{prefix}-alarms-out",
                description=f"{here} alarm state changes to {there}",
                event_pattern=json.dumps({**pattern_base, "region": [here]}, sort_keys=True),
                tags=self._tags, opts=self._opts(providers[here]))
            aws.cloudwatch.EventTarget(f"{prefix}-alarms-out", rule=forward.name, arn=bus,
                                       role_arn=role.arn, opts=self._opts(providers[here]))
            receive = aws.cloudwatch.EventRule(
                f"{self._name}-{there}-alarms-in-from-{here}",
                description=f"alarm state changes forwarded from {here}",
                event_pattern=json.dumps({**pattern_base, "region": [here]}, sort_keys=True),
                tags=self._tags, opts=self._opts(providers[there]))
            aws.cloudwatch.EventTarget(f"{self._name}-{there}-alarms-in-from-{here}",
                                       rule=receive.name, arn=self.topic_arns[there],
                                       opts=self._opts(providers[there]))


def _bus_arn(partition: str, region: str) -> Callable[[str], str]:
    """The default event bus of `region` (the cross-region EventBridge target)."""
    def arn(account: str) -> str:
        return f"arn:{partition}:events:{region}:{account}:event-bus/default"
    return arn
