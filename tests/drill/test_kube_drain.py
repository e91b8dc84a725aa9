"""The GCP node drill against a tiny Kubernetes API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from hastack.drill.clock import Clock
from hastack.drill.kube import drain_one_node
from hastack.kube import KubeApi
from tests.support.fake_http import JsonHandler, serving


class FakeApi:
    """Nodes and pods; an eviction removes a pod, except one a PDB blocks once (429)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, str | None, str | None]] = []
        self.unschedulable: set[str] = set()
        self.pods = [
            {"metadata": {"name": "web-1", "namespace": "app"}, "spec": {"nodeName": "n-a"},
             "status": {"phase": "Running"}},
            {"metadata": {"name": "db-proxy", "namespace": "app"},
             "spec": {"nodeName": "n-a"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "fluent", "namespace": "kube-system",
                          "ownerReferences": [{"kind": "DaemonSet", "name": "fluent"}]},
             "spec": {"nodeName": "n-a"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "web-2", "namespace": "app"}, "spec": {"nodeName": "n-b"},
             "status": {"phase": "Running"}},
        ]
        self.blocked_once = {"app/db-proxy"}


class _Handler(JsonHandler):
    state: FakeApi

    def do_GET(self) -> None:
        self.read_body()
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/api/v1/nodes":
            assert query["labelSelector"] == ["cloud.google.com/gke-nodepool=system"]
            self.reply(200, {"items": [{"metadata": {"name": n}} for n in ("n-b", "n-a")]})
        elif url.path == "/api/v1/pods":
            node = query["fieldSelector"][0].split("=", 1)[1]
            self.reply(200, {"items": [p for p in self.state.pods
                                       if p["spec"]["nodeName"] == node]})
        else:
            self.reply(404, {})

    def do_PATCH(self) -> None:
        body = self.read_body()
        assert self.headers["Content-Type"] == "application/strategic-merge-patch+json"
        if body == {"spec": {"unschedulable": True}}:
            self.state.unschedulable.add(self.path.rsplit("/", 1)[1])
        self.reply(200, {})

    def do_POST(self) -> None:
        body = self.read_body()
        parts = self.path.split("/")  # /api/v1/namespaces/NS/pods/NAME/eviction
        key = f"{parts[4]}/{parts[6]}"
        assert body == {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": parts[6], "namespace": parts[4]}}
        state = self.state
        if key in state.blocked_once:
            state.blocked_once.discard(key)
            self.reply(429, {"message": "Cannot evict pod as it would violate the "
                                        "pod's disruption budget."})
            return
        state.pods = [p for p in state.pods
                      if f"{p['metadata']['namespace']}/{p['metadata']['name']}" != key]
        self.reply(201, {})


@pytest.fixture
def server() -> Iterator[tuple[str, FakeApi]]:
    _Handler.state = FakeApi()
    with serving(_Handler) as url:
        _Handler.state.requests = _Handler.calls
        yield url, _Handler.state


def test_drain_cordons_one_node_and_evicts_all_but_daemonset_pods(
        server: tuple[str, FakeApi]) -> None:
    url, state = server
    ticks = iter(datetime(2026, 12, 2, 1, 0, tzinfo=UTC) + timedelta(seconds=s)
                 for s in range(0, 600, 20))
    slept: list[float] = []
    clock = Clock(now=lambda: next(ticks), sleep=slept.append, poll_seconds=5, max_polls=10)
    measured = drain_one_node(KubeApi(url, lambda: "tok"), "system", clock=clock)
    assert measured["node"] == "n-a" and state.unschedulable == {"n-a"}
    assert measured["status"] == "completed"
    # The PDB-blocked pod is retried on the next poll; the DaemonSet pod stays.
    assert [p["metadata"]["name"] for p in state.pods] == ["fluent", "web-2"]
    evictions = [path for method, path, *_ in state.requests if method == "POST"]
    assert evictions == ["/api/v1/namespaces/app/pods/web-1/eviction",
                         "/api/v1/namespaces/app/pods/db-proxy/eviction",
                         "/api/v1/namespaces/app/pods/db-proxy/eviction"]
    assert all(auth == "Bearer tok" for *_, auth in state.requests)
    drain = measured["terms"][0]
    assert drain["term"] == "drain" and drain["seconds"] == 20.0
    assert drain["evicted"] == ["app/db-proxy", "app/web-1"] and slept == [5, 5]
    assert drain["source"].endswith("(poll)")
