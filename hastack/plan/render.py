"""Turn a `Recording` into the plan files people and tools read.

* `build/plan/<stack>.json` — every registration, engine-shaped (see README, "Plan format").
* `build/plan/<stack>.mmd`  — a Mermaid diagram of components and cross-component edges.
* a console summary — the component tree and resource counts per type and region.

Everything here is a pure function of the recording, and every collection is
sorted, so the same stack file always gives byte-identical output.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: the plan-file reader (planfile.py, imported by every command) needs
    # PLAN_FORMAT_VERSION, not the mock engine these modules load (Pulumi's SDK, ~0.25 s).
    from hastack.plan.recorder import Registration
    from hastack.plan.runner import Recording

PLAN_FORMAT_VERSION = 1


def build_plan(recording: Recording, *, cloud: str, tier: str, stack_file: str,
               region_roles: dict[str, str | None] | None = None,
               environment: str | None = None, layer: str = "infrastructure",
               stack_region: str | None = None) -> dict[str, Any]:
    by_urn = {r.urn: r for r in recording.registrations}
    regions = _resolve_regions(by_urn)
    if stack_region is not None:
        # A workloads stack lives in one region: Kubernetes objects have no regional
        # provider of their own, but they are in this stack's cluster.
        regions = {urn: regions.get(urn) or stack_region for urn in by_urn}
    resources = [
        _resource_entry(registration, by_urn, regions)
        for registration in sorted(recording.registrations, key=lambda r: r.urn)
    ]
    return {
        "formatVersion": PLAN_FORMAT_VERSION,
        "project": recording.project,
        "stack": recording.stack,
        "environment": environment or recording.stack,
        "layer": layer,
        "cloud": cloud,
        "tier": tier,
        "stackFile": stack_file,
        # Which region plays which role: lets `hastack diff` line environments up.
        "regions": region_roles or {},
        "resources": resources,
        "outputs": recording.outputs,
        "secretOutputs": recording.output_secrets,
    }


def plan_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _resource_entry(registration: Registration, by_urn: dict[str, Registration],
                    regions: dict[str, str | None]) -> dict[str, Any]:
    return {
        "urn": registration.urn,
        "type": registration.type,
        "name": registration.name,
        "custom": registration.custom,
        "parent": registration.parent if registration.parent in by_urn else None,
        "component": _owning_component(registration, by_urn),
        "provider": registration.provider,
        "region": regions.get(registration.urn),
        "id": registration.id,
        "inputs": registration.inputs,
        "secretInputs": registration.secret_inputs,
        "dependencies": registration.dependencies,
        "propertyDependencies": registration.property_dependencies,
        "protect": registration.protect,
        "retainOnDelete": registration.retain_on_delete,
        "ignoreChanges": registration.ignore_changes,
        "deleteBeforeReplace": registration.delete_before_replace,
        "customTimeouts": registration.custom_timeouts,
        "additionalSecretOutputs": registration.additional_secret_outputs,
        "replaceOnChanges": registration.replace_on_changes,
    }


def _owning_component(registration: Registration, by_urn: dict[str, Registration]) -> str | None:
    """The nearest ancestor that is a component (the stack itself is not one)."""
    parent = registration.parent
    while parent and parent in by_urn:
        candidate = by_urn[parent]
        if not candidate.custom:
            return candidate.urn
        parent = candidate.parent
    return None


def _provider_region(registration: Registration) -> str | None:
    region = registration.inputs.get("region")
    return region if isinstance(region, str) and region else None


def _resolve_regions(by_urn: dict[str, Registration]) -> dict[str, str | None]:
    """Region of every resource.

    A custom resource takes its provider's region. Providers without a region
    (Kubernetes) take the region of the component they belong to, and a
    component's region is the single region all its regional descendants share.
    """
    regions: dict[str, str | None] = {}
    for urn, reg in by_urn.items():
        if reg.type.startswith("pulumi:providers:"):
            regions[urn] = _provider_region(reg)
    for urn, reg in by_urn.items():
        if reg.custom and not reg.type.startswith("pulumi:providers:") and reg.provider:
            regions[urn] = regions.get(reg.provider)
    component_regions = _component_regions(by_urn, regions)
    regions.update(component_regions)
    for urn, reg in by_urn.items():
        if regions.get(urn) is None and reg.custom:
            regions[urn] = _inherited_region(reg, by_urn, regions)
    # Again, now that Kubernetes resources know where their cluster lives.
    regions.update(_component_regions(by_urn, regions))
    return regions


def _component_regions(by_urn: dict[str, Registration],
                       regions: dict[str, str | None]) -> dict[str, str | None]:
    seen: dict[str, set[str]] = defaultdict(set)
    for urn, region in regions.items():
        if region is None:
            continue
        parent = by_urn[urn].parent
        while parent and parent in by_urn:
            seen[parent].add(region)
            parent = by_urn[parent].parent
    return {urn: (next(iter(found)) if len(found) == 1 else None)
            for urn, found in seen.items() if not by_urn[urn].custom}


def _inherited_region(reg: Registration, by_urn: dict[str, Registration],
                      regions: dict[str, str | None]) -> str | None:
    # A resource pinned to a region-less provider (Kubernetes): use where that provider lives.
    anchor = reg.provider or reg.parent
    while anchor and anchor in by_urn:
        if regions.get(anchor):
            return regions[anchor]
        anchor = by_urn[anchor].parent
    return None


# ---------------------------------------------------------------- Mermaid


def mermaid(plan: dict[str, Any]) -> str:
    """Components as nodes (nested by parent), edges where one component's resources
    depend on another component's resources."""
    resources = plan["resources"]
    components = {r["urn"]: r for r in resources if not r["custom"]}
    owner = {r["urn"]: (r["urn"] if not r["custom"] else r["component"]) for r in resources}
    node_ids = {urn: f"c{index}" for index, urn in enumerate(sorted(components))}
    children: dict[str | None, list[str]] = defaultdict(list)
    for urn, component in sorted(components.items()):
        parent = component["parent"] if component["parent"] in components else None
        children[parent].append(urn)

    lines = ["flowchart LR"]

    def emit(urn: str, depth: int) -> None:
        component = components[urn]
        label = _node_label(component)
        pad = "  " * depth
        if children.get(urn):
            lines.append(f'{pad}subgraph {node_ids[urn]}["{label}"]')
            lines.append(f"{pad}  direction TB")
            for child in children[urn]:
                emit(child, depth + 1)
            lines.append(f"{pad}end")
        else:
            lines.append(f'{pad}{node_ids[urn]}["{label}"]')

    for root in children[None]:
        emit(root, 1)
    lines += [f"  {a} --> {b}" for a, b in _component_edges(resources, owner, node_ids)]
    return "\n".join(lines) + "\n"


