"""`hastack diff --summary`: what kind of thing changes, without environment noise."""

from __future__ import annotations

import json

from hastack.plan.diff import diff_plans, noise_kind, render_summary
from tests.conftest import REPO, run_cli

GOLDEN = REPO / "tests" / "golden"


def test_noise_is_recognised() -> None:
    assert noise_kind("inputs.tags.owner", "a", "b") == "tags and labels"
    assert noise_kind("region", "us-east-1", "us-east-2") == "region names"
    assert noise_kind("inputs.vpcId", "vpc-fbf302095fb47fbdd", "vpc-18daac1be12ee801c") == \
        "mock IDs"
    assert noise_kind("inputs.backupRetentionPeriod", 7, 21) is None
    # A different number of IDs is a real change, not noise.
    assert noise_kind("inputs.subnetIds", ["subnet-aaaaaaaa"],
                      ["subnet-bbbbbbbb", "subnet-cccccccc"]) is None


def test_summary_groups_by_kind_and_hides_noise() -> None:
    dev = json.loads((GOLDEN / "dev.json").read_text())
    prod = json.loads((GOLDEN / "prod.json").read_text())
    text = render_summary(diff_plans(dev, prod))
    assert "added (only in prod):" in text and "aws:rds/globalCluster:GlobalCluster" in text
    assert "~ protect x" in text and "false → true" in text
    assert "~ backupRetentionPeriod x1: 7 → 21" in text
    assert "vpcId" not in text and "hastack:tier" not in text and "~ region x" not in text
    assert "hidden:" in text and "mock IDs" in text and "tags and labels" in text
    # The full diff still has what the summary hides.
    full = run_cli(REPO, "diff", str(GOLDEN / "dev.json"), str(GOLDEN / "prod.json"))
    assert "vpcId" in full.stdout
    short = run_cli(REPO, "diff", "--summary", str(GOLDEN / "dev.json"),
                    str(GOLDEN / "prod.json"))
    assert short.returncode == 0 and short.stdout.startswith("diff dev → prod (summary)")


def test_debug_after_the_subcommand_and_version() -> None:
    result = run_cli(REPO, "diff", str(GOLDEN / "dev.json"), "{}", "--debug")
    assert result.returncode == 2 and "unrecognized arguments" not in result.stderr
    version = run_cli(REPO, "--version")
    assert version.returncode == 0 and version.stdout.startswith("hastack ")
