"""`hastack plan`: stack file → validated config → mock run → plan files.

An environment is planned in the order `pulumi up` runs it: the infrastructure
stack first, then each workloads stack, whose `StackReference` to the
infrastructure stack is answered with the outputs the infrastructure plan just
produced. Planning a single workloads stack therefore plans its environment's
infrastructure first (and writes that plan too), so it works on a clean checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hastack.config import StackConfig
from hastack.config.layers import WorkloadsStack
from hastack.plan.render import build_plan, mermaid, plan_json, summary
from hastack.plan.stackfile import read_stack
from hastack.stacks import Loaded, environment_stacks, load_settings_of, stack_info

if TYPE_CHECKING:
    from hastack.plan.mocks import StackOutputs
    from hastack.plan.runner import Recording

# The organisation the mock engine runs every offline plan in (see runner.py).
OFFLINE_ORGANIZATION = "organization"


@dataclass
class PlanResult:
    stack: str
    config: Loaded
    plan: dict[str, Any]
    json_path: Path
    mermaid_path: Path
    warnings: list[str]
    recording: Recording

    @property
    def environment(self) -> StackConfig:
        return self.config.environment if isinstance(self.config, WorkloadsStack) else self.config

    def summary(self, root: Path) -> str:
        files = [display_path(p, root) for p in (self.json_path, self.mermaid_path)]
        text = summary(self.plan, files)
        if self.warnings:
            text += "\n\nEngine messages:\n" + "\n".join(f"  {w}" for w in self.warnings)
        return text


def display_path(path: Path, root: Path) -> str:
    """`path` relative to the project when it is inside it, else as given."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def reference_name(project: str, stack: str) -> str:
    return f"{OFFLINE_ORGANIZATION}/{project}/{stack}"


def record_stack(root: Path, stack: str,
                 references: dict[str, StackOutputs] | None = None
                 ) -> tuple[Loaded, Recording, str]:
    """Validate the stack file, then run the real program on it under the mock engine.

    Validation comes first and on its own, so a bad stack file registers nothing at
    all (not even the root stack resource). The mock engine (Pulumi's SDK, a quarter
    of a second to import) is loaded only then: a bad stack file is reported without it.
    """
    stack_file = read_stack(root, stack)
    loaded = load_settings_of(stack_file, root)
    environment = loaded.environment if isinstance(loaded, WorkloadsStack) else loaded
    region = loaded.region if isinstance(loaded, WorkloadsStack) else environment.regions.primary
    from hastack.plan.runner import program_from_file, run_program

    recording = run_program(
        program_from_file(root / "__main__.py"),
        project=stack_file.project,
        stack=stack,
        config=stack_file.engine_config,
        secret_keys=stack_file.secret_keys,
        default_region=region,
        default_project=environment.gcp.project if environment.gcp else None,
        references=references,
    )
    return loaded, recording, stack_file.display_path


def _plan_document(loaded: Loaded, recording: Recording, display: str) -> dict[str, Any]:
    if isinstance(loaded, WorkloadsStack):
        env = loaded.environment
        return build_plan(recording, cloud=env.cloud, tier=env.tier, stack_file=display,
                          region_roles={"primary": env.regions.primary,
                                        "secondary": env.regions.secondary},
                          environment=loaded.config.environment, layer="workloads",
                          stack_region=loaded.region)
    return build_plan(recording, cloud=loaded.cloud, tier=loaded.tier, stack_file=display,
                      region_roles={"primary": loaded.regions.primary,
                                    "secondary": loaded.regions.secondary},
                      environment=recording.stack, layer="infrastructure")


def _write(root: Path, stack: str, loaded: Loaded, recording: Recording, display: str,
           out_dir: Path | None) -> PlanResult:
    plan = _plan_document(loaded, recording, display)
    out = out_dir or root / "build" / "plan"
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{stack}.json"
    mermaid_path = out / f"{stack}.mmd"
    json_path.write_text(plan_json(plan))
    mermaid_path.write_text(mermaid(plan))
    return PlanResult(stack, loaded, plan, json_path, mermaid_path, recording.warnings,
                      recording)


def plan_environment(root: Path, environment: str,
                     out_dir: Path | None = None) -> list[PlanResult]:
    """Every stack of `environment`, infrastructure first; one plan file each."""
    stacks = environment_stacks(root, environment)
    infrastructure = plan_single(root, stacks[0], out_dir)
    references = {reference_name(infrastructure.recording.project, environment):
                  _reference_of(infrastructure)}
    results = [infrastructure]
    for stack in stacks[1:]:
        loaded, recording, display = record_stack(root, stack, references)
        results.append(_write(root, stack, loaded, recording, display, out_dir))
    return results


def plan_single(root: Path, stack: str, out_dir: Path | None = None,
                references: dict[str, StackOutputs] | None = None) -> PlanResult:
    loaded, recording, display = record_stack(root, stack, references)
    return _write(root, stack, loaded, recording, display, out_dir)


def plan_stack(root: Path, stack: str, out_dir: Path | None = None) -> PlanResult:
    """Plan one stack; a workloads stack plans what it references first."""
    info = stack_info(root, stack)
    if info.layer != "workloads":
        return plan_single(root, stack, out_dir)
    # Validate this file (and its environment) before planning anything.
    load_settings_of(read_stack(root, stack), root)
    infrastructure = plan_single(root, info.environment, out_dir)
    references = {reference_name(infrastructure.recording.project, info.environment):
                  _reference_of(infrastructure)}
    return plan_single(root, stack, out_dir, references)


def _reference_of(result: PlanResult) -> StackOutputs:
    from hastack.plan.mocks import StackOutputs

    reference = result.recording.reference
    return reference if reference is not None else StackOutputs({})
