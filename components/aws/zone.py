"""The Route 53 public hosted zone the edge's names live in: created, named, or looked up.

Three ways, one per stack-file setting (hastack:dns):

* `createZone: true` creates the public zone; its name servers are an output, to
  delegate the domain to (at the registrar or in the parent zone). Protected in prod:
  deleting a zone breaks the delegation even if it is re-created.
* `zoneId: Z...` names an existing zone; nothing is looked up.
* neither: the public zone for `domain` is looked up at preview, and a zone that
  cannot be found stops the preview with one error naming the settings to fix,
  instead of failing much later on the first record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.base import Protection, Tier, standard_tags, stateful_options


class ZoneNotFoundError(ValueError):
    pass


@dataclass(frozen=True)
class PublicZoneArgs:
    tier: Tier
    domain: str
    zone_id: str | None = None
    create: bool = False
    protection: Protection | None = None
    # Where the settings come from, for the error message.
    settings_key: str = "hastack:dns"
    provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicZone:
    zone_id: pulumi.Output[str]
    # Only for a zone this stack creates: where to delegate the domain.
    name_servers: pulumi.Output[Sequence[str]] | None = None
    zone: aws.route53.Zone | None = None


def public_zone(resource_name: str, args: PublicZoneArgs,
                parent: pulumi.Resource | None = None) -> PublicZone:
    if args.create and args.zone_id:
        raise ValueError(f"{args.settings_key}: createZone and zoneId exclude each other")
    if args.zone_id:
        return PublicZone(pulumi.Output.from_input(args.zone_id))
    if args.create:
        protection = args.protection or Protection.for_tier(args.tier)
        zone = aws.route53.Zone(
            resource_name, name=args.domain, comment=f"hastack {args.tier}: {args.domain}",
            # A zone with records left in it must not be deleted by accident.
            force_destroy=False,
            tags=standard_tags(args.tier, "PublicZone", args.tags),
            opts=stateful_options(protection, pulumi.ResourceOptions(
                parent=parent, provider=args.provider)))
        return PublicZone(zone.zone_id, zone.name_servers, zone)
    try:
        found = aws.route53.get_zone(name=args.domain, private_zone=False,
                                     opts=pulumi.InvokeOptions(parent=parent,
                                                               provider=args.provider))
    except Exception as error:  # the provider's "no matching Route 53 Hosted Zone found"
        raise ZoneNotFoundError(
            f"{args.settings_key}: no public Route 53 hosted zone for '{args.domain}' "
            f"({error}); set dns.zoneId to an existing zone's ID, or dns.createZone: true "
            "to create it in this stack") from None
    return PublicZone(pulumi.Output.from_input(found.zone_id))
