"""One region's Memorystore for Redis: Standard HA, TLS, AUTH, private service access.

What every instance gets, and why:

* `STANDARD_HA`: a replica in another zone with automatic failover, the
  Memorystore equivalent of a multi-AZ replication group. Read replicas
  (`READ_REPLICAS_ENABLED`, 1..5) add a read endpoint; Memorystore only offers
  them on nodes of 5 GB or more and they cannot be turned off later, so they are
  enabled only when asked for and the size allows it.
* In-transit TLS (`SERVER_AUTHENTICATION`) with Memorystore's own server CA: the
  CA is handed to clients in `CacheEndpoint.ca_certificate` (all current certs,
  so a CA rotation does not break clients), and AUTH (`auth_enabled`) whose
  generated string is a secret output of the provider.
* `PRIVATE_SERVICE_ACCESS`: the instance takes an address from the VPC's
  allocated range, the same way Cloud SQL does; nothing is reachable from outside.
* CMEK in the instance's region, granted to the Memorystore service agent.
* RDB snapshots in prod (hourly): a full-instance failure restarts warm. Redis is
  not the system of record here (PostgreSQL is), so no cross-region replication:
  each region has its own cache and the standby starts it cold.
* A weekly maintenance window, and deletion protection in prod.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.base import Protection, Tier, child_options, standard_labels, stateful_options
from components.gcp.kms import RegionalKey, RegionalKeyArgs
from components.gcp.secrets import SecretManagerKeys, stored_secret
from components.gcp.service_agents import agent_member, project_number
from components.k8s.wiring import CacheEndpoint
from hastack.config.versions import MEMORYSTORE_REDIS

TYPE_TOKEN = "hastack:gcp:MemorystoreRedis"
READ_REPLICA_MIN_GB = 5
# Memorystore for Redis versions, newest first.
REDIS_VERSIONS = MEMORYSTORE_REDIS


def redis_version(engine_version: str) -> str:
    """The newest Memorystore version not newer than `engine_version` ("7.1" -> REDIS_7_0).

    Never newer than asked: the orchestrator was tested against what the stack says.
    """
    match = re.match(r"^(\d+)\.(\d+)", engine_version)
    if not match:
        raise ValueError(f"MemorystoreRedis: engine_version '{engine_version}' "
                         f"must look like '7.2'")
    wanted = (int(match.group(1)), int(match.group(2)))
    for version in REDIS_VERSIONS:
        major, minor = version.split(".")
        if (int(major), 0 if minor == "x" else int(minor)) <= wanted:
            return f"REDIS_{major}_{minor.upper()}"
    raise ValueError(f"MemorystoreRedis: no Memorystore version <= {engine_version}")


@dataclass(frozen=True)
class MemorystoreRedisArgs:
    name: str
    region: str
    tier: Tier
    project: str
    # ID of the VPC that has private service access.
    network: pulumi.Input[str]
    memory_size_gb: int = 5
    # Read replicas besides the primary (0 = Standard HA's single failover replica).
    read_replicas: int = 0
    engine_version: str = "7.2"
    # Primary and failover zones; Memorystore picks when empty.
    zones: Sequence[str] = ()
    persistence: bool | None = None
    maintenance_day: str = "SUNDAY"
    maintenance_hour: int = 4
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None
    depends_on: Sequence[pulumi.Resource] = ()
    # CMEK for the AUTH string's Secret Manager copy (components/gcp/secrets.py);
    # None: Google-managed key, which `secrets-cmk-replicated` refuses in prod.
    secret_keys: SecretManagerKeys | None = None

    def validate(self) -> str:
        version = redis_version(self.engine_version)
        if not 1 <= self.memory_size_gb <= 300:
            raise ValueError("MemorystoreRedis: memory_size_gb must be 1..300")
        if not 0 <= self.read_replicas <= 5:
            raise ValueError("MemorystoreRedis: read_replicas must be 0..5")
        if self.read_replicas and self.memory_size_gb < READ_REPLICA_MIN_GB:
            raise ValueError(f"MemorystoreRedis: read replicas need >= {READ_REPLICA_MIN_GB} GB "
                             f"nodes, got {self.memory_size_gb} GB; set read_replicas=0 "
                             f"or grow the instance")
        if self.zones and (len(self.zones) < 2 or len(set(self.zones[:2])) < 2):
            raise ValueError("MemorystoreRedis: zones needs two distinct zones "
                             "(primary and failover)")
        return version

    @property
    def rdb(self) -> bool:
        return self.tier == "prod" if self.persistence is None else self.persistence


class MemorystoreRedis(pulumi.ComponentResource):
    instance: gcp.redis.Instance
    endpoint: CacheEndpoint

    def __init__(self, resource_name: str, args: MemorystoreRedisArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        version = args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        protection = args.protection or Protection.for_tier(args.tier)
        number = project_number(args.project, self, None, args.depends_on)
        key = RegionalKey(
            f"{resource_name}-kms",
            RegionalKeyArgs(name=args.name, location=args.region, purpose="redis",
                            tier=args.tier, project=args.project, labels=args.labels,
                            encrypters=[agent_member("redis", number)], protection=protection),
            opts=child_options(self),
        )
        R = gcp.redis
        self.instance = R.Instance(
            f"{resource_name}-instance",
            name=f"{args.name}-{args.region}-redis",
            project=args.project,
            region=args.region,
            tier="STANDARD_HA",
            memory_size_gb=args.memory_size_gb,
            redis_version=version,
            **self._placement(args),
            **self._replicas(args),
            authorized_network=args.network,
            connect_mode="PRIVATE_SERVICE_ACCESS",
            transit_encryption_mode="SERVER_AUTHENTICATION",
            auth_enabled=True,
            customer_managed_key=key.key_id,
            persistence_config=R.InstancePersistenceConfigArgs(
                persistence_mode="RDB", rdb_snapshot_period="ONE_HOUR",
            ) if args.rdb else R.InstancePersistenceConfigArgs(persistence_mode="DISABLED"),
            maintenance_policy=R.InstanceMaintenancePolicyArgs(weekly_maintenance_windows=[
                R.InstanceMaintenancePolicyWeeklyMaintenanceWindowArgs(
                    day=args.maintenance_day,
                    start_time=R.InstanceMaintenancePolicyWeeklyMaintenanceWindowStartTimeArgs(
                        hours=args.maintenance_hour, minutes=0, seconds=0, nanos=0),
                )]),
            # Unset means "protected" to the provider; say it explicitly per tier.
            deletion_protection=protection.deletion_protection,
            labels=standard_labels(args.tier, "MemorystoreRedis", args.labels),
            opts=stateful_options(protection, child_options(self),
                                  depends_on=[*key.grants, *args.depends_on]),
        )
        self.endpoint = CacheEndpoint(
            host=self.instance.host,
            port=self.instance.port,
            auth_token=pulumi.Output.secret(self.instance.auth_string),
            tls=True,
            ca_certificate=self.instance.server_ca_certs.apply(
                lambda certs: "\n".join(c.cert for c in certs or [] if c.cert)),
        )
        # Memorystore generates the AUTH string; Secret Manager keeps a copy for
        # operators and tools. Region-local: it is useless without this instance.
        keys = args.secret_keys
        self.auth_secret = stored_secret(
            f"{resource_name}-auth-secret",
            secret_id=f"{args.name}-{args.region}-redis-auth", project=args.project,
            value=self.endpoint.auth_token,
            replicas={args.region: keys.key_ids.get(args.region) if keys else None},
            protection=protection, labels=standard_labels(args.tier, "MemorystoreRedis",
                                                          args.labels),
            opts=child_options(self), depends_on=keys.grants if keys else ())
        self.register_outputs({"host": self.instance.host, "port": self.instance.port,
                               "authString": self.endpoint.auth_token,
                               "authSecretId": self.auth_secret.id})

    @staticmethod
    def _placement(args: MemorystoreRedisArgs) -> dict[str, Any]:
        if not args.zones:
            return {}
        return {"location_id": args.zones[0], "alternative_location_id": args.zones[1]}

    @staticmethod
    def _replicas(args: MemorystoreRedisArgs) -> dict[str, Any]:
        if not args.read_replicas:
            return {"read_replicas_mode": "READ_REPLICAS_DISABLED"}
        return {"read_replicas_mode": "READ_REPLICAS_ENABLED", "replica_count": args.read_replicas}
