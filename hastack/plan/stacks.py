"""`hastack stacks`: the environments the tree defines, for people and CI matrices.

Each `stacks/Pulumi.<name>.yaml` is one stack. Its layer is `hastack:layer`
(default `infrastructure`): an infrastructure stack is named after its environment
(`Pulumi.<env>.yaml`); a workloads stack `Pulumi.<env>-<region>.yaml` names its
environment and region in `hastack:environment` / `hastack:region`. A workloads
stack without its own `hastack:tier` / `hastack:cloud` inherits its environment's.

CI computes its matrices from this listing, so a new stack file is previewed and
deployed without editing a workflow: infrastructure first, then each workloads stack.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hastack.plan.stackfile import read_yaml, stack_names, stack_path

LAYERS = ("infrastructure", "workloads")
TIERS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class StackEntry:
    stack: str
    file: str
    layer: str
    environment: str
    region: str | None
    cloud: str | None
    tier: str | None


def list_stacks(root: Path) -> list[StackEntry]:
    """Every stack file, with its layer and environment (hastack.stacks.stack_info) and
    the cloud and tier it deploys with (a workloads stack: its environment's)."""
    from hastack.stacks import stack_info

    entries = []
    for name in stack_names(root):
        info = stack_info(root, name)
        config = _config(root, name)
        parent = _config(root, info.environment) if info.layer == "workloads" else {}
        entries.append(StackEntry(
            stack=name,
            file=f"stacks/Pulumi.{name}.yaml",
            layer=info.layer,
            environment=info.environment,
            region=info.region,
            cloud=_str(config.get("hastack:cloud", parent.get("hastack:cloud"))),
            tier=_str(config.get("hastack:tier", parent.get("hastack:tier"))),
        ))
    return entries


def github_outputs(entries: list[StackEntry]) -> str:
    """`key=json` lines for $GITHUB_OUTPUT: `all`, `environments` (the infrastructure
    stacks) and `<tier>_<layer>` for each tier and layer."""
    def dump(chosen: list[StackEntry]) -> str:
        return json.dumps([asdict(e) for e in chosen], sort_keys=True)

    lines = [f"all={dump(entries)}",
             f"environments={dump([e for e in entries if e.layer == 'infrastructure'])}"]
    for tier in TIERS:
        for layer in LAYERS:
            chosen = [e for e in entries if e.tier == tier and e.layer == layer]
            lines.append(f"{tier}_{layer}={dump(chosen)}")
    return "\n".join(lines)


def render_table(entries: list[StackEntry]) -> str:
    header = ("stack", "layer", "environment", "region", "cloud", "tier")
    rows = [header] + [(e.stack, e.layer, e.environment, e.region or "-", e.cloud or "?",
                        e.tier or "?") for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def _config(root: Path, name: str) -> dict[str, Any]:
    path = stack_path(root, name)
    if not path.is_file():
        return {}
    document = read_yaml(path) or {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        return {}
    return {(k if ":" in str(k) else f"hastack:{k}"): v for k, v in config.items()}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
