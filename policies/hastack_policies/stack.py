"""Stack-wide guardrails: zone spread, protecting stateful resources, no clear-text secrets."""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policies.catalogue import (
    ANY_TYPE,
    CRITICAL,
    DATA_RETENTION,
    HA,
    HIGH,
    PROD_ONLY,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    floor_setting,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph, subnet_zone
from hastack_policies.recovery_document import recovery_value
from hastack_policies.tokens import (
    BACKUP_VAULT,
    CLOUD_SQL_INSTANCE,
    ELASTICACHE_CLUSTER,
    ELASTICACHE_REPLICATION_GROUP,
    GCP_KMS_KEY,
    GCP_SECRET,
    GCS_BUCKET,
    K8S_SECRET,
    KMS_KEY,
    MEMORYSTORE_INSTANCE,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_GLOBAL_CLUSTER,
    RDS_INSTANCE,
    S3_BUCKETS,
    SECRETS_MANAGER_SECRET,
    SUBNET,
)
from hastack_policies.values import (
    as_int,
    is_false,
    is_set,
    is_unknown,
    items,
    peek,
    truthy,
    value,
)

STATEFUL_TYPES = (
    RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE, RDS_GLOBAL_CLUSTER,
    ELASTICACHE_REPLICATION_GROUP, ELASTICACHE_CLUSTER, *S3_BUCKETS, KMS_KEY,
    SECRETS_MANAGER_SECRET, CLOUD_SQL_INSTANCE, MEMORYSTORE_INSTANCE, GCS_BUCKET,
    GCP_KMS_KEY, GCP_SECRET, BACKUP_VAULT,
)

# Keys whose string value is a credential. Matched on the end of the key, case-insensitive,
# so `masterPassword`, `authToken`, `secretString` and `secretData` match while
# `passwordWoVersion`, `secretArn` or `tokenKey` do not.
# `secret` alone (a secret's ID on GCP secret versions) and `...SecretKey` (Helm's name
# of a key *inside* a Kubernetes secret) are references, not values.
SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|token|secretstring|secretdata|privatekey|apikey|"
    r"clientsecret|secretaccesskey)$", re.IGNORECASE)
# Helm charts name *references* to secrets like secrets ("existingSecret": "<k8s name>").
REFERENCE_KEY = re.compile(r"^existing|name$|ref$|arn$|id$", re.IGNORECASE)


