"""The workloads stack of one cluster: add-ons and the orchestrator, nothing else.

Everything the infrastructure stack built reaches this stack through one
`pulumi.StackReference` (`<org>/<project>/<environment>` unless the stack file
names another): the `workloads` output (plain facts per region) and the
`workloadsSecrets` output (kubeconfig and credentials, a Pulumi secret here too).
What to install (tier, orchestrator, replica counts) comes from the environment's
stack file, which lives beside this stack's file in the same checkout.

The role of this region (active or standby) is the infrastructure stack's
*deployed* `activeRegion`, read through the reference, so the roles follow the
one line that a failover changes, once the infrastructure stack has applied it.
A region that is down never blocks this stack: nothing here calls the other
region's APIs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.sync_await import _sync_await

from components.addons.base import ClusterContext, identity_requests, install
from components.addons.catalog import ADDONS
from components.addons.gpu_capacity import GpuCapacity
from components.addons.karpenter import KarpenterSettings
from components.base import standard_tags
from components.k8s.wiring import (
    ArtifactStore,
    AwsExposure,
    CacheEndpoint,
    DatabaseEndpoint,
    Exposure,
    GcpExposure,
    OrchestratorWiring,
)
from hastack.config.layers import WorkloadsStack
from hastack.config.model import StackConfig, credentials_revision, recovery_document

TYPE_TOKEN = "hastack:workloads:Cluster"


def infrastructure_reference_name(stack: WorkloadsStack) -> str:
    """The fully qualified infrastructure stack this workloads stack reads."""
    if stack.config.infrastructure_stack:
        return stack.config.infrastructure_stack
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack.config.environment}"


def plain_output(reference: pulumi.StackReference, name: str) -> Any:
    """A non-secret output of the referenced stack as a plain value, or None if unknown.

    A StackReference's outputs are read from the backend, so they are known during
    `pulumi preview` too. The add-ons and orchestrator must *branch* on the active
    region (which resources and values to create), which an `Output` cannot do, so
    this one value is awaited here, the same way the SDK's synchronous invokes wait.
    """
    details = _sync_await(reference.get_output_details(name))
    return details.value


class ClusterWorkloads(pulumi.ComponentResource):
    """Add-ons and the orchestrator of one region's cluster."""

    def __init__(self, name: str, stack: WorkloadsStack,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # The recovery targets ride on the root component, as in the infrastructure
        # stack, so that `recovery-targets-met` can judge this stack's terms too.
        recovery = {"hastackRecovery": recovery_document(stack.environment)}
        super().__init__(TYPE_TOKEN, name, recovery, opts)
        env = stack.environment
        region = stack.region
        self.reference = pulumi.StackReference(
            f"{name}-infrastructure", stack_name=infrastructure_reference_name(stack),
            opts=pulumi.ResourceOptions(parent=self))
        deployed_active = plain_output(self.reference, "activeRegion")
        if deployed_active is None:
            pulumi.log.warn(f"the infrastructure stack reports no activeRegion; using the "
                            f"environment file's ({env.active})", self)
        self.active_region: str = deployed_active or env.active
        self.role = "primary" if region == self.active_region else "standby"
        contract = self.reference.require_output("workloads")
        secrets = self.reference.require_output("workloadsSecrets")
        self._mine = contract.apply(lambda c: c["regions"][region])
        self._secrets = secrets.apply(lambda s: s[region])

        self.kubernetes_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(self._secrets.apply(lambda s: s["kubeconfig"])),
            # One stack, one cluster: refuse to silently fall back to ~/.kube/config.
            opts=pulumi.ResourceOptions(parent=self))
        self.addons = self._addons(name, env, region)
        self.orchestrator = (self._orchestrator(name, env, region)
                             if env.workflows.enabled else None)
        outputs: dict[str, Any] = {"region": region, "role": self.role,
                                   "activeRegion": self.active_region}
        if self.orchestrator is not None:
            outputs["orchestratorNamespace"] = self.orchestrator.namespace
            outputs["orchestratorService"] = self.orchestrator.service_hostname
        self.outputs = outputs
        self.register_outputs({**outputs, **recovery})

    def _field(self, *path: str) -> pulumi.Output[Any]:
        def pick(value: Any) -> Any:
            for key in path:
                value = value[key]
            return value

        return self._mine.apply(pick)

    def _addons(self, name: str, env: StackConfig, region: str) -> dict[str, Any]:
        """The cluster add-ons (components/addons/catalog.py), in one call.

        Their identities and Karpenter's queue and node role come from the
        infrastructure stack (`workloads.regions.<region>.addons`).
        """
        gpu = env.kubernetes.gpu
        from components.observability.from_config import monitoring_profile

        aws_topic = env.cloud == "aws"
        profile = monitoring_profile(
            env, self.role,  # type: ignore[arg-type]
            alert_topic_arn=self._field("alertTopicArn") if aws_topic else None,
            alert_topic_key_arn=self._field("alertTopicKeyArn") if aws_topic else None)
        ctx = ClusterContext(
            cloud=env.cloud, tier=env.tier, region=region,
            cluster_name=self._field("clusterName"),
            kubernetes_version=env.kubernetes.version, zones=env.zones_of(region),
            kubernetes_provider=self.kubernetes_provider,
            vpc_id=self._field("vpcId") if env.cloud == "aws" else None,
            settings={"monitoring": profile, "monitoringEnabled": env.monitoring.enabled,
                      "prefix": name},
            labels={"hastack-tier": env.tier})
        if env.cloud == "aws":
            settings = {
                **ctx.settings,
                "karpenter": KarpenterSettings(
                    interruption_queue=self._field("addons", "karpenterInterruptionQueue"),
                    node_role_name=self._field("addons", "karpenterNodeRole"),
                    subnet_ids=self._field("privateSubnetIds"),
                    security_group_ids=[self._field("nodeSecurityGroupId")],
                    tags=standard_tags(env.tier, "Karpenter", env.tags)),
                "gpu": GpuCapacity(gpu.enabled, gpu.instance_type, gpu.gpus_per_node,
                                   gpu.max_nodes),
            }
            ctx = dataclasses.replace(ctx, settings=settings)
            # The role ARN of every add-on that asked the infrastructure stack for one.
            ctx = dataclasses.replace(ctx, identities={
                addon: self._field("addons", "roleArns", addon)
                for addon in identity_requests(ADDONS, ctx)})
        return install(ADDONS, ctx, name, pulumi.ResourceOptions(parent=self))

    def _orchestrator(self, name: str, env: StackConfig, region: str) -> Any:
        from components.addons.monitoring import SELECTOR_LABELS
        from components.k8s.credentials import from_secrets
        from components.k8s.orchestrator import deploy_orchestrator

        wiring = OrchestratorWiring(
            name=name,
            tier=env.tier,
            orchestrator=env.orchestrator,
            role=self.role,  # type: ignore[arg-type]
            region=region,
            zones=env.zones_of(region),
            kubernetes_provider=self.kubernetes_provider,
            public_hostname=f"{env.dns.hostname}.{env.dns.domain}",
            database=self._database(env),
            cache=self._cache(env),
            artifacts=self._artifacts(env, region),
            server_replicas=env.workflows.server_replicas,
            worker_replicas=env.workflows.worker_replicas,
            worker_max_replicas=env.workflows.worker_max_replicas,
            controller_replicas=env.workflows.controller_replicas,
            work_pool=env.workflows.work_pool,
            labels={"hastack-tier": env.tier},
            # Generated once by the infrastructure stack (both regions use them).
            credentials=(from_secrets(env.orchestrator, self._secrets)
                         if env.database.enabled else None),
            exposure=self._exposure(env, region),
            # The environment file's rotation labels: after the infrastructure stack
            # rotated a credential, this stack's next `up` rolls the pods onto it.
            credentials_revision=credentials_revision(env),
            # After the add-ons: the ServiceMonitor needs the prometheus-operator CRDs.
            release_depends_on=tuple(r for n, r in self.addons.items()
                                     if n == "kube-prometheus-stack"),
            service_monitor_labels=(dict(SELECTOR_LABELS) if env.monitoring.enabled
                                    else {}),
            # AWS hands every region the Aurora global writer endpoint (aws/platform.py
            # `_database_for`); GCP the region's own instance, a replica on the standby.
            standby_database="global-writer" if env.cloud == "aws" else "replica",
        )
        # The load balancer controller's Service webhook fails closed: the
        # orchestrator's Services must wait for its release; the monitoring stack's
        # CRDs must exist before the Argo ServiceMonitor.
        webhook = [self.addons[n] for n in ("aws-load-balancer-controller",
                                            "kube-prometheus-stack") if n in self.addons]
        return deploy_orchestrator(wiring, pulumi.ResourceOptions(parent=self,
                                                                  depends_on=webhook or None))

    def _exposure(self, env: StackConfig, region: str) -> Exposure:
        """The region's edge from the infrastructure stack: the pods join its target group
        (AWS) or are served by a GKE Gateway on its reserved address and certificate."""
        from components.k8s.orchestrator import edge_target

        health = edge_target(env.orchestrator, env.dns.health_check_path).health_path
        if env.cloud == "aws":
            # The TargetGroupBinding is admitted by the controller's webhook: it waits
            # for the controller release.
            return Exposure(health, aws=AwsExposure(
                target_group_arn=self._field("edge", "targetGroupArn"),
                controller=self.addons.get("aws-load-balancer-controller")))
        dns = env.dns
        return Exposure(health, gcp=GcpExposure(
            address_name=self._field("edge", "addressName"),
            certificate_name=self._field("edge", "certificateName"),
            hostnames=[f"{dns.hostname}.{dns.domain}", f"{dns.hostname}-{region}.{dns.domain}"]))

    def _database(self, env: StackConfig) -> DatabaseEndpoint | None:
        if not env.database.enabled:
            return None
        return DatabaseEndpoint(
            host=self._field("database", "host"), port=self._field("database", "port"),
            database=env.database.database_name, username=env.database.master_username,
            password=pulumi.Output.secret(self._secrets.apply(lambda s: s["databasePassword"])))

    def _cache(self, env: StackConfig) -> CacheEndpoint | None:
        if not env.cache.enabled:
            return None
        ca = self._field("cache", "caCertificate") if env.cloud == "gcp" else None
        return CacheEndpoint(
            host=self._field("cache", "host"), port=self._field("cache", "port"),
            auth_token=pulumi.Output.secret(self._secrets.apply(lambda s: s["cacheAuthToken"])),
            ca_certificate=ca)

    def _artifacts(self, env: StackConfig, region: str) -> ArtifactStore | None:
        if not env.artifacts.enabled:
            return None
        if env.cloud == "aws":
            import pulumi_aws as aws

            # IRSA roles for the orchestrator's service accounts are created here,
            # next to the service accounts they trust.
            provider = aws.Provider(f"{self._name}-aws", region=region,
                                    opts=pulumi.ResourceOptions(parent=self))
            return ArtifactStore(
                cloud="aws", bucket=self._field("artifacts", "bucket"), region=region,
                aws_oidc_provider_arn=self._field("oidcProviderArn"),
                aws_oidc_issuer=self._field("oidcIssuer"),
                aws_kms_key_arn=self._field("artifacts", "kmsKeyArn"), aws_provider=provider)
        import pulumi_gcp as gcp

        assert env.gcp is not None
        provider_gcp = gcp.Provider(f"{self._name}-gcp", project=env.gcp.project,
                                    region=region, opts=pulumi.ResourceOptions(parent=self))
        return ArtifactStore(cloud="gcp", bucket=self._field("artifacts", "bucket"),
                             region=region, gcp_project=env.gcp.project,
                             gcp_provider=provider_gcp)


def build_workloads(stack_name: str, stack: WorkloadsStack) -> dict[str, Any]:
    """Build one workloads stack and return the stack outputs to export."""
    workloads = ClusterWorkloads(f"hastack-{stack_name}", stack)
    return workloads.outputs
