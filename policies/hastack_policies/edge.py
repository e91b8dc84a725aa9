"""The public edge: load balancers that keep their data, serve only TLS >= 1.2, fail over
on health, and are served by a controller that exists.

TargetGroupBindings are judged by `target-group-binding-served` (addons family): the
AWS Load Balancer Controller Release lives in the same stack as the binding (the
workloads stack, or the single stack). A GKE Gateway is different: GKE's own
controller serves it once the *cluster* enables the Gateway API, and in a workloads
stack the cluster belongs to the infrastructure stack. So the cluster setting is a
rule on the cluster (`gke-gateway-api-enabled`, judged in the stack that owns it) and
`gateway-served` judges Gateways against the clusters it can see.
"""

from __future__ import annotations

from typing import Any

from hastack_policies.catalogue import (
    HA,
    HIGH,
    PROD_ONLY,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    fsbp,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.tokens import (
    CLOUD_DNS_RECORD_SET,
    GATEWAY_KINDS,
    GKE_CLUSTER,
    LB_LISTENER,
    LOAD_BALANCER,
)
from hastack_policies.values import is_set, is_unknown, items, peek, truthy, value

# ELB security policies whose lowest protocol is TLS 1.2 (ELB docs "Security policies
# for your Application Load Balancer"): the TLS13 family (1.3 + 1.2, or 1.3 only), the
# TLS-1-2 family and the forward-secrecy FS-1-2 family. ELBSecurityPolicy-2016-08, the
# default for listeners created through the API, still accepts TLS 1.0.
TLS12_POLICY_PREFIXES = ("ELBSecurityPolicy-TLS13-", "ELBSecurityPolicy-TLS-1-2-",
                         "ELBSecurityPolicy-FS-1-2-")
GKE_CLASS_PREFIX = "gke-"
GATEWAY_CHANNELS = ("CHANNEL_STANDARD", "CHANNEL_EXPERIMENTAL")


@resource_rule(
    name="alb-deletion-protection",
    description="Load balancers in prod have deletion protection on: deleting one drops "
                "its DNS name, which every client and the failover records point at.",
    severity=HIGH, levels=PROD_ONLY,
    anchors=(fsbp("ELB.6"),),
    types=(LOAD_BALANCER,),
    remediation="Set enableDeletionProtection=true (RegionalEdge does in prod).",
)
def alb_deletion_protection(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "enableDeletionProtection", default=False)):
        report("deletion protection is off: one `pulumi destroy` or replacement takes the "
               "region's public endpoint away.")


def _protocol(props: Any) -> str:
    raw = value(props, "protocol", default="")
    return raw.upper() if isinstance(raw, str) else ""


@resource_rule(
    name="alb-https-listener-tls12",
    description="HTTPS listeners use an ELB security policy whose lowest protocol is TLS 1.2.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("ELB.17"), own("SEC-EDGE-1")),
    types=(LB_LISTENER,),
    remediation="Set sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 with a TLS 1.2 "
                "fallback) or another TLS13-/TLS-1-2-/FS-1-2- policy.",
    settings={"allowedPolicyPrefixes": setting(
        "array", list(TLS12_POLICY_PREFIXES), "ELB security policy name prefixes accepted")},
)
def alb_https_listener_tls12(subject: Subject, report: Report) -> None:
    if _protocol(subject.props) not in ("HTTPS", "TLS"):
        return
    if is_unknown(peek(subject.props, "sslPolicy")):
        subject.defer("sslPolicy is computed; judged when known")
    policy = value(subject.props, "sslPolicy")
    if not isinstance(policy, str) or not policy:
        report("no sslPolicy: ELB uses ELBSecurityPolicy-2016-08, which accepts TLS 1.0.")
        return
    if not policy.startswith(tuple(subject.config["allowedPolicyPrefixes"])):
        report(f"sslPolicy {policy} accepts protocols older than TLS 1.2.")


