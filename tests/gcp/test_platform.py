"""GcpPlatform: providers per region, enabled flags, orchestrator wiring, outputs, stack files."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml

from components.gcp.platform import GcpPlatform
from hastack.config import ConfigError, load_from_engine_values, load_settings
from hastack.plan.stackfile import read_stack
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    config_for,
    of_type,
    only,
    plan_platform,
    provider_region,
    run,
)

STACKS = Path(__file__).resolve().parents[2] / "stacks"
REGIONAL_TYPES = (
    "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool",
    "gcp:sql/databaseInstance:DatabaseInstance", "gcp:redis/instance:Instance",
    "gcp:compute/subnetwork:Subnetwork", "gcp:compute/routerNat:RouterNat",
    "gcp:kms/keyRing:KeyRing",
)


def test_one_explicit_provider_per_region(plans):
    providers = of_type(plans("prod"), "pulumi:providers:gcp")
    assert sorted((p.inputs["region"], p.inputs["project"]) for p in providers) == [
        (PRIMARY, PROJECT), (SECONDARY, PROJECT)]


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_regional_resources_are_pinned_to_their_regions_provider(plans, tier):
    plan = plans(tier)
    for registration in plan.registrations:
        if registration.type not in REGIONAL_TYPES:
            continue
        region = (registration.inputs.get("region") or registration.inputs.get("location"))
        if registration.type == "gcp:kms/keyRing:KeyRing" and region == "us":
            continue  # the dual-region bucket's key lives in the multi-region
        assert provider_region(plan, registration) == region, registration.name


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_no_resource_uses_a_default_provider(plans, tier):
    for registration in plans(tier).registrations:
        if registration.custom and registration.type.startswith("gcp:"):
            assert registration.provider and "::default" not in registration.provider, \
                registration.name


@pytest.mark.parametrize(("section", "gone"), [
    ("database", "gcp:sql/databaseInstance:DatabaseInstance"),
    ("cache", "gcp:redis/instance:Instance"),
    ("artifacts", "gcp:storage/bucket:Bucket"),
])
def test_disabled_components_are_not_built(plans, section, gone):
    assert of_type(plans("prod"), gone)
    assert of_type(plans("prod", **{section: {"enabled": False}}), gone) == []


def test_workloads_contract_gives_each_region_its_role_and_local_endpoints():
    """What each region's workloads stack reads: roles from activeRegion, local endpoints."""
    platforms: list[GcpPlatform] = []
    config = config_for("prod", workflows={"enabled": True})

    def program() -> None:
        platforms.append(GcpPlatform("hastack", config))
        pulumi.export("workloads", platforms[0].outputs["workloads"])
        pulumi.export("artifacts.bucket", platforms[0].outputs["artifacts.bucket"])

    plan = run(program)
    platform = platforms[0]
    regions = plan.outputs["workloads"]["regions"]
    assert {r: v["role"] for r, v in regions.items()} == {PRIMARY: "active",
                                                           SECONDARY: "standby"}
    instances = {r.inputs["region"]: r.outputs["privateIpAddress"]
                 for r in of_type(plan, "gcp:sql/databaseInstance:DatabaseInstance")}
    # The active region writes to the primary; the standby reads the replica, which
    # keeps its address when promoted.
    assert regions[PRIMARY]["database"]["host"] == instances[PRIMARY]
    assert regions[SECONDARY]["database"]["host"] == instances[SECONDARY]
    assert platform.database is not None and platform.database.replica is not None
    caches = {r.inputs["region"]: r.outputs["host"]
              for r in of_type(plan, "gcp:redis/instance:Instance")}
    for region, facts in regions.items():
        assert facts["cache"]["host"] == caches[region]
        assert facts["artifacts"]["bucket"] == plan.outputs["artifacts.bucket"]
    assert regions[PRIMARY]["zones"] == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert regions[SECONDARY]["zones"] == ["us-east1-b", "us-east1-c", "us-east1-d"]
    assert plan.outputs["workloads"]["publicHostname"] == "workflows.example.com"
    # No orchestrator and no Kubernetes object in the infrastructure layer.
    assert not [r for r in plan.registrations if r.type.startswith(("kubernetes:", "hastack:k8s"))]


