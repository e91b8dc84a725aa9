"""`hastack plan`: stack file → validated config → mock run → plan files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hastack.config import StackConfig, load_from_engine_values
from hastack.plan.render import build_plan, mermaid, plan_json, summary
from hastack.plan.runner import Recording, program_from_file, run_program
from hastack.plan.stackfile import read_stack


@dataclass
class PlanResult:
    stack: str
    config: StackConfig
    plan: dict[str, Any]
    json_path: Path
    mermaid_path: Path
    warnings: list[str]

    def summary(self, root: Path) -> str:
        files = [display_path(p, root) for p in (self.json_path, self.mermaid_path)]
        text = summary(self.plan, files)
        if self.warnings:
            text += "\n\nEngine messages:\n" + "\n".join(f"  {w}" for w in self.warnings)
        return text


def display_path(path: Path, root: Path) -> str:
    """`path` relative to the project when it is inside it, else as given."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def record_stack(root: Path, stack: str) -> tuple[StackConfig, Recording, str]:
    """Validate the stack file, then run the real program on it under the mock engine.

    Validation comes first and on its own, so a bad stack file registers nothing at
    all (not even the root stack resource).
    """
    stack_file = read_stack(root, stack)
    config = load_from_engine_values(stack_file.engine_config, stack_file.display_path)
    recording = run_program(
        program_from_file(root / "__main__.py"),
        project=stack_file.project,
        stack=stack,
        config=stack_file.engine_config,
        secret_keys=stack_file.secret_keys,
        default_region=config.regions.primary,
        default_project=config.gcp.project if config.gcp else None,
    )
    return config, recording, stack_file.display_path


def plan_stack(root: Path, stack: str, out_dir: Path | None = None) -> PlanResult:
    config, recording, display_path = record_stack(root, stack)
    plan = build_plan(recording, cloud=config.cloud, tier=config.tier, stack_file=display_path,
                      region_roles={"primary": config.regions.primary,
                               "secondary": config.regions.secondary})
    out = out_dir or root / "build" / "plan"
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{stack}.json"
    mermaid_path = out / f"{stack}.mmd"
    json_path.write_text(plan_json(plan))
    mermaid_path.write_text(mermaid(plan))
    return PlanResult(stack, config, plan, json_path, mermaid_path, recording.warnings)
