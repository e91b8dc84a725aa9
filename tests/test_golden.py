"""Golden plans: any change to the rendered infrastructure shows up in review.

Each committed stack is planned and compared byte for byte with
`tests/golden/<stack>.json`. After an intended change, regenerate with
`make golden` and review the diff like code.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from hastack.plan.pipeline import PlanResult
from hastack.plan.render import plan_json
from hastack.plan.stackfile import stack_names
from tests.conftest import REPO, run_cli

GOLDEN = REPO / "tests" / "golden"
STACKS = stack_names(REPO)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_golden(stack: str, stack_plan: Callable[[str], PlanResult]) -> None:
    result = stack_plan(stack)
    rendered = plan_json(result.plan)
    # What `hastack plan` writes is what it rendered.
    assert result.json_path.read_text() == rendered
    golden = GOLDEN / f"{stack}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered)
    assert golden.is_file(), f"no golden plan for {stack}: run `make golden` and commit it"
    expected = golden.read_text()
    if rendered != expected:
        delta = "".join(list(difflib.unified_diff(
            expected.splitlines(True), rendered.splitlines(True),
            f"golden/{stack}.json", f"plan/{stack}.json", n=2))[:80])
        pytest.fail(f"plan of {stack} differs from its golden snapshot "
                    f"(run `make golden` if intended):\n{delta}")


def test_every_golden_has_a_stack() -> None:
    stale = sorted(p.stem for p in GOLDEN.glob("*.json") if p.stem not in STACKS)
    assert not stale, f"golden plans without a stack file: {stale}"


def test_two_processes_give_byte_identical_plans(
        tmp_path: Path, cli_plan_all: tuple[Path, CompletedProcess[str]]) -> None:
    """`plan --all`, a separate `plan dev` process and this process all write the same bytes."""
    from hastack.plan.pipeline import plan_environment

    first, planned = cli_plan_all
    assert planned.returncode == 0, planned.stderr
    second = tmp_path / "b"
    result = run_cli(REPO, "plan", "dev", "--quiet", "--out", str(second))
    assert result.returncode == 0, result.stderr
    # Planned here, in pytest's process (the shared plans come from `plan --all`).
    here = {r.stack: r for r in plan_environment(REPO, "dev", tmp_path / "c")}
    for stack in ("dev", "dev-us-east-2"):
        for name, in_process in ((f"{stack}.json", here[stack].json_path),
                                 (f"{stack}.mmd", here[stack].mermaid_path)):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
            assert (first / name).read_bytes() == in_process.read_bytes(), name


def test_readme_diagram_is_the_prod_plan(stack_plan: Callable[[str], PlanResult]) -> None:
    """The architecture diagram in the README is the one the prod plan draws."""
    from hastack.plan.render import mermaid

    result = stack_plan("prod")
    diagram = mermaid(result.plan)
    assert result.mermaid_path.read_text() == diagram
    readme_path = REPO / "README.md"
    readme = readme_path.read_text()
    begin = "<!-- BEGIN plan-diagram prod -->\n```mermaid\n"
    end = "```\n<!-- END plan-diagram prod -->"
    assert begin in readme and end in readme, "README lost its plan-diagram markers"
    head, rest = readme.split(begin, 1)
    current, tail = rest.split(end, 1)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        readme_path.write_text(head + begin + diagram + end + tail)
        current = diagram
    assert current == diagram, "README diagram is stale: run `make golden`"
