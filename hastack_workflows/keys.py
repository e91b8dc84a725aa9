"""Object keys derived from what a run *is* (its parameters), never from when it ran.

A re-run with the same parameters, a retry of a step, or a recovery run all address
the same keys, so finished work is found instead of recomputed; different parameters
can never collide with (or overwrite) another run's checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Hex digits of the parameter hash kept in the key: 64 bits, collision-free in practice
# for the number of runs one pipeline sees, and short enough to read in a console.
RUN_KEY_HEX = 16


def check_name(kind: str, value: str) -> str:
    """A pipeline or stage name usable as one path segment in every object store."""
    if not _NAME.match(value):
        raise ValueError(
            f"{kind} {value!r} is not a valid name: use 1-63 of a-z, 0-9 and '-', "
            "starting with a letter or digit")
    return value


def canonical_parameters(parameters: Mapping[str, Any]) -> str:
    """The one JSON spelling of `parameters`: sorted keys, no whitespace, no NaN/Infinity."""
    try:
        return json.dumps(dict(parameters), sort_keys=True, separators=(",", ":"),
                          allow_nan=False, ensure_ascii=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"run parameters must be plain JSON values: {error}") from error


@dataclass(frozen=True)
class RunKey:
    """Where one pipeline run, identified by its parameters, keeps its checkpoints."""

    pipeline: str
    digest: str

    @property
    def prefix(self) -> str:
        return f"{self.pipeline}/{self.digest}"

    def stage_prefix(self, stage: str) -> str:
        return f"{self.prefix}/{check_name('stage', stage)}"

    def manifest_key(self, stage: str) -> str:
        return f"{self.stage_prefix(stage)}/manifest.json"

    def data_key(self, stage: str, sha256: str) -> str:
        # Content-addressed: two attempts that produce different bytes write two
        # different objects, so a retry can never clobber data a manifest points at.
        return f"{self.stage_prefix(stage)}/{sha256}.bin"


def run_key(pipeline: str, parameters: Mapping[str, Any]) -> RunKey:
    """The run key of `pipeline` for `parameters` (order of keys does not matter)."""
    check_name("pipeline", pipeline)
    digest = hashlib.sha256(canonical_parameters(parameters).encode()).hexdigest()
    return RunKey(pipeline, digest[:RUN_KEY_HEX])
