"""The values every recorded Helm Release receives conform to the pinned chart's own data.

Needs the chart data directory (see components/k8s/conformance.py). Without it the
tests that need it SKIP with a message saying how to provide it; they never pass
silently.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.k8s import conformance
from components.k8s.charts import ALL_CHARTS, ARGO_WORKFLOWS
from components.k8s.conformance import (
    DOCUMENTED_MAPS,
    FREE_FORM,
    ChartDataMissing,
    check_registrations,
    check_values,
    release_values,
)
from hastack.plan.runner import Recording
from tests.support import argo_schema

Recorder = Callable[..., Recording]

PLANS = [
    (orchestrator, cloud, role, tier)
    for orchestrator in ("prefect", "argo")
    for cloud in ("aws", "gcp")
    for role in ("primary", "standby")
    for tier in ("dev", "prod")
]


@pytest.fixture(scope="module")
def chart_root() -> Path:
    try:
        root = conformance.chart_data_dir()
        for chart in ALL_CHARTS:
            conformance.load_chart(chart, root)
    except ChartDataMissing as missing:
        pytest.skip(f"CHART CONFORMANCE NOT CHECKED: {missing}")
    return root


def values_for(recording: Recording, chart: str) -> dict[str, Any]:
    (found,) = [rv for rv in release_values(recording.registrations) if rv.chart == chart]
    return copy.deepcopy(found.values)


@pytest.mark.parametrize(("orchestrator", "cloud", "role", "tier"), PLANS)
def test_recorded_release_values_conform(recorder: Recorder, chart_root: Path,
                                         orchestrator: str, cloud: str, role: str,
                                         tier: str) -> None:
    recording = recorder(orchestrator, cloud=cloud, role=role, tier=tier)
    charts_seen = sorted(rv.chart for rv in release_values(recording.registrations))
    assert charts_seen == (["prefect-server", "prefect-worker"] if orchestrator == "prefect"
                           else ["argo-workflows"])
    violations = check_registrations(recording.registrations, chart_root)
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.parametrize(("cloud", "role", "tier"), [
    (cloud, role, tier) for cloud in ("aws", "gcp") for role in ("primary", "standby")
    for tier in ("dev", "prod")])
def test_argo_app_level_values_conform_to_argo_v4(recorder: Recorder, cloud: str, role: str,
                                                  tier: str) -> None:
    # workflowDefaults and the artifact repository are copied into the controller's
    # ConfigMap: the chart cannot check them, Argo's own schema can.
    values = values_for(recorder("argo", cloud=cloud, role=role, tier=tier), "argo-workflows")
    argo_schema.validate("Workflow", {"apiVersion": "argoproj.io/v1alpha1",
                                      "kind": "Workflow", "metadata": {},
                                      **values["controller"]["workflowDefaults"]})
    repository = values["artifactRepository"]
    argo_schema.validate("ArtifactRepository", repository)
    spec = copy.deepcopy(values["controller"]["workflowDefaults"]["spec"])
    spec["retryStrategy"]["backof"] = spec["retryStrategy"].pop("backoff")
    with pytest.raises(jsonschema.ValidationError, match="backof"):
        argo_schema.validate("WorkflowSpec", spec)


@pytest.mark.parametrize(("chart", "path"), [
    ("prefect-server", ("server", "basicAuth", "enabeld")),
    ("prefect-worker", ("worker", "selfHostedServerApiConfig", "basicAuth", "existingSecrt")),
    ("prefect-worker", ("worker", "extraEnvVar")),
    ("argo-workflows", ("artifactRepository", "s3", "keyFormt")),
])
def test_misspelt_new_keys_are_caught(recorder: Recorder, chart_root: Path, chart: str,
                                      path: tuple[str, ...]) -> None:
    values = values_for(recorder("argo" if chart.startswith("argo") else "prefect"), chart)
    node = values
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = True
    assert ".".join(path) in {v.path for v in check_values(chart, values, chart_root)}


def test_misspelt_argo_key_is_caught(recorder: Recorder, chart_root: Path) -> None:
    values = values_for(recorder("argo"), "argo-workflows")
    values["controller"]["replica"] = values["controller"].pop("replicas")
    assert [v.path for v in check_values("argo-workflows", values, chart_root)] == [
        "controller.replica"]


def test_misspelt_key_under_a_documented_map_is_caught(recorder: Recorder,
                                                      chart_root: Path) -> None:
    values = values_for(recorder("argo"), "argo-workflows")
    pg = values["controller"]["persistence"]["postgresql"]
    pg["sslmode"] = pg.pop("sslMode")
    values["artifactRepository"]["s3"]["useSdkCreds"] = True
    paths = {v.path for v in check_values("argo-workflows", values, chart_root)}
    assert paths == {"controller.persistence.postgresql.sslmode",
                     "artifactRepository.s3.useSdkCreds"}


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda v: v["server"].__setitem__("replicaCount", "3"), "server.replicaCount"),
    (lambda v: v["server"].__setitem__("topologySpreadConstraints", []), "server"),
    (lambda v: v["backgroundServices"].__setitem__("replicaCount", 0),
     "backgroundServices.replicaCount"),
    (lambda v: v["server"]["resources"]["limits"].__setitem__("cpu", 2),
     "server.resources.limits.cpu"),
])
def test_prefect_schema_violation_is_caught(recorder: Recorder, chart_root: Path,
                                            mutate: Callable[[dict[str, Any]], None],
                                            where: str) -> None:
    values = values_for(recorder("prefect"), "prefect-server")
    mutate(values)
    violations = conformance.check_schema("prefect-server", values,
                                          conformance.load_chart(ALL_CHARTS[0], chart_root))
    assert [v.path for v in violations] == [where]


def test_prefect_worker_enum_violation_is_caught(recorder: Recorder, chart_root: Path) -> None:
    values = values_for(recorder("prefect"), "prefect-worker")
    values["worker"]["apiConfig"] = "selfHosted"
    violations = check_values("prefect-worker", values, chart_root)
    assert [v.path for v in violations] == ["worker.apiConfig"]
    assert "is not one of" in violations[0].message


def test_documented_map_keys_appear_in_the_chart_comments(chart_root: Path) -> None:
    # The allow-list for `{}` maps must come from the chart, not from memory.
    def keys(spec: dict[str, Any]) -> set[str]:
        found = set(spec)
        for child in spec.values():
            if isinstance(child, dict):
                found |= keys(child)
        return found

    for chart_name, maps in DOCUMENTED_MAPS.items():
        chart = next(c for c in ALL_CHARTS if c.name == chart_name)
        text = conformance.load_chart(chart, chart_root).values_text
        for root, spec in maps.items():
            missing = [k for k in sorted(keys(spec))
                       if not conformance.documented_key_in_comments(text, k)]
            assert not missing, f"{chart_name} {root}: {missing} not in values.yaml"


def test_free_form_patterns_exist_in_the_chart_defaults(chart_root: Path) -> None:
    def resolves(node: Any, segments: list[str]) -> bool:
        if not segments:
            return True
        if not isinstance(node, dict):
            return False
        head, *rest = segments
        children = node.values() if head == "*" else ([node[head]] if head in node else [])
        return any(resolves(child, rest) for child in children)

    for chart_name, patterns in FREE_FORM.items():
        chart = next(c for c in ALL_CHARTS if c.name == chart_name)
        defaults = conformance.load_chart(chart, chart_root).defaults
        stale = [p for p in patterns if not resolves(defaults, p.split("."))]
        assert not stale, f"{chart_name}: free-form patterns not in values.yaml: {stale}"


def test_pinned_argo_version_matches_the_chart_data(chart_root: Path) -> None:
    chart_yaml = yaml.safe_load((chart_root / ARGO_WORKFLOWS.data_path / "Chart.yaml")
                                .read_text())
    assert chart_yaml["version"] == ARGO_WORKFLOWS.version


def test_wrong_chart_version_is_caught(recorder: Recorder, chart_root: Path) -> None:
    recording = recorder("argo")
    registrations = copy.deepcopy(recording.registrations)
    for registration in registrations:
        if registration.type == conformance.RELEASE_TYPE:
            registration.inputs["version"] = "0.45.0"
    assert [v.path for v in check_registrations(registrations, chart_root)] == ["version"]


def test_cli_reports_violations(tmp_path: Path, chart_root: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(conformance.ENV_VAR, str(chart_root))
    bad = tmp_path / "values.yaml"
    bad.write_text(yaml.safe_dump({"controller": {"replica": 2, "pdb": {"enabled": True}}}))
    assert conformance.main(["argo-workflows", str(bad)]) == 1
    assert "controller.replica" in capsys.readouterr().out
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"controller": {"replicas": 2}}))
    assert conformance.main(["argo-workflows", str(good)]) == 0


# --- no chart data needed ----------------------------------------------------------------


def test_missing_chart_data_says_how_to_provide_it(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(conformance.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(ChartDataMissing, match=conformance.ENV_VAR):
        conformance.chart_data_dir()
    assert conformance.main(["argo-workflows", str(tmp_path / "v.yaml")]) == 2


def test_coalesce_merges_like_helm() -> None:
    merged = conformance.coalesce({"a": {"b": 1, "c": 2}, "d": [1], "e": 1},
                                  {"a": {"c": 3}, "d": [2], "e": None})
    assert merged == {"a": {"b": 1, "c": 3}, "d": [2]}


def test_key_check_uses_free_form_and_documented_maps() -> None:
    defaults = {"controller": {"podAnnotations": {}, "persistence": {}, "replicas": 1}}
    values = {"controller": {"podAnnotations": {"any/key": "x"}, "replicas": 2,
                             "persistence": {"archive": True, "archiv": True}}}
    assert [v.path for v in conformance.check_keys("argo-workflows", values, defaults)] == [
        "controller.persistence.archiv"]


# --- cluster add-ons -----------------------------------------------------------------------

ADDON_CHARTS = ("aws-load-balancer-controller", "karpenter", "metrics-server",
                "kube-prometheus-stack", "prometheus-prefect-exporter")


@pytest.fixture(scope="module")
def addon_recording() -> Recording:
    from tests.addons.conftest import record_install

    return record_install(gpu=True)


def test_add_on_release_values_conform(addon_recording: Recording, chart_root: Path) -> None:
    charts_seen = sorted(rv.chart.rsplit("/", 1)[-1]
                         for rv in release_values(addon_recording.registrations))
    assert charts_seen == sorted(ADDON_CHARTS)
    violations = check_registrations(addon_recording.registrations, chart_root)
    assert not violations, "\n".join(map(str, violations))


def test_every_stack_plans_conforming_add_on_values(chart_root: Path) -> None:
    from tests.addons.conftest import AWS_STACKS, environment

    for stack in AWS_STACKS:
        registrations = [_GoldenRelease(r) for r in environment(stack)["resources"]]
        violations = check_registrations(registrations, chart_root)
        assert not violations, f"{stack}: " + "\n".join(map(str, violations))


class _GoldenRelease:
    """A plan JSON resource with the two attributes `release_values` reads."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.type, self.name, self.inputs = resource["type"], resource["name"], resource["inputs"]


