"""The edge guardrails beyond the one mistake per rule of test_rules.py."""

from __future__ import annotations

from hastack_policies.catalogue import rule_named

from tests.policies.plans import aws_builder, gcp_builder
from tests.policies.runner import run_resource_rule, run_stack_rule


def _resource(rule: str, builder, name: str) -> list[str]:
    return run_resource_rule(rule_named(rule), builder.plan(), name).messages


def test_https_listener_without_a_policy_gets_the_tls10_default() -> None:
    b = aws_builder()
    b.set("edge-https", "sslPolicy", None)
    assert any("2016-08" in m for m in _resource("alb-https-listener-tls12", b, "edge-https"))


def test_every_tls12_family_passes() -> None:
    for policy in ("ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS-1-2-2017-01",
                   "ELBSecurityPolicy-FS-1-2-Res-2020-10"):
        b = aws_builder()
        b.set("edge-https", "sslPolicy", policy)
        assert _resource("alb-https-listener-tls12", b, "edge-https") == [], policy


def test_a_redirect_to_plain_http_is_not_a_redirect_to_https() -> None:
    b = aws_builder()
    b.set("edge-http", "defaultActions.0.redirect.protocol", "HTTP")
    assert _resource("alb-http-listener-redirects-only", b, "edge-http")


def test_the_http_rule_leaves_https_listeners_alone() -> None:
    assert _resource("alb-http-listener-redirects-only", aws_builder(), "edge-https") == []


def test_deletion_protection_is_a_prod_promise() -> None:
    levels = rule_named("alb-deletion-protection").levels
    assert (levels.dev, levels.staging, levels.prod) == ("disabled", "advisory", "mandatory")


def test_an_access_log_bucket_must_stay_sse_s3() -> None:
    b = aws_builder()
    b.set("edge-logs-sse", "rules.0.applyServerSideEncryptionByDefault",
          {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/x"})
    messages = run_stack_rule(rule_named("s3-sse-kms"), b.plan()).messages
    assert any("access-log bucket" in m for m in messages)
    # ...while every other bucket still needs SSE-KMS.
    assert run_stack_rule(rule_named("s3-sse-kms"), aws_builder().plan()).messages == []


def test_gateway_on_a_cluster_without_the_gateway_api_is_unserved() -> None:
    b = gcp_builder()
    b.set("gke", "gatewayApiConfig", None)
    messages = run_stack_rule(rule_named("gateway-served"), b.plan()).messages
    assert any("Gateway API is off on hastack-prod" in m for m in messages)


def test_a_workloads_stack_gateway_is_judged_by_its_clusters_own_stack() -> None:
    """No cluster in the plan: the infrastructure stack's gke-gateway-api-enabled owns it."""
    b = gcp_builder(stack="gcp-prod-europe-west1")
    b.remove("gke-pool", "gke")
    assert run_stack_rule(rule_named("gateway-served"), b.plan()).messages == []
    b.set("prefect-gateway", "spec.gatewayClassName", "istio")
    assert run_stack_rule(rule_named("gateway-served"), b.plan()).messages


def test_cloud_dns_primary_must_be_a_health_checked_target() -> None:
    b = gcp_builder()
    b.set("dns-record", "routingPolicy.primaryBackup.primary",
          {"rrdatas": ["203.0.113.10"]})
    assert _resource("cloud-dns-failover-health-checked", b, "dns-record")


def test_a_warm_standby_backup_may_be_a_plain_answer() -> None:
    assert _resource("cloud-dns-failover-health-checked", gcp_builder(), "dns-record") == []
