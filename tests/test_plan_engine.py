"""The offline plan records what the engine would see, deterministically."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hastack.plan.diff import diff_plans, render_diff
from hastack.plan.render import build_plan, mermaid, plan_json, summary
from hastack.plan.runner import run_program
from tests.fixtures.small_program import program


def make_plan(stack: str = "fixture") -> dict[str, Any]:
    recording = run_program(program, project="hastack", stack=stack, config={},
                            default_region="eu-west-1")
    return build_plan(recording, cloud="aws", tier="prod", stack_file="stacks/Pulumi.x.yaml")


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return make_plan()


def by_name(plan: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = [r for r in plan["resources"] if r["name"] == name]
    return entry


def test_parents_and_components(plan: dict[str, Any]) -> None:
    store = by_name(plan, "east")
    key = by_name(plan, "east-key")
    assert store["custom"] is False and key["custom"] is True
    assert key["parent"] == store["urn"]
    assert key["component"] == store["urn"]
    assert store["parent"] is None  # the root stack is not part of the plan


def test_providers_and_regions(plan: dict[str, Any]) -> None:
    east_key, west_key = by_name(plan, "east-key"), by_name(plan, "west-key")
    assert east_key["provider"] == by_name(plan, "east-provider")["urn"]
    assert east_key["region"] == "us-east-1" and west_key["region"] == "us-west-2"
    assert by_name(plan, "east")["region"] == "us-east-1"
    # No explicit provider: the default provider, whose region the plan cannot know.
    assert by_name(plan, "consumer-topic")["provider"] is None


def test_dependencies_and_property_dependencies(plan: dict[str, Any]) -> None:
    version = by_name(plan, "east-secret-version")
    bucket, secret = by_name(plan, "east-bucket"), by_name(plan, "east-secret")
    assert bucket["urn"] in version["dependencies"]
    assert version["propertyDependencies"]["secretId"] == [secret["urn"]]
    assert by_name(plan, "east-secret")["propertyDependencies"]["kmsKeyId"] == [
        by_name(plan, "east-key")["urn"]]


def test_resource_options(plan: dict[str, Any]) -> None:
    assert by_name(plan, "east-key")["protect"] is True
    assert by_name(plan, "east-key")["retainOnDelete"] is False
    bucket = by_name(plan, "east-bucket")
    assert bucket["retainOnDelete"] is True and bucket["ignoreChanges"] == ["tags"]


def test_secrets_are_markers_never_values(plan: dict[str, Any]) -> None:
    version = by_name(plan, "east-secret-version")
    assert version["secretInputs"] == ["secretString"]
    assert version["inputs"]["secretString"] == "[secret]"
    assert plan["outputs"]["token"] == "[secret]" and plan["secretOutputs"] == ["token"]
    assert "do-not-print-me" not in plan_json(plan)


def test_invoke_results_are_regional(plan: dict[str, Any]) -> None:
    assert plan["outputs"]["eastZones"][:3] == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_plan_is_byte_identical_across_runs() -> None:
    assert plan_json(make_plan()) == plan_json(make_plan())


def test_mermaid_shows_cross_component_edges_only(plan: dict[str, Any]) -> None:
    diagram = mermaid(plan)
    assert diagram.startswith("flowchart LR")
    ids = {r["name"]: f"c{i}" for i, r in enumerate(
        sorted((r for r in plan["resources"] if not r["custom"]), key=lambda r: r["urn"]))}
    assert f"{ids['consumer']} --> {ids['east']}" in diagram
    assert f"{ids['consumer']} --> {ids['west']}" not in diagram
    assert "east-key" not in diagram  # leaves are not drawn


def test_summary_counts(plan: dict[str, Any]) -> None:
    text = summary(plan, ["build/plan/x.json"])
    assert "hastack:test:Store east [us-east-1]" in text
    assert "us-west-2" in text and "aws:kms/key:Key" in text


def test_diff_reports_property_changes(plan: dict[str, Any]) -> None:
    other = json.loads(plan_json(plan))
    entry = next(r for r in other["resources"] if r["name"] == "east-key")
    entry["inputs"]["enableKeyRotation"] = False
    entry["protect"] = False
    other["resources"] = [r for r in other["resources"] if r["name"] != "west-bucket"]
    result = diff_plans(plan, other)
    changed = next(v for k, v in result.changed.items() if k.endswith("::east-key"))
    assert ("inputs.enableKeyRotation", True, False) in changed
    assert ("protect", True, False) in changed
    assert any(k.endswith("::west-bucket") for k in result.only_left)
    assert "west-bucket" in render_diff(result)
    assert diff_plans(plan, plan).identical


def test_duplicate_urn_fails_like_the_engine() -> None:
    import pulumi_aws as aws

    from hastack.plan.recorder import DuplicateUrnError

    def clashing() -> None:
        aws.s3.Bucket("same")
        aws.s3.Bucket("same")

    with pytest.raises(DuplicateUrnError, match="duplicate resource URN"):
        run_program(clashing, project="hastack", stack="dup", config={})


def test_programs_register_without_stack_traces_and_the_sdk_is_restored() -> None:
    """Offline, the SDK's per-resource stack walk is skipped; nothing else changes."""
    import pulumi_aws as aws
    from pulumi.runtime import resource as sdk_resource

    from hastack.plan.mocks import PlanMocks
    from hastack.plan.recorder import RecordingMonitor

    traces: list[int] = []

    class Spy(RecordingMonitor):
        def RegisterResource(self, request: Any) -> Any:
            traces.append(len(request.stackTrace.frames))
            return super().RegisterResource(request)

    original = sdk_resource._get_stack_trace
    recording = run_program(lambda: aws.s3.Bucket("traced"), project="hastack",
                            stack="trace", config={}, monitor=Spy(PlanMocks(None, None)))
    assert [r.name for r in recording.of_type("aws:s3/bucket:Bucket")] == ["traced"]
    assert traces and set(traces) == {0}
    # Outside a program run the SDK's own function is back and walks the stack.
    assert sdk_resource._get_stack_trace is original
