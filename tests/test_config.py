"""Stack configuration: tier defaults, and one clear error for every kind of bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hastack.config import ConfigError, load_from_engine_values, load_settings
from hastack.config.tiers import tier_defaults
from hastack.plan.mocks import PlanMocks
from hastack.plan.recorder import RecordingMonitor
from hastack.plan.runner import program_from_file, run_program
from hastack.plan.stackfile import read_stack
from tests.conftest import REPO, base_config, run_cli, write_stack

SOURCE = "stacks/Pulumi.test.yaml"


def settings(**overrides: object) -> dict:
    config = base_config(**overrides)
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("hastack:")}


def problems_of(**overrides: object) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_settings(settings(**overrides), SOURCE)
    return caught.value.problems


def test_valid_prod_gets_strict_tier_defaults() -> None:
    config = load_settings(settings(), SOURCE)
    assert config.zone_count == 3
    assert config.network.nat_gateways == "per-zone"
    assert config.protect_stateful_resources and config.deletion_protection
    assert config.database.backup_retention_days == 14
    assert config.cache.nodes_per_region == 3
    assert config.database.instance_class.startswith("db.r")


def test_dev_is_cheap_but_multi_az() -> None:
    config = load_settings(settings(tier="dev", regions={"primary": "us-east-2"},
                                    artifacts={"replicate": False}, recovery=None), SOURCE)
    assert config.zone_count >= 2
    assert config.network.nat_gateways == "single"
    assert config.database.instances_per_region >= 2
    assert not config.protect_stateful_resources


def test_stack_values_override_tier_defaults_field_by_field() -> None:
    config = load_settings(settings(database={"backupRetentionDays": 30}), SOURCE)
    assert config.database.backup_retention_days == 30
    assert config.database.instances_per_region == tier_defaults("aws", "prod")["database"][
        "instancesPerRegion"]


BAD_CONFIGS = {
    "typo": ({"zoneCont": 3}, "zoneCont", "did you mean 'zoneCount'"),
    "nested typo": ({"database": {"backupRetentionDay": 9}}, "database.backupRetentionDay",
                    "did you mean 'backupRetentionDays'"),
    "wrong type": ({"zoneCount": "three"}, "zoneCount", "valid integer"),
    "out of range": ({"database": {"backupRetentionDays": 90}}, "database.backupRetentionDays",
                     "less than or equal to 35"),
    "unknown region": ({"regions": {"primary": "us-east-9", "secondary": "us-west-2"}},
                       "regions.primary", "allowed:"),
    "prod with one AZ": ({"zoneCount": 1}, "zoneCount", "greater than or equal to 2"),
    "prod with two AZs": ({"zoneCount": 2}, "zoneCount", "at least 3 zones"),
    "prod without secondary": ({"regions": {"primary": "us-east-1"}}, "regions.secondary",
                               "prod needs a secondary region"),
    "secondary equals primary": ({"regions": {"primary": "us-east-1", "secondary": "us-east-1"}},
                                 "regions.secondary", "must differ"),
    "bad cloud": ({"cloud": "azure"}, "cloud", "allowed: aws, gcp"),
    "bad orchestrator": ({"orchestrator": "airflow"}, "orchestrator", "'prefect' or 'argo'"),
    "too many zones": ({"regions": {"primary": "us-west-1", "secondary": "us-west-2"}},
                       "zoneCount", "us-west-1 offers 2 zones"),
    "open prod API": ({"kubernetes": {"apiAccess": "allowlist",
                                      "apiAllowlist": ["0.0.0.0/0"]}},
                      "kubernetes.apiAllowlist", "never opens"),
    "old postgres": ({"database": {"engineVersion": "14.3"}}, "database.engineVersion",
                     "allowed: 17.5"),
    "gpu typo": ({"kubernetes": {"gpu": {"enable": True}}}, "kubernetes.gpu.enable",
                 "did you mean 'enabled'"),
    "gpu accelerator on aws": ({"kubernetes": {"gpu": {"acceleratorType": "nvidia-l4"}}},
                               "kubernetes.gpu.acceleratorType", "only for cloud: gcp"),
    "gpu not a gpu type": ({"kubernetes": {"gpu": {"instanceType": "m6i.large"}}},
                           "kubernetes.gpu.instanceType", "GPU instance type"),
    "Cloud SQL edition on aws": ({"database": {"edition": "ENTERPRISE_PLUS"}},
                                 "database.edition", "only for cloud: gcp"),
    "worker HPA below its minimum": ({"workflows": {"workerReplicas": 5,
                                                    "workerMaxReplicas": 3}},
                                     "workflows.workerMaxReplicas", ">= workflows.workerReplicas"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_names_key_and_allowed_values(case: str) -> None:
    overrides, key, phrase = BAD_CONFIGS[case]
    problems = problems_of(**overrides)
    matching = [message for path, message in problems if path == key]
    assert matching, f"no problem reported for {key}: {problems}"
    assert any(phrase in message for message in matching), matching


GCP_EDITION_CASES = {
    "plus on a custom tier": ({"instanceClass": "db-custom-8-30720"}, "database.instanceClass",
                              "needs edition ENTERPRISE;"),
    "enterprise on a perf tier": ({"edition": "ENTERPRISE"}, "database.instanceClass",
                                  "needs edition ENTERPRISE_PLUS"),
    "edition typo": ({"edition": "ENTERPRISE_PLS"}, "database.edition",
                     "'ENTERPRISE' or 'ENTERPRISE_PLUS'"),
}


@pytest.mark.parametrize("case", sorted(GCP_EDITION_CASES))
def test_gcp_edition_and_tier_must_match(case: str) -> None:
    from tests.gcp.conftest import stack_settings

    database, key, phrase = GCP_EDITION_CASES[case]
    with pytest.raises(ConfigError) as caught:
        load_settings(stack_settings("prod", database=database), SOURCE)
    matching = [m for path, m in caught.value.problems if path == key]
    assert any(phrase in m for m in matching), caught.value.problems
    assert SOURCE in str(caught.value) and f"hastack:{key}" in str(caught.value)


def test_gcp_tier_defaults_prod_enterprise_plus_dev_and_staging_enterprise() -> None:
    from tests.gcp.conftest import config_for

    editions = {tier: (config_for(tier).database.edition, config_for(tier).database.instance_class)
                for tier in ("dev", "staging", "prod")}
    assert editions == {"dev": ("ENTERPRISE", "db-custom-2-7680"),
                        "staging": ("ENTERPRISE", "db-custom-4-15360"),
                        "prod": ("ENTERPRISE_PLUS", "db-perf-optimized-N-8")}
    # An Enterprise prod stays possible: edition and tier set together.
    config = config_for("prod", database={"edition": "ENTERPRISE",
                                          "instanceClass": "db-custom-8-30720"})
    assert config.database.edition == "ENTERPRISE"


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(zoneCont=3, database={"backupRetentionDays": "x"}, cloud="azure")
    paths = {path for path, _ in problems}
    assert {"zoneCont", "database.backupRetentionDays", "cloud"} <= paths


def test_cross_field_problems_are_reported_with_schema_problems() -> None:
    """A typo must not hide that the secondary region equals the primary."""
    problems = problems_of(zoneCont=3, database={"backupRetentionDays": "x"},
                           regions={"primary": "us-east-1", "secondary": "us-east-1"})
    paths = {path for path, _ in problems}
    assert {"zoneCont", "database.backupRetentionDays", "regions.secondary"} <= paths
    # The repaired key is not reported twice (once as a type error is enough).
    assert [p for p in paths if p.startswith("database.")] == ["database.backupRetentionDays"]


def test_error_text_names_file_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(settings(zoneCont=3), SOURCE)
    text = str(caught.value)
    assert SOURCE in text and "hastack:zoneCont" in text and "Nothing was registered" in text


def test_engine_encoding_round_trips_the_committed_stacks() -> None:
    for stack in ("dev", "staging", "prod"):
        stack_file = read_stack(REPO, stack)
        config = load_from_engine_values(stack_file.engine_config, stack_file.display_path)
        assert config.tier == stack


@pytest.mark.parametrize("case", ["typo", "wrong type", "prod without secondary",
                                  "secondary equals primary", "unknown region", "prod with one AZ"])
def test_cli_plan_rejects_bad_stack_without_traceback(case: str, scratch_project: Path) -> None:
    overrides, key, _ = BAD_CONFIGS[case]
    write_stack(scratch_project, "bad", base_config(**overrides))
    result = run_cli(scratch_project, "plan", "bad")
    assert result.returncode == 2, result.stderr
    assert "stacks/Pulumi.bad.yaml" in result.stderr
    assert f"hastack:{key}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (scratch_project / "build" / "plan" / "bad.json").exists()


@pytest.mark.parametrize("case", ["typo", "out of range", "prod without secondary"])
def test_program_under_engine_raises_run_error_and_registers_nothing(case: str) -> None:
    """What `pulumi up` does: the real __main__.py with the engine's config map."""
    import pulumi

    overrides, key, _ = BAD_CONFIGS[case]
    engine_config = {k: (v if isinstance(v, str) else __import__("json").dumps(v))
                     for k, v in base_config(**overrides).items()}
    recorded: list = []

    def program() -> None:
        try:
            program_from_file(REPO / "__main__.py")()
        except pulumi.RunError as error:
            recorded.append(str(error))
            raise

    monitor = RecordingMonitor(PlanMocks("us-east-1"))
    with pytest.raises(pulumi.RunError):
        run_program(program, project="hastack", stack="bad", config=engine_config,
                    monitor=monitor)
    assert monitor.registrations == {}
    assert recorded and "stacks/Pulumi.bad.yaml" in recorded[0] and f"hastack:{key}" in recorded[0]


