"""`hastack drill`: break one thing on purpose, on the cloud's own terms, and time the recovery.

    hastack drill ENV --scenario writer|cache|zone|node|region [--region R]
                  [--outputs FILE] [--yes] [--dry-run] [--json FILE]

AWS: starts the FIS experiment template of the scenario and region (the
infrastructure stack's `drillTemplates` output, read from `--outputs`, the file
`pulumi stack output --json` writes); `region` starts the ARC Region switch plan
(`regionSwitchPlanArn`) in planned (graceful) mode. GCP: calls Cloud SQL / Memorystore
failover; `region` runs the planned failover to the standby (an Advanced DR switchover,
hastack/failover/), after which `hastack failback ENV` returns. Writes
build/drill/ENV-SCENARIO-<UTC time>.{json,md}: each measured term from the cloud's
timestamps beside the modeled figures of `hastack assess` and the stack's targets.
`--dry-run` prints the ordered phases and calls nothing.
Exit: 0 the drill completed; 1 it ran but did not complete; 2 refused (nothing started).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hastack.config import ConfigError
from hastack.drill.clock import ClientFactory, Clock, boto3_clients, iso
from hastack.drill.scenarios import DOMAIN, SCENARIOS, DrillError, phases

EXIT_FAILED, EXIT_USAGE = 1, 2
Assessor = Callable[[Path, str], dict[str, Any]]


@dataclass
class Runtime:
    """What a drill talks to; tests replace each part."""

    aws: Callable[[], ClientFactory] = boto3_clients
    gcp: Callable[[], Any] | None = None
    clock: Clock = field(default_factory=Clock)
    assess: Assessor | None = None
    # () -> hastack.kube.KubeApi of the drilled GKE cluster (the GCP node drill)
    kube: Callable[[], Any] | None = None
    # (project, region, cluster) -> KubeApi: the clusters a GCP region drill scales
    gke: Callable[[str, str, str], Any] | None = None
    confirm: Callable[[str], str] = input


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hastack drill",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("env", help="the environment (its infrastructure stack name)")
    parser.add_argument("--scenario", required=True, help=f"one of {', '.join(SCENARIOS)}")
    parser.add_argument("--region", help="where to drill (default: the active region; for "
                                         "`region`, the region to activate: the standby)")
    parser.add_argument("--outputs", type=Path,
                        help="the infrastructure stack's outputs (`pulumi stack output --json`)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--dry-run", action="store_true", help="print the phases; no cloud call")
    parser.add_argument("--json", type=Path, help="also write the report (or phases) JSON here")
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def _region(config: Any, scenario: str, asked: str | None) -> str:
    regions = list(config.regions.all)
    if asked is not None and asked not in regions:
        raise DrillError(f"--region {asked} is not a region of this environment "
                         f"({', '.join(regions)})")
    if scenario == "region":
        standby = config.standby
        if asked is not None and asked != standby:
            raise DrillError(f"the region drill activates the standby region ({standby}); "
                             f"{asked} is already active")
        return str(standby)
    region = asked or config.active
    if scenario == "writer" and config.cloud == "aws" and region != config.active:
        raise DrillError(f"{region} is the standby: its Aurora cluster is a global secondary "
                         f"with no writer to fail over (drill {config.active}, or use "
                         "--scenario region)")
    return str(region)


def _outputs(path: Path | None) -> dict[str, Any]:
    if path is None:
        raise DrillError("a drill reads its template IDs from the infrastructure stack's "
                         "outputs: pass --outputs FILE (`pulumi stack output --json > FILE`)")
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DrillError(f"--outputs {path}: cannot read JSON ({error})") from error
    if not isinstance(loaded, dict):
        raise DrillError(f"--outputs {path}: expected a JSON object of stack outputs")
    return loaded


def _template_id(outputs: dict[str, Any], scenario: str, region: str, source: Path) -> str:
    found = (outputs.get("drillTemplates") or {}).get(scenario, {}).get(region)
    if not found:
        raise DrillError(f"no {scenario} drill template for {region} in {source} "
                         f"(drillTemplates.{scenario}.{region}); drills need "
                         "`hastack:drills.enabled: true` and a `pulumi up`")
    return str(found)


def default_assess(root: Path, env: str) -> dict[str, Any]:
    """`hastack assess`'s own model output for the environment (its offline plans)."""
    from hastack.assess.cli import _environment_plans, assess_plans

    return assess_plans(_environment_plans(root, env))


def _confirmed(env: str, yes: bool, ask: Callable[[str], str], what: str) -> bool:
    if yes:
        return True
    if ask is input and not sys.stdin.isatty():
        print("error: not confirmed: pass --yes, or run in a terminal and type the "
              "environment's name", file=sys.stderr)
        return False
    return ask(f"This {what}. Type '{env}' to start: ").strip() == env


