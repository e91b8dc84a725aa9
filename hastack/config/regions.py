"""Regions and zones the toolkit knows, per cloud.

These are facts about the clouds, used for two things: validating a stack file
(an unknown region or more zones than a region has is a configuration error, not
a failed `pulumi up` twenty minutes later) and feeding the offline plan's mocks
with realistic zone lists.
"""

from __future__ import annotations

# AWS: commercial regions and the availability-zone suffixes a new account can use.
# A few regions hide AZs from new accounts (us-west-1 offers two, ap-northeast-1 a/c/d).
AWS_REGION_ZONES: dict[str, tuple[str, ...]] = {
    "us-east-1": ("a", "b", "c", "d", "e", "f"),
    "us-east-2": ("a", "b", "c"),
    "us-west-1": ("a", "c"),
    "us-west-2": ("a", "b", "c", "d"),
    "ca-central-1": ("a", "b", "d"),
    "ca-west-1": ("a", "b", "c"),
    "sa-east-1": ("a", "b", "c"),
    "mx-central-1": ("a", "b", "c"),
    "eu-west-1": ("a", "b", "c"),
    "eu-west-2": ("a", "b", "c"),
    "eu-west-3": ("a", "b", "c"),
    "eu-central-1": ("a", "b", "c"),
    "eu-central-2": ("a", "b", "c"),
    "eu-north-1": ("a", "b", "c"),
    "eu-south-1": ("a", "b", "c"),
    "eu-south-2": ("a", "b", "c"),
    "il-central-1": ("a", "b", "c"),
    "me-south-1": ("a", "b", "c"),
    "me-central-1": ("a", "b", "c"),
    "af-south-1": ("a", "b", "c"),
    "ap-east-1": ("a", "b", "c"),
    "ap-south-1": ("a", "b", "c"),
    "ap-south-2": ("a", "b", "c"),
    "ap-northeast-1": ("a", "c", "d"),
    "ap-northeast-2": ("a", "b", "c", "d"),
    "ap-northeast-3": ("a", "b", "c"),
    "ap-southeast-1": ("a", "b", "c"),
    "ap-southeast-2": ("a", "b", "c"),
    "ap-southeast-3": ("a", "b", "c"),
    "ap-southeast-4": ("a", "b", "c"),
    "ap-southeast-5": ("a", "b", "c"),
    "ap-southeast-7": ("a", "b", "c"),
}

# GCP: regions and their zone suffixes (zone letters are not contiguous everywhere).
GCP_REGION_ZONES: dict[str, tuple[str, ...]] = {
    "us-central1": ("a", "b", "c", "f"),
    "us-east1": ("b", "c", "d"),
    "us-east4": ("a", "b", "c"),
    "us-east5": ("a", "b", "c"),
    "us-south1": ("a", "b", "c"),
    "us-west1": ("a", "b", "c"),
    "us-west2": ("a", "b", "c"),
    "us-west3": ("a", "b", "c"),
    "us-west4": ("a", "b", "c"),
    "northamerica-northeast1": ("a", "b", "c"),
    "northamerica-northeast2": ("a", "b", "c"),
    "southamerica-east1": ("a", "b", "c"),
    "europe-west1": ("b", "c", "d"),
    "europe-west2": ("a", "b", "c"),
    "europe-west3": ("a", "b", "c"),
    "europe-west4": ("a", "b", "c"),
    "europe-west6": ("a", "b", "c"),
    "europe-west8": ("a", "b", "c"),
    "europe-west9": ("a", "b", "c"),
    "europe-west10": ("a", "b", "c"),
    "europe-west12": ("a", "b", "c"),
    "europe-north1": ("a", "b", "c"),
    "europe-central2": ("a", "b", "c"),
    "europe-southwest1": ("a", "b", "c"),
    "asia-east1": ("a", "b", "c"),
    "asia-east2": ("a", "b", "c"),
    "asia-northeast1": ("a", "b", "c"),
    "asia-northeast2": ("a", "b", "c"),
    "asia-northeast3": ("a", "b", "c"),
    "asia-south1": ("a", "b", "c"),
    "asia-south2": ("a", "b", "c"),
    "asia-southeast1": ("a", "b", "c"),
    "asia-southeast2": ("a", "b", "c"),
    "australia-southeast1": ("a", "b", "c"),
    "australia-southeast2": ("a", "b", "c"),
    "me-west1": ("a", "b", "c"),
    "me-central1": ("a", "b", "c"),
    "africa-south1": ("a", "b", "c"),
}

# AWS AZ IDs: the same physical zone in every account, unlike the zone *names*
# (us-east-1a), which older regions map per account. Stack files pin AZ IDs so that
# placement never depends on a live lookup (a zone reported impaired during an
# incident must not make the next `pulumi up` move subnets or databases).
# Source: AWS Regions and Availability Zones guide, "AWS Availability Zones" and
# "AZ IDs" (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html);
# us-west-1 offers usw1-az1 and usw1-az3 only; us-east-1's use1-az3 comes last
# because some services' zone tables omit it (e.g. EFS One Zone's supported AZ IDs).
# Regions not listed here may still be used: the stack file then names its AZ IDs
# explicitly (format-checked only).
AWS_REGION_AZ_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6", "use1-az3"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
}
AWS_AZ_ID = r"^[a-z]{3,5}\d-az\d{1,2}$"

REGION_ZONES: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": AWS_REGION_ZONES,
    "gcp": GCP_REGION_ZONES,
}


def zones_of(cloud: str, region: str) -> list[str]:
    """Full zone names of a region, in the order the cloud lists them."""
    suffixes = REGION_ZONES[cloud][region]
    separator = "" if cloud == "aws" else "-"
    return [f"{region}{separator}{suffix}" for suffix in suffixes]


def default_zone_ids(cloud: str, region: str, count: int) -> list[str]:
    """The zones a stack file pins when it names none: AZ IDs on AWS, zone names on GCP.

    Empty when the toolkit knows no such list (the stack file must then pin them).
    """
    if cloud == "aws":
        return list(AWS_REGION_AZ_IDS.get(region, ()))[:count]
    if region not in GCP_REGION_ZONES:
        return []
    return zones_of("gcp", region)[:count]


def known_zone_ids(cloud: str, region: str) -> tuple[str, ...] | None:
    """Every zone identifier a stack file may pin in `region`, or None when unknown."""
    if cloud == "aws":
        return AWS_REGION_AZ_IDS.get(region)
    return tuple(zones_of("gcp", region)) if region in GCP_REGION_ZONES else None


def known_regions(cloud: str) -> list[str]:
    return sorted(REGION_ZONES[cloud])
