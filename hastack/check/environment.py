"""Rules that need every stack of an environment at once.

The policy pack sees one stack at a time (that is all `pulumi preview
--policy-pack` hands it), so a promise that spans the layers — "the secondary
region runs a standby orchestrator", "exactly one region is active" — is checked
here, over the plans of the environment's infrastructure and workloads stacks
together. `hastack check <env>` runs the pack on each stack's plan and then these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ORCHESTRATOR_TYPES = ("hastack:k8s:PrefectServer", "hastack:k8s:ArgoWorkflows")


@dataclass(frozen=True)
class EnvironmentFinding:
    rule: str
    stack: str
    message: str


Plan = dict[str, Any]
Rule = Callable[[Plan, list[Plan]], list[EnvironmentFinding]]


def _orchestrators(plan: Plan) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] in ORCHESTRATOR_TYPES]


def _contract(infrastructure: Plan) -> dict[str, Any]:
    workloads = infrastructure.get("outputs", {}).get("workloads")
    return workloads if isinstance(workloads, dict) else {}


def every_region_has_its_workloads(infrastructure: Plan,
                                   workloads: list[Plan]) -> list[EnvironmentFinding]:
    """One workloads stack per cluster; with workflows on, each runs an orchestrator."""
    findings = []
    regions = sorted(_contract(infrastructure).get("regions", {}))
    by_region = {w["outputs"].get("region"): w for w in workloads}
    for region in regions:
        plan = by_region.get(region)
        if plan is None:
            findings.append(EnvironmentFinding(
                "environment-workloads-per-region", infrastructure["stack"],
                f"no workloads stack for the {region} cluster: add "
                f"stacks/Pulumi.{infrastructure['stack']}-{region}.yaml"))
            continue
        if "orchestratorService" in plan["outputs"] and len(_orchestrators(plan)) != 1:
            findings.append(EnvironmentFinding(
                "environment-workloads-per-region", plan["stack"],
                f"expected one orchestrator in {region}, found {len(_orchestrators(plan))}"))
    return findings


def one_active_region(infrastructure: Plan, workloads: list[Plan]) -> list[EnvironmentFinding]:
    """Exactly the infrastructure's active region runs active; every other one stands by."""
    active = _contract(infrastructure).get("activeRegion")
    findings = []
    roles = {w["outputs"].get("region"): w["outputs"].get("role") for w in workloads}
    serving = sorted(region for region, role in roles.items() if role == "primary")
    if workloads and serving != [active]:
        findings.append(EnvironmentFinding(
            "environment-one-active-region", infrastructure["stack"],
            f"the active region is {active}, but the workloads stacks serving are "
            f"{serving or 'none'}; plan every stack of the environment from the same commit"))
    return findings


RULES: tuple[Rule, ...] = (every_region_has_its_workloads, one_active_region)


def check_environment(plans: Sequence[Plan]) -> list[EnvironmentFinding]:
    """The environment rules over an environment's plans (infrastructure first)."""
    infrastructure = [p for p in plans if p.get("layer", "infrastructure") == "infrastructure"]
    if len(infrastructure) != 1:
        raise ValueError(f"an environment has one infrastructure plan, got {len(infrastructure)}")
    workloads = [p for p in plans if p.get("layer") == "workloads"]
    return [finding for rule in RULES for finding in rule(infrastructure[0], workloads)]
