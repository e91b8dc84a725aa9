"""Resource type tokens, as the engine reports them (checked against the installed SDKs).

pulumi-aws v7 still ships deprecated `...V2` twins of several S3 resources; a
program may use either, so S3 rules match both spellings.
"""

# AWS
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ELASTICACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
ELASTICACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",
                 "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "aws:s3/bucketServerSideEncryptionConfigurationV2:"
          "BucketServerSideEncryptionConfigurationV2")
S3_LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
S3_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
S3_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
S3_OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
S3_REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",)
ROUTE53_RECORD = "aws:route53/record:Record"
ROUTE53_HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LB_LISTENER = "aws:lb/listener:Listener"
KMS_KEY = "aws:kms/key:Key"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SECRETS_MANAGER_SECRET = "aws:secretsmanager/secret:Secret"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FIS_EXPERIMENT_TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
S3_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
BACKUP_VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
RDS_CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"

# GCP
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
CLOUD_SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
MEMORYSTORE_INSTANCE = "gcp:redis/instance:Instance"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCP_KMS_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCP_SECRET = "gcp:secretmanager/secret:Secret"
CLOUD_DNS_RECORD_SET = "gcp:dns/recordSet:RecordSet"
BINAUTHZ_POLICY = "gcp:binaryauthorization/policy:Policy"

# Kubernetes
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_JOB = "kubernetes:batch/v1:Job"
GCP_SQL_USER = "gcp:sql/user:User"
# Gateway API, as served by GKE (v1; v1beta1 still served).
GATEWAY_KINDS = ("kubernetes:gateway.networking.k8s.io/v1:Gateway",
                 "kubernetes:gateway.networking.k8s.io/v1beta1:Gateway")
