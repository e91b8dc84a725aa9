"""The add-ons every cluster gets, in one list: adding or dropping one is one line here.

Each entry is an `AddOn` record defined in its own module of this package; the
order here does not matter (`after` decides the install order).
"""

from __future__ import annotations

from components.addons import (
    aws_load_balancer_controller,
    gpu_capacity,
    karpenter,
    metrics_server,
    storage,
)
from components.addons.base import AddOn
from components.addons.monitoring import KUBE_PROMETHEUS_STACK, PROMETHEUS_PREFECT_EXPORTER

ADDONS: tuple[AddOn, ...] = (
    aws_load_balancer_controller.ADDON,
    karpenter.ADDON,
    metrics_server.ADDON,
    storage.ADDON,
    gpu_capacity.ADDON,
    KUBE_PROMETHEUS_STACK,
    PROMETHEUS_PREFECT_EXPORTER,
)
