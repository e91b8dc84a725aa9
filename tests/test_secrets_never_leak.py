"""Generated secrets never appear in plain text in a plan, its summary or its outputs.

The mock engine hands the program real (deterministic) password values, exactly
as the engine would; this test collects every one of them in an environment's
infrastructure stack (where they are generated) and searches every plan of the
environment (the workloads stacks receive them through the StackReference) and
the console summaries for their text.
"""

from __future__ import annotations

from typing import Any

import pytest

from hastack.plan.recorder import SECRET_MARKER
from hastack.plan.render import mermaid, plan_json, summary
from hastack.stacks import environments
from tests.conftest import REPO

GENERATED = {
    "random:index/randomPassword:RandomPassword": "result",
}


@pytest.mark.parametrize("env", environments(REPO))
def test_generated_secrets_stay_secret(env: str, environment_plan: Any) -> None:
    infrastructure, *workloads = environment_plan(env)
    secrets = [
        str(registration.outputs[field])
        for registration in infrastructure.recording.registrations
        for token, field in GENERATED.items()
        if registration.type == token and registration.outputs.get(field)
    ]
    assert secrets, f"{env} generates no password: the test would prove nothing"
    assert all(len(secret) >= 16 for secret in secrets)
    assert workloads, f"{env} has no workloads stack"
    for result in (infrastructure, *workloads):
        plan = result.plan
        rendered = plan_json(plan) + mermaid(plan) + summary(plan, [])
        leaked = [secret[:4] + "…" for secret in secrets if secret in rendered]
        assert not leaked, f"secret values in the plan of {result.stack}: {leaked}"
        # Every input that carries one of them is marked secret instead.
        marked = [r for r in plan["resources"] if r["secretInputs"]]
        assert marked and all(SECRET_MARKER in plan_json({"x": r["inputs"]}) for r in marked)
    assert "workloadsSecrets" in infrastructure.plan["secretOutputs"]
    for result in workloads:
        (provider,) = [r for r in result.plan["resources"]
                       if r["type"] == "pulumi:providers:kubernetes"]
        assert "kubeconfig" in provider["secretInputs"], result.stack
