"""The one error a bad stack file produces."""

from __future__ import annotations


class ConfigError(Exception):
    """Every problem of one stack file, each with its key path and what is allowed."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = sorted(set(problems))
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid stack configuration in {self.source} ({count} {noun}):"]
        lines += [f"  - {_key(path)}{message}" for path, message in self.problems]
        lines.append("Nothing was registered. Fix the stack file and run again.")
        return "\n".join(lines)


def _key(path: str) -> str:
    """`hastack:` keys are given without their namespace; other namespaces in full."""
    if not path:
        return ""
    return f"{path}: " if ":" in path else f"hastack:{path}: "