def test_missing_stack_file_is_a_clear_error(scratch_project: Path) -> None:
    result = run_cli(scratch_project, "plan", "nope")
    assert result.returncode == 2
    assert "stacks/Pulumi.nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_invalid_yaml_is_a_clear_error(scratch_project: Path) -> None:
    (scratch_project / "stacks" / "Pulumi.broken.yaml").write_text("config:\n  a: [1,\n")
    result = run_cli(scratch_project, "plan", "broken")
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_credentials_rotation_labels_feed_the_pod_revision() -> None:
    from hastack.config.model import credentials_revision

    config = load_settings(settings(database={"credentialsRotation": "2026-12"},
                                    cache={"credentialsRotation": "r1"}), SOURCE)
    assert config.database.credentials_rotation == "2026-12"
    assert credentials_revision(config) == "database=2026-12,cache=r1"
    assert credentials_revision(load_settings(settings(), SOURCE)) is None
    with pytest.raises(ConfigError, match="credentialsRotation"):
        load_settings(settings(database={"credentialsRotation": "no spaces"}), SOURCE)


def test_a_bad_stack_file_is_reported_before_the_mock_engine_is_loaded(tmp_path: Path) -> None:
    """Validation needs no Pulumi SDK: a typo costs the interpreter and the config model."""
    write_stack(tmp_path, "prod", base_config(zoneCount="three"))
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    probe = ("import sys\nfrom hastack.cli import main\nrc = main(['plan', 'prod'])\n"
             "print(rc, sorted(m for m in ('pulumi', 'grpc') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.split("\n")[-2] == "2 []", result.stdout + result.stderr
    assert "zoneCount" in result.stderr and "Traceback" not in result.stderr
