"""AWS drills on FIS: start a template, follow the experiment, time what the services did.

Timestamps are the cloud's: FIS action `startTime`/`endTime` (GetExperiment), RDS
cluster events in the `failover` category (DescribeEvents), ElastiCache events of
the replication group (DescribeEvents). Target health (ELBv2 DescribeTargetHealth)
has no event history, so it is sampled at each poll and says so (`source` poll).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hastack.drill.clock import ClientFactory, Clock, as_datetime, iso, timed

FIS_DONE = ("completed", "stopped", "failed", "cancelled")


def _ids(template: dict[str, Any], resource_type: str, marker: str) -> list[str]:
    """Resource identifiers of a template's targets of one type, from their ARNs."""
    found = []
    for target in (template.get("targets") or {}).values():
        if target.get("resourceType") == resource_type:
            found += [arn.split(marker, 1)[-1] for arn in target.get("resourceArns") or []]
    return found


def _healthy(elbv2: Any, target_group_arn: str) -> int:
    described = elbv2.describe_target_health(TargetGroupArn=target_group_arn)
    return sum(1 for t in described.get("TargetHealthDescriptions", [])
               if t.get("TargetHealth", {}).get("State") == "healthy")


def cache_preflight(clients: ClientFactory, region: str, template_id: str) -> str | None:
    """Refusal text when the cache template's zone does not hold the primary, else None.

    The cache drill cuts one zone's power (the target's `availabilityZoneIdentifier`);
    when the primary sits in another zone the drill would lose a replica, not the
    primary, and measure nothing. Read-only (DescribeReplicationGroups).
    """
    fis = clients("fis", region)
    template = fis.get_experiment_template(id=template_id)["experimentTemplate"]
    elasticache = clients("elasticache", region)
    for target in (template.get("targets") or {}).values():
        if target.get("resourceType") != "aws:elasticache:replicationgroup":
            continue
        zone = (target.get("parameters") or {}).get("availabilityZoneIdentifier")
        for arn in target.get("resourceArns") or []:
            group = arn.split(":replicationgroup:", 1)[-1]
            described = elasticache.describe_replication_groups(ReplicationGroupId=group)
            primaries = [m.get("PreferredAvailabilityZone")
                         for g in described["ReplicationGroups"]
                         for ng in g.get("NodeGroups", [])
                         for m in ng.get("NodeGroupMembers", [])
                         if m.get("CurrentRole") == "primary"]
            if zone and primaries and zone not in primaries:
                return (f"the cache primary of {group} is in {', '.join(map(str, primaries))}, "
                        f"the drill cuts {zone}: it would lose a replica, not the primary. "
                        "Fail the primary over to that zone first (ElastiCache "
                        "TestFailover / modify the primary), or run --scenario zone")
    return None


def run_experiment(clients: ClientFactory, region: str, template_id: str, *, env: str,
                   scenario: str, clock: Clock, target_group_arn: str | None = None
                   ) -> dict[str, Any]:
    """Start the template, poll until the experiment ends; the raw facts for `measure`."""
    fis = clients("fis", region)
    template = fis.get_experiment_template(id=template_id)["experimentTemplate"]
    started = fis.start_experiment(
        experimentTemplateId=template_id, clientToken=str(uuid.uuid4()),
        tags={"hastack:drill": scenario, "hastack:environment": env})["experiment"]
    elbv2 = clients("elbv2", region) if target_group_arn else None
    samples: list[dict[str, Any]] = []
    experiment = started
    for _ in range(clock.max_polls):
        experiment = fis.get_experiment(id=started["id"])["experiment"]
        if elbv2 is not None and target_group_arn is not None:
            samples.append({"at": iso(clock.now()),
                            "healthy": _healthy(elbv2, target_group_arn)})
        if experiment.get("state", {}).get("status") in FIS_DONE:
            break
        clock.sleep(clock.poll_seconds)
    return {"template": template, "experiment": experiment, "targetHealth": samples,
            "region": region}


