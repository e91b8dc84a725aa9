"""The stack's recovery document as the policies see it.

The root platform component carries the stack's recovery targets and region roles as
its input `hastackRecovery` (hastack/config/model.py `recovery_document`): the only
place a policy learns the stack file's targets. One reader for every rule that needs
them (alarms, region_switch, stack).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.resilience.resources import PLATFORM_TYPES, RECOVERY_PROP
from hastack_policies.values import _unwrap, is_unknown, peek


def recovery_document(resources: Iterable[PolicyResource]) -> Mapping[str, Any]:
    """The first platform's `hastackRecovery` (empty when the stack has no platform)."""
    for resource in resources:
        if resource.resource_type in PLATFORM_TYPES:
            found = _unwrap(peek(resource.props, RECOVERY_PROP))
            if isinstance(found, Mapping):
                return found
    return {}


def recovery_value(resources: Iterable[PolicyResource], *path: str) -> Any:
    """A known value inside the document, e.g. ("targets", "regionFailure", "rpoSeconds")."""
    found = peek(recovery_document(resources), *path)
    return None if found is None or is_unknown(found) else _unwrap(found)
