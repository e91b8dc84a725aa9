"""Every figure the resilience model uses, with its source and its kind.

Kinds (the same legend as the shared facts file):
* "bound": a documented limit, default, SLA or fixed mechanism;
* "typical": a vendor "typically"/"usually"/design target, never a promise;
* "assumption": no documented figure was found; a drill must measure it.

Figures read from the plan (health-check interval x threshold, record TTLs, replica
counts, tolerationSeconds, managed RPO) are not here: the model derives those terms
from the resources and tags them "bound" (configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["bound", "typical", "assumption"]


@dataclass(frozen=True)
class Fact:
    seconds: float
    kind: Kind
    source: str


FACTS: dict[str, Fact] = {
    # --- Kubernetes ------------------------------------------------------------------
    "k8s.nodeMonitorGrace": Fact(50, "bound", "node-monitor-grace-period default 50 s from "
                                 "Kubernetes 1.32 (kubernetes/kubernetes#126287)"),
    "k8s.defaultToleration": Fact(300, "bound", "DefaultTolerationSeconds admission: "
                                  "not-ready/unreachable tolerated 300 s (kubernetes.io "
                                  "taint-and-toleration)"),
    "k8s.endpointPropagation": Fact(5, "assumption", "EndpointSlice / target deregistration "
                                    "propagation; no published figure"),
    "k8s.podSchedule": Fact(5, "bound", "pod start-up SLO p99 <= 5 s, excluding image pull "
                            "(kubernetes/community sig-scalability slos.md)"),
    "k8s.imagePull": Fact(30, "assumption", "image pull; depends on image size and registry"),
    "k8s.podReady": Fact(20, "assumption", "readiness after start; depends on probes"),
    "k8s.nodeHeadroom": Fact(0, "assumption", "surviving nodes have room for rescheduled pods "
                             "(node groups run above the workloads' needs)"),
    "k8s.scaleUp": Fact(5, "assumption", "scale standby Deployments 0 -> N (API call)"),
    "k8s.leaderTakeover": Fact(15, "assumption", "a standby controller takes the lease when "
                               "the leader's lease expires (client-go's usual 15 s lease; "
                               "Argo's own value not verified)"),
    "client.reconnect": Fact(5, "typical", "TCP keepalive 1 s + 1 s x 5 notifies the client in "
                             "about 5 s (AuroraPostgreSQL.BestPractices.FastFailover)"),
    "edge.albNodeLoss": Fact(0, "assumption", "clients retry another of the load balancer's "
                             "A records when one AZ's node is gone (most HTTP clients do)"),
    # --- Aurora ----------------------------------------------------------------------
    "aurora.writerFailover": Fact(60, "typical", "Aurora: service 'typically restored in less "
                                  "than 60 seconds' with a replica "
                                  "(Concepts.AuroraHighAvailability)"),
    "aurora.noReplica": Fact(600, "typical", "Aurora without a replica: new primary 'typically "
                             "less than 10 minutes' (Concepts.AuroraHighAvailability)"),
    "aurora.dnsTtl": Fact(5, "bound", "Aurora endpoints use a 5-second TTL (Aurora DB admin "
                          "handbook, dns-caching)"),
    "aurora.storageRpo": Fact(0, "bound", "committed writes are on six storage nodes in three "
                              "AZs before commit (Concepts.AuroraHighAvailability)"),
    "aurora.globalFailover": Fact(60, "typical", "promote a secondary region 'in less than a "
                                  "minute' (AWS DR workshop; the User Guide says 'minutes')"),
    "aurora.globalWriterRepoint": Fact(10, "assumption", "global writer endpoint follows the "
                                       "new primary, plus its 5 s TTL"),
    "aurora.globalLag": Fact(1, "typical", "global database replication 'typically under a "
                             "second' (aurora-global-database); not enforced"),
    "aurora.headlessSecondary": Fact(600, "typical", "a headless secondary needs an instance "
                                     "before it can be promoted; instance creation 'typically "
                                     "less than 10 minutes' (Concepts.AuroraHighAvailability)"),
    # --- ElastiCache / Memorystore -----------------------------------------------------
    "cache.detect": Fact(20, "assumption", "primary failure detection; not published "
                         "(ElastiCache AutoFailover, Memorystore high-availability)"),
    "cache.promote": Fact(5, "typical", "'typically just a few seconds' (ElastiCache "
                          "AutoFailover); 'unavailable for a few seconds' (Memorystore HA)"),
    "cache.asyncLag": Fact(1, "typical", "replication is asynchronous: writes not yet on the "
                           "replica are lost on failover (ElastiCache AutoFailover)"),
    # --- Cloud SQL -------------------------------------------------------------------
    "cloudsql.haTrigger": Fact(60, "typical", "Cloud SQL HA fails over when the primary is "
                               "unresponsive for 'approximately 60 seconds' (high-availability)"),
    "cloudsql.haPromote": Fact(15, "assumption", "standby takes over on the same IP; total "
                               "duration not published"),
    "cloudsql.haRpo": Fact(0, "bound", "REGIONAL instances replicate synchronously to both "
                           "zones: 'no data loss' (Cloud SQL availability)"),
    "cloudsql.replicaPromote": Fact(120, "assumption", "cross-region replica promotion: RTO 'in "
                                    "minutes' (intro-to-cloud-sql-disaster-recovery)"),
    "cloudsql.drReplicaFailover": Fact(120, "assumption", "Advanced DR replica failover to "
                                       "the designated DR replica (Enterprise Plus): "
                                       "'immediately', durations not published "
                                       "(use-advanced-disaster-recovery; facts 10.4 T_gdb)"),
    "cloudsql.replicaLag": Fact(60, "assumption", "asynchronous replica lag at failure; RPO "
                                "'in minutes rather than hours' (intro-to-cloud-sql-disaster-"
                                "recovery); watch replica_lag"),
    # --- Failover initiation ------------------------------------------------------------
    "failover.manual": Fact(300, "assumption", "an operator decides and starts the runbook "
                            "(5-15 min; the lower end): Aurora global failover and Cloud SQL "
                            "promotion are never automatic"),
    "failover.automated": Fact(10, "assumption", "automation reacts to the health check or "
                               "alarm and starts the failover"),
    "failover.approval": Fact(300, "assumption", "a person approves a manual-approval step"),
    # --- Route 53 / Cloud DNS / load balancers ---------------------------------------------
    "route53.aliasTtl": Fact(60, "bound", "an alias record to an AWS resource has a fixed 60 s "
                             "TTL (resource-record-sets-choosing-alias-non-alias)"),
    "route53.defaultInterval": Fact(30, "bound", "health-check request interval default 30 s"),
    "route53.defaultThreshold": Fact(3, "bound", "health-check failure threshold default 3"),
    "route53.ethDetect": Fact(10, "assumption", "Route 53 sees the alias target's health after "
                              "the load balancer does; not published"),
    "alb.defaultInterval": Fact(30, "bound", "target group health check interval default 30 s "
                                "(pulumi-aws lb.TargetGroup healthCheck)"),
    "alb.defaultThreshold": Fact(3, "bound", "target group healthy/unhealthy thresholds "
                                 "default 3 (pulumi-aws lb.TargetGroup healthCheck)"),
    "gcp.defaultInterval": Fact(5, "bound", "GCP health check interval default 5 s"),
    "gcp.defaultThreshold": Fact(2, "bound", "GCP health check unhealthy threshold default 2"),
    # --- Object storage ----------------------------------------------------------------
    "s3.zoneRpo": Fact(0, "bound", "S3 Standard stores objects across at least three AZs "
                       "before acknowledging a write (S3 data protection)"),
    "s3.rtc": Fact(900, "bound", "S3 Replication Time Control: 99.9 % of objects within 15 "
                   "minutes (S3 RTC SLA; 99.99 % by design)"),
    "s3.crr": Fact(172800, "typical", "replication without RTC: most within 15 minutes, 'up to "
                   "48 hours' (repost s3-crr-replication-time)"),
    "gcs.zoneRpo": Fact(0, "bound", "dual- and multi-region buckets are redundant across zones "
                        "(GCS availability-durability)"),
    "gcs.turbo": Fact(900, "typical", "turbo replication: new objects in both regions within a "
                      "15-minute target (GCS availability-durability)"),
    "gcs.default": Fact(3600, "typical", "default replication: 99.9 % within 1 hour "
                        "(GCS availability-durability)"),
}


def fact(key: str) -> Fact:
    return FACTS[key]
