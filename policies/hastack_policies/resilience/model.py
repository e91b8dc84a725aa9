"""Modeled RTO/RPO per failure domain: nodeFailure, zoneFailure, regionFailure.

    node   RTO = max over the active region's workloads (a singleton pays
                 grace + toleration + start; a replicated API pays detection) + client
    zone   RTO = max(compute, database, cache) + client      (worst case: the writer,
                 the cache primary and a node share the lost zone)
    region RTO = detect + max(database, standby compute, traffic) + client
                 traffic = TTL, or warm-up + standby-healthy gate + TTL when an empty
                 standby keeps DNS on the dead primary
    RPO = max over durable stores (databases, object storage); caches apart (ephemeral)

Every term comes from a plan property or from `facts.FACTS`. A domain the plan cannot
recover from has RTO/RPO None and the reason in its notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hastack_policies.resilience import stores
from hastack_policies.resilience.edge import Edge, edge
from hastack_policies.resilience.paths import (
    Path,
    Term,
    _number,
    configured,
    dead,
    from_fact,
    parallel,
    term_path,
)
from hastack_policies.resilience.resources import Resource, Stack, as_number, get
from hastack_policies.resilience.workloads import (
    Workload,
    node_capacity,
    node_zones,
    target_group_checks,
    unknown_releases,
    workloads,
)

DOMAINS = ("nodeFailure", "zoneFailure", "regionFailure")
ARC_PLAN = "aws:arcregionswitch/plan:Plan"


@dataclass
class Domain:
    rto: float | None
    rpo: float | None
    target_rto: float | None
    target_rpo: float | None
    terms: list[Term]
    notes: list[str] = field(default_factory=list)

    @property
    def has_target(self) -> bool:
        return self.target_rto is not None or self.target_rpo is not None

    @property
    def met(self) -> bool | None:
        if not self.has_target:
            return None
        if self.target_rto is not None and (self.rto is None or self.rto > self.target_rto):
            return False
        return not (self.target_rpo is not None
                    and (self.rpo is None or self.rpo > self.target_rpo))

    def as_json(self) -> dict[str, Any]:
        return {"rtoSeconds": _number(self.rto), "rpoSeconds": _number(self.rpo),
                "targetRtoSeconds": _number(self.target_rto),
                "targetRpoSeconds": _number(self.target_rpo), "met": self.met,
                "terms": [t.as_json() for t in self.terms], "notes": list(self.notes)}


@dataclass
class Assessment:
    stack: str
    environment: str
    tier: str
    cloud: str
    domains: dict[str, Domain]

    @property
    def met(self) -> bool:
        """Every domain with a target meets it (a domain without one is not judged)."""
        return all(d.met is not False for d in self.domains.values())

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "environment": self.environment, "tier": self.tier,
                "cloud": self.cloud,
                "domains": {name: self.domains[name].as_json() for name in DOMAINS}}


# --- the pieces -----------------------------------------------------------------------


def _start(workload: str) -> Path:
    return term_path(from_fact(f"{workload}: schedule", "k8s.podSchedule"),
                     from_fact(f"{workload}: image pull", "k8s.imagePull"),
                     from_fact(f"{workload}: ready", "k8s.podReady"))


def _toleration(w: Workload) -> Term:
    if w.toleration is None:
        return from_fact(f"{w.name}: pods stay on the lost node (default toleration)",
                         "k8s.defaultToleration")
    return configured(f"{w.name}: unreachable toleration {w.toleration:g} s", w.toleration,
                      f"{w.name} tolerations[node.kubernetes.io/unreachable]")


def _detect_api(stack: Stack, region: str | None) -> Term:
    grace = from_fact("detect: node NotReady, endpoints removed", "k8s.nodeMonitorGrace")
    checks = target_group_checks(stack, region)
    if checks:
        worst = max(checks, key=lambda c: c.interval * c.unhealthy)
        alb = configured(f"detect: target group {worst.interval:g} s x {worst.unhealthy:g}",
                         worst.interval * worst.unhealthy, worst.source)
        return alb if alb.seconds < grace.seconds else grace
    return grace


def _workload_path(stack: Stack, w: Workload, spread: bool, lost: str) -> Path:
    if w.replicas >= 2 and spread:
        if w.serves:
            return term_path(_detect_api(stack, w.region),
                             from_fact(f"{w.name}: endpoint propagation",
                                       "k8s.endpointPropagation"),
                             note=f"{w.name}: {w.replicas} replicas, only requests to the lost "
                                  f"{lost} fail until detection (partial outage)")
        if w.leader_elected:
            return term_path(from_fact(f"{w.name}: standby takes the leader lease",
                                       "k8s.leaderTakeover"))
        return Path(notes=[f"{w.name}: {w.replicas} replicas, the others keep working"])
    # A singleton (or replicas that may share the lost node/zone) is re-created.
    why = "singleton" if w.replicas == 1 else f"{w.replicas} replicas not spread over {lost}s"
    return term_path(from_fact(f"{w.name}: node NotReady", "k8s.nodeMonitorGrace"),
                     _toleration(w), from_fact(f"{w.name}: room on surviving nodes",
                                               "k8s.nodeHeadroom"),
                     note=f"{w.name}: {why}, re-created elsewhere").then(_start(w.name))


def _compute(stack: Stack, active: list[Workload], lost: str) -> Path:
    branches = [(w.name, _workload_path(stack, w, w.host_spread if lost == "node"
                                        else w.zone_spread, lost))
                for w in active if w.replicas > 0]
    return parallel(f"{lost} compute", branches)


def _client() -> Term:
    return from_fact("client reconnect", "client.reconnect")


def _targets(stack: Stack, key: str) -> tuple[float | None, float | None]:
    target = get(stack.recovery(), "targets", key, default={})
    return as_number(get(target, "rtoSeconds")), as_number(get(target, "rpoSeconds"))


def _rpo(stores_rpo: Iterable[tuple[str, Path]]) -> tuple[float | None, list[Term], list[str]]:
    """Max over durable stores; an unrecoverable store makes the RPO None."""
    named = list(stores_rpo)
    notes = [f"{name}: {path.unrecoverable}" for name, path in named if path.unrecoverable]
    if notes:
        return None, [], notes
    if not named:
        return None, [], ["no durable store in these plans"]
    terms = [t for _, path in named for t in path.terms]
    worst = max((path.seconds or 0.0) for _, path in named)
    return worst, terms, []


# --- regions and roles ------------------------------------------------------------------


def _roles(stack: Stack) -> tuple[str | None, str | None]:
    regions = get(stack.recovery(), "regions", default={})
    active = regions.get("active") or regions.get("primary") if isinstance(regions, Mapping) \
        else None
    known = stack.regions()
    if not active:
        primaries = [c.region for c in stores.aurora_clusters(stack) if c.is_primary]
        primaries += [s.region for s in stores.cloud_sql(stack) if s.replica_of is None]
        active = next((r for r in primaries if r), known[0] if known else None)
    others = [r for r in ([regions.get("standby"), regions.get("secondary"),
                           regions.get("primary")]
                          if isinstance(regions, Mapping) else []) if r and r != active]
    standby = others[0] if others else next((r for r in known if r != active), None)
    return active, standby


# --- node ---------------------------------------------------------------------------------


def node_failure(stack: Stack, active_region: str | None) -> Domain:
    rto_target, rpo_target = _targets(stack, "zoneFailure")
    active = [w for w in workloads(stack) if w.region == active_region]
    notes = ["judged against the zone target: a node is part of a zone"]
    if not active:
        return Domain(0.0, 0.0, rto_target, rpo_target, [], [
            *notes, "no orchestrator in these plans: data services are managed, so no node "
                    "holds state"])
    capacity = node_capacity(stack, active_region)
    if capacity is not None and capacity < 2:
        return Domain(None, 0.0, rto_target, rpo_target, [], [
            *notes, f"unrecoverable: the {active_region} cluster keeps {capacity} node(s); "
                    "its pods have nowhere to go"])
    path = _compute(stack, active, "node")
    path = path.then(_client()) if path.terms else path
    return Domain(path.seconds, 0.0, rto_target, rpo_target, path.terms,
                  [*notes, *path.notes, "RPO 0: all state is in managed stores"])


# --- zone ---------------------------------------------------------------------------------


def _zone_database(stack: Stack, region: str | None) -> tuple[Path, Path] | None:
    """(RTO path, RPO path) of the active region's writer database."""
    for cluster in stores.aurora_clusters(stack):
        if cluster.region != region:
            continue
        n = len(cluster.instances)
        if n == 0:
            return dead("the writer cluster has no instance"), dead("no instance")
        rpo = term_path(from_fact("RPO database: Aurora shared storage", "aurora.storageRpo"))
        ttl = from_fact("database: endpoint DNS TTL", "aurora.dnsTtl")
        if n >= 2 and len(cluster.zones) != 1:
            return term_path(from_fact("database: Aurora writer failover", "aurora.writerFailover"),
                             ttl, note=f"database: {n} instances in {len(cluster.zones) or '?'} "
                                       "zones, a reader is promoted"), rpo
        return term_path(from_fact("database: Aurora recreates the writer (no replica in "
                                   "another zone)", "aurora.noReplica"), ttl,
                         note=f"database: {n} instance(s) in one zone"), rpo
    for instance in stores.cloud_sql(stack):
        if instance.region != region or instance.replica_of is not None:
            continue
        if instance.regional is None:
            unknown = Path(notes=["database: Cloud SQL settings unknown until deployment "
                                  "(first preview): not assessed"])
            return unknown, Path()
        if not instance.regional:
            return (dead("Cloud SQL is ZONAL: no standby in another zone"),
                    dead("Cloud SQL ZONAL: the zone's disk is lost until the zone returns"))
        return (term_path(from_fact("database: Cloud SQL HA failover trigger",
                                    "cloudsql.haTrigger"),
                          from_fact("database: standby takes over", "cloudsql.haPromote")),
                term_path(from_fact("RPO database: Cloud SQL HA synchronous", "cloudsql.haRpo")))
    return None


