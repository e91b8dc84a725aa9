"""Two layers per environment: what each stack holds, and a topology that can flip.

* every stack of every environment plans, infrastructure first, the workloads
  stacks' StackReference answered with the infrastructure plan's outputs;
* a workloads stack holds the Kubernetes objects of exactly one cluster, and no
  cloud cluster/database/cache; the infrastructure stack holds no Kubernetes object;
* flipping `hastack:activeRegion` replaces, removes or moves no stateful resource;
* a standby never points at an inactive writer endpoint.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack.check.environment import check_environment
from hastack.plan.pipeline import PlanResult, plan_environment
from hastack.stacks import environment_stacks, environments
from tests.conftest import REPO

# The committed environments' plans are the session's (tests/conftest.py).

ENVIRONMENTS = ["dev", "gcp-dev", "gcp-prod", "prod", "staging"]
TWO_REGION = ["gcp-prod", "prod", "staging"]

# What counts as state: losing or replacing one of these loses data or identity.
STATEFUL_TYPES = {
    "aws:rds/globalCluster:GlobalCluster", "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret", "aws:eks/cluster:Cluster",
    "gcp:sql/databaseInstance:DatabaseInstance", "gcp:redis/instance:Instance",
    "gcp:storage/bucket:Bucket", "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing",
    "gcp:secretmanager/secret:Secret", "gcp:container/cluster:Cluster",
}
# Inputs that a role change may update in place, by type, with the reason.
ROLE_FIELDS: dict[str, set[str]] = {
    # Cloud SQL (components/gcp/cloudsql.py): backups/PITR and the maintenance window
    # follow the writer (`settings`), the new primary designates the old one as its DR
    # replica (`replicationCluster`, Enterprise Plus). The roles themselves
    # (`instanceType`, `masterInstanceName`, `replicaConfiguration`) may differ only
    # where the resource ignores them: the API swaps them, never `pulumi up`.
    "gcp:sql/databaseInstance:DatabaseInstance": {"settings", "replicationCluster"},
}
# Role inputs that must be in the resource's ignoreChanges whenever they change.
IGNORED_ROLE_FIELDS: dict[str, set[str]] = {
    "gcp:sql/databaseInstance:DatabaseInstance": {"instanceType", "masterInstanceName",
                                                  "replicaConfiguration"},
}
CLUSTER_TYPES = ("aws:eks/", "aws:rds/", "aws:elasticache/", "aws:ec2/vpc:", "gcp:container/",
                 "gcp:sql/", "gcp:redis/", "gcp:compute/network:")


@pytest.fixture(scope="module")
def planned(environment_plan: Callable[[str], list[PlanResult]]
            ) -> dict[str, list[PlanResult]]:
    return {env: environment_plan(env) for env in ENVIRONMENTS}


def _resources(result: PlanResult, prefix: tuple[str, ...] | str = "") -> list[dict[str, Any]]:
    return [r for r in result.plan["resources"] if r["type"].startswith(prefix)]


def test_environments_come_from_the_tree() -> None:
    assert environments(REPO) == ENVIRONMENTS
    assert environment_stacks(REPO, "prod") == ["prod", "prod-us-east-1", "prod-us-west-2"]
    assert environment_stacks(REPO, "dev") == ["dev", "dev-us-east-2"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stack_of_the_environment_plans_with_layer_and_environment(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    results = planned[env]
    assert [r.stack for r in results] == environment_stacks(REPO, env)
    infrastructure, *workloads = results
    assert infrastructure.plan["layer"] == "infrastructure"
    assert infrastructure.plan["environment"] == env
    regions = infrastructure.plan["outputs"]["workloads"]["regions"]
    assert {w.plan["layer"] for w in workloads} == {"workloads"}
    assert {w.plan["environment"] for w in workloads} == {env}
    # One workloads stack per cluster the environment builds.
    assert sorted(w.stack.removeprefix(f"{env}-") for w in workloads) == sorted(regions)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workloads_read_the_infrastructure_through_a_stack_reference(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    for result in planned[env][1:]:
        (reference,) = _resources(result, "pulumi:pulumi:StackReference")
        assert reference["inputs"]["name"] == f"organization/hastack/{env}"
        region = result.stack.removeprefix(f"{env}-")
        # The reference resolved: the role came from the infrastructure's activeRegion.
        expected = planned[env][0].plan["outputs"]["workloads"]["regions"][region]["role"]
        assert result.plan["outputs"]["role"] == ("primary" if expected == "active"
                                                   else "standby")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_workloads_stack_holds_one_cluster_and_no_cloud_infrastructure(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    infrastructure, *workloads = planned[env]
    assert not _resources(infrastructure, "kubernetes:")
    assert not _resources(infrastructure, "pulumi:providers:kubernetes")
    for result in workloads:
        providers = _resources(result, "pulumi:providers:kubernetes")
        assert len(providers) == 1, result.stack
        objects = _resources(result, "kubernetes:")
        assert objects, f"{result.stack} installs nothing"
        assert {o["provider"] for o in objects} == {providers[0]["urn"]}
        assert not _resources(result, CLUSTER_TYPES), result.stack
        region = result.stack.removeprefix(f"{env}-")
        assert {r["region"] for r in result.plan["resources"]} == {region}


def _with_active_region(root: Path, env: str, region: str) -> None:
    path = root / "stacks" / f"Pulumi.{env}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["hastack:activeRegion"] = region
    path.write_text(yaml.safe_dump(document, sort_keys=True))


def _copy_project(root: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "stacks", root / "stacks")


def _stateful(results: list[PlanResult]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for result in results for r in result.plan["resources"]
            if r["type"] in STATEFUL_TYPES}


@pytest.mark.parametrize("env", TWO_REGION)
def test_flipping_the_active_region_replaces_and_moves_nothing_stateful(
        env: str, planned: dict[str, list[PlanResult]], tmp_path: Path) -> None:
    committed = planned[env]
    secondary = committed[0].plan["regions"]["secondary"]
    _copy_project(tmp_path)
    _with_active_region(tmp_path, env, secondary)
    flipped = plan_environment(tmp_path, env, tmp_path / "out")

    before, after = _stateful(committed), _stateful(flipped)
    assert before, "no stateful resources found"
    # Same URNs (nothing removed, added or moved to another parent), same providers.
    assert sorted(after) == sorted(before)
    for urn, old in before.items():
        new = after[urn]
        assert (new["provider"], new["parent"], new["protect"]) == (
            old["provider"], old["parent"], old["protect"]), urn
        ignored = IGNORED_ROLE_FIELDS.get(old["type"], set())
        # A role field may change only where both plans ignore it (no replacement,
        # no provider-driven switchover; the API did the swap).
        allowed = ROLE_FIELDS.get(old["type"], set()) | (
            ignored & set(old["ignoreChanges"]) & set(new["ignoreChanges"]))
        changed = {key for key in set(old["inputs"]) | set(new["inputs"])
                   if old["inputs"].get(key) != new["inputs"].get(key)}
        assert changed <= allowed, f"{urn}: {sorted(changed - allowed)} changed"
    # ... but the roles did flip.
    roles = flipped[0].plan["outputs"]["workloads"]["regions"]
    assert roles[secondary]["role"] == "active"
    by_stack = {r.stack: r for r in flipped}
    assert by_stack[f"{env}-{secondary}"].plan["outputs"]["role"] == "primary"
    if env == "gcp-prod":
        _assert_cloud_sql_roles_swapped(before, after, committed[0].plan["regions"])


def _assert_cloud_sql_roles_swapped(before: dict[str, dict[str, Any]],
                                    after: dict[str, dict[str, Any]],
                                    regions: dict[str, str]) -> None:
    """gcp-prod (Enterprise Plus, Advanced DR): the DR pair's roles are reversed."""
    def by_region(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {r["inputs"]["region"]: r["inputs"] for r in resources.values()
                if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance"}

    old, new = by_region(before), by_region(after)
    home, other = regions["primary"], regions["secondary"]
    project = old[home]["project"]
    assert old[home]["settings"]["edition"] == "ENTERPRISE_PLUS"
    assert (old[home]["instanceType"], old[other]["instanceType"]) == (
        "CLOUD_SQL_INSTANCE", "READ_REPLICA_INSTANCE")
    assert (new[home]["instanceType"], new[other]["instanceType"]) == (
        "READ_REPLICA_INSTANCE", "CLOUD_SQL_INSTANCE")
    assert old[other]["masterInstanceName"] == old[home]["name"]
    assert new[home]["masterInstanceName"] == new[other]["name"]
    assert "masterInstanceName" not in new[other]
    assert new[other]["replicationCluster"]["failoverDrReplicaName"] == (
        f"{project}:{new[home]['name']}")
    assert new[home]["replicationCluster"]["failoverDrReplicaName"] == ""
    assert new[other]["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert new[home]["settings"]["backupConfiguration"]["enabled"] is False


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_the_aws_standby_never_points_at_an_inactive_writer(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    infrastructure = planned[env][0]
    regions = infrastructure.plan["outputs"]["workloads"]["regions"]
    recording = infrastructure.recording
    orchestrator = infrastructure.environment.orchestrator
    assert orchestrator == {"prod": "prefect", "staging": "argo"}[env]  # both cases covered
    (global_cluster,) = recording.of_type("aws:rds/globalCluster:GlobalCluster")
    clusters = {r.inputs["clusterIdentifier"]: r.outputs
                for r in recording.of_type("aws:rds/cluster:Cluster")}
    for region, facts in regions.items():
        host = facts["database"]["host"]
        own = next(c for ident, c in clusters.items() if ident.endswith(region))
        assert host != own["endpoint"] or facts["role"] == "active", \
            "the secondary's writer endpoint is inactive"
        # Both orchestrators, both roles: the global writer endpoint follows a
        # switchover or failover, so the standby's pods (none run until ARC scales
        # them) write as soon as ARC has started them.
        assert host == global_cluster.outputs["endpoint"]
        assert host != own["readerEndpoint"]


def test_the_gcp_standby_reads_the_replica(planned: dict[str, list[PlanResult]]) -> None:
    infrastructure = planned["gcp-prod"][0]
    regions = infrastructure.plan["outputs"]["workloads"]["regions"]
    instances = {r.inputs["region"]: r for r in
                 infrastructure.recording.of_type("gcp:sql/databaseInstance:DatabaseInstance")}
    for region, facts in regions.items():
        instance = instances[region]
        assert facts["database"]["host"] == instance.outputs["privateIpAddress"]
        replica = bool(instance.inputs.get("masterInstanceName"))
        assert replica == (facts["role"] == "standby")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_rules_pass_for_every_committed_environment(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    assert check_environment([r.plan for r in planned[env]]) == []


def test_a_missing_workloads_stack_or_a_second_active_region_fails_the_environment(
        planned: dict[str, list[PlanResult]]) -> None:
    plans = [copy.deepcopy(r.plan) for r in planned["prod"]]
    without_standby = [p for p in plans if p["stack"] != "prod-us-west-2"]
    (finding,) = check_environment(without_standby)
    assert finding.rule == "environment-workloads-per-region"
    assert "stacks/Pulumi.prod-us-west-2.yaml" in finding.message
    standby = next(p for p in plans if p["stack"] == "prod-us-west-2")
    standby["outputs"]["role"] = "primary"
    (finding,) = check_environment(plans)
    assert finding.rule == "environment-one-active-region"
    assert "us-east-1" in finding.message and "us-west-2" in finding.message


def _rendered_deployments(result: PlanResult) -> dict[str, int]:
    """Deployment name -> replicas, as the workloads plan renders them.

    Our own Deployments directly; the charts' by their templates' names (the same
    derivation as hastack/failover/deployments.py) and the counts in their values.
    """
    found = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]["replicas"]
             for r in _resources(result, "kubernetes:apps/v1:Deployment")}
    for release in _resources(result, "kubernetes:helm.sh/v3:Release"):
        values = release["inputs"].get("values") or {}
        name = values.get("fullnameOverride") or release["inputs"]["name"]
        chart = release["inputs"]["chart"]
        if chart == "prefect-server":
            found[name] = values["server"]["replicaCount"]
            background = values["backgroundServices"]
            if background["runAsSeparateDeployment"]:
                found[f"{name}-background-services"] = background["replicaCount"]
        elif chart == "prefect-worker":
            found[name] = values["worker"]["replicaCount"]
        elif chart == "argo-workflows":
            found[f"{name}-server"] = values["server"]["replicas"]
            found[f"{name}-workflow-controller"] = values["controller"]["replicas"]
    return found


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_the_region_switch_plan_scales_every_standby_deployment_and_no_other(
        env: str, planned: dict[str, list[PlanResult]]) -> None:
    infrastructure, *workloads = planned[env]
    (arc,) = _resources(infrastructure, "aws:arcregionswitch/plan:Plan")
    roles = {region: facts["role"] for region, facts in
             infrastructure.plan["outputs"]["workloads"]["regions"].items()}
    rendered = {result.stack.removeprefix(f"{env}-"): _rendered_deployments(result)
                for result in workloads}
    for workflow in arc["inputs"]["workflows"]:
        (scaling,) = [s for s in workflow["steps"]
                      if s["executionBlockType"] == "EKSResourceScaling"]
        listed: dict[str, set[str]] = {region: set() for region in roles}
        for application in scaling["eksResourceScalingConfigs"][0]["scalingResources"]:
            for resource in application["resources"]:
                listed[resource["resourceName"]].add(resource["name"])
        for region, names in listed.items():
            # Every name ARC scales exists in that region's cluster ...
            assert names <= set(rendered[region]), (region, names - set(rendered[region]))
            if roles[region] == "standby":
                # ... and the standby runs nothing before promotion: each Deployment
                # it has is at zero and listed, so ARC starts all of them.
                assert {n: rendered[region][n] for n in names} == dict.fromkeys(names, 0)
                assert names == set(rendered[region]), set(rendered[region]) - names
