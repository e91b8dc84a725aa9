"""Binary Authorization admits every image the committed GCP plans deploy (prod blocks).

Images come from three places: literal `image` fields in the workloads plans (Jobs,
init containers), the pinned charts' own values (HASTACK_CHART_DATA) merged with the
values the plan passes, and the subcharts of kube-prometheus-stack, whose values are
not in the chart data (their images are listed below with their registries). Each
image must match an allowlist pattern of the environment's policy both as written and
in Docker's normalized form (`postgres` -> `docker.io/library/postgres`), since the
Binary Authorization docs do not say which one it matches.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest

from components.gcp.binauthz import (
    PLATFORM_IMAGE_PATTERNS,
    BinaryAuthorizationArgs,
    docker_hub_patterns,
)
from components.k8s.conformance import load_yaml

POLICY = "gcp:binaryauthorization/policy:Policy"
RELEASE = "kubernetes:helm.sh/v3:Release"
# kube-prometheus-stack 88.5.3 subcharts (Chart.yaml dependencies) and the image each
# enabled one runs, from the subcharts' values.yaml (grafana-community/helm-charts
# charts/grafana, prometheus-community/helm-charts charts/kube-state-metrics and
# charts/prometheus-node-exporter).
SUBCHART_IMAGES = {
    "grafana": ("docker.io/grafana/grafana:12", "quay.io/kiwigrid/k8s-sidecar:2"),
    "kubeStateMetrics": ("registry.k8s.io/kube-state-metrics/kube-state-metrics:v2",),
    "nodeExporter": ("quay.io/prometheus/node-exporter:v1",),
}


def matches(pattern: str, image: str) -> bool:
    """The documented semantics: a trailing `*` stops at `/`, a trailing `**` does not."""
    if pattern.endswith("**"):
        return image.startswith(pattern[:-2])
    if pattern.endswith("*"):
        return re.fullmatch(re.escape(pattern[:-1]) + r"[^/]*", image) is not None
    return image == pattern or image.startswith(pattern + ":") or image.startswith(
        pattern + "@")


def normalized(image: str) -> str:
    """Docker's reading of a reference: no registry means Docker Hub, one part `library/`."""
    first, _, rest = image.partition("/")
    if not rest:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return copy.deepcopy(over) if over is not None else base


def _chart_images(node: Any, default_tag: str) -> list[str]:
    """Images a chart's (merged) values name, skipping subtrees with `enabled: false`."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("enabled") is False:
            return found
        repository = node.get("repository")
        if isinstance(repository, str) and repository and "{{" not in repository:
            registry = node.get("registry") or ""
            tag = node.get("tag") or node.get("prefectTag") or default_tag
            found.append(f"{registry}/{repository}:{tag}" if registry else f"{repository}:{tag}")
        for value in node.values():
            found += _chart_images(value, default_tag)
    elif isinstance(node, list):
        for value in node:
            found += _chart_images(value, default_tag)
    return found


def _literal_images(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "image" and isinstance(v, str)] + [
            i for v in node.values() for i in _literal_images(v)]
    if isinstance(node, list):
        return [i for v in node for i in _literal_images(v)]
    return []


def _deployed_images(plan: dict[str, Any], charts: Path) -> set[str]:
    images = set(_literal_images([r["inputs"] for r in plan["resources"]]))
    for release in (r for r in plan["resources"] if r["type"] == RELEASE):
        inputs = release["inputs"]
        chart_dir = charts / inputs["chart"] / inputs["version"]
        defaults = load_yaml((chart_dir / "values.yaml").read_text())
        app = load_yaml((chart_dir / "Chart.yaml").read_text()).get("appVersion", "")
        values = _merge(defaults, inputs.get("values") or {})
        images.update(_chart_images(values, str(app)))
        if inputs["chart"] == "kube-prometheus-stack":
            for switch, subchart in SUBCHART_IMAGES.items():
                if (values.get(switch) or {}).get("enabled", True):
                    images.update(subchart)
    return images


@pytest.mark.parametrize("env", ["gcp-dev", "gcp-prod"])
def test_every_deployed_image_is_allowlisted(env: str, environment_plan: Any) -> None:
    charts = Path(os.environ.get("HASTACK_CHART_DATA", "../shared/charts"))
    if not charts.is_dir():
        pytest.skip(f"chart data not found at {charts}: set HASTACK_CHART_DATA "
                    "(the images the charts run cannot be listed without it)")
    infrastructure, *workloads = environment_plan(env)
    (policy,) = [r for r in infrastructure.plan["resources"] if r["type"] == POLICY]
    patterns = [p["namePattern"] for p in policy["inputs"]["admissionWhitelistPatterns"]]
    images = set().union(*(_deployed_images(w.plan, charts) for w in workloads))
    assert {"docker.io/library/postgres:16.6-alpine", "prefecthq/prefect:3.8.3"} <= images
    assert len(images) >= 10, sorted(images)
    refused = sorted(
        image for image in images
        for form in {image, normalized(image)} if "/" in form
        if not any(matches(pattern, form) for pattern in patterns))
    assert not refused, f"{env}: Binary Authorization would refuse {refused}"


def test_the_matcher_follows_the_documented_wildcards() -> None:
    # The API reference's own examples: gcr.io/nginx* matches gcr.io/nginx@latest but
    # not gcr.io/nginx/image; gcr.io/nginx** matches gcr.io/nginx/image.
    assert matches("gcr.io/nginx*", "gcr.io/nginx@latest")
    assert not matches("gcr.io/nginx*", "gcr.io/nginx/image")
    assert matches("gcr.io/nginx**", "gcr.io/nginx/image")
    assert normalized("postgres:16") == "docker.io/library/postgres:16"
    assert normalized("prefecthq/prefect:3") == "docker.io/prefecthq/prefect:3"
    assert normalized("quay.io/argoproj/cli:v4") == "quay.io/argoproj/cli:v4"


def test_docker_hub_images_are_allowed_in_every_spelling() -> None:
    for image in ("prefecthq/prefect:3.8.3", "docker.io/prefecthq/prefect:3.8.3",
                  "index.docker.io/prefecthq/prefect:3.8.3"):
        assert any(matches(p, image) for p in PLATFORM_IMAGE_PATTERNS), image
    assert set(docker_hub_patterns("library/postgres*")) == {
        "docker.io/library/postgres*", "index.docker.io/library/postgres*"}
    # Someone else's Docker Hub images stay out.
    assert not any(matches(p, "docker.io/evil/prefect:1") for p in PLATFORM_IMAGE_PATTERNS)
    assert not any(matches(p, "docker.io/library/busybox:1") for p in PLATFORM_IMAGE_PATTERNS)
    BinaryAuthorizationArgs(project="p", tier="prod",
                            allowed_image_patterns=PLATFORM_IMAGE_PATTERNS).validate()
