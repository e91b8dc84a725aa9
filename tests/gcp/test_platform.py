"""GcpPlatform: providers per region, enabled flags, orchestrator wiring, outputs, stack files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.gcp.platform import GcpPlatform
from hastack.config import load_from_engine_values, load_settings
from hastack.plan.runner import run_program
from hastack.plan.stackfile import read_stack
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    config_for,
    of_type,
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


def test_orchestrators_get_roles_and_the_region_local_endpoints(fake_orchestrator):
    platforms: list[GcpPlatform] = []
    config = config_for("prod", workflows={"enabled": True})
    run(lambda: platforms.append(GcpPlatform("hastack", config)))
    platform = platforms[0]
    wirings = {w.region: w for w in fake_orchestrator.wirings}
    assert {r: w.role for r, w in wirings.items()} == {PRIMARY: "primary", SECONDARY: "standby"}
    assert platform.database is not None
    assert wirings[PRIMARY].database is platform.database.endpoint
    # The standby reads the replica, which keeps its address when promoted.
    assert wirings[SECONDARY].database is platform.database.replica_endpoint
    for region, wiring in wirings.items():
        assert wiring.cache is platform.caches[region].endpoint
        assert wiring.kubernetes_provider is platform.clusters[region].kubernetes_provider
        assert wiring.artifacts.cloud == "gcp" and wiring.artifacts.gcp_project == PROJECT
        assert wiring.public_hostname == "workflows.example.com"
    assert wirings[PRIMARY].zones == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert wirings[SECONDARY].zones == ["us-east1-b", "us-east1-c", "us-east1-d"]


def test_no_orchestrator_or_dns_without_workflows(plans, fake_orchestrator):
    plan = plans("prod")
    assert fake_orchestrator.wirings == []
    assert of_type(plan, "gcp:dns/recordSet:RecordSet") == []


def test_outputs_keep_secrets_secret(plans):
    plan = plans("prod")
    assert sorted(plan.output_secrets) == [f"kubeconfig.{PRIMARY}", f"kubeconfig.{SECONDARY}"]
    for key in ("database.host", "database.replicaHost", "database.passwordSecretId",
                f"cache.host.{PRIMARY}", "artifacts.bucket", f"clusterEndpoint.{SECONDARY}"):
        assert plan.outputs[key] not in (None, "", "[unknown]"), key
    assert plan.outputs[f"kubeconfig.{PRIMARY}"] == "[secret]"


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
    with pytest.raises(ValueError, match=message):
        GcpPlatform("hastack", config_for("dev", **overrides))


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


def test_prod_stack_plans_with_the_real_orchestrator():
    """Integration with components.k8s.orchestrator: both regions get a Prefect server."""
    config = load_settings(_stack("gcp-prod"), "gcp-prod")
    assert config.workflows.enabled

    def program() -> None:
        GcpPlatform("hastack", config)

    plan = run_program(program, project="hastack", stack="gcp-prod", config={},
                       default_project=config.gcp.project if config.gcp else None)
    servers = of_type(plan, "hastack:k8s:PrefectServer")
    assert len(servers) == 2
    assert of_type(plan, "gcp:dns/recordSet:RecordSet")
    password = of_type(plan, "random:index/randomPassword:RandomPassword")[0].outputs["result"]
    assert password not in json.dumps([r.inputs for r in plan.registrations])
