"""GkeCluster: regional, private, Workload Identity, shielded, Dataplane V2, CMEK secrets."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.gcp.gke import NODE_ROLES, GkeClusterArgs, render_kubeconfig, service_account_id
from tests.gcp.conftest import (
    PRIMARY,
    PROJECT,
    SECONDARY,
    key_location,
    of_type,
    provider_region,
)

CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"


@pytest.mark.parametrize(("tier", "regions", "zones"), [
    ("dev", [PRIMARY], 2),
    ("prod", [PRIMARY, SECONDARY], 3),
])
def test_one_regional_cluster_per_region_spread_over_the_tier_zones(plans, tier, regions, zones):
    plan = plans(tier)
    clusters = of_type(plan, CLUSTER)
    assert sorted(c.inputs["location"] for c in clusters) == sorted(regions)
    for cluster in clusters:
        region = cluster.inputs["location"]
        assert provider_region(plan, cluster) == region
        locations = cluster.inputs["nodeLocations"]
        assert len(locations) == len(set(locations)) == zones
        assert all(zone.startswith(f"{region}-") for zone in locations)
        assert cluster.inputs["removeDefaultNodePool"] is True
        assert cluster.inputs["initialNodeCount"] == 1


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_private_nodes_and_private_endpoint_without_operator_cidrs(plans, tier):
    for cluster in of_type(plans(tier), CLUSTER):
        private = cluster.inputs["privateClusterConfig"]
        assert private["enablePrivateNodes"] is True
        assert private["enablePrivateEndpoint"] is True
        networks = cluster.inputs["masterAuthorizedNetworksConfig"]
        assert networks.get("cidrBlocks", []) == []
        assert networks["gcpPublicCidrsAccessEnabled"] is False


def test_operator_cidrs_open_only_the_listed_networks(plans):
    plan = plans("prod", kubernetes={"apiAccess": "allowlist",
                                      "apiAllowlist": ["203.0.113.0/24"]})
    for cluster in of_type(plan, CLUSTER):
        assert cluster.inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
        blocks = cluster.inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]
        assert [b["cidrBlock"] for b in blocks] == ["203.0.113.0/24"]


def _args(**changes) -> GkeClusterArgs:
    base = GkeClusterArgs(name="hastack", region=PRIMARY, tier="prod", project=PROJECT,
                          network="net", subnetwork="sub",
                          zones=[f"{PRIMARY}-a", f"{PRIMARY}-b", f"{PRIMARY}-c"],
                          control_plane_cidr="10.10.224.0/28")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"authorized_cidrs": ["0.0.0.0/0"]}, "never opens the Kubernetes API"),
    ({"zones": [f"{PRIMARY}-a", f"{PRIMARY}-b"]}, ">= 3 zones"),
    ({"zones": ["us-east1-b", "us-east1-c", "us-east1-d"]}, "not in region"),
    ({"name": "a-very-long-platform-name-indeed"}, "longer than 40"),
    ({"nodes_min": 5, "nodes_max": 3}, "nodes_min"),
    ({"control_plane_cidr": "10.10.224.0/24"}, "/28"),
])
def test_invalid_cluster_args_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        _args(**changes).validate()


def test_dev_may_open_the_api_but_prod_may_not():
    _args(tier="dev", zones=[f"{PRIMARY}-a", f"{PRIMARY}-b"],
          authorized_cidrs=["0.0.0.0/0"]).validate()


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_workload_identity_and_gke_metadata(plans, tier):
    plan = plans(tier)
    for cluster in of_type(plan, CLUSTER):
        assert cluster.inputs["workloadIdentityConfig"]["workloadPool"] == f"{PROJECT}.svc.id.goog"
    for pool in of_type(plan, POOL):
        assert pool.inputs["nodeConfig"]["workloadMetadataConfig"]["mode"] == "GKE_METADATA"


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_shielded_nodes_release_channel_dataplane_v2(plans, tier):
    plan = plans(tier)
    for cluster in of_type(plan, CLUSTER):
        assert cluster.inputs["enableShieldedNodes"] is True
        assert cluster.inputs["releaseChannel"]["channel"] == "REGULAR"
        assert cluster.inputs["datapathProvider"] == "ADVANCED_DATAPATH"
        window = cluster.inputs["maintenancePolicy"]["recurringWindow"]
        assert window["recurrence"].startswith("FREQ=WEEKLY")
    for pool in of_type(plan, POOL):
        shielded = pool.inputs["nodeConfig"]["shieldedInstanceConfig"]
        assert shielded == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_secrets_encrypted_with_a_key_in_the_clusters_own_region(plans, tier):
    plan = plans(tier)
    grants = {g.urn: g for g in of_type(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    for cluster in of_type(plan, CLUSTER):
        encryption = cluster.inputs["databaseEncryption"]
        assert encryption["state"] == "ENCRYPTED"
        assert key_location(encryption["keyName"]) == cluster.inputs["location"]
        # The cluster waits for GKE's service agent to be allowed to use the key.
        agent_grants = [grants[d] for d in cluster.dependencies if d in grants]
        assert [g.inputs["member"] for g in agent_grants] == [
            "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com"]
        assert agent_grants[0].inputs["cryptoKeyId"] == encryption["keyName"]


def test_keys_rotate(plans):
    for key in of_type(plans("prod"), "gcp:kms/cryptoKey:CryptoKey"):
        assert key.inputs["rotationPeriod"] == f"{90 * 24 * 3600}s"
        assert key.protect is True


@pytest.mark.parametrize(("tier", "protected"), [("dev", False), ("prod", True)])
def test_deletion_protection_in_prod_only(plans, tier, protected):
    for cluster in of_type(plans(tier), CLUSTER):
        assert cluster.inputs["deletionProtection"] is protected


def test_node_pool_autoscaling_and_safe_upgrades(plans):
    plan = plans("prod")
    for pool in of_type(plan, POOL):
        assert pool.inputs["autoscaling"]["totalMinNodeCount"] == 3
        assert pool.inputs["autoscaling"]["totalMaxNodeCount"] == 12
        assert pool.inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert pool.inputs["upgradeSettings"]["maxUnavailable"] == 0
        assert pool.inputs["upgradeSettings"]["maxSurge"] >= 1
        assert pool.inputs["nodeConfig"]["machineType"] == "n2-standard-8"
        assert "initialNodeCount" in pool.ignore_changes


def test_nodes_run_as_a_dedicated_least_privilege_account(plans):
    plan = plans("prod")
    accounts = {a.outputs["email"] for a in of_type(plan, "gcp:serviceaccount/account:Account")}
    assert len(accounts) == 2
    for pool in of_type(plan, POOL):
        account = pool.inputs["nodeConfig"]["serviceAccount"]
        assert account in accounts and "compute@developer" not in account
    roles = sorted(m.inputs["role"] for m in of_type(plan, "gcp:projects/iAMMember:IAMMember"))
    assert roles == sorted(list(NODE_ROLES) * 2)


def test_kubeconfig_is_secret_and_uses_the_gke_auth_plugin(plans):
    plan = plans("prod")
    for provider in of_type(plan, "pulumi:providers:kubernetes"):
        assert "kubeconfig" in provider.secret_inputs
    assert f"kubeconfig.{PRIMARY}" in plan.output_secrets
    rendered = json.loads(render_kubeconfig("c", "10.0.0.2", "Q0E="))
    user = rendered["users"][0]["user"]
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "token" not in user and "client-key-data" not in user
    assert rendered["clusters"][0]["cluster"]["server"] == "https://10.0.0.2"


def test_service_account_ids_stay_unique_when_truncated():
    first = service_account_id("gke-platform-northamerica-northeast1")
    second = service_account_id("gke-platform-northamerica-northeast2")
    assert first != second and len(first) <= 30 and len(second) <= 30


def test_no_gpu_pool_unless_switched_on(plans):
    pools = [p.inputs["name"] for p in of_type(plans("prod"), POOL)]
    assert not [name for name in pools if name.endswith("-gpu")]


def test_gpu_switch_adds_a_tainted_pool_from_zero_with_gke_drivers(plans):
    plan = plans("dev", kubernetes={"gpu": {"enabled": True, "maxNodes": 3}})
    (gpu,) = [p for p in of_type(plan, POOL) if p.inputs["name"].endswith("-gpu")]
    assert gpu.inputs["autoscaling"]["totalMinNodeCount"] == 0
    assert gpu.inputs["autoscaling"]["totalMaxNodeCount"] == 3
    config = gpu.inputs["nodeConfig"]
    assert config["taints"] == [{"key": "nvidia.com/gpu", "value": "present",
                                 "effect": "NO_SCHEDULE"}]
    (accelerator,) = config["guestAccelerators"]
    assert accelerator["type"] == "nvidia-l4" and accelerator["count"] == 1
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "DEFAULT"}
    # The same hardening as the general pool.
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert config["shieldedInstanceConfig"]["enableSecureBoot"] is True


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_binary_authorization_and_intranode_visibility(plans, tier):
    for cluster in of_type(plans(tier), CLUSTER):
        assert cluster.inputs["enableIntranodeVisibility"] is True
        assert cluster.inputs["binaryAuthorization"] == {
            "evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
