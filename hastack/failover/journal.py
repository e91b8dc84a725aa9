"""Which steps of a failover already succeeded, so a rerun resumes there.

`build/failover/<env>.json` holds the request (its fingerprint) and the indices of
the completed steps. A rerun of the same request skips them; a different request
while one is unfinished is refused, so two half-done failovers never interleave.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hastack.failover.steps import FailoverError, FailoverPlan


class Journal:
    def __init__(self, path: Path, plan: FailoverPlan) -> None:
        self.path = path
        self.plan = plan
        self.done: list[int] = []
        if path.is_file():
            saved: dict[str, Any] = json.loads(path.read_text())
            if saved.get("request") != plan.fingerprint():
                other = saved.get("request", {})
                raise FailoverError(
                    f"an unfinished failover of {plan.stack} ({other.get('from')} -> "
                    f"{other.get('to')}, {other.get('mode')}) is recorded in {path}; "
                    "rerun that one to finish it, or delete the file once you have "
                    "checked the cloud by hand")
            self.done = list(saved.get("done", []))

    def pending(self) -> list[int]:
        return [i for i in range(len(self.plan.steps)) if i not in self.done]

    def complete(self, index: int) -> None:
        self.done.append(index)
        self._save()

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"request": self.plan.fingerprint(),
                                         "done": sorted(self.done)}, indent=2) + "\n")
