"""The one table of Kubernetes and PostgreSQL versions hastack accepts, per cloud.

The config (`kubernetes.version`, `database.engineVersion`), the components' own
checks (eks.py, gke.py, aurora.py, cloudsql.py) and the policy pack's
`eks-supported-version` minimum all read this module. Review it with every release:
a version leaves the table when it leaves its service's standard support.

Sources (read 2026-12-01):
* EKS: a minor version has 14 months of standard support, then 12 of extended
  support (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
  endoflife.date/amazon-eks: 1.35 released 2026-01-28, standard support to
  2027-03-27; 1.34 standard support ends 2026-12-02; 1.33 ended 2026-07-29. The
  user guide's current "new minor version" is 1.36. With
  `upgrade_policy.support_type = "STANDARD"` (pulumi-aws eks.Cluster
  `ClusterUpgradePolicyArgs.support_type`, valid values EXTENDED, STANDARD) a
  cluster is upgraded at the end of standard support instead of paying for
  extended support, so only standard-support versions are accepted.
* GKE: release notes "Current versions" (docs.cloud.google.com/kubernetes-engine/
  docs/release-notes): Regular channel minors 1.33 to 1.36, default for cluster
  creation 1.35.5-gke.1163012; Stable 1.33 to 1.35. GKE supports a minor for 14
  months after it reaches Regular (cloud.google.com/kubernetes-engine/versioning).
* Aurora PostgreSQL: 17.4, 17.5, 17.6 and 17.7 are available (Aurora PostgreSQL
  release notes, "Extension versions for Amazon Aurora PostgreSQL", PostgreSQL 17
  table). RDS for PostgreSQL deprecated 16.5-16.8 and 17.1-17.4 on 2026-05-31
  (upgrade targets 16.11+, 17.7+), so the 17 minors older than 17.5 are left out.
* Cloud SQL for PostgreSQL: PostgreSQL 17 is in regular support until
  2030-02-01 (cloud.google.com/sql/docs/postgres/db-versions); Cloud SQL pins the
  major version (`POSTGRES_17`, listed by pulumi-gcp sql.DatabaseInstance
  `database_version`) and applies minor versions itself in maintenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

# Kubernetes minors a new or upgraded cluster may ask for, oldest first.
KUBERNETES: Mapping[str, tuple[str, ...]] = {
    "aws": ("1.35", "1.36"),
    "gcp": ("1.35", "1.36"),
}
DEFAULT_KUBERNETES = "1.35"
# EKS: upgrade at the end of standard support rather than enter paid extended support.
EKS_SUPPORT_TYPE = "STANDARD"
# GKE: the release channel that upgrades beyond the minimum version.
GKE_RELEASE_CHANNEL: Literal["REGULAR"] = "REGULAR"

# PostgreSQL versions per cloud. On AWS the exact Aurora minor; on GCP the major
# (Cloud SQL picks the minor), any minor of it is accepted and recorded.
AURORA_POSTGRESQL: tuple[str, ...] = ("17.5", "17.6", "17.7")
CLOUD_SQL_POSTGRESQL_MAJORS: tuple[int, ...] = (16, 17)

# --- Cloud SQL editions and their machine tiers ---------------------------------------
CloudSqlEdition = Literal["ENTERPRISE", "ENTERPRISE_PLUS"]
CLOUD_SQL_EDITIONS: tuple[CloudSqlEdition, ...] = ("ENTERPRISE", "ENTERPRISE_PLUS")
# Days of PITR transaction logs each edition keeps at most (provider:
# transaction_log_retention_days "1-7 ... For PostgreSQL Enterprise Plus instances, 1 to 35").
MAX_LOG_RETENTION_DAYS = {"ENTERPRISE": 7, "ENTERPRISE_PLUS": 35}
# Tier families of one edition only (Cloud SQL editions intro: Enterprise offers shared-
# core and dedicated-core (db-custom-*) machines, Enterprise Plus its own machine
# series, e.g. Google's Advanced DR sample uses db-perf-optimized-N-2 with
# ENTERPRISE_PLUS; the provider doc: ENTERPRISE_PLUS rejects db-custom-*).
ENTERPRISE_ONLY_TIERS = ("db-custom-", "db-f1-micro", "db-g1-small")
ENTERPRISE_PLUS_ONLY_TIERS = ("db-perf-optimized-",)


def tier_edition_problem(tier: str, edition: str) -> str | None:
    """Why `tier` cannot run on `edition` (the config layer and the component share it)."""
    if edition == "ENTERPRISE_PLUS" and tier.startswith(ENTERPRISE_ONLY_TIERS):
        return (f"tier '{tier}' needs edition ENTERPRISE; ENTERPRISE_PLUS uses "
                "db-perf-optimized-N-* tiers")
    if edition == "ENTERPRISE" and tier.startswith(ENTERPRISE_PLUS_ONLY_TIERS):
        return (f"tier '{tier}' needs edition ENTERPRISE_PLUS; ENTERPRISE uses db-custom-* "
                "(or shared-core) tiers")
    return None


# A version both services offer.
DEFAULT_POSTGRESQL = "17.7"
# Prefect's migrations need PostgreSQL >= 14.9.
MIN_POSTGRESQL = (14, 9)


def kubernetes_problem(cloud: str, version: str) -> str | None:
    """Why `version` is refused on `cloud`, or None when it is supported."""
    allowed = KUBERNETES[cloud]
    if version in allowed:
        return None
    service = "EKS" if cloud == "aws" else "GKE"
    return (f"Kubernetes {version} is not in {service} standard support; "
            f"allowed: {', '.join(allowed)} (hastack/config/versions.py)")


def postgresql_problem(cloud: str, version: str) -> str | None:
    """Why `version` is refused on `cloud`, or None when it is supported."""
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        return "must be a PostgreSQL version such as '17.7'"
    if cloud == "aws":
        if version in AURORA_POSTGRESQL:
            return None
        return (f"Aurora PostgreSQL {version} is not offered; allowed: "
                f"{', '.join(AURORA_POSTGRESQL)} (hastack/config/versions.py)")
    if int(parts[0]) in CLOUD_SQL_POSTGRESQL_MAJORS:
        return None
    majors = ", ".join(f"{m}.x" for m in CLOUD_SQL_POSTGRESQL_MAJORS)
    return (f"Cloud SQL PostgreSQL {parts[0]} is not offered; allowed: {majors} "
            "(hastack/config/versions.py)")

# Caches. ElastiCache: TLS can be "required" (no plain-text listener at all) from
# these versions on. Memorystore for Redis versions, newest first.
CACHE_MIN_VERSIONS: Mapping[str, tuple[int, int]] = {"redis": (7, 0), "valkey": (7, 2)}
MEMORYSTORE_REDIS: tuple[str, ...] = ("7.2", "7.0", "6.x", "5.0", "4.0")


def cache_problem(cloud: str, engine: str, version: str) -> str | None:
    """Why a cache engine version is refused, or None."""
    parts = version.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return "must be a version such as '7.1'"
    wanted = (int(parts[0]), int(parts[1]))
    if cloud == "aws":
        low = CACHE_MIN_VERSIONS[engine]
        if wanted < low:
            return (f"{engine} >= {low[0]}.{low[1]} is required for TLS-only "
                    "(transit encryption mode required)")
        return None
    oldest = MEMORYSTORE_REDIS[-1]
    if wanted < tuple(int(p) for p in oldest.split(".")):
        return f"Memorystore for Redis offers {oldest} or newer"
    return None
