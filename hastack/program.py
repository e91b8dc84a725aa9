"""The Pulumi program: read the stack's config, build the platform, export outputs.

`__main__.py` calls `main()`. A configuration problem becomes a `pulumi.RunError`,
which the engine prints as one error without a Python traceback, before any
resource is registered.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import config as pulumi_config

from hastack.config import ConfigError
from hastack.plan.stackfile import project_root
from hastack.stacks import Loaded, load_engine_config


def stack_file_display(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def load_config(root: Path | None = None) -> Loaded:
    """The stack's validated config (either layer), from the engine's config map.

    A workloads stack is validated together with its environment's stack file, read
    from the project directory: the one holding the `__main__.py` that runs (so an
    offline plan of another checkout reads that checkout's stack files).
    """
    engine_values = {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}
    return load_engine_config(engine_values, stack_file_display(pulumi.get_stack()),
                              root or project_root())


def main(root: Path | None = None) -> None:
    try:
        config = load_config(root)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    # Imported here so a bad stack file fails fast, before the provider SDKs load.
    from components.platform import build_platform

    outputs = build_platform(pulumi.get_stack(), config)
    for name in sorted(outputs):
        pulumi.export(name, outputs[name])