def _run(args: argparse.Namespace, root: Path, runtime: Runtime) -> int:
    from hastack.stacks import environments, load_environment

    if args.env not in environments(root):
        raise DrillError(f"no environment '{args.env}'; environments: "
                         f"{', '.join(environments(root))}")
    config = load_environment(root, args.env)
    steps = phases(config.cloud, args.scenario, config.multi_region)
    if config.cloud == "gcp" and args.scenario == "region" and not (
            config.database.enabled and config.database.edition == "ENTERPRISE_PLUS"):
        from hastack.drill.scenarios import GCP_REGION_NEEDS

        raise DrillError(GCP_REGION_NEEDS.format(edition=config.database.edition))
    region = _region(config, args.scenario, args.region)
    print(f"{args.scenario} drill of {args.env} in {region} ({config.cloud}):")
    for index, phase in enumerate(steps, 1):
        print(f"  {index}. {phase.name:28} {phase.source:42} {phase.description}")
    if config.cloud == "aws" and args.scenario != "region" and not config.drills.enabled:
        print(f"  note: {args.env} has `drills.enabled: false`: no FIS templates to start")
    if args.dry_run:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "environment": args.env, "scenario": args.scenario, "cloud": config.cloud,
                "region": region, "phases": [p.as_json() for p in steps]}, indent=2) + "\n")
        return 0
    start: Callable[[], dict[str, Any]]
    if config.cloud == "aws":
        outputs = _outputs(args.outputs)
        start = _aws_start(args, outputs, region, runtime)
    else:
        start = _gcp_start(args, root, region, runtime)
    modeled = (runtime.assess or default_assess)(root, args.env)
    domain = DOMAIN[args.scenario]
    if not _confirmed(args.env, args.yes, runtime.confirm,
                      f"breaks {args.scenario} of {args.env} in {region} for real"):
        print("not confirmed: nothing started", file=sys.stderr)
        return EXIT_USAGE
    started_at = runtime.clock.now()
    measured = start()
    from hastack.drill.report import document, write

    doc = document(environment=args.env, cloud=config.cloud, scenario=args.scenario,
                   region=region, started_at=str(iso(started_at)), domain=domain,
                   modeled=modeled["domains"][domain], measured=measured)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    for path in write(doc, root / "build" / "drill", stamp, args.json):
        print(f"wrote {path}")
    print(f"measured RTO {doc['measured']['rtoSeconds']} s; modeled "
          f"{doc['modeled']['rtoSeconds']} s; target {doc['targets']['rtoSeconds']} s")
    return 0 if measured.get("status") in ("completed", "completedMonitoringApplicationHealth") \
        else EXIT_FAILED


def _aws_start(args: argparse.Namespace, outputs: dict[str, Any], region: str,
               runtime: Runtime) -> Callable[[], dict[str, Any]]:
    if args.scenario == "region":
        plan_arn = outputs.get("regionSwitchPlanArn")
        if not plan_arn:
            raise DrillError(f"no regionSwitchPlanArn in {args.outputs}: the region drill "
                             "runs the ARC Region switch plan of the infrastructure stack")

        def region_switch() -> dict[str, Any]:
            from hastack.drill import region as arc

            facts = arc.run_region_switch(runtime.aws(), str(plan_arn), region,
                                          clock=runtime.clock, approve=True,
                                          comment=f"hastack drill {args.env}")
            return arc.measure(facts)
        return region_switch
    template_id = _template_id(outputs, args.scenario, region, args.outputs)
    target_group = (outputs.get("edgeTargetGroupArns") or {}).get(region)
    if args.scenario == "cache":
        from hastack.drill.aws import cache_preflight

        if refusal := cache_preflight(runtime.aws(), region, template_id):
            raise DrillError(refusal)

    def experiment() -> dict[str, Any]:
        from hastack.drill import aws

        clients = runtime.aws()
        facts = aws.run_experiment(clients, region, template_id, env=args.env,
                                   scenario=args.scenario, clock=runtime.clock,
                                   target_group_arn=target_group)
        return aws.measure(facts, clients)
    return experiment


def _gcp_start(args: argparse.Namespace, root: Path, region: str,
               runtime: Runtime) -> Callable[[], dict[str, Any]]:
    from hastack.drill import gcp
    from hastack.plan.pipeline import plan_single

    if args.scenario == "node":
        return _gcp_node(args, root, region, runtime)
    if args.scenario == "region":
        return _gcp_region(args, root, region, runtime)
    plan = plan_single(root, args.env, root / "build" / "drill" / "plans").plan
    found = gcp.targets_from_plan(plan, region)
    key = "redisInstance" if args.scenario == "cache" else "sqlInstance"
    if key not in found:
        service = "Memorystore" if key == "redisInstance" else "Cloud SQL"
        raise DrillError(f"{args.env} has no {service} instance in {region} to fail over")
    services = (runtime.gcp or gcp.google_services)()

    def failover() -> dict[str, Any]:
        if args.scenario == "cache":
            name = (f"projects/{found['project']}/locations/{region}/instances/"
                    f"{found['redisInstance']}")
            return gcp.memorystore_failover(services, name, clock=runtime.clock)
        return gcp.cloud_sql_failover(services, found["project"], found["sqlInstance"],
                                      clock=runtime.clock)
    return failover


