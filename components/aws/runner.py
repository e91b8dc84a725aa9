"""A deploy runner inside a region's VPC, for clusters whose API is private.

A private EKS endpoint answers only inside its VPC, and the two regions' VPCs are
deliberately not peered, so each region's workloads stack is deployed from a
runner in *that* region's VPC: an AWS CodeBuild project that serves GitHub
Actions jobs as a CodeBuild-hosted self-hosted runner.

How it works (AWS CodeBuild user guide, "Self-hosted GitHub Actions runners in AWS
CodeBuild" and "About the CodeBuild-hosted GitHub Actions runner"): the project's
webhook listens for the `WORKFLOW_JOB_QUEUED` event; a job whose `runs-on` names
`codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}` runs in a
fresh CodeBuild container attached to the project's VPC subnets. GitHub is reached
through an AWS CodeConnections connection (authorised once, in the console), so
no token is stored. The project's role is the runner's identity: it gets an EKS
access entry on its own region's cluster and nothing on the other region's.

Networking: the builds run in the private subnets (egress through the NAT
gateways), in a security group with no ingress at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.kms import KeyScope, customer_managed_key, key_policy
from components.base import Protection, Tier, child_options, standard_tags

TYPE_TOKEN = "hastack:aws:DeployRunner"
COMPONENT = "DeployRunner"
# A current CodeBuild-managed Amazon Linux image (curated images list in the
# CodeBuild user guide, "Docker images provided by CodeBuild").
DEFAULT_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class DeployRunnerArgs:
    name: str
    region: str
    tier: Tier
    vpc_id: pulumi.Input[str]
    # Private subnets with a route to a NAT gateway (GitHub and AWS APIs are public).
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # owner/name of the repository whose workflow jobs this runner serves.
    github_repository: str
    code_connection_arn: str
    # The cluster this runner deploys to; its role gets an access entry there.
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    compute_type: str = "BUILD_GENERAL1_SMALL"
    image: str = DEFAULT_IMAGE
    log_retention_days: int = 90
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def project_name(self) -> str:
        return f"{self.name}-{self.region}-deploy"

    def validate(self) -> None:
        owner_repo = self.github_repository.split("/")
        if len(owner_repo) != 2 or not all(owner_repo):
            raise ValueError(f"github_repository must be owner/name, got "
                             f"{self.github_repository!r}")
        if ":connection/" not in self.code_connection_arn:
            raise ValueError("code_connection_arn must be a CodeConnections connection ARN")


def runner_label(project_name: str) -> str:
    """What a workflow job's `runs-on` names to run on this runner."""
    return f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


