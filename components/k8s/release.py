"""Namespaces and Helm releases with the options every orchestrator release shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.base import Protection, Tier, stateful_options
from components.k8s.charts import ChartRef

# Generous: the Prefect migration hook Job and image pulls on fresh nodes both
# run inside the release's wait.
RELEASE_TIMEOUT_SECONDS = 900


def platform_labels(tier: Tier, component: str, extra: Mapping[str, str] | None = None
                    ) -> dict[str, str]:
    """Kubernetes labels on every object the platform itself creates."""
    return {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "hastack",
        "hastack.io/tier": tier,
        "hastack.io/component": component,
        **(extra or {}),
    }


def namespace(resource_name: str, name: str, tier: Tier, labels: Mapping[str, str],
              opts: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
    """A namespace with a fixed name (charts and IRSA/WI subjects refer to it by name).

    `resource_name` is the Pulumi name and must be unique in the stack (one cluster
    per region means one `prefect` namespace per region); `name` is the Kubernetes one.

    Protected in prod like any stateful resource: deleting it deletes every Workflow
    object (Argo keeps running workflows' state in them) and every Secret at once.
    """
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels)),
        opts=stateful_options(Protection.for_tier(tier), opts),
    )


def helm_release(
    resource_name: str,
    *,
    chart: ChartRef,
    release_name: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm *release* (not rendered templates) so that chart hooks run.

    Why a Release: Prefect migrates its database in a Helm hook Job and Argo's
    CRD installer is a hook too; `helm.v4.Chart` renders manifests and skips them.
    `name` is fixed because pod labels (`app.kubernetes.io/instance`) carry it and
    our PodDisruptionBudgets select on them; Pulumi's auto-naming would add a suffix.
    """
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart.chart,
        version=chart.version,
        # An OCI chart is addressed by its full reference; there is no repository index.
        repository_opts=None if chart.is_oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=dict(values),
        # Roll a failed upgrade back instead of leaving a half-applied release.
        atomic=True,
        cleanup_on_fail=True,
        wait_for_jobs=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=10,
        opts=opts,
    )
