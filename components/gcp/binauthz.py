"""Binary Authorization: the project's admission policy for the platform's GKE clusters.

Clusters opt in with `binary_authorization.evaluation_mode =
PROJECT_SINGLETON_POLICY_ENFORCE` (the only enforcing value the provider accepts;
the other is `DISABLED`). What is enforced lives in the project's one policy
(`gcp.binaryauthorization.Policy`, a singleton per project), built here:

* Google's global policy is evaluated first (`globalPolicyEvaluationMode: ENABLE`),
  so GKE system images are admitted without listing them;
* images from the allowlisted registries (the charts' images, plus the registry
  your workflow images come from) are exempt;
* everything else is denied: blocked and audit-logged in prod
  (`ENFORCED_BLOCK_AND_AUDIT_LOG`), only audit-logged elsewhere
  (`DRYRUN_AUDIT_LOG_ONLY`), so staging shows in Cloud Audit Logs exactly which
  images prod would refuse before the policy blocks anything.

Patterns are `registry/path` with a trailing `*` (no `/`) or `**` (any depth).
Flow-run and workflow-step images are user images: add their registry to
`allowed_image_patterns` (e.g. `us-docker.pkg.dev/<project>/<repo>/**`) or prod
refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.base import Tier, child_options

TYPE_TOKEN = "hastack:gcp:BinaryAuthorization"
ENFORCED = "ENFORCED_BLOCK_AND_AUDIT_LOG"
DRY_RUN = "DRYRUN_AUDIT_LOG_ONLY"
# Docker Hub repositories of the platform's images: prefect-server/-worker and the
# Prefect exporter (prefecthq/*), the database-role Job (library/postgres), and the
# Grafana of kube-prometheus-stack (grafana/grafana, kiwigrid/k8s-sidecar).
DOCKER_HUB_PATHS = ("prefecthq/**", "library/postgres*", "grafana/grafana*",
                    "kiwigrid/k8s-sidecar*")
# Everything else the pinned charts run: argo-workflows (quay.io/argoproj), the CRD
# Job's kubectl, kube-prometheus-stack's operator, Prometheus, Alertmanager, reloader,
# Thanos sidecar image, admission-webhook job (values.yaml of 88.5.3), and its
# subcharts kube-state-metrics, node-exporter (quay.io/prometheus) and the Grafana
# sidecar (quay.io in current chart values).
OTHER_PATTERNS = (
    "quay.io/argoproj/**",
    "registry.k8s.io/kubectl*",
    "quay.io/prometheus/**",
    "quay.io/prometheus-operator/**",
    "quay.io/thanos/thanos*",
    "ghcr.io/jkroepke/kube-webhook-certgen*",
    "registry.k8s.io/kube-state-metrics/**",
    "quay.io/kiwigrid/k8s-sidecar*",
)


def docker_hub_patterns(path: str) -> tuple[str, ...]:
    """Every way a pod spec may name a Docker Hub image, as allowlist patterns.

    Kubernetes accepts `prefecthq/prefect`, `docker.io/prefecthq/prefect` and
    `index.docker.io/prefecthq/prefect` for the same image, and Binary Authorization's
    documentation does not say which form it matches against, so all three are
    listed (a bare `postgres` has no `registry/` part a pattern could match: the
    platform names its own such images fully, `docker.io/library/postgres:...`).
    """
    forms = [f"docker.io/{path}", f"index.docker.io/{path}"]
    if not path.startswith("library/"):
        forms.append(path)
    return tuple(forms)


PLATFORM_IMAGE_PATTERNS = (
    *(form for path in DOCKER_HUB_PATHS for form in docker_hub_patterns(path)),
    *OTHER_PATTERNS,
)


def enforcement_mode(tier: Tier) -> str:
    return ENFORCED if tier == "prod" else DRY_RUN


@dataclass(frozen=True)
class BinaryAuthorizationArgs:
    project: str
    tier: Tier
    # Registries (patterns) your own images come from, in addition to the platform's.
    allowed_image_patterns: Sequence[str] = ()
    # None: blocked in prod, dry-run elsewhere.
    enforcement: str | None = None

    def validate(self) -> None:
        for pattern in self.allowed_image_patterns:
            registry, _, rest = pattern.partition("/")
            if not rest or "*" in registry:
                raise ValueError(f"BinaryAuthorization: pattern '{pattern}' must be "
                                 "registry/path; a wildcard is allowed only after the "
                                 "registry")
        if self.enforcement not in (None, ENFORCED, DRY_RUN):
            raise ValueError(f"BinaryAuthorization: enforcement must be {ENFORCED} or "
                             f"{DRY_RUN}, got {self.enforcement!r}")


class BinaryAuthorization(pulumi.ComponentResource):
    """The project's Binary Authorization policy (one per project)."""

    policy: gcp.binaryauthorization.Policy

    def __init__(self, resource_name: str, args: BinaryAuthorizationArgs, *,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        args.validate()
        B = gcp.binaryauthorization
        patterns = sorted({*PLATFORM_IMAGE_PATTERNS, *args.allowed_image_patterns})
        self.policy = B.Policy(
            f"{resource_name}-policy",
            project=args.project,
            description="hastack: platform and allowlisted registries only",
            global_policy_evaluation_mode="ENABLE",
            admission_whitelist_patterns=[
                B.PolicyAdmissionWhitelistPatternArgs(name_pattern=pattern)
                for pattern in patterns],
            default_admission_rule=B.PolicyDefaultAdmissionRuleArgs(
                evaluation_mode="ALWAYS_DENY",
                enforcement_mode=args.enforcement or enforcement_mode(args.tier)),
            opts=child_options(self, provider),
        )
        self.register_outputs({"policy": self.policy.id})
