"""One region's public edge: an internet-facing ALB that serves the orchestrator over HTTPS.

Owned by the infrastructure layer, so DNS, health checks and guardrails see every
piece at plan time; the workloads layer only registers pods into the target group
(a `TargetGroupBinding`, components/k8s/exposure.py) using `target_group_arn`.

What it builds, and why:

* An ALB in the public subnets with `drop_invalid_header_fields` (no request
  smuggling through malformed headers), an idle timeout long enough for Prefect's
  websockets and Argo's log streams, and in prod deletion protection plus access
  logs to a bucket of its own region (ELB writes only to a same-region bucket
  encrypted with SSE-S3; the bucket policy's principal differs by region, see
  `log_delivery_principal`). ARC zonal shift is enabled on every ALB, so an operator
  (or zonal autoshift) can take an impaired zone out of the edge.
* HTTP:80 answers with a permanent redirect to HTTPS and nothing else.
* HTTPS:443 with a TLS 1.3 security policy (TLS 1.2 fallback) and an ACM
  certificate for the shared name `<hostname>.<domain>` and this region's own name
  `<hostname>-<region>.<domain>`, DNS-validated in the Route 53 zone. ACM's
  validation CNAME for a name is the same in every region of one account, so both
  regions' certificates need the *same* record for the shared name: only the
  region with `owns_shared_validation` creates it (one resource per distinct
  record), every region creates the record for its regional name.
* A target group of `ip` targets (pods, registered by the AWS Load Balancer
  Controller) probing the orchestrator's health path, with tight timings so a
  dead pod leaves rotation in ~20 s in prod instead of AWS's 60 s default.
* Security groups: the ALB accepts 80/443 from the internet and may only talk to
  the node security group on the target port; the node security group accepts
  the target port only from the ALB.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.base import Protection, Tier, child_options, standard_tags, stateful_options

COMPONENT = "RegionalEdge"
# ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 + TLS 1.2, AWS's recommended policy and
# the console default for HTTPS listeners (ELB docs "Security policies for your ALB").
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Websockets (Prefect events/logs) and Argo log streams stay open for long; the
# ALB default of 60 s would cut them. ALB accepts 1..4000 s.
IDLE_TIMEOUT_SECONDS = 3600
MAX_IDLE_TIMEOUT = 4000
# Pods drain for this long after leaving the target group (AWS default: 300 s).
DEREGISTRATION_DELAY = 30
# Names of ALBs and target groups are at most 32 characters.
MAX_LB_NAME = 32
# Regions opened in August 2022 or later take log delivery from a service principal
# instead of the regional ELB account (ELB docs "Enable access logs", step 2).
SERVICE_PRINCIPAL_LOG_REGIONS = frozenset({
    "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1",
    "eu-central-2", "eu-south-2", "il-central-1", "me-central-1", "mx-central-1",
})
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
ACCESS_LOG_PREFIX = "alb"
ACCESS_LOG_DAYS = 90


_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def short_region(region: str) -> str:
    """`us-east-1` -> `use1`, `ap-southeast-2` -> `apse2`: compact and unique per region."""
    parts = region.split("-")
    middle = "".join(_DIRECTIONS.get(p, p[:2]) for p in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


def lb_name(base: str, suffix: str) -> str:
    """An ALB/target-group name of at most 32 characters, stable for the same input."""
    name = f"{base}-{suffix}"
    if len(name) <= MAX_LB_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    keep = MAX_LB_NAME - len(suffix) - len(digest) - 2
    return f"{base[:keep].rstrip('-')}-{digest}-{suffix}"


def regional_fqdn(hostname: str, region: str, domain: str) -> str:
    """The per-region name the listener serves and Route 53 health-checks."""
    return f"{hostname}-{region}.{domain}"


@dataclass(frozen=True)
class HealthTimings:
    interval: int
    timeout: int
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2

    @staticmethod
    def for_tier(tier: Tier) -> HealthTimings:
        # prod: 10 s x 2 = 20 s to detect and to recover (facts.md 4.14 vs the 30 s x 5 default).
        return HealthTimings(10, 5) if tier == "prod" else HealthTimings(30, 10)


@dataclass(frozen=True)
class RegionalEdgeArgs:
    name: str                     # platform name, e.g. "hastack-prod"
    tier: Tier
    region: str
    domain: str
    hostname: str
    zone_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # The security group the pods' ENIs carry (EKS: the cluster security group).
    node_security_group_id: pulumi.Input[str]
    target_port: int              # Prefect 4200, Argo 2746
    health_path: str              # e.g. "/api/health"
    # The region that creates the shared name's validation record (exactly one).
    owns_shared_validation: bool = True
    protection: Protection | None = None
    # Access logs to an S3 bucket of this region; None: on in prod.
    access_logs: bool | None = None
    idle_timeout: int = IDLE_TIMEOUT_SECONDS
    health: HealthTimings | None = None
    provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def shared_fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}"

    @property
    def regional_fqdn(self) -> str:
        return regional_fqdn(self.hostname, self.region, self.domain)

    def problems(self) -> list[str]:
        found = []
        if not 1 <= self.target_port <= 65535:
            found.append(f"target_port {self.target_port} is not a TCP port")
        if not self.health_path.startswith("/"):
            found.append(f"health_path '{self.health_path}' must start with '/'")
        if not 1 <= self.idle_timeout <= MAX_IDLE_TIMEOUT:
            found.append(f"idle_timeout must be 1..{MAX_IDLE_TIMEOUT} s (got {self.idle_timeout})")
        timings = self.health or HealthTimings.for_tier(self.tier)
        if timings.timeout >= timings.interval:
            found.append("health check timeout must be shorter than its interval")
        if not (2 <= timings.healthy_threshold <= 10 and 2 <= timings.unhealthy_threshold <= 10):
            found.append("health check thresholds must be 2..10")
        return found


def log_delivery_principal(region: str, elb_account_arn: str | None) -> dict[str, str]:
    """Who writes ALB access logs in `region`: the regional ELB account, or the service."""
    if region in SERVICE_PRINCIPAL_LOG_REGIONS or elb_account_arn is None:
        return {"Service": LOG_DELIVERY_SERVICE}
    return {"AWS": elb_account_arn}


def access_log_policy(bucket_arn: str, account_id: str, principal: Mapping[str, str]) -> str:
    """Log delivery may put objects under our prefix; nothing may use plain HTTP."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowAlbLogDelivery", "Effect": "Allow", "Principal": dict(principal),
             "Action": "s3:PutObject",
             "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
             "Action": "s3:*", "Resource": [bucket_arn, f"{bucket_arn}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }, sort_keys=True)


class RegionalEdge(pulumi.ComponentResource):
    """ALB + listeners + certificate + target group + security groups for one region."""

    alb_arn: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    canonical_zone_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    # CloudWatch's dimension values for the ALB and its target group (alarms).
    alb_arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    regional_fqdn: str
    region: str

    def __init__(self, resource_name: str, args: RegionalEdgeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if problems := args.problems():
            raise ValueError(f"RegionalEdge {resource_name}: " + "; ".join(problems))
        super().__init__("hastack:aws:RegionalEdge", resource_name, None, opts)
        self._args = args
        self._prefix = resource_name
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        self._opts = child_options(self, args.provider)
        self._protection = args.protection or Protection.for_tier(args.tier)
        self.region = args.region
        self.regional_fqdn = args.regional_fqdn
        base = f"{args.name}-{short_region(args.region)}"

        alb_sg = self._security_groups(base)
        certificate = self._certificate()
        logs = (args.access_logs if args.access_logs is not None else args.tier == "prod")
        log_bucket = self._log_bucket() if logs else None
        alb = aws.lb.LoadBalancer(
            f"{resource_name}-alb",
            name=lb_name(base, "alb"),
            load_balancer_type="application",
            internal=False,
            subnets=args.public_subnet_ids,
            security_groups=[alb_sg.id],
            drop_invalid_header_fields=True,
            # ARC zonal shift / autoshift may move traffic off an impaired zone (off by
            # default; ALBs support it with cross-zone load balancing on: ARC developer
            # guide, "Application Load Balancers" under zonal shift resource types).
            enable_zonal_shift=True,
            idle_timeout=args.idle_timeout,
            enable_deletion_protection=self._protection.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=log_bucket[0].bucket, prefix=ACCESS_LOG_PREFIX, enabled=True)
            if log_bucket else None,
            tags={**self._tags, "Name": f"{base}-alb"},
            opts=pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(
                protect=self._protection.protect,
                depends_on=[log_bucket[1]] if log_bucket else None)))
        target_group = self._target_group(base)
        self._listeners(alb, target_group, certificate)

        self.alb_arn = alb.arn
        self.dns_name = alb.dns_name
        self.canonical_zone_id = alb.zone_id
        self.target_group_arn = target_group.arn
        self.alb_arn_suffix = alb.arn_suffix
        self.target_group_arn_suffix = target_group.arn_suffix
        self.certificate_arn = certificate.certificate_arn
        self.security_group_id = alb_sg.id
        self.register_outputs({
            "albArn": self.alb_arn, "dnsName": self.dns_name,
            "canonicalZoneId": self.canonical_zone_id,
            "targetGroupArn": self.target_group_arn,
            "certificateArn": self.certificate_arn,
            "securityGroupId": self.security_group_id,
            "regionalFqdn": self.regional_fqdn,
        })

    # ------------------------------------------------------------ network

    def _security_groups(self, base: str) -> aws.ec2.SecurityGroup:
        args, prefix = self._args, self._prefix
        # No inline rules: the provider then also removes AWS's default allow-all egress.
        alb_sg = aws.ec2.SecurityGroup(
            f"{prefix}-alb-sg", vpc_id=args.vpc_id,
            description=f"{base} ALB: HTTPS from the internet, to the pods only",
            tags={**self._tags, "Name": f"{base}-alb"}, opts=self._opts)
        for port in (80, 443):
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-alb-in-{port}", security_group_id=alb_sg.id,
                description=f"clients on {port}" + (" (redirected to 443)" if port == 80 else ""),
                ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0",
                tags=self._tags, opts=self._opts)
        aws.vpc.SecurityGroupEgressRule(
            f"{prefix}-alb-out-pods", security_group_id=alb_sg.id,
            description="the orchestrator's pods (targets and health checks)",
            ip_protocol="tcp", from_port=args.target_port, to_port=args.target_port,
            referenced_security_group_id=args.node_security_group_id,
            tags=self._tags, opts=self._opts)
        aws.vpc.SecurityGroupIngressRule(
            f"{prefix}-pods-from-alb", security_group_id=args.node_security_group_id,
            description=f"{base} ALB to the orchestrator's pods",
            ip_protocol="tcp", from_port=args.target_port, to_port=args.target_port,
            referenced_security_group_id=alb_sg.id, tags=self._tags, opts=self._opts)
        return alb_sg

    # ------------------------------------------------------------ TLS

    def _certificate(self) -> aws.acm.CertificateValidation:
        args, prefix = self._args, self._prefix
        certificate = aws.acm.Certificate(
            f"{prefix}-cert", domain_name=args.shared_fqdn,
            subject_alternative_names=[args.regional_fqdn], validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags={**self._tags, "Name": args.regional_fqdn},
            # A replacement must exist before the listener lets go of the old one.
            opts=pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(
                delete_before_replace=False)))
        names = [("regional", args.regional_fqdn)]
        if args.owns_shared_validation:
            names.insert(0, ("shared", args.shared_fqdn))
        fqdns = []
        for label, domain in names:
            option = certificate.domain_validation_options.apply(
                functools.partial(_option_for, domain=domain))
            record = aws.route53.Record(
                f"{prefix}-validation-{label}", zone_id=args.zone_id,
                name=option.apply(lambda o: o.resource_record_name or ""),
                type=option.apply(lambda o: o.resource_record_type or ""),
                records=[option.apply(lambda o: o.resource_record_value or "")],
                ttl=300,
                # A record left by an earlier certificate of the same account and name
                # is identical (ACM reuses the token); take it over instead of failing.
                allow_overwrite=True,
                opts=self._opts)
            fqdns.append(record.fqdn)
        return aws.acm.CertificateValidation(
            f"{prefix}-cert-validation", certificate_arn=certificate.arn,
            # The shared name's record may be another region's; ACM validates by DNS,
            # so listing only our own records still waits for the whole certificate.
            validation_record_fqdns=fqdns, opts=self._opts)

    # ------------------------------------------------------------ serving

    def _target_group(self, base: str) -> aws.lb.TargetGroup:
        args = self._args
        timings = args.health or HealthTimings.for_tier(args.tier)
        return aws.lb.TargetGroup(
            f"{self._prefix}-tg", name=lb_name(base, "tg"),
            target_type="ip", protocol="HTTP", port=args.target_port, vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, protocol="HTTP", port="traffic-port", path=args.health_path,
                matcher="200", interval=timings.interval, timeout=timings.timeout,
                healthy_threshold=timings.healthy_threshold,
                unhealthy_threshold=timings.unhealthy_threshold),
            tags={**self._tags, "Name": f"{base}-tg"}, opts=self._opts)

    def _listeners(self, alb: aws.lb.LoadBalancer, target_group: aws.lb.TargetGroup,
                   certificate: aws.acm.CertificateValidation) -> None:
        aws.lb.Listener(
            f"{self._prefix}-http", load_balancer_arn=alb.arn, port=80, protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))],
            tags=self._tags, opts=self._opts)
        aws.lb.Listener(
            f"{self._prefix}-https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            # The validated ARN: the listener waits until ACM has issued the certificate.
            certificate_arn=certificate.certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="forward", target_group_arn=target_group.arn)],
            tags=self._tags, opts=self._opts)

    # ------------------------------------------------------------ access logs

    def _log_bucket(self) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        args, prefix = self._args, self._prefix
        stateful = stateful_options(self._protection, self._opts)
        bucket = aws.s3.Bucket(f"{prefix}-alb-logs", force_destroy=not self._protection.protect,
                               tags={**self._tags, "hastack:purpose": "alb-access-logs"},
                               opts=stateful)
        aws.s3.BucketPublicAccessBlock(
            f"{prefix}-alb-logs-pab", bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=self._opts)
        aws.s3.BucketOwnershipControls(
            f"{prefix}-alb-logs-ownership", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._opts)
        aws.s3.BucketVersioning(
            f"{prefix}-alb-logs-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"), opts=self._opts)
        # ELB delivers access logs only to buckets encrypted with SSE-S3 (not SSE-KMS).
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-alb-logs-sse", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))], opts=self._opts)
        aws.s3.BucketLifecycleConfiguration(
            f"{prefix}-alb-logs-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=ACCESS_LOG_DAYS),
                noncurrent_version_expiration=aws.s3.
                BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=7))], opts=self._opts)
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        elb_account: pulumi.Output[str | None] = (
            pulumi.Output.from_input(None) if args.region in SERVICE_PRINCIPAL_LOG_REGIONS
            else aws.elb.get_service_account_output(opts=invoke).arn)
        policy = pulumi.Output.all(bucket.arn, account, elb_account).apply(
            lambda v: access_log_policy(v[0], v[1], log_delivery_principal(args.region, v[2])))
        bucket_policy = aws.s3.BucketPolicy(f"{prefix}-alb-logs-policy", bucket=bucket.id,
                                            policy=policy, opts=self._opts)
        return bucket, bucket_policy


def _option_for(options: Sequence[aws.acm.outputs.CertificateDomainValidationOption],
                domain: str) -> aws.acm.outputs.CertificateDomainValidationOption:
    for option in options or []:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM returned no DNS validation option for {domain}")
