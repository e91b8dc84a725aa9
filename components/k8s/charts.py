"""The Helm charts the platform installs (orchestrators and add-ons), pinned in one place.

Why pinned: `values.schema.json` and the default `values.yaml` of exactly these
versions are what `conformance.py` checks our values against (the chart data
lives outside the repository, see `chart_data_dir`). Bumping a version here
without refreshing that data makes the conformance tests fail loudly.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFECT_HELM_REPO = "https://prefecthq.github.io/prefect-helm"
ARGO_HELM_REPO = "https://argoproj.github.io/argo-helm"
EKS_HELM_REPO = "https://aws.github.io/eks-charts"
AUTOSCALER_HELM_REPO = "https://kubernetes.github.io/autoscaler"
METRICS_SERVER_HELM_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
PROMETHEUS_COMMUNITY_HELM_REPO = "https://prometheus-community.github.io/helm-charts"
# Karpenter is published only as an OCI artifact (no classic Helm repository).
KARPENTER_OCI_REPO = "oci://public.ecr.aws/karpenter"

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
    # API groups whose CRDs the chart's `crds/` directory holds. Helm applies `crds/` on
    # the release's first install, before its templates, so a custom resource of these
    # groups must depend on the release; before that (a first `pulumi preview`) the
    # Kubernetes provider skips the preview of a kind the cluster does not know yet.
    crd_groups: tuple[str, ...] = ()

    @property
    def is_oci(self) -> bool:
        return self.repo.startswith("oci://")

    @property
    def chart(self) -> str:
        """What a Helm Release's `chart` input takes: the name, or the full OCI reference."""
        return f"{self.repo.rstrip('/')}/{self.name}" if self.is_oci else self.name

    @property
    def data_path(self) -> str:
        """Where this chart's data files sit inside the chart-data directory."""
        return f"{self.name}/{self.version}"


PREFECT_SERVER = ChartRef("prefect-server", "2026.8.18172642", PREFECT_HELM_REPO)
PREFECT_WORKER = ChartRef("prefect-worker", "2026.8.18172642", PREFECT_HELM_REPO)
ARGO_WORKFLOWS = ChartRef("argo-workflows", "1.0.18", ARGO_HELM_REPO)
# Cluster add-ons (components/addons/), at the versions of the pinned chart data. Their
# `crds/` contents as the chart data's README lists them (Argo Workflows' CRDs come from a
# hook Job or are preinstalled, components/k8s/argo.py: none in `crds/`).
AWS_LOAD_BALANCER_CONTROLLER = ChartRef(
    "aws-load-balancer-controller", "3.5.0", EKS_HELM_REPO,
    crd_groups=("elbv2.k8s.aws", "aga.k8s.aws", "gateway.k8s.aws"))
CLUSTER_AUTOSCALER = ChartRef("cluster-autoscaler", "9.59.0", AUTOSCALER_HELM_REPO)
METRICS_SERVER = ChartRef("metrics-server", "3.13.1", METRICS_SERVER_HELM_REPO)
KARPENTER = ChartRef("karpenter", "1.14.1", KARPENTER_OCI_REPO,
                     crd_groups=("karpenter.sh", "karpenter.k8s.aws", "autoscaling.x-k8s.io"))
KUBE_PROMETHEUS_STACK = ChartRef("kube-prometheus-stack", "88.5.3",
                                 PROMETHEUS_COMMUNITY_HELM_REPO,
                                 crd_groups=("monitoring.coreos.com",))
PROMETHEUS_PREFECT_EXPORTER = ChartRef("prometheus-prefect-exporter", "2026.8.7141024",
                                       PREFECT_HELM_REPO)

ALL_CHARTS: tuple[ChartRef, ...] = (
    PREFECT_SERVER, PREFECT_WORKER, ARGO_WORKFLOWS,
    AWS_LOAD_BALANCER_CONTROLLER, CLUSTER_AUTOSCALER, METRICS_SERVER, KARPENTER,
    KUBE_PROMETHEUS_STACK, PROMETHEUS_PREFECT_EXPORTER,
)


def chart_by_name(name: str) -> ChartRef:
    """The pinned chart called `name`, or whose OCI reference is `name` (a Release's `chart`)."""
    for chart in ALL_CHARTS:
        if name in (chart.name, chart.chart):
            return chart
    raise KeyError(f"no pinned chart named {name!r}; known: {[c.name for c in ALL_CHARTS]}")
