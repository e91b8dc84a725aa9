"""Generated secrets never appear in plain text in a plan, its summary or its outputs.

The mock engine hands the program real (deterministic) password values, exactly
as the engine would; this test collects every one of them and searches the
rendered plan and the console summary for their text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hastack.plan.pipeline import record_stack
from hastack.plan.recorder import SECRET_MARKER
from hastack.plan.render import build_plan, mermaid, plan_json, summary
from hastack.plan.stackfile import stack_names
from tests.conftest import REPO

GENERATED = {
    "random:index/randomPassword:RandomPassword": "result",
}


@pytest.mark.parametrize("stack", stack_names(REPO))
def test_generated_secrets_stay_secret(stack: str, tmp_path: Path) -> None:
    config, recording, display = record_stack(REPO, stack)
    secrets = [
        str(registration.outputs[field])
        for registration in recording.registrations
        for token, field in GENERATED.items()
        if registration.type == token and registration.outputs.get(field)
    ]
    assert secrets, f"{stack} generates no password: the test would prove nothing"
    assert all(len(secret) >= 16 for secret in secrets)
    plan = build_plan(recording, cloud=config.cloud, tier=config.tier, stack_file=display)
    rendered = plan_json(plan) + mermaid(plan) + summary(plan, [])
    leaked = [secret[:4] + "…" for secret in secrets if secret in rendered]
    assert not leaked, f"secret values in the plan of {stack}: {leaked}"
    # Every input that carries one of them is marked secret instead.
    marked = [r for r in plan["resources"] if r["secretInputs"]]
    assert marked and all(SECRET_MARKER in plan_json({"x": r["inputs"]}) for r in marked)
    assert "kubeconfigs" in plan["secretOutputs"] or "kubeconfig" in str(plan["secretOutputs"])