def _instances(plan) -> dict:
    return {r.inputs["region"]: r
            for r in of_type(plan, "gcp:sql/databaseInstance:DatabaseInstance")}


def test_flipping_the_active_region_swaps_the_advanced_dr_roles(plans):
    """prod (Enterprise Plus): the secondary's instance is the primary, the home one its
    DR replica; each region's workloads read their own instance."""
    plan = plans("prod", workflows={"enabled": True}, activeRegion=SECONDARY)
    regions = plan.outputs["workloads"]["regions"]
    assert {r: v["role"] for r, v in regions.items()} == {PRIMARY: "standby",
                                                           SECONDARY: "active"}
    instances = _instances(plan)
    assert instances[SECONDARY].inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    assert "masterInstanceName" not in instances[SECONDARY].inputs
    assert instances[PRIMARY].inputs["masterInstanceName"] == instances[SECONDARY].inputs["name"]
    for region, facts in regions.items():
        assert facts["database"]["host"] == instances[region].outputs["privateIpAddress"]
    # The alerts follow the roles: "up" on the writer, the lag on the replica.
    policies = {p.name: json.dumps(p.inputs) for p in
                of_type(plan, "gcp:monitoring/alertPolicy:AlertPolicy")}
    down = next(v for k, v in policies.items() if "sql-primary-down" in k)
    lag = next(v for k, v in policies.items() if "sql-replica-lag" in k)
    assert f"hastack-{SECONDARY}-pg" in down and f"hastack-{PRIMARY}-pg" in lag


def test_enterprise_flipping_the_active_region_promotes_the_replica_one_way():
    config = config_for("prod", workflows={"enabled": True}, activeRegion=SECONDARY,
                        database={"edition": "ENTERPRISE",
                                  "instanceClass": "db-custom-8-30720"})
    plan = plan_platform(config)
    instances = _instances(plan)
    replica = instances[SECONDARY]
    assert replica.inputs["instanceType"] == "CLOUD_SQL_INSTANCE"
    assert "masterInstanceName" not in replica.inputs
    assert "replicationCluster" not in instances[PRIMARY].inputs
    # The former primary is stale: the standby gets the writer, not its own instance.
    standby = plan.outputs["workloads"]["regions"][PRIMARY]["database"]
    assert standby["host"] == replica.outputs["privateIpAddress"]


def test_no_edge_or_dns_without_workflows(plans):
    plan = plans("prod")
    assert of_type(plan, "gcp:dns/recordSet:RecordSet") == []
    assert of_type(plan, "gcp:compute/address:Address") == []


def test_every_component_waits_for_the_projects_apis(plans):
    plan = plans("prod")
    services = {r.urn for r in of_type(plan, "gcp:projects/service:Service")}
    apis = {r.inputs["service"] for r in of_type(plan, "gcp:projects/service:Service")}
    assert {"container.googleapis.com", "sqladmin.googleapis.com", "redis.googleapis.com",
            "servicenetworking.googleapis.com", "cloudkms.googleapis.com"} <= apis
    for service in of_type(plan, "gcp:projects/service:Service"):
        assert service.inputs["disableOnDestroy"] is False
    platform = only(plan, "hastack:gcp:Platform")
    top = [r for r in plan.registrations if r.parent == platform.urn
           and r.type not in ("hastack:gcp:ProjectServices", "pulumi:providers:gcp")]
    assert top
    for registration in top:
        assert services <= set(registration.dependencies), registration.name


def test_outputs_keep_secrets_secret(plans):
    plan = plans("prod")
    assert sorted(plan.output_secrets) == [f"kubeconfig.{PRIMARY}", f"kubeconfig.{SECONDARY}",
                                           "workloadsSecrets"]
    for key in ("database.host", "database.replicaHost", "database.passwordSecretId",
                f"cache.host.{PRIMARY}", "artifacts.bucket", f"clusterEndpoint.{SECONDARY}"):
        assert plan.outputs[key] not in (None, "", "[unknown]"), key
    assert plan.outputs[f"kubeconfig.{PRIMARY}"] == "[secret]"
    assert plan.outputs["workloadsSecrets"] == "[secret]"


