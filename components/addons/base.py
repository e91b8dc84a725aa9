"""Cluster add-ons as uniform small records, installed from one list.

Every add-on has the same shape (after EKS Blueprints' add-on modules): a pinned
chart, a namespace, a function from the cluster's facts to the chart values, the
service accounts that need a cloud identity and the permissions they get, and the
add-ons that must be installed first. Adding or dropping an add-on is one line in
a list (see `components/addons/catalog.py`).

Layering: the *infrastructure* stack creates each add-on's cloud identity (it has
the cluster's OIDC provider and cloud credentials, see `identity_requests`); the
*workloads* stack installs the releases and learns the identities' ARNs/e-mails
through its StackReference (`ClusterContext.identities`). Neither side needs to
know which stack the other runs in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.base import Tier
from components.k8s.charts import ChartRef
from components.k8s.identity import ServiceAccountRef
from components.k8s.release import helm_release, platform_labels

Cloud = Literal["aws", "gcp"]


@dataclass(frozen=True)
class ClusterContext:
    """What an add-on may know about the cluster it is installed on."""

    cloud: Cloud
    tier: Tier
    region: str
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    zones: Sequence[str]
    # None where no cluster API is reachable (the infrastructure stack, which only
    # asks `identity_requests`); `install` refuses a context without one.
    kubernetes_provider: k8s.Provider | None
    # AWS: the VPC (the load balancer controller cannot read it from IMDS at hop limit 1).
    vpc_id: pulumi.Input[str] | None = None
    # Cloud identity per add-on name: IRSA role ARN (AWS) or Google service account e-mail.
    identities: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Anything else an add-on needs from the infrastructure stack, by name
    # (e.g. "karpenterInterruptionQueue", "karpenterNodeRole").
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Labels a Prometheus must find on ServiceMonitors/PrometheusRules to select them.
    monitoring_labels: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityRequest:
    """An add-on's service accounts that need a cloud identity, and what it may do."""

    service_accounts: tuple[ServiceAccountRef, ...]
    # AWS: the IAM policy document (JSON) for the IRSA role. GCP: IAM roles to grant.
    aws_policy_json: str | None = None
    gcp_roles: tuple[str, ...] = ()


# (cluster, the Pulumi name prefix of this cluster's add-ons, the add-on's release or
# None for a manifest-only add-on, options that already depend on that release and
# on the releases of the add-ons it comes after)
Extras = Callable[["ClusterContext", str, "k8s.helm.v3.Release | None",
                   pulumi.ResourceOptions], None]


@dataclass(frozen=True)
class AddOn:
    """One cluster add-on: a pinned Helm release and what it needs around it."""

    name: str
    # None: a manifest-only add-on (a StorageClass, a NodePool) made entirely by `extras`.
    chart: ChartRef | None
    namespace: str
    values: Callable[[ClusterContext], Mapping[str, Any]] = lambda _ctx: {}
    # The release name is fixed: pod labels (app.kubernetes.io/instance) and IRSA subjects use it.
    release_name: str | None = None
    clouds: frozenset[Cloud] = frozenset({"aws"})
    # None from the callable: this cluster needs no identity for the add-on (e.g.
    # Alertmanager without an alert topic to publish to).
    identity: Callable[[ClusterContext], IdentityRequest | None] | None = None
    # Clouds the identity is asked for on (None: every cloud in `clouds`). An add-on
    # that runs on both clouds may need a cloud identity on one only.
    identity_clouds: frozenset[Cloud] | None = None
    # Add-ons that must be installed (and whose webhooks must be up) first.
    after: tuple[str, ...] = ()
    # Objects that belong with the add-on but are not in its chart (a NodePool, a
    # StorageClass, an HPA): created after the release, depending on it.
    extras: Extras | None = None
    # Whether this cluster wants the add-on at all (e.g. GPU capacity is a switch).
    enabled: Callable[[ClusterContext], bool] = lambda _ctx: True
    create_namespace: bool = True

    @property
    def release(self) -> str:
        return self.release_name or self.name


class AddOnError(ValueError):
    """An add-on list that cannot be installed as given."""


def install_order(addons: Iterable[AddOn]) -> list[AddOn]:
    """The add-ons with every `after` before its dependant; refuses unknown or cyclic `after`."""
    by_name = {addon.name: addon for addon in addons}
    ordered: list[AddOn] = []
    state: dict[str, str] = {}

    def visit(addon: AddOn, path: tuple[str, ...]) -> None:
        if state.get(addon.name) == "done":
            return
        if state.get(addon.name) == "visiting":
            raise AddOnError(f"add-ons depend on each other in a cycle: {' -> '.join(path)}")
        state[addon.name] = "visiting"
        for dependency in addon.after:
            if dependency not in by_name:
                raise AddOnError(f"add-on '{addon.name}' must come after '{dependency}', "
                                 f"which is not in the list ({', '.join(sorted(by_name))})")
            visit(by_name[dependency], (*path, dependency))
        state[addon.name] = "done"
        ordered.append(addon)

    for addon in sorted(by_name.values(), key=lambda a: a.name):
        visit(addon, (addon.name,))
    return ordered


