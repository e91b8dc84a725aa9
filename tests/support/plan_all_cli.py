"""`hastack ARGS...` exactly as `python -m hastack.cli` runs it, keeping the plans it made.

    python -m tests.support.plan_all_cli KEEP plan --all --out DIR

The CLI's exit status, output and files are its own; in addition, the PlanResults that
`plan_targets` handed the CLI (what its worker processes planned) are pickled to KEEP,
one list per target. The tests then read every committed stack's plan from the one
`plan --all` run they also check as users would run it, instead of planning each stack
a second time inside pytest (tests/conftest.py, `_plan_all_run`).
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    from hastack import cli
    from hastack.plan import parallel

    keep, args = Path(argv[0]), argv[1:]
    kept: dict[str, Any] = {}
    real = parallel.plan_targets

    def keeping(*a: Any, **k: Any) -> Iterator[tuple[str, parallel.Outcome]]:
        for target, outcome in real(*a, **k):
            if isinstance(outcome, list):
                kept[target] = outcome
            yield target, outcome

    # The CLI imports plan_targets from the module when it runs: this is what it calls.
    parallel.plan_targets = keeping  # type: ignore[assignment]
    status = cli.main(args)
    keep.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
    return status


# The pool's spawned workers import this module as `__mp_main__`: only run when invoked.
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
