"""The AWS cloud steps of a failover, through boto3 (no Pulumi involved).

Aurora global database (RDS API reference, SwitchoverGlobalCluster and
FailoverGlobalCluster): a *planned* switchover synchronises every secondary first
and loses nothing; an *unplanned* failover (`AllowDataLoss=True`) promotes the
target at once and loses what was not yet replicated. Both are followed through
`DescribeGlobalClusters` until `FailoverState` is gone and the target is the writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hastack.failover.steps import Step

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


class StepFailed(RuntimeError):
    pass


def boto3_clients() -> ClientFactory:
    import boto3

    session = boto3.session.Session()
    return lambda service, region: session.client(service, region_name=region)


class AwsSteps:
    """Executes the `preflight` and `database` steps of an AWS failover plan."""

    def __init__(self, clients: ClientFactory, rpo_target_seconds: int | None,
                 accept_data_loss: bool, poll_seconds: float = 15.0,
                 timeout_seconds: float = 1800.0, sleep: Callable[[float], None] = time.sleep,
                 ) -> None:
        self.clients = clients
        self.rpo_target_seconds = rpo_target_seconds
        self.accept_data_loss = accept_data_loss
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep

    def run(self, step: Step) -> str:
        if step.kind == "preflight" and step.details.get("check") == "replication-lag":
            return self._lag(step)
        if step.kind == "preflight":
            return self._target_available(step)
        if step.kind == "database":
            return self._move_writer(step)
        return "nothing to do in the cloud"

    def _rds(self, region: str) -> Any:
        return self.clients("rds", region)

    def _target_available(self, step: Step) -> str:
        # The target region answers and its cluster is usable: the least a failover needs.
        cluster = step.details.get("cluster")
        rds = self._rds(step.region)
        clusters = rds.describe_db_clusters(**({"DBClusterIdentifier": cluster} if cluster
                                               else {}))["DBClusters"]
        if cluster and clusters[0]["Status"] != "available":
            raise StepFailed(f"{cluster} is {clusters[0]['Status']}, not available")
        return f"{step.region} answers ({len(clusters)} cluster(s) visible)"

    def _lag(self, step: Step) -> str:
        cloudwatch = self.clients("cloudwatch", step.region)
        now = time.time()
        data = cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS", MetricName="AuroraGlobalDBRPOLag",
            Dimensions=[{"Name": "DBClusterIdentifier", "Value": step.details["cluster"]}],
            StartTime=now - 300, EndTime=now, Period=60, Statistics=["Maximum"])["Datapoints"]
        if not data:
            if self.accept_data_loss:
                return "replication lag unknown (no datapoint); --accept-data-loss given"
            raise StepFailed("the replication lag is unknown (no AuroraGlobalDBRPOLag "
                             "datapoint in 5 minutes): rerun with --accept-data-loss to fail "
                             "over anyway")
        latest = max(data, key=lambda point: point["Timestamp"])["Maximum"] / 1000.0
        target = self.rpo_target_seconds
        if target is not None and latest > target and not self.accept_data_loss:
            raise StepFailed(f"replication lag {latest:.1f} s is above the RPO target {target} s:"
                             " rerun with --accept-data-loss to fail over anyway")
        return f"replication lag {latest:.1f} s (RPO target {target} s)"

    def _move_writer(self, step: Step) -> str:
        rds = self._rds(step.region)
        identifier = step.details["globalClusterIdentifier"]
        target = step.details["targetCluster"]
        arn = rds.describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]["DBClusterArn"]
        moving, writer = self._state(rds, identifier)
        if writer == arn and not moving:
            return f"{target} is already the writer"  # a rerun after success
        if step.details["allowDataLoss"]:
            rds.failover_global_cluster(GlobalClusterIdentifier=identifier,
                                        TargetDbClusterIdentifier=arn, AllowDataLoss=True)
        else:
            rds.switchover_global_cluster(GlobalClusterIdentifier=identifier,
                                          TargetDbClusterIdentifier=arn)
        waited = 0.0
        while waited <= self.timeout_seconds:
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds
            moving, writer = self._state(rds, identifier)
            if not moving and writer == arn:
                return f"{target} is the writer after {waited:.0f} s"
        raise StepFailed(f"{identifier} did not finish moving its writer to {target} within "
                         f"{self.timeout_seconds:.0f} s; rerun to keep waiting")

    @staticmethod
    def _state(rds: Any, identifier: str) -> tuple[bool, str | None]:
        """(a switchover/failover is under way, ARN of the current writer)."""
        cluster = rds.describe_global_clusters(GlobalClusterIdentifier=identifier)[
            "GlobalClusters"][0]
        writer = next((m["DBClusterArn"] for m in cluster.get("GlobalClusterMembers", [])
                       if m.get("IsWriter")), None)
        return "FailoverState" in cluster, writer