@resource_rule(
    name="alb-http-listener-redirects-only",
    description="Plain-HTTP listeners only redirect to HTTPS; they never forward requests.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("ELB.1"), own("SEC-EDGE-2")),
    types=(LB_LISTENER,),
    remediation="Give the HTTP listener one default action: type redirect, protocol HTTPS, "
                "port 443, statusCode HTTP_301.",
)
def alb_http_listener_redirects_only(subject: Subject, report: Report) -> None:
    if _protocol(subject.props) != "HTTP":
        return
    actions = items(subject.props, "defaultActions")
    if not actions:
        report("HTTP listener without actions.")
    for action in actions:
        kind = value(action, "type")
        target = value(action, "redirect", "protocol", default="")
        if kind != "redirect" or str(target).upper() != "HTTPS":
            report(f"HTTP listener action {kind!r} serves plain HTTP (tokens and basic-auth "
                   "credentials in clear text); redirect to HTTPS instead.")


@resource_rule(
    name="cloud-dns-failover-health-checked",
    description="A Cloud DNS failover (primary/backup) record health-checks its primary "
                "targets, so it fails over; a warm-standby backup may be a plain answer.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-DNS-4"),),
    types=(CLOUD_DNS_RECORD_SET,),
    remediation="Set routingPolicy.healthCheck and list the primary's addresses as "
                "primaryBackup.primary.externalEndpoints (or internalLoadBalancers).",
)
def cloud_dns_failover_health_checked(subject: Subject, report: Report) -> None:
    policy = peek(subject.props, "routingPolicy", "primaryBackup")
    if policy is None:
        return
    # Computed IDs and addresses only need to be *set* (unknown in a first preview).
    if not is_set(subject.props, "routingPolicy", "healthCheck"):
        report("failover record without a health check: Cloud DNS never fails over.")
    if not (is_set(policy, "primary", "externalEndpoints")
            or is_set(policy, "primary", "internalLoadBalancers")):
        report("the primary targets are not health-checked targets: nothing decides that "
               "the primary is down.")


@resource_rule(
    name="gke-gateway-api-enabled",
    description="GKE clusters enable the Gateway API, whose GKE controller serves the "
                "orchestrator's Gateway on the regional load balancer.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-EDGE-1"),),
    types=(GKE_CLUSTER,),
    remediation="Set gatewayApiConfig.channel=CHANNEL_STANDARD (GkeCluster does).",
)
def gke_gateway_api_enabled(subject: Subject, report: Report) -> None:
    channel = value(subject.props, "gatewayApiConfig", "channel")
    if is_unknown(peek(subject.props, "gatewayApiConfig", "channel")):
        return
    if channel not in GATEWAY_CHANNELS:
        report(f"Gateway API channel {channel!r}: no controller serves a Gateway, so the "
               "orchestrator gets no load balancer and DNS points at an address that "
               "answers nothing.")


@stack_rule(
    name="gateway-served",
    description="Every Gateway is served by an installed controller: a GKE-managed class "
                "on clusters of this plan with the Gateway API on (in a workloads stack the "
                "cluster is the infrastructure stack's, judged there by "
                "gke-gateway-api-enabled).",
    severity=HIGH, levels=HA,
    anchors=(own("HA-EDGE-2"),),
    remediation="Use a GKE managed class (gke-l7-regional-external-managed) and enable "
                "gatewayApiConfig on the cluster.",
)
def gateway_served(stack: StackSubject, report: Report) -> None:
    clusters = [r for r in stack.resources if r.resource_type == GKE_CLUSTER]
    disabled = [c for c in clusters
                if not is_unknown(peek(c.props, "gatewayApiConfig", "channel"))
                and value(c.props, "gatewayApiConfig", "channel") not in GATEWAY_CHANNELS]
    for gateway in (r for r in stack.resources if r.resource_type in GATEWAY_KINDS):
        if is_unknown(peek(gateway.props, "spec", "gatewayClassName")):
            continue
        klass = value(gateway.props, "spec", "gatewayClassName")
        if not (isinstance(klass, str) and klass.startswith(GKE_CLASS_PREFIX)):
            report(f"gatewayClassName {klass!r} is not a GKE managed class, and this platform "
                   "installs no other Gateway controller.", gateway.urn)
            continue
        if disabled:
            names = ", ".join(sorted(str(peek(c.props, "name")) for c in disabled))
            report(f"class {klass} needs GKE's Gateway controller, but the Gateway API is "
                   f"off on {names}.", gateway.urn)
