"""Run a Pulumi program under the mock engine and collect what it registers.

The program runs as the language host runs it (`run_in_stack`, preview mode,
project and stack names set, the stack's config installed), inside a copied
`contextvars` context so that several plans in one process never share state.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime.mocks import MockEngine, MockSettings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.settings import configure
from pulumi.runtime.stack import run_in_stack

from hastack.plan.collector import fewer_collections
from hastack.plan.mocks import PlanMocks, StackOutputs
from hastack.plan.recorder import DuplicateUrnError, RecordingMonitor, Registration

LOG = logging.getLogger("hastack.plan")


@dataclass
class Recording:
    """Everything one program run registered."""

    project: str
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    output_secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What another offline plan's StackReference to this stack reads (secrets kept).
    reference: StackOutputs | None = None

    def of_type(self, type_token: str,
                where: Callable[[Registration], bool] | None = None) -> list[Registration]:
        """The registrations of one resource type (optionally filtered), in URN order."""
        return [r for r in self.registrations
                if r.type == type_token and (where is None or where(r))]


class _CollectingLogger(logging.Logger):
    """The mock engine's logger: keeps warnings and errors for the plan summary."""

    def __init__(self) -> None:
        super().__init__("hastack.plan.engine")
        self.messages: list[str] = []

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.messages.append(f"warning: {msg}")

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.messages.append(f"error: {msg}")


def run_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
    default_region: str | None = None,
    default_project: str | None = None,
    monitor: RecordingMonitor | None = None,
    references: dict[str, StackOutputs] | None = None,
) -> Recording:
    """Run `program` under the recording mock engine; return what it registered.

    Pass `monitor` to inspect registrations even when the program fails.
    """
    context = contextvars.copy_context()
    monitor = monitor or RecordingMonitor(
        PlanMocks(default_region, default_project, references=references))
    # The collector runs less often while the program runs (hastack/plan/collector.py).
    with fewer_collections(), without_source_positions():
        return context.run(_run, program, project, stack, config, secret_keys or [], monitor)


@contextlib.contextmanager
def without_source_positions() -> Iterator[None]:
    """Register and read resources without a stack trace while the program runs.

    For every resource the SDK walks the whole Python stack (`traceback.extract_stack`,
    which also reads each frame's source line) and turns every frame's file into a URI,
    for the engine to show where the resource was declared. The recording monitor never
    reads `stackTrace` or `sourcePosition`, so offline they are pure cost: about a tenth
    of a plan's CPU from a shallow stack, more from a deep one (a plan run from pytest).
    The SDK function is private; where a release renames it, plans only pay that cost.
    """
    original = getattr(pulumi_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    pulumi_resource._get_stack_trace = source_pb2.StackTrace  # an empty trace, no frames
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def _run(
    program: Callable[[], None],
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    monitor: RecordingMonitor,
) -> Recording:
    logger = _CollectingLogger()
    configure(MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
        engine=MockEngine(logger),
        project=project,
        stack=stack,
        dry_run=True,
        organization="organization",
        callbacks=None,
    ))
    pulumi_config.set_all_config(dict(config), list(secret_keys))
    loop = asyncio.new_event_loop()
    # When the program fails, the SDK leaves sibling futures holding the same error;
    # asyncio would print each one's traceback when it is collected. The failure is
    # already raised once, with its message: keep the echoes out of the user's terminal.
    loop.set_exception_handler(_log_unretrieved)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    if monitor.duplicate_urns:
        listed = "\n  ".join(sorted(set(monitor.duplicate_urns)))
        raise DuplicateUrnError(f"duplicate resource URN(s), which `pulumi up` would reject:"
                                f"\n  {listed}")
    registrations = sorted(monitor.registrations.values(), key=lambda r: r.urn)
    return Recording(project, stack, registrations, monitor.stack_outputs,
                     monitor.stack_output_secrets, logger.messages,
                     StackOutputs(monitor.stack_outputs_raw,
                                  tuple(monitor.stack_secret_output_names)))


def _log_unretrieved(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    LOG.debug("unretrieved error after a failed program: %s", context.get("message"))


def program_from_file(path: Path) -> Callable[[], None]:
    """The Pulumi program at `path`, run as `__main__` like the language host does."""

    def program() -> None:
        runpy.run_path(str(path), run_name="__main__")

    return program
