"""Policy output says what to change: the stack key and its line, or the component source."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hastack.check.analyzer import CheckResult, check_plan
from hastack.check.report import console, to_json, to_sarif
from hastack.check.stackkeys import key_location, stack_key_of
from tests.conftest import REPO
from tests.policies.conftest import POLICIES
from tests.policies.plans import broken_builder

PROD_STACK = """\
config:
  hastack:cloud: aws
  hastack:tier: prod
  hastack:cache:
    nodesPerRegion: 3
  hastack:kubernetes:
    apiAccess: private
  hastack:database:
    backupRetentionDays: 21
"""  # line numbers below count from here


@pytest.fixture(scope="module")
def broken() -> CheckResult:
    return check_plan(broken_builder().plan(), POLICIES)


def test_stack_keys_are_read_from_the_remediation() -> None:
    assert stack_key_of("Raise database.backupRetentionDays (backupRetentionPeriod).") == \
        "database.backupRetentionDays"
    assert stack_key_of("Set zoneCount >= 2 in the stack file.") == "zoneCount"
    assert stack_key_of("Set tier='STANDARD_HA'.") is None


def test_key_lines_in_a_stack_file(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(PROD_STACK)
    at = lambda key: key_location(tmp_path, "stacks/Pulumi.prod.yaml", key)  # noqa: E731
    assert at("database.backupRetentionDays") == 9   # the key itself
    assert at("database.instancesPerRegion") == 8    # its section (a tier default)
    assert at("network.natGateways") == 3            # no section: the tier chose it


def test_repeats_of_a_rule_are_one_line_with_a_count(broken: CheckResult) -> None:
    finding = broken.findings[0]
    many = dataclasses.replace(broken, findings=[
        dataclasses.replace(finding, resource_name=f"bucket-{i}", urn=f"{finding.urn}-{i}")
        for i in range(23)])
    text = console(many)
    assert text.count(finding.policy) == 1, text
    assert f"{finding.policy} x23" in text and "and 20 more" in text


def test_each_finding_says_what_to_change(broken: CheckResult) -> None:
    text = console(broken)
    assert "change hastack:" in text and "fix (no stack key controls this" in text
    findings = to_json(broken)["findings"]
    assert all(f["remediation"] for f in findings)
    assert any(f["stackKey"] for f in findings) and any(not f["stackKey"] for f in findings)


def test_sarif_points_at_the_key_line_or_the_component_source(broken: CheckResult,
                                                              tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(PROD_STACK)
    (tmp_path / "components").symlink_to(REPO / "components")
    results = to_sarif(broken, tmp_path)["runs"][0]["results"]
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "stacks/Pulumi.prod.yaml" in by_uri
    assert any(uri.startswith("components/") for uri in by_uri), by_uri
    endpoint = [r for r in results
                if r["properties"]["stackKey"] == "kubernetes.apiAccess"]
    assert endpoint
    for result in endpoint:
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
        assert "Change hastack:kubernetes.apiAccess" in result["message"]["text"]