def _rds_failover(clients: ClientFactory, region: str, cluster: str, start: Any,
                  end: Any) -> dict[str, Any]:
    rds = clients("rds", region)
    events = rds.describe_events(
        SourceIdentifier=cluster, SourceType="db-cluster", EventCategories=["failover"],
        StartTime=as_datetime(start), EndTime=as_datetime(end))["Events"]
    begun = next((e for e in events if "start" in e.get("Message", "").lower()), None)
    done = next((e for e in events if "complete" in e.get("Message", "").lower()), None)
    return timed("database-failover", "rds:DescribeEvents",
                 begun and begun["Date"], done and done["Date"], resource=cluster,
                 events=[{"at": iso(as_datetime(e["Date"])), "message": e.get("Message")}
                         for e in events])


def _cache_failover(clients: ClientFactory, region: str, group: str, injected: Any,
                    start: Any, end: Any) -> dict[str, Any]:
    elasticache = clients("elasticache", region)
    events = elasticache.describe_events(
        SourceIdentifier=group, SourceType="replication-group",
        StartTime=as_datetime(start), EndTime=as_datetime(end))["Events"]
    done = next((e for e in events if "failover" in e.get("Message", "").lower()
                 and "complete" in e.get("Message", "").lower()), None)
    # ElastiCache logs no "failover started": the power cut (FIS action start) starts it.
    return timed("cache-failover", "elasticache:DescribeEvents+fis:GetExperiment",
                 injected, done and done["Date"], resource=group,
                 events=[{"at": iso(as_datetime(e["Date"])), "message": e.get("Message")}
                         for e in events])


def _edge(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """From the first poll without a healthy target to the next one with one."""
    if not samples:
        return None
    lost = next((s for s in samples if s["healthy"] == 0), None)
    back = next((s for s in samples[samples.index(lost):] if s["healthy"] > 0),
                None) if lost else None
    if lost is None:
        return {"term": "edge", "source": "elbv2:DescribeTargetHealth (poll)", "from": None,
                "to": None, "seconds": 0.0, "note": "a healthy target at every poll"}
    return timed("edge", "elbv2:DescribeTargetHealth (poll)", lost["at"],
                 back["at"] if back else None)


def measure(facts: dict[str, Any], clients: ClientFactory) -> dict[str, Any]:
    """Phases and measured terms from the cloud's timestamps."""
    experiment, template, region = facts["experiment"], facts["template"], facts["region"]
    phases = [timed("experiment", "fis:GetExperiment", experiment.get("startTime"),
                    experiment.get("endTime"), status=experiment.get("state", {}).get("status"),
                    experimentId=experiment.get("id"))]
    actions = experiment.get("actions") or {}
    for name in sorted(actions, key=lambda n: (str(actions[n].get("startTime") or ""), n)):
        action = actions[name]
        phases.append(timed(name, "fis:GetExperiment", action.get("startTime"),
                            action.get("endTime"), actionId=action.get("actionId"),
                            status=action.get("state", {}).get("status")))
    # A small margin: services stamp their events a little after FIS starts an action.
    window_start = as_datetime(experiment.get("startTime"))
    window_end = as_datetime(experiment.get("endTime"))
    if window_end is not None:
        window_end += timedelta(minutes=15)
    terms = []
    for cluster in _ids(template, "aws:rds:cluster", ":cluster:"):
        terms.append(_rds_failover(clients, region, cluster, window_start, window_end))
    for group in _ids(template, "aws:elasticache:replicationgroup", ":replicationgroup:"):
        injected = next((a.get("startTime") for a in actions.values() if a.get("actionId") ==
                         "aws:elasticache:replicationgroup-interrupt-az-power"), None)
        terms.append(_cache_failover(clients, region, group, injected, window_start,
                                     window_end))
    edge = _edge(facts.get("targetHealth") or [])
    if edge is not None:
        terms.append(edge)
    return {"phases": phases, "terms": terms,
            "status": experiment.get("state", {}).get("status")}