class DeployRunner(pulumi.ComponentResource):
    """A CodeBuild-hosted GitHub Actions runner in one region's VPC."""

    project_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    label: str

    def __init__(self, resource_name: str, args: DeployRunnerArgs, *,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        args.validate()
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        child = child_options(self, provider)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self, provider=provider))
        identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self,
                                                                     provider=provider))

        log_name = f"/aws/codebuild/{args.project_name}"
        # Build logs can echo commands and their output: on a CMK that only CloudWatch
        # Logs may use, for this log group (the runner writes through the logs API).
        key = customer_managed_key(
            f"{resource_name}-logs-key", description=f"Build logs of {args.project_name}",
            tier=args.tier, protection=Protection.for_tier(args.tier), tags=tags, opts=child,
            policy=key_policy(KeyScope(partition.partition, identity.account_id, args.region,
                                       partition.dns_suffix, log_groups=(log_name,))))
        logs = aws.cloudwatch.LogGroup(
            f"{resource_name}-logs", name=log_name, kms_key_id=key.arn,
            retention_in_days=args.log_retention_days, tags=tags, opts=child)
        group = aws.ec2.SecurityGroup(
            f"{resource_name}-sg", vpc_id=args.vpc_id,
            description=f"{args.project_name}: egress only (no inbound at all)",
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"],
                description="GitHub, AWS APIs and the cluster endpoint")],
            revoke_rules_on_delete=True, tags=tags, opts=child)
        role = aws.iam.Role(
            f"{resource_name}-role",
            description=f"Identity of the {args.project_name} GitHub Actions runner",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow",
                               "Principal": {"Service": "codebuild.amazonaws.com"},
                               "Action": "sts:AssumeRole",
                               # Only this account's projects (confused-deputy guard).
                               "Condition": {"StringEquals": {
                                   "aws:SourceAccount": identity.account_id}}}],
            }, sort_keys=True),
            tags=tags, opts=child)
        policy = aws.iam.RolePolicy(
            f"{resource_name}-policy", role=role.id,
            policy=pulumi.Output.all(logs.arn, args.cluster_arn).apply(
                lambda values: _runner_policy(partition.partition, args.region,
                                              identity.account_id, values[0], values[1],
                                              args.code_connection_arn)),
            opts=child)
        # CodeBuild checks the VPC permissions when the project is created, so the
        # policy must exist first (aws/aws-cdk#2652 ran into exactly this race).
        project = aws.codebuild.Project(
            f"{resource_name}-project",
            name=args.project_name,
            description=f"GitHub Actions runner for {args.github_repository} in {args.region}",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{args.github_repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(
                    type="CODECONNECTIONS", resource=args.code_connection_arn)),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER", compute_type=args.compute_type, image=args.image,
                image_pull_credentials_type="CODEBUILD"),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=[group.id]),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    group_name=logs.name, status="ENABLED")),
            tags=tags,
            opts=child_options(self, provider, depends_on=[policy]))
        aws.codebuild.Webhook(
            f"{resource_name}-webhook", project_name=project.name,
            filter_groups=[aws.codebuild.WebhookFilterGroupArgs(filters=[
                aws.codebuild.WebhookFilterGroupFilterArgs(
                    type="EVENT", pattern="WORKFLOW_JOB_QUEUED")])],
            opts=child)
        entry = aws.eks.AccessEntry(
            f"{resource_name}-access", cluster_name=args.cluster_name,
            principal_arn=role.arn, type="STANDARD", tags=tags, opts=child)
        aws.eks.AccessPolicyAssociation(
            f"{resource_name}-access", cluster_name=args.cluster_name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:{partition.partition}:eks::aws:cluster-access-policy/"
                       f"{CLUSTER_ADMIN_POLICY}",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=child)

        self.project_name = project.name
        self.role_arn = role.arn
        self.label = runner_label(args.project_name)
        self.register_outputs({"projectName": self.project_name, "roleArn": self.role_arn,
                               "label": self.label})


def _runner_policy(partition: str, region: str, account: str, log_group_arn: str,
                   cluster_arn: str, connection_arn: str) -> str:
    """Least privilege for the runner's own needs; the deploy itself needs what the
    workloads stack creates (see README, "Deploying for real")."""
    network_interface = f"arn:{partition}:ec2:{region}:{account}:network-interface/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "BuildLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group_arn, f"{log_group_arn}:*"]},
        # What CodeBuild needs to attach builds to the VPC (CodeBuild user guide,
        # "Allow CodeBuild access to AWS services required to create a VPC network
        # interface").
        {"Sid": "VpcNetworkInterfaces", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"],
         "Resource": "*"},
        {"Sid": "VpcNetworkInterfacePermission", "Effect": "Allow",
         "Action": "ec2:CreateNetworkInterfacePermission", "Resource": network_interface,
         "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}}},
        {"Sid": "GitHubThroughCodeConnections", "Effect": "Allow",
         "Action": ["codeconnections:UseConnection", "codeconnections:GetConnectionToken",
                    "codestar-connections:UseConnection",
                    "codestar-connections:GetConnectionToken"],
         "Resource": connection_arn},
        # `aws eks get-token` needs no IAM permission; the kubeconfig's cluster
        # lookup does.
        {"Sid": "ThisClusterOnly", "Effect": "Allow", "Action": "eks:DescribeCluster",
         "Resource": cluster_arn},
    ]}, sort_keys=True)
