"""The Pulumi program: read the stack's config, build the platform, export outputs.

`__main__.py` calls `main()`. A configuration problem becomes a `pulumi.RunError`,
which the engine prints as one error without a Python traceback, before any
resource is registered.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as pulumi_config

from hastack.config import ConfigError
from hastack.plan.stackfile import project_root
from hastack.stacks import Loaded, load_engine_config


def stack_file_display(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def load_config() -> Loaded:
    """The stack's validated config (either layer), from the engine's config map.

    A workloads stack is validated together with its environment's stack file, which
    the program reads from the project directory (Pulumi runs it from there).
    """
    engine_values = {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}
    return load_engine_config(engine_values, stack_file_display(pulumi.get_stack()),
                              project_root())


def main() -> None:
    try:
        config = load_config()
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    # Imported here so a bad stack file fails fast, before the provider SDKs load.
    from components.platform import build_platform

    outputs = build_platform(pulumi.get_stack(), config)
    for name in sorted(outputs):
        pulumi.export(name, outputs[name])