def test_labels_carry_the_tier(plans):
    labelled = [r for r in plans("prod").registrations
                if r.type in ("gcp:storage/bucket:Bucket", "gcp:redis/instance:Instance")]
    assert labelled
    for registration in labelled:
        assert registration.inputs["labels"]["hastack-tier"] == "prod"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"dns": {"provider": "route53"}}, "route53 is not supported"),
    ({"cache": {"engine": "valkey"}}, "Memorystore for Redis"),
])
def test_unsupported_choices_are_clear_errors(overrides, message):
    # The config refuses them, naming the key, before any registration.
    with pytest.raises(ConfigError, match=message):
        config_for("dev", **overrides)


def test_an_aws_config_is_refused():
    aws = load_settings({"cloud": "aws", "tier": "dev", "orchestrator": "prefect",
                         "regions": {"primary": "us-east-1"}, "dns": {"domain": "example.com"}},
                        "aws")
    with pytest.raises(ValueError, match="cloud: gcp"):
        GcpPlatform("hastack", aws)


def _stack(name: str) -> dict:
    document = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())
    return {key.removeprefix("hastack:"): value for key, value in document["config"].items()
            if key.startswith("hastack:")}


@pytest.mark.parametrize(("name", "tier", "regions"), [
    ("gcp-prod", "prod", [PRIMARY, SECONDARY]),
    ("gcp-dev", "dev", [PRIMARY]),
])
def test_stack_files_validate_and_plan(name, tier, regions):
    settings = _stack(name)
    assert all(key in settings for key in ("cloud", "tier", "regions", "gcp", "dns"))
    config = load_settings(settings, name)
    # The engine's encoding of the same file (what `pulumi up` hands the program) agrees.
    stack = read_stack(STACKS.parent, name)
    assert load_from_engine_values(stack.engine_config, stack.display_path) == config
    assert (config.cloud, config.tier, config.regions.all) == ("gcp", tier, regions)
    assert config.orchestrator == "prefect"
    plan = plan_platform(config.model_copy(update={
        "workflows": config.workflows.model_copy(update={"enabled": False})}))
    clusters = of_type(plan, "gcp:container/cluster:Cluster")
    assert sorted(c.inputs["location"] for c in clusters) == sorted(regions)


def test_prod_environment_plans_with_the_real_orchestrator(environment_plan):
    """Integration: each gcp-prod workloads stack gets a Prefect server; no password leaks."""
    results = environment_plan("gcp-prod")
    infrastructure, *workloads = results
    assert [len(of_type(w.recording, "hastack:k8s:PrefectServer")) for w in workloads] == [1, 1]
    password = of_type(infrastructure.recording,
                       "random:index/randomPassword:RandomPassword")[0].outputs["result"]
    for result in results:
        assert password not in json.dumps([r.inputs for r in result.recording.registrations])


@pytest.mark.parametrize(("tier", "mode"), [("dev", "DRYRUN_AUDIT_LOG_ONLY"),
                                            ("prod", "ENFORCED_BLOCK_AND_AUDIT_LOG")])
def test_one_binary_authorization_policy_enforced_in_prod_only(plans, tier, mode):
    (policy,) = of_type(plans(tier), "gcp:binaryauthorization/policy:Policy")
    assert policy.inputs["project"] == PROJECT
    rule = policy.inputs["defaultAdmissionRule"]
    assert rule == {"evaluationMode": "ALWAYS_DENY", "enforcementMode": mode}
    assert policy.inputs["globalPolicyEvaluationMode"] == "ENABLE"
    patterns = {p["namePattern"] for p in policy.inputs["admissionWhitelistPatterns"]}
    assert {"docker.io/prefecthq/**", "quay.io/argoproj/**"} <= patterns


@pytest.mark.parametrize("pattern", ["*.gcr.io/x", "gcr.io"])
def test_allowlist_patterns_are_checked(pattern):
    from components.gcp.binauthz import BinaryAuthorizationArgs

    with pytest.raises(ValueError, match="registry/path"):
        BinaryAuthorizationArgs(project=PROJECT, tier="prod",
                                allowed_image_patterns=[pattern]).validate()
