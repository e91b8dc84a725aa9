"""What each drill does, per cloud: the ordered phases, and which assessed domain it tests.

A phase is one thing the cloud does that the drill times from the cloud's own
timestamps (an FIS action, an RDS or ElastiCache event, a Cloud SQL operation, a
Region switch step). `hastack drill --dry-run` prints these and calls nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("writer", "cache", "zone", "node", "region")
# The `hastack assess` failure domain whose modeled RTO/RPO a drill is compared with.
DOMAIN = {"writer": "zoneFailure", "cache": "zoneFailure", "zone": "zoneFailure",
          "node": "nodeFailure", "region": "regionFailure"}


class DrillError(Exception):
    """A refusal: one message, exit 2, nothing started."""


@dataclass(frozen=True)
class Phase:
    name: str
    source: str      # where its timestamps come from
    description: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "description": self.description}


_FIS = "fis:GetExperiment"
AWS_PHASES: dict[str, tuple[Phase, ...]] = {
    "writer": (
        Phase("start", "fis:StartExperiment", "start the writer-failover experiment template"),
        Phase("Failover-RDS", _FIS, "aws:rds:failover-db-cluster on the region's cluster"),
        Phase("database-failover", "rds:DescribeEvents",
              "the cluster's failover started .. completed events"),
        Phase("edge", "elbv2:DescribeTargetHealth", "healthy targets behind the load balancer"),
    ),
    "cache": (
        Phase("start", "fis:StartExperiment", "start the cache AZ-power experiment template"),
        Phase("Pause-ElastiCache", _FIS,
              "aws:elasticache:replicationgroup-interrupt-az-power on the replication group"),
        Phase("cache-failover", "elasticache:DescribeEvents",
              "the replication group's failover events"),
    ),
    "zone": (
        Phase("start", "fis:StartExperiment",
              "start the AZ power interruption experiment template"),
        Phase("Stop-Instances", _FIS, "the zone's nodes stop"),
        Phase("Pause-network-connectivity", _FIS, "the zone's subnets lose connectivity"),
        Phase("Failover-RDS", _FIS, "the writer leaves the zone (if it was there)"),
        Phase("Pause-ElastiCache", _FIS, "the cache primary leaves the zone (if it was there)"),
        Phase("Start-ARC-Zonal-Autoshift", _FIS, "ARC shifts traffic away from the zone"),
        Phase("database-failover", "rds:DescribeEvents", "failover started .. completed"),
        Phase("cache-failover", "elasticache:DescribeEvents", "failover events"),
        Phase("edge", "elbv2:DescribeTargetHealth", "healthy targets behind the load balancer"),
    ),
    "node": (
        Phase("start", "fis:StartExperiment", "start the node-loss experiment template"),
        Phase("Terminate-Nodes", _FIS,
              "aws:eks:terminate-nodegroup-instances on the system node group"),
        Phase("edge", "elbv2:DescribeTargetHealth", "healthy targets behind the load balancer"),
    ),
    "region": (
        Phase("start", "arc-region-switch:StartPlanExecution",
              "the Region switch plan, planned (graceful) mode, activating the standby"),
        Phase("steps", "arc-region-switch:ListPlanExecutionEvents",
              "each plan step's started .. succeeded events"),
        Phase("execution", "arc-region-switch:GetPlanExecution", "the execution start .. end"),
    ),
}
_SQL = "sqladmin:operations.get"
GCP_PHASES: dict[str, tuple[Phase, ...]] = {
    "writer": (Phase("database-failover", _SQL,
                     "Cloud SQL instances.failover of the region's HA instance"),),
    "zone": (Phase("database-failover", _SQL,
                   "Cloud SQL instances.failover (the primary zone goes; GCP has no "
                   "zone-wide fault injection)"),),
    "cache": (Phase("cache-failover", "redis:projects.locations.operations.get",
                    "Memorystore projects.locations.instances.failover"),),
    "node": (Phase("cordon", "kubernetes:nodes (poll)", "cordon one node of the pool"),
             Phase("drain", "kubernetes:pods/eviction (poll)",
                   "evict its pods (PodDisruptionBudgets respected) until none is left"),),
    # `hastack failover ENV --to STANDBY --mode planned` run as a drill: Advanced DR.
    "region": (
        Phase("preflight", "container:clusters.get, sqladmin:instances.get",
              "the standby's GKE cluster is RUNNING, its Cloud SQL instance a RUNNABLE DR "
              "replica of the active one"),
        Phase("database-switchover", _SQL,
              "Cloud SQL instances.switchover of the DR replica (no data loss; the old "
              "primary becomes its DR replica)"),
        Phase("scale-up", "kubernetes:deployments/scale (poll)",
              "the standby's orchestrator scaled to the active counts"),
        Phase("config", "stack file",
              "hastack:activeRegion set to the standby; run `hastack failback ENV` after"),
    ),
}
GCP_REGION_NEEDS = ("the GCP region drill is a planned Advanced DR switchover (Cloud SQL "
                    "Enterprise Plus, the standby designated as DR replica): this environment "
                    "has database.edition {edition}. On Enterprise a region move is a one-way "
                    "promotion, not a drill: `hastack failover ENV --to REGION --mode planned`")


def phases(cloud: str, scenario: str, multi_region: bool) -> tuple[Phase, ...]:
    """The ordered phases, or a DrillError saying why this drill cannot run here."""
    if scenario not in SCENARIOS:
        raise DrillError(f"unknown scenario '{scenario}'; scenarios: {', '.join(SCENARIOS)}")
    if scenario == "region" and not multi_region:
        raise DrillError("the region drill needs a second region; this environment has one")
    if cloud == "gcp":
        return GCP_PHASES[scenario]
    return AWS_PHASES[scenario]