def _zone_cache(stack: Stack, region: str | None) -> Path | None:
    for cache in stores.caches(stack):
        if cache.region != region:
            continue
        if cache.nodes < 2 or cache.zones < 2:
            return dead(f"{cache.engine} has no replica in another zone")
        if not cache.automatic_failover:
            return term_path(from_fact(f"cache: {cache.engine} automatic failover off, an "
                                       "operator promotes a replica", "failover.manual"),
                             from_fact("cache: promotion", "cache.promote"))
        return term_path(from_fact("cache: primary failure detected", "cache.detect"),
                         from_fact("cache: replica promoted", "cache.promote"))
    return None


def _bucket_zone_rpo(stack: Stack) -> list[tuple[str, Path]]:
    found = []
    for bucket in stores.buckets(stack):
        key = "gcs.zoneRpo" if bucket.bucket.type == stores.GCS_BUCKET else "s3.zoneRpo"
        found.append((bucket.bucket.name,
                      term_path(from_fact(f"RPO objects: {bucket.bucket.name}", key))))
    return found


def zone_failure(stack: Stack, active_region: str | None) -> Domain:
    rto_target, rpo_target = _targets(stack, "zoneFailure")
    notes: list[str] = []
    branches: list[tuple[str, Path]] = []
    active = [w for w in workloads(stack) if w.region == active_region]
    zones = node_zones(stack, active_region)
    if active:
        if zones is not None and len(zones) < 2:
            branches.append(("compute", dead(f"the {active_region} nodes are in one zone")))
        else:
            branches.append(("compute", _compute(stack, active, "zone")))
    elif zones is not None and len(zones) < 2:
        branches.append(("compute", dead(f"the {active_region} nodes are in one zone")))
    else:
        notes.append("no orchestrator in these plans: compute terms not assessed")
    database = _zone_database(stack, active_region)
    rpo_paths = _bucket_zone_rpo(stack)
    if database is not None:
        branches.append(("database", database[0]))
        rpo_paths.insert(0, ("database", database[1]))
    cache = _zone_cache(stack, active_region)
    if cache is not None:
        branches.append(("cache", cache))
        lag = _number(from_fact("", "cache.asyncLag").seconds)
        notes.append("cache (ephemeral, not in the RPO): replication is asynchronous, writes "
                     f"not yet replicated are lost (typically ~{lag} s)")
    path = parallel("zone", branches)
    if path.unrecoverable is None and path.terms:
        path = path.then(_client(), from_fact("edge: the lost zone's load-balancer node",
                                              "edge.albNodeLoss"))
    rpo, rpo_terms, rpo_notes = _rpo(rpo_paths)
    notes += path.notes + rpo_notes
    if path.unrecoverable:
        notes.append(f"unrecoverable: {path.unrecoverable}")
    return Domain(path.seconds if path.terms or path.unrecoverable else 0.0, rpo,
                  rto_target, rpo_target, path.terms + rpo_terms, notes)


