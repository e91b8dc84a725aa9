"""The one entry point the cloud platforms call: install this region's orchestrator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.k8s.argo import SERVER_PORT as ARGO_PORT
from components.k8s.argo import SERVER_SERVICE as ARGO_SERVICE
from components.k8s.argo import ArgoWorkflows, ArgoWorkflowsArgs
from components.k8s.prefect import SERVER_FULLNAME as PREFECT_SERVICE
from components.k8s.prefect import SERVER_PORT as PREFECT_PORT
from components.k8s.prefect import PrefectServer, PrefectServerArgs
from components.k8s.wiring import OrchestratorWiring


@dataclass(frozen=True)
class EdgeTarget:
    """What the region's load balancer forwards to: the UI/API Service and its probe."""

    service_name: str
    port: int
    # Prefect answers `/api/health` (the stack's dns.healthCheckPath); the Argo server
    # has no health endpoint of its own and answers its UI at `/` (what its own probe uses).
    health_path: str


def edge_target(orchestrator: Literal["prefect", "argo"], prefect_health_path: str
                ) -> EdgeTarget:
    if orchestrator == "prefect":
        return EdgeTarget(PREFECT_SERVICE, PREFECT_PORT, prefect_health_path)
    return EdgeTarget(ARGO_SERVICE, ARGO_PORT, "/")


@dataclass(frozen=True)
class OrchestratorDeployment:
    """What the platform needs back: where the orchestrator lives."""

    kind: Literal["prefect", "argo"]
    namespace: pulumi.Output[str]
    # In-cluster DNS name of the API/UI Service (workers, in-cluster clients).
    service_hostname: str
    component: pulumi.ComponentResource


def deploy_orchestrator(wiring: OrchestratorWiring, opts: pulumi.ResourceOptions
                        ) -> OrchestratorDeployment:
    """PrefectServer or ArgoWorkflows per `wiring.orchestrator`, exposed per `wiring.exposure`.

    `wiring.role` decides primary vs warm standby inside each component (see the
    `_standby_overrides` of prefect.py and argo.py); the caller's only job for a
    standby is to hand it the secondary region's replica database endpoint.
    """
    if wiring.orchestrator == "prefect":
        prefect = PrefectServer(wiring.name, PrefectServerArgs(wiring=wiring), opts)
        return OrchestratorDeployment("prefect", prefect.namespace, prefect.service_hostname,
                                      prefect)
    if wiring.orchestrator == "argo":
        argo = ArgoWorkflows(wiring.name, ArgoWorkflowsArgs(wiring=wiring), opts)
        return OrchestratorDeployment("argo", argo.namespace, argo.service_hostname, argo)
    raise ValueError(f"unknown orchestrator {wiring.orchestrator!r}; expected prefect or argo")
