"""The catalogue is complete, and the per-tier config files are generated from it."""

from __future__ import annotations

import json

import pytest
import yaml
from hastack_policies.catalogue import (
    HA_COSTLY,
    SECURITY,
    TIERS,
    all_rules,
    build_policies,
    render_tier_config,
)
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from tests.policies.conftest import POLICIES

RULES = all_rules()


def test_rule_names_are_unique_and_kebab_case() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_is_documented_and_anchored(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.description.endswith(".")
    assert rule.remediation
    assert rule.anchors
    assert rule.framework.name in ("AWS FSBP", "Checkov", "hastack")
    assert all(":" in tag for tag in rule.tags)
    assert rule.kind == "stack" or rule.types


def test_policies_build_with_the_sdk_types() -> None:
    policies = build_policies()
    assert len(policies) == len(RULES)
    kinds = {type(p) for p in policies}
    assert kinds == {ResourceValidationPolicy, StackValidationPolicy}
    # Without a config file the pack fails closed: prod levels.
    assert all(p.enforcement_level is not None for p in policies)


@pytest.mark.parametrize("tier", TIERS)
def test_committed_config_matches_the_catalogue(tier: str) -> None:
    committed = (POLICIES / "config" / f"{tier}.json").read_text()
    assert committed == render_tier_config(tier), (
        "policies/config is stale: run `make policy-config` (after editing "
        "policies/overrides/<tier>.json, or the rules)")


def test_config_files_have_the_policy_pack_config_shape() -> None:
    levels = {"advisory", "mandatory", "disabled", "remediate"}
    for tier in TIERS:
        document = json.loads((POLICIES / "config" / f"{tier}.json").read_text())
        assert set(document) == {rule.name for rule in RULES}
        assert all(entry["enforcementLevel"] in levels for entry in document.values())


def test_tiers_enforce_as_promised() -> None:
    # The catalogue's own promise, before a team's overrides (policies/overrides/).
    prod = json.loads(render_tier_config("prod", overrides=False))
    dev = json.loads(render_tier_config("dev", overrides=False))
    # Prod: everything HA and security is mandatory.
    assert {entry["enforcementLevel"] for entry in prod.values()} == {"mandatory"}
    for rule in RULES:
        if rule.levels == SECURITY:
            assert dev[rule.name]["enforcementLevel"] == "mandatory", rule.name
        if rule.levels == HA_COSTLY:
            assert dev[rule.name]["enforcementLevel"] == "advisory", rule.name
    costly_in_dev = {"nat-gateway-per-az", "rds-global-cluster-second-region",
                     "rds-cluster-multi-az", "elasticache-node-count", "s3-critical-replication",
                     "cloudsql-cross-region-replica", "eks-node-group-spread"}
    assert all(dev[name]["enforcementLevel"] == "advisory" for name in costly_in_dev)


def test_thresholds_are_configurable_with_defaults() -> None:
    prod = json.loads(render_tier_config("prod", overrides=False))
    assert prod["rds-backup-retention"]["minimumDays"] == 14
    assert prod["eks-supported-version"]["minimumVersion"]
    assert prod["eks-endpoint-private"]["allowedPublicCidrs"] == []
    assert prod["rds-cluster-multi-az"]["minInstances"] >= 2


def test_policy_project_file_uses_the_project_environment() -> None:
    project = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "uv", "virtualenv": "../.venv"}}
    assert project["version"] and project["description"]


def test_the_pack_loads_without_the_stack_config_model() -> None:
    """The host starts once per stack checked; it needs the tier floors, not pydantic."""
    import os
    import subprocess
    import sys

    probe = ("import sys, hastack_policies.catalogue as c\nc.build_policies()\n"
             "print(sorted(m for m in ('pydantic', 'hastack.config.model') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=POLICIES, capture_output=True,
                            text=True, check=False,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                [str(POLICIES), str(POLICIES.parent)])})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