def _addon_values(recording: Recording, chart: str) -> dict[str, Any]:
    (found,) = [rv for rv in release_values(recording.registrations)
                if rv.chart.rsplit("/", 1)[-1] == chart]
    return copy.deepcopy(found.values)


@pytest.mark.parametrize(("chart", "mutate", "where"), [
    ("aws-load-balancer-controller",
     lambda v: v.__setitem__("replicas", v.pop("replicaCount")), "replicas"),
    ("aws-load-balancer-controller",
     lambda v: v.__setitem__("keepTlsSecret", v.pop("keepTLSSecret")), "keepTlsSecret"),
    ("aws-load-balancer-controller",
     lambda v: v["podDisruptionBudget"].__setitem__("maxUnavailble", 1),
     "podDisruptionBudget.maxUnavailble"),
    ("metrics-server",
     lambda v: v.__setitem__("replicaCount", v.pop("replicas")), "replicaCount"),
    ("metrics-server",
     lambda v: v["podDisruptionBudget"].__setitem__("enable", True), "podDisruptionBudget.enable"),
    ("metrics-server",
     lambda v: v["updateStrategy"]["rollingUpdate"].__setitem__("maxSurges", 0),
     "updateStrategy.rollingUpdate.maxSurges"),
    ("karpenter",
     lambda v: v["settings"].__setitem__("interruptionQueueName",
                                         v["settings"].pop("interruptionQueue")),
     "settings.interruptionQueueName"),
    ("karpenter",
     lambda v: v.__setitem__("replicaCount", v.pop("replicas")), "replicaCount"),
])
def test_misspelt_add_on_key_is_caught(addon_recording: Recording, chart_root: Path,
                                       chart: str, mutate: Callable[[dict[str, Any]], None],
                                       where: str) -> None:
    values = _addon_values(addon_recording, chart)
    assert not check_values(chart, values, chart_root)
    mutate(values)
    assert [v.path for v in check_values(chart, values, chart_root)] == [where]


def test_pinned_add_on_versions_match_the_chart_data(chart_root: Path) -> None:
    from components.k8s.charts import chart_by_name

    for chart in ADDON_CHARTS:
        ref = chart_by_name(chart)
        chart_yaml = yaml.safe_load((chart_root / ref.data_path / "Chart.yaml").read_text())
        # The exporter's git Chart.yaml says 0.0.0: its release workflow stamps the version
        # at packaging time (shared/charts/README.md), so the data dir name is the evidence.
        expected = "0.0.0" if chart == "prometheus-prefect-exporter" else ref.version
        assert chart_yaml["version"] == expected, chart
