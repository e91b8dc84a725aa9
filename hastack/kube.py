"""A small Kubernetes API client over plain HTTPS, for the operations (failover, drills).

`hastack failover` scales Deployments through their scale subresource: `PATCH
/apis/apps/v1/namespaces/<ns>/deployments/<name>/scale` with a JSON merge patch
`{"spec": {"replicas": N}}` (what `kubectl scale` uses), then follows
`status.readyReplicas` with `GET .../deployments/<name>`. `hastack drill` cordons and
drains a node through `request`, which returns the status code (an eviction that a
PodDisruptionBudget forbids answers 429 and is retried). On GKE the control plane is
reached through its DNS-based endpoint when it admits external traffic
(components/gcp/gke.py turns that on: publicly trusted certificate, authorised by
IAM), else through its IP endpoint with the cluster CA; the bearer token is the
caller's Google access token.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


class KubeError(RuntimeError):
    pass


def _json(raw: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


class KubeApi:
    def __init__(self, base_url: str, token: Callable[[], str],
                 context: ssl.SSLContext | None = None, cluster: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.context = context
        self.cluster = cluster or base_url

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of one call; an unreachable API raises KubeError."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token()}",
                                                  "Accept": "application/json",
                                                  "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            raise KubeError(f"Kubernetes API of {self.cluster} unreachable: {error}") from error

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              content_type: str = "application/json") -> dict[str, Any]:
        status, answer = self.request(method, path, body, content_type)
        if status >= 400:
            hint = (": has the workloads stack of this region been deployed?"
                    if status == 404 else "")
            raise KubeError(f"Kubernetes API of {self.cluster}: {method} {path}: "
                            f"{status} {answer.get('message', '')}{hint}")
        return answer

    @staticmethod
    def _path(namespace: str, name: str) -> str:
        return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"

    def scale(self, namespace: str, name: str, replicas: int) -> None:
        self._call("PATCH", self._path(namespace, name) + "/scale",
                   {"spec": {"replicas": replicas}}, "application/merge-patch+json")

    def ready(self, namespace: str, name: str, replicas: int) -> bool:
        """The Deployment runs `replicas` ready pods of its newest spec (0: none left)."""
        status = self._call("GET", self._path(namespace, name)).get("status") or {}
        if replicas == 0:
            return int(status.get("replicas") or 0) == 0
        return (int(status.get("readyReplicas") or 0) >= replicas
                and int(status.get("updatedReplicas") or 0) >= replicas)


def gke_kube_api(services: Callable[[str, str], Any], credentials: Any, project: str,
                 region: str, cluster: str) -> KubeApi:
    """The cluster's API endpoint from the container API, with the caller's token."""
    from google.auth.transport.requests import Request

    name = f"projects/{project}/locations/{region}/clusters/{cluster}"
    found = services("container", "v1").projects().locations().clusters().get(
        name=name).execute()
    dns_config = (found.get("controlPlaneEndpointsConfig") or {}).get("dnsEndpointConfig") or {}
    if dns_config.get("endpoint") and dns_config.get("allowExternalTraffic"):
        # Publicly trusted certificate, IAM-authorised: no network path, no CA to pin.
        context = ssl.create_default_context()
        base = f"https://{dns_config['endpoint']}"
    else:
        ca = base64.b64decode((found.get("masterAuth") or {}).get("clusterCaCertificate", ""))
        context = ssl.create_default_context(cadata=ca.decode())
        base = f"https://{found['endpoint']}"

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(Request())
        return str(credentials.token)
    return KubeApi(base, token, context, cluster)