@stack_rule(
    name="zones-per-region",
    description="Every region the stack uses has subnets in at least two availability zones.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-NET-2"),),
    remediation="Set zoneCount >= 2 in the stack file.",
    settings={"minZones": floor_setting("zoneCount", "Fewest AZs with subnets per region")},
)
def zones_per_region(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    zones: dict[str | None, set[str]] = defaultdict(set)
    first: dict[str | None, str] = {}
    for subnet in graph.of_type(SUBNET):
        region = graph.region(subnet)
        first.setdefault(region, subnet.urn)
        if zone := subnet_zone(subnet):
            zones[region].add(zone)
    for region, urn in sorted(first.items(), key=lambda item: str(item[0])):
        if len(zones[region]) < stack.config["minZones"]:
            report(f"{region or 'default region'}: subnets only in {sorted(zones[region])}.",
                   urn)


@resource_rule(
    name="stateful-resources-protected",
    description="Stateful resources (databases, caches, buckets, keys, secrets) carry "
                "Pulumi's `protect` option.",
    severity=HIGH, levels=PROD_ONLY,
    anchors=(own("DATA-ALL-1"),),
    types=STATEFUL_TYPES,
    remediation="Set protectStatefulResources: true in the stack file (Pulumi protect + "
                "retainOnDelete; always on in prod); components create stateful resources "
                "with components.base.stateful_options.",
)
def stateful_resources_protected(subject: Subject, report: Report) -> None:
    # The analyzer protocol carries `protect` but not `retainOnDelete`, so only the
    # former can be checked here; the components set both together.
    if not subject.protect:
        report("not protected: `pulumi destroy` or a replacement would delete its data.")


@resource_rule(
    name="stateful-deletion-protection",
    description="Where the service offers deletion protection (or a recovery window), it is on.",
    severity=HIGH, levels=DATA_RETENTION,
    anchors=(own("DATA-ALL-2"),),
    types=(RDS_GLOBAL_CLUSTER, MEMORYSTORE_INSTANCE, SECRETS_MANAGER_SECRET, KMS_KEY),
    remediation="Set deletionProtection=true; keep recovery/deletion windows above zero.",
    settings={"minKeyDeletionWindowDays": setting(
        "integer", 7, "Shortest KMS key deletion window", prod=30)},
)
def stateful_deletion_protection(subject: Subject, report: Report) -> None:
    props = subject.props
    if subject.type == RDS_GLOBAL_CLUSTER:
        if not truthy(value(props, "deletionProtection", default=False)):
            report("deletionProtection is not true.")
    elif subject.type == MEMORYSTORE_INSTANCE:
        if is_false(value(props, "deletionProtection")):
            report("deletionProtection is false.")
    elif subject.type == SECRETS_MANAGER_SECRET:
        if as_int(value(props, "recoveryWindowInDays", default=30), 30) == 0:
            report("recoveryWindowInDays is 0: deleting the secret is immediate and final.")
    else:
        window = as_int(value(props, "deletionWindowInDays", default=30), 30)
        if window < subject.config["minKeyDeletionWindowDays"]:
            report(f"deletionWindowInDays is {window} "
                   f"(< {subject.config['minKeyDeletionWindowDays']}).")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(dotted path, key, raw value) of every leaf under `node`, without reading unknowns."""
    if isinstance(node, Mapping):
        target = node
        with contextlib.suppress(KeyError):
            target = node["__target"]  # the proxy's raw dict: leaves stay unread
        for key in target:
            child = target[key]
            yield from _walk_child(child, f"{path}.{key}" if path else str(key), str(key))
    elif isinstance(node, Sequence) and not isinstance(node, str):
        try:
            elements: Any = node["__target"]  # type: ignore[call-overload]
        except (KeyError, TypeError, IndexError):
            elements = node
        for index, child in enumerate(elements):
            yield from _walk_child(child, f"{path}[{index}]", "")


def _walk_child(child: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(child, Mapping) or (isinstance(child, Sequence) and not isinstance(child, str)):
        yield from _walk(child, path)
    else:
        yield path, key, child


def _looks_secret(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not REFERENCE_KEY.search(key)


@resource_rule(
    name="no-plaintext-secrets",
    description="Credential-looking inputs (passwords, tokens, keys) are Pulumi secrets.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(own("SEC-ALL-1"),),
    types=(ANY_TYPE,),
    remediation="Wrap the value in pulumi.Output.secret() (or read it with "
                "config.require_secret) so it is encrypted in state and masked in output.",
    settings={"secretsRedactedAs": setting(
        "string", "", "The marker that replaces secret values in the analyzed inputs. "
                      "`hastack check` sets it; empty (the engine, which hands policies "
                      "decrypted values) makes the rule not applicable")},
)
def no_plaintext_secrets(subject: Subject, report: Report) -> None:
    marker = subject.config["secretsRedactedAs"]
    if not marker:
        subject.defer("secret values arrive decrypted from the engine; `hastack check` "
                      "judges this from the offline plan")
    everything = subject.type == K8S_SECRET
    for path, key, raw in _walk(subject.props):
        if not isinstance(raw, str) or not raw or raw == marker or is_unknown(raw):
            continue
        in_secret_data = everything and path.split(".", 1)[0] in ("data", "stringData")
        if in_secret_data or _looks_secret(key):
            report(f"{path} holds a clear-text value; make it a secret.")



# What marks a secret that serves one region's resource only (components/*/secrets.py).
REGION_LOCAL = "region-local"
_REPLICATION_MARKERS = ("hastack:replication", "hastack-replication")
_DEFAULT_SECRETS_KEY = "alias/aws/secretsmanager"


def _secondary_region(stack: StackSubject) -> str | None:
    """The platform's secondary region (from its hastackRecovery document), if any."""
    secondary = recovery_value(stack.resources, "regions", "secondary")
    return secondary if isinstance(secondary, str) and secondary else None


def _region_local(secret: Any) -> bool:
    labels = value(secret.props, "tags", default=None) or value(
        secret.props, "labels", default=None) or {}
    return any(value(labels, marker, default=None) == REGION_LOCAL
               for marker in _REPLICATION_MARKERS)


def _aws_secret(secret: Any, secondary: str | None, report: Report) -> None:
    # peek/is_set: a key ARN from another resource is unknown in a first preview, and set.
    if not is_set(secret.props, "kmsKeyId") or peek(secret.props, "kmsKeyId") == \
            _DEFAULT_SECRETS_KEY:
        report("encrypted with the AWS managed key aws/secretsmanager: give it a "
               "customer-managed key with a scoped key policy.", secret.urn)
    if secondary is None or _region_local(secret):
        return
    replicas = items(secret.props, "replicas")
    if not any(peek(r, "region") == secondary for r in replicas):
        report(f"no Secrets Manager replica in {secondary}: the credential is unreadable "
               "while its region is down.", secret.urn)
    for replica in replicas:
        if not is_set(replica, "kmsKeyId"):
            report(f"the replica in {peek(replica, 'region')} uses the AWS managed key.",
                   secret.urn)


def _gcp_secret(secret: Any, secondary: str | None, report: Report) -> None:
    replicas = items(secret.props, "replication", "userManaged", "replicas")
    if not replicas:
        report("automatic replication: Google picks the locations and no CMEK applies; "
               "use user-managed replicas in the platform's regions.", secret.urn)
        return
    for replica in replicas:
        if not is_set(replica, "customerManagedEncryption", "kmsKeyName"):
            report(f"the replica in {peek(replica, 'location')} has no CMEK.", secret.urn)
    if secondary is not None and not _region_local(secret) and not any(
            peek(r, "location") == secondary for r in replicas):
        report(f"no replica in {secondary}: the credential is unreadable while the "
               "primary region is down.", secret.urn)


@stack_rule(
    name="secrets-cmk-replicated",
    description="Secrets are encrypted with a customer-managed key and, in a two-region "
                "environment, replicated to the secondary region (unless labelled "
                "region-local: the credential of a resource that dies with its region).",
    severity=HIGH, levels=DATA_RETENTION,
    anchors=(own("SEC-ALL-2"),),
    remediation="Create secrets with components/aws/secrets.py or components/gcp/secrets.py "
                "(stored_secret): a CMK per region, a replica in the other region; mark a "
                "one-region credential with the hastack:replication / hastack-replication "
                "= region-local tag or label.",
)
def secrets_cmk_replicated(stack: StackSubject, report: Report) -> None:
    secondary = _secondary_region(stack)
    for resource in stack.resources:
        # An unknown value raises: serve.py reports the rule as not judged yet.
        if resource.resource_type == SECRETS_MANAGER_SECRET:
            _aws_secret(resource, secondary, report)
        elif resource.resource_type == GCP_SECRET:
            _gcp_secret(resource, secondary, report)