def _gcp_node(args: argparse.Namespace, root: Path, region: str,
              runtime: Runtime) -> Callable[[], dict[str, Any]]:
    """Cordon and drain one node of the region's pool (hastack/drill/kube.py).

    The cluster's API is reached as `hastack failover` reaches it (hastack/kube.py):
    its DNS-based endpoint, authorised by the caller's Google credentials, so no
    kubeconfig (a secret output) is needed.
    """
    from hastack.drill import kube
    from hastack.plan.pipeline import plan_single

    plan = plan_single(root, args.env, root / "build" / "drill" / "plans").plan
    in_region = [e for e in plan["resources"] if e["inputs"].get("location") == region]
    pools = [e["inputs"].get("name") for e in in_region
             if e["type"] == "gcp:container/nodePool:NodePool"]
    clusters = [e["inputs"] for e in in_region if e["type"] == "gcp:container/cluster:Cluster"]
    if not pools or not clusters or not clusters[0].get("project"):
        raise DrillError(f"{args.env} has no GKE cluster (with its project) and node pool "
                         f"in {region}")
    cluster = clusters[0]
    make_api = runtime.kube or (lambda: _gke_api(str(cluster["project"]), region,
                                                 str(cluster["name"])))

    def drain() -> dict[str, Any]:
        return kube.drain_one_node(make_api(), str(pools[0]), clock=runtime.clock)
    return drain


def _gcp_region(args: argparse.Namespace, root: Path, region: str,
                runtime: Runtime) -> Callable[[], dict[str, Any]]:
    """The planned failover to the standby (hastack/failover/), timed by the switchover.

    The same steps, journal and stack-file edit as `hastack failover ENV --to REGION
    --mode planned`; refused unless its database step is an Advanced DR switchover.
    """
    from hastack.drill.clock import timed
    from hastack.failover.cli import _plan, run_failover
    from hastack.failover.gcp import GcpSteps
    from hastack.failover.journal import Journal
    from hastack.failover.steps import FailoverError

    try:
        plan, config = _plan(root, args.env, region, "planned")
        journal = Journal(root / "build" / "failover" / f"{plan.stack}.json", plan)
    except FailoverError as error:
        raise DrillError(str(error)) from error
    database = next(step for step in plan.steps if step.kind == "database")
    if database.details.get("operation") != "switchover":
        raise DrillError(f"{args.env}: {database.details['instance']} is not designated as "
                         "the DR replica of the active instance in the plan, so a planned "
                         "move would be a one-way promotion, not a drill")
    for index, step in enumerate(plan.steps, 1):
        print(f"  step {index:2}. {step.kind:9} {step.region:14} {step.action}")
    target = config.recovery.region_failure

    def switchover() -> dict[str, Any]:
        from hastack.drill import gcp

        services = (runtime.gcp or gcp.google_services)()
        steps = GcpSteps(services, runtime.gke or _gke_factory(),
                         target.rpo_seconds if target else None, accept_data_loss=False,
                         poll_seconds=runtime.clock.poll_seconds, sleep=runtime.clock.sleep,
                         now=runtime.clock.now)
        code = run_failover(plan, journal, root, steps.run)
        operation = steps.last_operation or {}
        term = timed("database-switchover", "sqladmin:operations.get",
                     operation.get("startTime"), operation.get("endTime"),
                     resource=database.details["instance"], operation=operation.get("name"),
                     operationType=operation.get("operationType"))
        return {"phases": [term], "terms": [term],
                "status": "completed" if code == 0 else "failed",
                "followUp": f"hastack failback {args.env} (and the pulumi up steps it prints)"
                            f": {region} stays the active region until then"}
    return switchover


def _gke_factory() -> Callable[[str, str, str], Any]:
    import google.auth

    from hastack.failover.gcp import SCOPES, discovery_services
    from hastack.kube import gke_kube_api

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    services = discovery_services(credentials=credentials)
    return lambda project, region, cluster: gke_kube_api(services, credentials, project,
                                                         region, cluster)


def _gke_api(project: str, region: str, cluster: str) -> Any:
    """The cluster's Kubernetes API with the Application Default Credentials."""
    import google.auth

    from hastack.failover.gcp import SCOPES, discovery_services
    from hastack.kube import gke_kube_api

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return gke_kube_api(discovery_services(credentials=credentials), credentials, project,
                        region, cluster)


def drill_main(argv: list[str], runtime: Runtime | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int) else EXIT_USAGE
    from hastack.plan.stackfile import project_root

    root = (args.root or project_root()).resolve()
    try:
        return _run(args, root, runtime or Runtime())
    except (DrillError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
