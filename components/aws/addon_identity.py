"""The IRSA roles of a cluster's add-ons, from the add-ons' own identity requests.

The infrastructure stack calls this with `identity_requests(ADDONS, ctx)`: each
add-on says which service accounts need AWS access and with what policy; this
component makes one role per add-on, trusted only by the cluster's OIDC provider,
only for STS, only for exactly those service accounts (components/k8s/identity.py),
and outputs the role ARNs the workloads stack puts on the service accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.addons.base import IdentityRequest
from components.base import Tier, child_options, standard_tags
from components.k8s.identity import irsa_trust_policy

TYPE_TOKEN = "hastack:aws:AddOnIdentities"


@dataclass(frozen=True)
class AddOnIdentitiesArgs:
    tier: Tier
    cluster_name: str
    oidc_provider_arn: pulumi.Input[str]
    # The issuer without https:// (EksCluster.oidc_issuer).
    oidc_issuer: pulumi.Input[str]
    requests: Mapping[str, IdentityRequest]
    # Managed policies made elsewhere for an add-on (Karpenter's, see components/aws/karpenter.py).
    extra_policy_arns: Mapping[str, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


class AddOnIdentities(pulumi.ComponentResource):
    """One IRSA role per add-on that asked for one."""

    role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, resource_name: str, args: AddOnIdentitiesArgs, *,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        unknown = sorted(set(args.extra_policy_arns) - set(args.requests))
        if unknown:
            raise ValueError(f"extra_policy_arns for add-ons without an identity request: "
                             f"{unknown}")
        child = child_options(self, provider)
        tags = standard_tags(args.tier, "AddOnIdentities", args.tags)
        self.role_arns = {}
        for addon, request in sorted(args.requests.items()):
            if not request.service_accounts:
                raise ValueError(f"add-on {addon!r} asks for an identity but names no "
                                 "service account")
            if request.aws_policy_json is None and not args.extra_policy_arns.get(addon):
                raise ValueError(f"add-on {addon!r} asks for an identity with no permissions")
            subjects = [account.irsa_subject for account in request.service_accounts]
            trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                _trust(subjects))
            role = aws.iam.Role(
                f"{resource_name}-{addon}",
                description=f"{addon} on {args.cluster_name} (IRSA, exact service accounts)",
                assume_role_policy=trust, max_session_duration=3600, tags=tags, opts=child)
            if request.aws_policy_json is not None:
                aws.iam.RolePolicy(f"{resource_name}-{addon}", role=role.id,
                                   policy=request.aws_policy_json, opts=child)
            for index, arn in enumerate(args.extra_policy_arns.get(addon, ())):
                aws.iam.RolePolicyAttachment(f"{resource_name}-{addon}-{index}",
                                             role=role.name, policy_arn=arn, opts=child)
            self.role_arns[addon] = role.arn
        self.register_outputs({"roleArns": self.role_arns})


def _trust(subjects: Sequence[str]) -> Callable[[list[object]], str]:
    def render(parts: list[object]) -> str:
        return irsa_trust_policy(str(parts[0]), str(parts[1]), subjects)
    return render
