"""The add-on installer: dependency order, refusal of unknown or cyclic `after`."""

from __future__ import annotations

import pytest

from components.addons.base import AddOn, AddOnError, install_order
from components.k8s.charts import METRICS_SERVER, chart_by_name


def _addon(name: str, *after: str) -> AddOn:
    return AddOn(name=name, chart=METRICS_SERVER, namespace="kube-system",
                 values=lambda _ctx: {}, after=after)


def test_dependencies_come_first() -> None:
    order = [a.name for a in install_order([_addon("c", "b"), _addon("b", "a"), _addon("a")])]
    assert order == ["a", "b", "c"]


def test_unknown_dependency_is_refused_with_the_list() -> None:
    with pytest.raises(AddOnError, match=r"'x' must come after 'missing'.*x"):
        install_order([_addon("x", "missing")])


def test_cycle_is_refused() -> None:
    with pytest.raises(AddOnError, match="cycle"):
        install_order([_addon("a", "b"), _addon("b", "a")])


def test_oci_chart_is_addressed_by_reference() -> None:
    karpenter = chart_by_name("karpenter")
    assert karpenter.is_oci
    assert karpenter.chart == "oci://public.ecr.aws/karpenter/karpenter"
    assert chart_by_name(karpenter.chart) is karpenter
    assert not METRICS_SERVER.is_oci and METRICS_SERVER.chart == "metrics-server"
