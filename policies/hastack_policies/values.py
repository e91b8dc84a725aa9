"""Reading resource properties without tripping over unknowns by accident.

The policy SDK wraps properties in a proxy that raises `UnknownValueError` when a
check *reads* a value that is unknown during preview (e.g. a KMS key ARN that
does not exist yet). That is the right default for values a rule must judge, so
`value()` reads through the proxy. But many rules only need to know that an input
is *set* ("a key is configured"), and an unknown output of another resource is
set by definition; `is_set()` and `peek()` look at the raw value underneath the
proxy so those rules stay decidable in a first `pulumi preview`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})

OPEN_IPV4 = "0.0.0.0/0"
OPEN_IPV6 = "::/0"


def is_unknown(raw: Any) -> bool:
    return isinstance(raw, str) and raw in UNKNOWN_SENTINELS


def _unwrap(container: Any) -> Any:
    """The container under the SDK's proxy (the proxy answers to the key "__target")."""
    if isinstance(container, Mapping | Sequence) and not isinstance(container, str):
        try:
            return container["__target"]  # type: ignore[call-overload]
        except (KeyError, TypeError, IndexError):
            return container
    return container


def peek(props: Any, *path: str | int) -> Any:
    """The raw value at `path` (an unknown sentinel stays a sentinel); None if absent."""
    current = props
    for step in path:
        current = _unwrap(current)
        if is_unknown(current):
            return current
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str):
                return None
            if step >= len(current):
                return None
        elif not isinstance(current, Mapping) or step not in current:
            return None
        current = current[step]
    return current


def is_set(props: Any, *path: str | int) -> bool:
    """True when the input is present and non-empty, or unknown (it will be set)."""
    raw = peek(props, *path)
    if raw is None or raw == "" or raw is False:
        return False
    if is_unknown(raw):
        return True
    unwrapped = _unwrap(raw)
    return not (isinstance(unwrapped, Mapping | list | tuple) and len(unwrapped) == 0)


def value(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path`, read through the proxy: an unknown raises UnknownValueError."""
    current = props
    for step in path:
        if current is None:
            return default
        if isinstance(step, int):
            if not _is_list(current) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping):
                return default
            # `.get` on the proxy reads the item, so an unknown still raises.
            current = current.get(step)
    return default if current is None else current


def _is_list(candidate: Any) -> bool:
    return isinstance(candidate, Sequence) and not isinstance(candidate, str)


def items(props: Any, *path: str | int) -> list[Any]:
    """The list at `path` (read through the proxy), or an empty list."""
    found = value(props, *path, default=[])
    return list(found) if isinstance(found, Sequence) and not isinstance(found, str) else []


def truthy(raw: Any) -> bool:
    """Provider inputs sometimes carry booleans as strings ("true")."""
    if isinstance(raw, str):
        return raw.strip().lower() == "true"
    return bool(raw)


def is_false(raw: Any) -> bool:
    """Explicitly switched off (None means "provider default")."""
    if isinstance(raw, str):
        return raw.strip().lower() == "false"
    return raw is False


def is_open_cidr(cidr: Any) -> bool:
    if not isinstance(cidr, str) or is_unknown(cidr):
        return False
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen == 0


def as_int(raw: Any, default: int = 0) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def version_tuple(text: Any) -> tuple[int, ...]:
    parts = []
    for piece in str(text).strip().lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)
