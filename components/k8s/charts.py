"""The Helm charts the orchestrator releases install, pinned in one place.

Why pinned: `values.schema.json` and the default `values.yaml` of exactly these
versions are what `conformance.py` checks our values against (the chart data
lives outside the repository, see `chart_data_dir`). Bumping a version here
without refreshing that data makes the conformance tests fail loudly.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFECT_HELM_REPO = "https://prefecthq.github.io/prefect-helm"
ARGO_HELM_REPO = "https://argoproj.github.io/argo-helm"

# Prefect application version the server chart runs. The chart's default tag
# (`3-latest`) fails to render once background services run as a separate
# deployment, which multi-replica Redis messaging requires; X.Y.Z is mandatory.
PREFECT_VERSION = "3.8.3"
PREFECT_SERVER_IMAGE_TAG = PREFECT_VERSION
# The worker image flavour that contains the Kubernetes worker type, pinned to the
# same Prefect release as the server (clients newer than the server can break).
PREFECT_WORKER_IMAGE_TAG = f"{PREFECT_VERSION}-python3.11-kubernetes"


@dataclass(frozen=True)
class ChartRef:
    """One chart at one version from one repository."""

    name: str
    version: str
    repo: str

    @property
    def data_path(self) -> str:
        """Where this chart's data files sit inside the chart-data directory."""
        return f"{self.name}/{self.version}"


PREFECT_SERVER = ChartRef("prefect-server", "2026.8.18172642", PREFECT_HELM_REPO)
PREFECT_WORKER = ChartRef("prefect-worker", "2026.8.18172642", PREFECT_HELM_REPO)
ARGO_WORKFLOWS = ChartRef("argo-workflows", "1.0.18", ARGO_HELM_REPO)

ALL_CHARTS: tuple[ChartRef, ...] = (PREFECT_SERVER, PREFECT_WORKER, ARGO_WORKFLOWS)


def chart_by_name(name: str) -> ChartRef:
    """The pinned chart called `name` (a Release's `chart` input)."""
    for chart in ALL_CHARTS:
        if chart.name == name:
            return chart
    raise KeyError(f"no pinned chart named {name!r}; known: {[c.name for c in ALL_CHARTS]}")