# --- region -------------------------------------------------------------------------------


def _initiation(stack: Stack) -> Path:
    plans = stack.of_type(ARC_PLAN)
    # A plan starts on its own only through trigger alarms; without them a person decides
    # and starts it (facts.md 10: "A human adds 5-15 min"), and that same decision covers
    # its approval step (`hastack failover` asks for both at once): one human term.
    automatic = [p for p in plans if _has_triggers(p.props)]
    if not automatic:
        label = ("initiate: operator starts the Region switch plan (no trigger alarms)"
                 if plans else "initiate: operator starts the failover (no automation in "
                               "the plan)")
        return term_path(from_fact(label, "failover.manual"))
    plans = automatic
    path = term_path(from_fact("initiate: Region switch plan starts", "failover.automated"))
    if any(_has_approval(p.props) for p in plans):
        path = path.then(from_fact("initiate: manual approval step", "failover.approval"))
    return path


def _has_triggers(props: Any) -> bool:
    triggers = props.get("triggers") if isinstance(props, Mapping) else None
    return isinstance(triggers, list) and bool(triggers)


def _has_approval(props: Any) -> bool:
    if isinstance(props, Mapping):
        if props.get("executionBlockType") == "ManualApproval":
            return True
        return any(_has_approval(v) for v in props.values())
    if isinstance(props, list):
        return any(_has_approval(v) for v in props)
    return False


