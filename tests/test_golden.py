"""Golden plans: any change to the rendered infrastructure shows up in review.

Each committed stack is planned and compared byte for byte with
`tests/golden/<stack>.json`. After an intended change, regenerate with
`make golden` and review the diff like code.
"""

from __future__ import annotations

import difflib
import os
from functools import cache
from pathlib import Path

import pytest

from hastack.plan.pipeline import plan_environment, plan_stack
from hastack.plan.render import plan_json
from hastack.plan.stackfile import stack_names
from hastack.stacks import stack_info
from tests.conftest import REPO, run_cli

GOLDEN = REPO / "tests" / "golden"
STACKS = stack_names(REPO)


@cache
def _environment_plans(env: str, out: str) -> dict[str, str]:
    return {r.stack: plan_json(r.plan) for r in plan_environment(REPO, env, Path(out))}


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_golden(stack: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = str(tmp_path_factory.getbasetemp() / "golden-plans")
    rendered = _environment_plans(stack_info(REPO, stack).environment, out)[stack]
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


def test_two_processes_give_byte_identical_plans(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = run_cli(REPO, "plan", "dev", "--quiet", "--out", str(out))
        assert result.returncode == 0, result.stderr
    for stack in ("dev", "dev-us-east-2"):
        assert (first / f"{stack}.json").read_bytes() == (second / f"{stack}.json").read_bytes()
        assert (first / f"{stack}.mmd").read_bytes() == (second / f"{stack}.mmd").read_bytes()


def test_readme_diagram_is_the_prod_plan(tmp_path: Path) -> None:
    """The architecture diagram in the README is the one the prod plan draws."""
    from hastack.plan.render import mermaid

    diagram = mermaid(plan_stack(REPO, "prod", tmp_path).plan)
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