def _node_label(component: dict[str, Any]) -> str:
    kind = component["type"].split(":")[-1]
    region = f" · {component['region']}" if component.get("region") else ""
    return f"{kind}<br/>{component['name']}{region}"


def _component_edges(resources: list[dict[str, Any]], owner: dict[str, str | None],
                     node_ids: dict[str, str]) -> list[tuple[str, str]]:
    parents = {r["urn"]: r["parent"] for r in resources}
    edges: set[tuple[str, str]] = set()
    for resource in resources:
        source = owner.get(resource["urn"])
        targets = set(resource["dependencies"])
        for deps in resource["propertyDependencies"].values():
            targets.update(deps)
        for target_urn in targets:
            target = owner.get(target_urn)
            if not source or not target or source == target:
                continue
            # Edges between a component and its own ancestors say nothing; nesting shows that.
            if _is_ancestor(source, target, parents) or _is_ancestor(target, source, parents):
                continue
            edges.add((node_ids[source], node_ids[target]))
    return sorted(edges)


def _is_ancestor(ancestor: str, urn: str, parents: dict[str, str | None]) -> bool:
    current = parents.get(urn)
    while current:
        if current == ancestor:
            return True
        current = parents.get(current)
    return False


# ---------------------------------------------------------------- summary


def summary(plan: dict[str, Any], files: list[str]) -> str:
    resources = plan["resources"]
    custom = [r for r in resources if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    lines = [
        f"hastack plan · stack {plan['stack']} · cloud {plan['cloud']} · tier {plan['tier']}",
        f"{len(custom)} resources in {sum(1 for r in resources if not r['custom'])} components",
        "",
        "Components:",
    ]
    lines += _component_tree(resources)
    lines += ["", "Resources per region:"]
    per_region = Counter(r["region"] or "global" for r in custom)
    lines += [f"  {region:<24} {count:>5}" for region, count in sorted(per_region.items())]
    lines += ["", "Resources per type:"]
    per_type = Counter(r["type"] for r in custom)
    lines += [f"  {count:>5}  {type_}" for type_, count in sorted(per_type.items())]
    protected = sum(1 for r in custom if r["protect"] or r["retainOnDelete"])
    secrets = sum(1 for r in custom if r["secretInputs"])
    lines += ["", f"protected/retained: {protected} · with secret inputs: {secrets}"]
    lines += ["", "Files:"] + [f"  {path}" for path in files]
    return "\n".join(lines)


def _component_tree(resources: list[dict[str, Any]]) -> list[str]:
    components = {r["urn"]: r for r in resources if not r["custom"]}
    counts = Counter(r["component"] for r in resources if r["custom"])
    children: dict[str | None, list[str]] = defaultdict(list)
    for urn, component in sorted(components.items()):
        parent = component["parent"] if component["parent"] in components else None
        children[parent].append(urn)
    lines: list[str] = []

    def walk(urn: str, depth: int) -> None:
        component = components[urn]
        region = f" [{component['region']}]" if component.get("region") else ""
        lines.append(f"{'  ' * (depth + 1)}{component['type']} {component['name']}{region}"
                     f" ({counts.get(urn, 0)} resources)")
        for child in children.get(urn, []):
            walk(child, depth + 1)

    for root in children[None]:
        walk(root, 0)
    return lines