def _region_database(stack: Stack, active: str | None, standby: str | None,
                     init: Path) -> tuple[Path, Path] | None:
    clusters = stores.aurora_clusters(stack)
    # Clusters are keyed by region: the writer is the active region's, whoever created it.
    primary = next((c for c in clusters if c.region == active), None)
    if primary is not None:
        secondary = next((c for c in clusters if c.region == standby), None)
        if secondary is None:
            return dead(f"no Aurora cluster in {standby}"), dead(f"no copy in {standby}")
        if not _same_global(primary, secondary):
            return (dead(f"the {standby} cluster is not in the global database"),
                    dead(f"the {standby} cluster does not replicate"))
        steps = [from_fact("database: Aurora global failover", "aurora.globalFailover"),
                 from_fact("database: global writer endpoint repoints",
                           "aurora.globalWriterRepoint")]
        if not secondary.instances:
            steps.insert(0, from_fact("database: add an instance to the headless secondary",
                                      "aurora.headlessSecondary"))
        rto = init.then(*steps)
        if primary.managed_rpo is not None:
            rpo = term_path(configured(f"RPO database: rds.global_db_rpo "
                                       f"{primary.managed_rpo:g} s",
                                       primary.managed_rpo,
                                       f"{primary.resource.name} parameter group: commits "
                                       "block when every secondary lags more"))
        else:
            rpo = term_path(from_fact("RPO database: global replication lag (not bounded)",
                                      "aurora.globalLag"))
        return rto, rpo
    writer = next((s for s in stores.cloud_sql(stack)
                   if s.region == active and s.replica_of is None), None)
    if writer is not None:
        replica = next((s for s in stores.cloud_sql(stack)
                        if s.region == standby and s.replica_of), None)
        if replica is None:
            return dead(f"no Cloud SQL replica in {standby}"), dead(f"no copy in {standby}")
        # Advanced DR: a replica failover to the designated DR replica (which re-attaches
        # the old primary); else a one-way promotion. Either loses the replica lag.
        step = (from_fact("database: Advanced DR replica failover to the DR replica",
                          "cloudsql.drReplicaFailover")
                if writer.dr_replica is not None and writer.dr_replica == replica.name
                else from_fact("database: promote the cross-region replica",
                               "cloudsql.replicaPromote"))
        return (init.then(step),
                term_path(from_fact("RPO database: replica lag", "cloudsql.replicaLag")))
    return None


def _same_global(primary: stores.AuroraCluster, secondary: stores.AuroraCluster) -> bool:
    """Both clusters name the same global database (by reference, else by literal)."""
    key = "globalClusterIdentifier"
    mine, theirs = primary.resource.deps.get(key), secondary.resource.deps.get(key)
    if mine or theirs:
        return bool(mine and theirs and set(mine) == set(theirs))
    return secondary.global_id is not None and secondary.global_id == primary.global_id


def _region_objects(stack: Stack) -> list[tuple[str, Path]]:
    found = []
    for bucket in stores.buckets(stack):
        name = bucket.bucket.name
        if bucket.mode == "unknown":
            found.append((name, Path(notes=[f"{name}: replication rules unknown until "
                                            "deployment (first preview): not assessed"])))
            continue
        key = {"rtc": "s3.rtc", "crr": "s3.crr", "turbo": "gcs.turbo",
               "default": "gcs.default"}.get(bucket.mode or "")
        if key is None:
            found.append((name, dead("objects are not replicated to another region")))
            continue
        label = {"rtc": "S3 replication with RTC", "crr": "S3 replication without RTC",
                 "turbo": "GCS turbo replication", "default": "GCS default replication"}
        found.append((name, term_path(from_fact(f"RPO objects: {label[bucket.mode or '']}",
                                                key))))
    return found