def identity_requests(addons: Iterable[AddOn], ctx: ClusterContext) -> dict[str, IdentityRequest]:
    """What the infrastructure stack must create for these add-ons on this cluster."""
    found: dict[str, IdentityRequest] = {}
    for addon in addons:
        if (addon.identity is None or ctx.cloud not in addon.clouds
                or ctx.cloud not in (addon.identity_clouds or addon.clouds)
                or not addon.enabled(ctx)):
            continue
        request = addon.identity(ctx)
        if request is not None:
            found[addon.name] = request
    return found


def install(addons: Sequence[AddOn], ctx: ClusterContext, prefix: str,
            opts: pulumi.ResourceOptions) -> dict[str, k8s.helm.v3.Release]:
    """Install the add-ons that apply to `ctx`'s cloud, dependencies first.

    `prefix` makes Pulumi names unique per cluster (`<stack>-<region>`). Each
    release depends on the releases of its `after` add-ons, so a webhook-backed
    object is never sent to an API server whose webhook has no endpoints yet.
    """
    wanted = [a for a in addons if ctx.cloud in a.clouds and a.enabled(ctx)]
    if wanted and ctx.kubernetes_provider is None:
        raise AddOnError("installing add-ons needs ClusterContext.kubernetes_provider")
    releases: dict[str, k8s.helm.v3.Release] = {}
    for addon in install_order(wanted):
        depends = _dependencies(addon, releases, {a.name: a for a in wanted})
        child = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(provider=ctx.kubernetes_provider,
                                         depends_on=depends or None))
        if addon.chart is None:
            if addon.extras is None:
                raise AddOnError(f"add-on '{addon.name}' has neither a chart nor extras")
            addon.extras(ctx, f"{prefix}-{addon.name}", None, child)
            continue
        namespace: pulumi.Input[str] = addon.namespace
        if addon.create_namespace and addon.namespace not in ("kube-system", "default"):
            ns = k8s.core.v1.Namespace(
                f"{prefix}-{addon.name}-ns",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=addon.namespace,
                    labels=platform_labels(ctx.tier, addon.name, ctx.labels)),
                opts=child)
            namespace = ns.metadata.name
        release = helm_release(
            f"{prefix}-{addon.name}", chart=addon.chart, release_name=addon.release,
            namespace=namespace, values=addon.values(ctx), opts=child)
        releases[addon.name] = release
        if addon.extras is not None:
            addon.extras(ctx, f"{prefix}-{addon.name}", release, pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[release])))
    return releases


def _dependencies(addon: AddOn, releases: Mapping[str, k8s.helm.v3.Release],
                  by_name: Mapping[str, AddOn]) -> list[k8s.helm.v3.Release]:
    """The releases of `after`, looking through manifest-only add-ons to their own `after`."""
    found: list[k8s.helm.v3.Release] = []
    for name in addon.after:
        if name in releases:
            found.append(releases[name])
        elif name in by_name:
            found.extend(r for r in _dependencies(by_name[name], releases, by_name)
                         if r not in found)
    return found


def irsa_annotations(ctx: ClusterContext, addon: str) -> dict[str, pulumi.Input[str]]:
    """The service-account annotation that gives `addon`'s pods its IRSA role.

    Refuses to install without it: a controller without credentials starts, then
    fails every AWS call, which Helm's wait does not notice.
    """
    from components.k8s.identity import IRSA_ANNOTATION

    if addon not in ctx.identities:
        raise AddOnError(f"add-on '{addon}' needs its cloud identity in ClusterContext."
                         f"identities (known: {sorted(ctx.identities) or 'none'}); the "
                         "infrastructure stack creates it from identity_requests()")
    return {IRSA_ANNOTATION: ctx.identities[addon]}


def zone_spread(match_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Spread replicas over zones, preferred (a lost zone's nodes stay registered for a
    while, and a hard rule would then refuse to reschedule into the surviving zones)."""
    return [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
             "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": dict(match_labels)}}]


def pod_labels(chart_name: str, release: str) -> dict[str, str]:
    """The selector labels most charts put on their pods (name + instance)."""
    return {"app.kubernetes.io/name": chart_name, "app.kubernetes.io/instance": release}
