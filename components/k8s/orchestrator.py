"""The one entry point the cloud platforms call: install this region's orchestrator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.k8s.argo import ArgoWorkflows, ArgoWorkflowsArgs
from components.k8s.prefect import PrefectServer, PrefectServerArgs
from components.k8s.wiring import OrchestratorWiring


@dataclass(frozen=True)
class OrchestratorDeployment:
    """What the platform needs back: where the orchestrator lives and how to reach it."""

    kind: Literal["prefect", "argo"]
    namespace: pulumi.Output[str]
    # In-cluster DNS name of the API/UI Service (workers, in-cluster clients).
    service_hostname: str
    # Load-balancer address of the public Ingress (for the DNS record / health check).
    public_endpoint: pulumi.Output[str]
    component: pulumi.ComponentResource


def deploy_orchestrator(wiring: OrchestratorWiring, opts: pulumi.ResourceOptions
                        ) -> OrchestratorDeployment:
    """PrefectServer or ArgoWorkflows per `wiring.orchestrator`.

    `wiring.role` decides primary vs warm standby inside each component (see the
    `_standby_overrides` of prefect.py and argo.py); the caller's only job for a
    standby is to hand it the secondary region's replica database endpoint.
    """
    if wiring.orchestrator == "prefect":
        prefect = PrefectServer(wiring.name, PrefectServerArgs(wiring=wiring), opts)
        return OrchestratorDeployment("prefect", prefect.namespace, prefect.service_hostname,
                                      prefect.public_endpoint, prefect)
    if wiring.orchestrator == "argo":
        argo = ArgoWorkflows(wiring.name, ArgoWorkflowsArgs(wiring=wiring), opts)
        return OrchestratorDeployment("argo", argo.namespace, argo.service_hostname,
                                      argo.public_endpoint, argo)
    raise ValueError(f"unknown orchestrator {wiring.orchestrator!r}; expected prefect or argo")
