"""Kubernetes Secrets that carry database and cache credentials into the charts.

Charts only ever receive the *name* of a Secret and a key in it: a password in
Helm values would be stored in the release record (a Secret of type
`helm.sh/release.v1` readable by anyone with access to the namespace) and in
Pulumi state as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.wiring import CacheEndpoint, DatabaseEndpoint


def _escape(value: str) -> str:
    # Passwords and tokens may contain '@', ':' or '/', which would end the userinfo.
    return quote(value, safe="")


def postgres_asyncpg_url(db: DatabaseEndpoint) -> pulumi.Output[str]:
    """`postgresql+asyncpg://user:pass@host:port/db?ssl=<mode>`, as a secret Output.

    Why `ssl=` and not `sslmode=`: SQLAlchemy hands URL query parameters to
    `asyncpg.connect`, which accepts `ssl` and rejects libpq's `sslmode`.
    """
    url = pulumi.Output.all(db.password, db.host, db.port).apply(
        lambda parts: (
            f"postgresql+asyncpg://{_escape(db.username)}:{_escape(str(parts[0]))}"
            f"@{parts[1]}:{parts[2]}/{db.database}?ssl={db.ssl_mode}"
        )
    )
    return pulumi.Output.secret(url)


def redis_url(cache: CacheEndpoint, db_index: int = 0) -> pulumi.Output[str]:
    """`rediss://:token@host:port/db` (TLS) for Prefect's Docket, as a secret Output."""
    scheme = "rediss" if cache.tls else "redis"
    url = pulumi.Output.all(cache.auth_token, cache.host, cache.port).apply(
        lambda parts: f"{scheme}://:{_escape(str(parts[0]))}@{parts[1]}:{parts[2]}/{db_index}"
    )
    return pulumi.Output.secret(url)


def opaque_secret(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    entries: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """An Opaque Secret whose contents are secret in Pulumi state as well as in the cluster."""
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in entries.items()},
        opts=pulumi.ResourceOptions.merge(
            opts,
            # Non-secret entries (a username) would otherwise surface in `data` outputs.
            pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"]),
        ),
    )