def _standby_compute(standby: list[Workload], init: Path) -> tuple[Path | None, bool]:
    """(time until every standby workload runs, whether the standby already serves)."""
    serving = any(w.serves and w.replicas > 0 for w in standby)
    cold = [w for w in standby if w.replicas == 0]
    if not cold:
        return Path(), serving
    names = ", ".join(sorted({w.name for w in cold}))
    path = init.then(from_fact(f"standby: scale up {names}", "k8s.scaleUp"),
                     from_fact("standby: room on standby nodes", "k8s.nodeHeadroom"),
                     _start("standby"))
    return path, serving


def region_failure(stack: Stack, active_region: str | None,
                   standby_region: str | None) -> Domain:
    rto_target, rpo_target = _targets(stack, "regionFailure")
    if standby_region is None:
        return Domain(None, None, rto_target, rpo_target, [],
                      ["unrecoverable: one region, nowhere to fail over"])
    notes: list[str] = []
    init = _initiation(stack)
    branches: list[tuple[str, Path]] = []
    database = _region_database(stack, active_region, standby_region, init)
    rpo_paths = _region_objects(stack)
    if database is not None:
        branches.append(("database", database[0]))
        rpo_paths.insert(0, ("database", database[1]))
    all_workloads = workloads(stack)
    active = [w for w in all_workloads if w.region == active_region]
    standby = [w for w in all_workloads if w.region == standby_region]
    warmup: Path | None = None
    serving = True
    if active and not standby:
        branches.append(("compute", dead(f"no standby orchestrator in {standby_region}")))
    elif standby:
        warmup, serving = _standby_compute(standby, init)
        mode = "hot" if serving else "warm"
        notes.append(f"standby is {mode}: " + ", ".join(
            f"{w.name} x{w.replicas}" for w in standby))
        if warmup is not None and warmup.terms:
            branches.append(("standby compute", warmup))
    else:
        notes.append("no orchestrator in these plans: standby terms not assessed "
                     "(assess the workloads plans with it)")
    dns: Edge | None = edge(stack, active_region, standby_region)
    detect: Path
    if dns is None:
        notes.append("no DNS failover in these plans (or not known yet): detection and "
                     "routing not assessed")
        detect = Path()
    else:
        notes += dns.notes
        if dns.detect is None or not dns.has_standby:
            branches.append(("traffic", dead("DNS has no health-checked failover to "
                                             f"{standby_region}")))
            detect = Path()
        else:
            detect = term_path(*dns.detect)
            traffic = term_path(dns.ttl)
            if dns.gate is not None and not serving and warmup is not None:
                traffic = warmup.then(term_path(*dns.gate), traffic)
                notes.append("an empty standby is unhealthy, so DNS stays on the dead primary "
                             "until the standby is up and seen healthy")
            branches.append(("traffic", traffic))
    path = parallel("region", branches)
    path = detect.then(path)
    if path.unrecoverable is None and path.terms:
        path = path.then(_client())
    rpo, rpo_terms, rpo_notes = _rpo(rpo_paths)
    notes += path.notes + rpo_notes
    if path.unrecoverable:
        notes.append(f"unrecoverable: {path.unrecoverable}")
    notes.append("caches are not replicated across regions: the standby starts with its own "
                 "empty cache (ephemeral)")
    return Domain(path.seconds if path.terms or path.unrecoverable else 0.0, rpo,
                  rto_target, rpo_target, path.terms + rpo_terms, notes)


# --- entry point ----------------------------------------------------------------------------


def assess(resources: Iterable[Resource], *, stack: str, environment: str | None = None,
           tier: str = "", cloud: str = "") -> Assessment:
    graph = Stack(resources)
    active, standby = _roles(graph)
    domains = {
        "nodeFailure": node_failure(graph, active),
        "zoneFailure": zone_failure(graph, active),
        "regionFailure": region_failure(graph, active, standby),
    }
    unknown = unknown_releases(graph)
    if unknown:
        for domain in domains.values():
            domain.notes.append("not assessed until their values are known (first preview): "
                                + ", ".join(sorted(unknown)))
    return Assessment(stack, environment or stack, tier, cloud, domains)


def from_plan_entries(entries: Iterable[Mapping[str, Any]]) -> list[Resource]:
    """Plan JSON resources (see README "Plan format") as model resources."""
    return [Resource(type=str(e.get("type")), urn=str(e.get("urn")), name=str(e.get("name")),
                     props=e.get("inputs") or {}, region=e.get("region"),
                     parent=e.get("parent"), deps=e.get("propertyDependencies") or {},
                     id=e.get("id"), provider=e.get("provider"))
            for e in entries]
