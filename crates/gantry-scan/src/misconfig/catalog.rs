//! The check catalog: every misconfiguration check Gantry runs, with the
//! Checkov and Trivy IDs of the same check where one exists (a list is
//! left empty rather than guessed).

use crate::finding::Severity;

/// What a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Terraform,
    GithubActions,
    Dockerfile,
    Kubernetes,
}

/// One check of the catalog.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CheckInfo {
    /// Our ID: `GNT-AWS-001`, `GNT-GHA-001`, `GNT-DF-001`, `GNT-K8S-001`.
    pub id: &'static str,
    pub target: Target,
    pub title: &'static str,
    /// The default severity; a finding may be more severe than this when the
    /// instance is worse (a bucket ACL that allows public writes).
    pub severity: Severity,
    pub description: &'static str,
    pub remediation: &'static str,
    pub checkov: &'static [&'static str],
    pub trivy: &'static [&'static str],
}

impl CheckInfo {
    /// Checkov then Trivy IDs, as a finding's aliases.
    pub fn aliases(&self) -> Vec<String> {
        self.checkov
            .iter()
            .chain(self.trivy)
            .map(|s| (*s).to_owned())
            .collect()
    }
}

macro_rules! check {
    ($name:ident, $id:literal, $target:ident, $sev:ident, $title:literal, $desc:literal, $fix:literal, [$($ck:literal),*], [$($tv:literal),*]) => {
        pub(crate) const $name: CheckInfo = CheckInfo {
            id: $id,
            target: Target::$target,
            title: $title,
            severity: Severity::$sev,
            description: $desc,
            remediation: $fix,
            checkov: &[$($ck),*],
            trivy: &[$($tv),*],
        };
    };
}

// ---- Terraform / AWS -------------------------------------------------------

check!(
    S3_PUBLIC_ACL,
    "GNT-AWS-001",
    Terraform,
    High,
    "S3 bucket ACL grants public access",
    "The bucket's canned ACL or grants give AllUsers or AuthenticatedUsers read or write access, so anyone on the internet (or any AWS account) can list, read or overwrite objects.",
    "Use the `private` canned ACL (or disable ACLs with object ownership `BucketOwnerEnforced`) and grant access through IAM or a bucket policy scoped to known principals.",
    ["CKV_AWS_20", "CKV_AWS_57"],
    ["AVD-AWS-0092"]
);
check!(
    S3_PUBLIC_POLICY,
    "GNT-AWS-002",
    Terraform,
    High,
    "S3 bucket policy allows any principal",
    "A statement of the bucket policy allows actions to Principal `*` without a condition, making the bucket readable or writable by anyone.",
    "Name the principals that need access (account or role ARNs) or add a condition (aws:SourceVpce, aws:PrincipalOrgID) to the statement.",
    ["CKV_AWS_70"],
    []
);
check!(
    S3_PAB_DISABLED,
    "GNT-AWS-003",
    Terraform,
    High,
    "S3 public access block setting is disabled",
    "A public access block leaves one of block_public_acls, block_public_policy, ignore_public_acls or restrict_public_buckets off, so public ACLs or policies can take effect.",
    "Set all four settings of the aws_s3_bucket_public_access_block to true.",
    ["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
    [
        "AVD-AWS-0086",
        "AVD-AWS-0087",
        "AVD-AWS-0091",
        "AVD-AWS-0093"
    ]
);
check!(
    S3_NO_PAB,
    "GNT-AWS-004",
    Terraform,
    Low,
    "S3 bucket has no public access block",
    "Neither the bucket nor the account (aws_s3_account_public_access_block) has a public access block, so a later ACL or policy change can make the bucket public.",
    "Add an aws_s3_bucket_public_access_block for the bucket with all four settings true.",
    ["CKV2_AWS_6"],
    ["AVD-AWS-0094"]
);
check!(
    S3_NO_ENCRYPTION,
    "GNT-AWS-005",
    Terraform,
    Low,
    "S3 bucket has no server-side encryption configuration",
    "The bucket declares no server-side encryption configuration. AWS applies SSE-S3 to new objects by default since 2023, but the configuration is not under your control and no KMS key is used.",
    "Add an aws_s3_bucket_server_side_encryption_configuration with `aws:kms` (a customer-managed key) or at least `AES256`.",
    ["CKV_AWS_19"],
    ["AVD-AWS-0088"]
);
check!(
    S3_NO_VERSIONING,
    "GNT-AWS-006",
    Terraform,
    Medium,
    "S3 bucket versioning is not enabled",
    "Without versioning, an overwritten or deleted object cannot be recovered.",
    "Add an aws_s3_bucket_versioning with `versioning_configuration { status = \"Enabled\" }`.",
    ["CKV_AWS_21"],
    ["AVD-AWS-0090"]
);
check!(
    S3_NO_LOGGING,
    "GNT-AWS-007",
    Terraform,
    Low,
    "S3 bucket access logging is not enabled",
    "Server access logs record the requests made to the bucket; without them access cannot be audited.",
    "Add an aws_s3_bucket_logging that sends access logs to a dedicated log bucket.",
    ["CKV_AWS_18"],
    ["AVD-AWS-0089"]
);
check!(
    EBS_UNENCRYPTED,
    "GNT-AWS-008",
    Terraform,
    High,
    "EBS volume is not encrypted",
    "The volume's data, its snapshots and the traffic between it and the instance are not encrypted.",
    "Set `encrypted = true` (and `kms_key_id` for a customer-managed key).",
    ["CKV_AWS_3"],
    ["AVD-AWS-0026"]
);
check!(
    EC2_BLOCK_UNENCRYPTED,
    "GNT-AWS-009",
    Terraform,
    Medium,
    "EC2 instance or launch configuration block device is not encrypted",
    "A root or EBS block device of the instance, launch configuration or launch template is not encrypted.",
    "Set `encrypted = true` on every root_block_device and ebs_block_device (or enable EBS encryption by default).",
    ["CKV_AWS_8"],
    ["AVD-AWS-0131", "AVD-AWS-0008"]
);
check!(
    EBS_DEFAULT_ENCRYPTION_OFF,
    "GNT-AWS-010",
    Terraform,
    Medium,
    "EBS encryption by default is disabled",
    "aws_ebs_encryption_by_default turns default encryption off for the region, so new volumes are created unencrypted unless each asks otherwise.",
    "Set `enabled = true` on aws_ebs_encryption_by_default.",
    ["CKV_AWS_106"],
    []
);
check!(
    RDS_UNENCRYPTED,
    "GNT-AWS-011",
    Terraform,
    High,
    "RDS instance storage is not encrypted",
    "The database instance's storage, backups, replicas and snapshots are not encrypted at rest.",
    "Set `storage_encrypted = true` (encryption cannot be turned on for an existing instance: restore an encrypted snapshot).",
    ["CKV_AWS_16"],
    ["AVD-AWS-0080"]
);
check!(
    RDS_CLUSTER_UNENCRYPTED,
    "GNT-AWS-012",
    Terraform,
    High,
    "RDS cluster storage is not encrypted",
    "The Aurora/RDS cluster's storage and snapshots are not encrypted at rest.",
    "Set `storage_encrypted = true` on the aws_rds_cluster.",
    ["CKV_AWS_96"],
    ["AVD-AWS-0079"]
);
check!(
    RDS_PUBLIC,
    "GNT-AWS-013",
    Terraform,
    Critical,
    "RDS instance is publicly accessible",
    "`publicly_accessible = true` gives the database a public endpoint reachable from the internet (subject to its security groups).",
    "Set `publicly_accessible = false` and reach the database through the VPC (VPN, bastion, PrivateLink).",
    ["CKV_AWS_17"],
    []
);
check!(
    SG_SSH_WORLD,
    "GNT-AWS-014",
    Terraform,
    High,
    "Security group allows SSH (22) from the internet",
    "An ingress rule allows TCP port 22 from 0.0.0.0/0 or ::/0.",
    "Restrict the rule's CIDR blocks to known networks, or use SSM Session Manager instead of SSH.",
    ["CKV_AWS_24"],
    ["AVD-AWS-0107"]
);
check!(
    SG_RDP_WORLD,
    "GNT-AWS-015",
    Terraform,
    High,
    "Security group allows RDP (3389) from the internet",
    "An ingress rule allows port 3389 from 0.0.0.0/0 or ::/0.",
    "Restrict the rule's CIDR blocks to known networks, or reach Windows hosts through a bastion or Fleet Manager.",
    ["CKV_AWS_25"],
    ["AVD-AWS-0107"]
);
check!(
    SG_ALL_WORLD,
    "GNT-AWS-016",
    Terraform,
    Critical,
    "Security group allows all ports from the internet",
    "An ingress rule allows every protocol or every port (0-65535) from 0.0.0.0/0 or ::/0.",
    "Allow only the ports the service needs, from the networks that need them.",
    ["CKV_AWS_277"],
    ["AVD-AWS-0107"]
);
check!(
    SG_PORT_WORLD,
    "GNT-AWS-017",
    Terraform,
    Medium,
    "Security group allows a port from the internet",
    "An ingress rule allows a port other than 22, 3389, 80 and 443 from 0.0.0.0/0 or ::/0 (administration and database ports are the usual case).",
    "Restrict the rule's CIDR blocks to the networks that need the port; put public services behind a load balancer.",
    [],
    ["AVD-AWS-0107"]
);
check!(
    DEFAULT_SG_RULES,
    "GNT-AWS-018",
    Terraform,
    Medium,
    "Default security group has rules",
    "The VPC's default security group allows traffic; resources launched without a group get it silently (CIS AWS 5.4).",
    "Declare aws_default_security_group with no ingress or egress blocks and attach purpose-made groups.",
    ["CKV2_AWS_12"],
    []
);
check!(
    IAM_ADMIN,
    "GNT-AWS-019",
    Terraform,
    Critical,
    "IAM policy grants full administrative access",
    "A statement allows Action `*` on Resource `*`: whoever holds the policy can do anything in the account.",
    "Grant only the actions and resources the principal needs.",
    ["CKV_AWS_62", "CKV_AWS_1"],
    ["AVD-AWS-0057"]
);
check!(
    IAM_WILDCARD_ACTION,
    "GNT-AWS-020",
    Terraform,
    High,
    "IAM policy allows wildcard actions",
    "A statement allows `*` or `service:*` actions, including ones added to the service later.",
    "List the actions the principal needs instead of a wildcard.",
    ["CKV_AWS_63", "CKV_AWS_49"],
    ["AVD-AWS-0057"]
);
check!(
    IAM_WILDCARD_RESOURCE,
    "GNT-AWS-021",
    Terraform,
    Low,
    "IAM policy allows write actions on every resource",
    "A statement allows actions other than reads (Get/List/Describe) on Resource `*`.",
    "Scope the statement's Resource to the ARNs the actions are meant for.",
    ["CKV_AWS_355", "CKV_AWS_290"],
    ["AVD-AWS-0057"]
);
check!(
    IAM_ADMIN_ATTACHED,
    "GNT-AWS-022",
    Terraform,
    High,
    "AdministratorAccess managed policy is attached",
    "A role, user or group is given the AWS-managed AdministratorAccess policy.",
    "Attach a policy with only the permissions needed.",
    ["CKV_AWS_274"],
    []
);
check!(
    CLOUDTRAIL_SINGLE_REGION,
    "GNT-AWS-023",
    Terraform,
    Medium,
    "CloudTrail trail is not multi-region",
    "The trail records events of one region only; activity in other regions goes unlogged.",
    "Set `is_multi_region_trail = true`.",
    ["CKV_AWS_67"],
    ["AVD-AWS-0014"]
);
check!(
    CLOUDTRAIL_NO_VALIDATION,
    "GNT-AWS-024",
    Terraform,
    Medium,
    "CloudTrail log file validation is disabled",
    "Without log file validation, altered or deleted log files cannot be detected.",
    "Set `enable_log_file_validation = true`.",
    ["CKV_AWS_36"],
    ["AVD-AWS-0016"]
);
check!(
    CLOUDTRAIL_NO_KMS,
    "GNT-AWS-025",
    Terraform,
    Medium,
    "CloudTrail logs are not encrypted with KMS",
    "The trail's log files are not encrypted with a customer-managed KMS key.",
    "Set `kms_key_id` to a customer-managed KMS key ARN.",
    ["CKV_AWS_35"],
    ["AVD-AWS-0015"]
);
check!(
    KMS_NO_ROTATION,
    "GNT-AWS-026",
    Terraform,
    Medium,
    "KMS key rotation is disabled",
    "A symmetric customer-managed KMS key does not rotate its key material yearly.",
    "Set `enable_key_rotation = true`.",
    ["CKV_AWS_7"],
    ["AVD-AWS-0065"]
);
check!(
    IMDSV1,
    "GNT-AWS-027",
    Terraform,
    High,
    "Instance metadata service v1 is allowed",
    "`metadata_options.http_tokens` is not `required`, so the instance metadata (and its role credentials) can be read with plain GET requests, the path SSRF attacks use.",
    "Set `metadata_options { http_tokens = \"required\" }`.",
    ["CKV_AWS_79"],
    ["AVD-AWS-0028"]
);
check!(
    VPC_NO_FLOW_LOGS,
    "GNT-AWS-028",
    Terraform,
    Medium,
    "VPC has no flow logs",
    "No aws_flow_log captures the VPC's traffic, so network activity cannot be investigated.",
    "Add an aws_flow_log with `vpc_id` set to the VPC.",
    ["CKV2_AWS_11"],
    ["AVD-AWS-0178"]
);
check!(
    PROVIDER_CREDENTIALS,
    "GNT-AWS-029",
    Terraform,
    Critical,
    "AWS credentials are hard-coded in the provider block",
    "The aws provider block sets access_key/secret_key to literal values, which end up in version control.",
    "Remove the keys; let the provider read credentials from the environment, a profile or an assumed role.",
    ["CKV_AWS_41"],
    []
);
check!(
    USER_DATA_SECRETS,
    "GNT-AWS-030",
    Terraform,
    Critical,
    "EC2 user data contains credentials",
    "The user data holds an AWS access key or a secret assignment; user data is readable by anyone who can describe the instance.",
    "Fetch secrets at boot from Secrets Manager or SSM Parameter Store using the instance role.",
    ["CKV_AWS_46"],
    ["AVD-AWS-0029"]
);
check!(
    LAMBDA_ENV_SECRETS,
    "GNT-AWS-031",
    Terraform,
    High,
    "Lambda environment variables contain credentials",
    "An environment variable of the function has a secret-looking name and a literal value, or holds an AWS access key.",
    "Read secrets from Secrets Manager or SSM at run time; pass only their names in the environment.",
    ["CKV_AWS_45"],
    []
);
check!(
    SQS_UNENCRYPTED,
    "GNT-AWS-032",
    Terraform,
    Medium,
    "SQS queue is not encrypted",
    "The queue has neither a KMS key nor SQS-managed server-side encryption.",
    "Set `kms_master_key_id` or `sqs_managed_sse_enabled = true`.",
    ["CKV_AWS_27"],
    ["AVD-AWS-0096"]
);
check!(
    SNS_UNENCRYPTED,
    "GNT-AWS-033",
    Terraform,
    Medium,
    "SNS topic is not encrypted",
    "The topic's messages are not encrypted at rest with KMS.",
    "Set `kms_master_key_id` (a customer-managed key, or `alias/aws/sns`).",
    ["CKV_AWS_26"],
    ["AVD-AWS-0095"]
);
check!(
    ECR_NO_SCAN,
    "GNT-AWS-034",
    Terraform,
    Low,
    "ECR repository does not scan images on push",
    "Images pushed to the repository are not scanned for known vulnerabilities.",
    "Set `image_scanning_configuration { scan_on_push = true }` (or enable enhanced scanning for the registry).",
    ["CKV_AWS_163"],
    ["AVD-AWS-0030"]
);
check!(
    ECR_MUTABLE_TAGS,
    "GNT-AWS-035",
    Terraform,
    Low,
    "ECR repository tags are mutable",
    "A tag can be moved to a different image, so a deployment by tag may run something else than what was tested.",
    "Set `image_tag_mutability = \"IMMUTABLE\"`.",
    ["CKV_AWS_51"],
    ["AVD-AWS-0031"]
);
check!(
    LOG_GROUP_NO_RETENTION,
    "GNT-AWS-036",
    Terraform,
    Low,
    "CloudWatch log group does not set a retention period",
    "Without `retention_in_days` the log group keeps events forever: an explicit retention documents the intended policy.",
    "Set `retention_in_days` (365 or more where logs are audit evidence).",
    ["CKV_AWS_66"],
    []
);
check!(
    LOG_GROUP_SHORT_RETENTION,
    "GNT-AWS-037",
    Terraform,
    Low,
    "CloudWatch log group keeps events for less than a year",
    "`retention_in_days` is below 365, shorter than most audit requirements.",
    "Set `retention_in_days` to 365 or more (or 0 to keep events forever).",
    ["CKV_AWS_338"],
    []
);
check!(
    LOG_GROUP_NO_KMS,
    "GNT-AWS-038",
    Terraform,
    Low,
    "CloudWatch log group is not encrypted with KMS",
    "The log group's events are not encrypted with a customer-managed KMS key.",
    "Set `kms_key_id` to a KMS key whose policy allows CloudWatch Logs.",
    ["CKV_AWS_158"],
    ["AVD-AWS-0017"]
);
check!(
    EC2_PUBLIC_IP,
    "GNT-AWS-039",
    Terraform,
    Low,
    "EC2 instance gets a public IP address",
    "`associate_public_ip_address = true` exposes the instance directly to the internet.",
    "Launch the instance in a private subnet and reach it through a load balancer or bastion.",
    ["CKV_AWS_88"],
    []
);

// ---- GitHub Actions ---------------------------------------------------------

check!(
    GHA_SCRIPT_INJECTION,
    "GNT-GHA-001",
    GithubActions,
    High,
    "Untrusted input expanded in a run script",
    "A `${{ github.event.* }}` field an outsider controls (issue or PR title and body, comment body, branch name, commit message, author name or email...) is expanded into a `run:` script before the shell runs it, so a crafted value executes commands in the job (with its token and secrets).",
    "Pass the value through an environment variable (`env: TITLE: ${{ github.event.issue.title }}`) and use \"$TITLE\" in the script.",
    ["CKV_GHA_2"],
    []
);
check!(
    GHA_PR_TARGET_CHECKOUT,
    "GNT-GHA-002",
    GithubActions,
    Critical,
    "pull_request_target workflow checks out the pull request's code",
    "A `pull_request_target` workflow runs with the base repository's secrets and a write token; checking out the PR head and building or running it gives the PR author those privileges.",
    "Use the `pull_request` event for building untrusted code, or check out the PR head only in a job without secrets that runs nothing from it.",
    [],
    []
);
check!(
    GHA_UNPINNED_ACTION,
    "GNT-GHA-003",
    GithubActions,
    Medium,
    "Third-party action is not pinned to a commit SHA",
    "The action is referenced by a tag or branch, which its owner (or whoever compromises the repository) can move to different code. Actions owned by GitHub (`actions/*`, `github/*`) are reported at low severity.",
    "Pin the action to a full 40-character commit SHA (keep the version in a comment).",
    [],
    []
);
check!(
    GHA_WRITE_ALL,
    "GNT-GHA-004",
    GithubActions,
    High,
    "Workflow grants write-all permissions",
    "`permissions: write-all` gives the GITHUB_TOKEN write access to every scope.",
    "Declare only the scopes the jobs need, e.g. `permissions: { contents: read }`.",
    ["CKV2_GHA_1"],
    []
);
check!(
    GHA_NO_PERMISSIONS,
    "GNT-GHA-005",
    GithubActions,
    Low,
    "Workflow does not declare token permissions",
    "Neither the workflow nor the job sets `permissions`, so the GITHUB_TOKEN gets the repository's default, which may be read-write.",
    "Add a top-level `permissions:` block with the least the jobs need (e.g. `contents: read`).",
    [],
    []
);

// ---- Dockerfile ----------------------------------------------------------------

check!(
    DF_ROOT_USER,
    "GNT-DF-001",
    Dockerfile,
    Medium,
    "Container runs as root",
    "The final stage has no USER instruction, or its last USER is root (or 0), so the container's process runs as root.",
    "Create an unprivileged user and switch to it with `USER app` (or a numeric UID) in the final stage.",
    ["CKV_DOCKER_3", "CKV_DOCKER_8"],
    ["AVD-DS-0002"]
);
check!(
    DF_LATEST_TAG,
    "GNT-DF-002",
    Dockerfile,
    Medium,
    "Base image uses the latest tag or no tag",
    "`FROM image` or `FROM image:latest` builds on whatever the tag points to today, so builds are not reproducible.",
    "Pin the base image to a version tag, ideally with its digest (`image:1.2.3@sha256:...`).",
    ["CKV_DOCKER_7"],
    ["AVD-DS-0001"]
);
check!(
    DF_ADD_URL,
    "GNT-DF-003",
    Dockerfile,
    Medium,
    "ADD fetches a remote URL",
    "`ADD https://...` downloads at build time without verifying what it gets.",
    "Download with `RUN curl -fsSLO ... && sha256sum -c`, or `ADD --checksum=sha256:...`; use COPY for local files.",
    ["CKV_DOCKER_4"],
    ["AVD-DS-0005"]
);
check!(
    DF_SECRET_ENV,
    "GNT-DF-004",
    Dockerfile,
    High,
    "Secret in ENV or ARG",
    "An ENV or ARG with a secret-looking name (PASSWORD, SECRET, TOKEN, API_KEY...) has a literal value, which is stored in the image's history and layers.",
    "Use build secrets (`RUN --mount=type=secret`) and pass runtime secrets through the orchestrator.",
    [],
    []
);
check!(
    DF_APT_NO_CLEANUP,
    "GNT-DF-005",
    Dockerfile,
    Info,
    "apt-get install without cleaning the package lists",
    "The RUN that installs packages does not remove /var/lib/apt/lists, so the layer keeps the package index.",
    "End the same RUN with `&& rm -rf /var/lib/apt/lists/*`.",
    [],
    []
);

// ---- Kubernetes ----------------------------------------------------------------

check!(
    K8S_PRIVILEGED,
    "GNT-K8S-001",
    Kubernetes,
    High,
    "Container runs privileged",
    "`securityContext.privileged: true` gives the container every capability and access to the host's devices.",
    "Remove `privileged: true`; add only the capabilities the container needs.",
    ["CKV_K8S_16"],
    ["AVD-KSV-0017"]
);
check!(
    K8S_HOST_PATH,
    "GNT-K8S-002",
    Kubernetes,
    Medium,
    "Pod mounts a hostPath volume",
    "A hostPath volume exposes a directory of the node to the pod, a common route to node compromise.",
    "Use a persistent volume claim, emptyDir or a CSI volume instead.",
    [],
    ["AVD-KSV-0023"]
);
check!(
    K8S_HOST_NAMESPACE,
    "GNT-K8S-003",
    Kubernetes,
    High,
    "Pod shares a host namespace",
    "`hostNetwork`, `hostPID` or `hostIPC` is true, so the pod sees the node's network, processes or IPC.",
    "Remove hostNetwork/hostPID/hostIPC from the pod spec.",
    ["CKV_K8S_19", "CKV_K8S_17", "CKV_K8S_18"],
    ["AVD-KSV-0009", "AVD-KSV-0010", "AVD-KSV-0008"]
);
check!(
    K8S_RUN_AS_ROOT,
    "GNT-K8S-004",
    Kubernetes,
    Medium,
    "Container may run as root",
    "Neither the container's nor the pod's securityContext sets `runAsNonRoot: true` (or a non-zero runAsUser).",
    "Set `securityContext.runAsNonRoot: true` on the pod or container.",
    ["CKV_K8S_23"],
    ["AVD-KSV-0012"]
);
check!(
    K8S_NO_LIMITS,
    "GNT-K8S-005",
    Kubernetes,
    Low,
    "Container has no CPU or memory limit",
    "Without `resources.limits.cpu` and `resources.limits.memory` one container can starve the node.",
    "Set `resources.limits.cpu` and `resources.limits.memory`.",
    ["CKV_K8S_11", "CKV_K8S_13"],
    ["AVD-KSV-0011", "AVD-KSV-0018"]
);
check!(
    K8S_LATEST_IMAGE,
    "GNT-K8S-006",
    Kubernetes,
    Medium,
    "Container image uses the latest tag or no tag",
    "An image without a tag, or tagged `latest`, can change under the workload between pulls.",
    "Use a version tag, ideally with a digest (`image:1.2.3@sha256:...`).",
    ["CKV_K8S_14"],
    ["AVD-KSV-0013"]
);
check!(
    K8S_PRIV_ESCALATION,
    "GNT-K8S-007",
    Kubernetes,
    Medium,
    "Container allows privilege escalation",
    "`allowPrivilegeEscalation` is not false, so a process can gain more privileges than its parent (setuid binaries).",
    "Set `securityContext.allowPrivilegeEscalation: false`.",
    ["CKV_K8S_20"],
    ["AVD-KSV-0001"]
);

/// Every check, in ID order.
pub(crate) static CHECKS: &[CheckInfo] = &[
    S3_PUBLIC_ACL,
    S3_PUBLIC_POLICY,
    S3_PAB_DISABLED,
    S3_NO_PAB,
    S3_NO_ENCRYPTION,
    S3_NO_VERSIONING,
    S3_NO_LOGGING,
    EBS_UNENCRYPTED,
    EC2_BLOCK_UNENCRYPTED,
    EBS_DEFAULT_ENCRYPTION_OFF,
    RDS_UNENCRYPTED,
    RDS_CLUSTER_UNENCRYPTED,
    RDS_PUBLIC,
    SG_SSH_WORLD,
    SG_RDP_WORLD,
    SG_ALL_WORLD,
    SG_PORT_WORLD,
    DEFAULT_SG_RULES,
    IAM_ADMIN,
    IAM_WILDCARD_ACTION,
    IAM_WILDCARD_RESOURCE,
    IAM_ADMIN_ATTACHED,
    CLOUDTRAIL_SINGLE_REGION,
    CLOUDTRAIL_NO_VALIDATION,
    CLOUDTRAIL_NO_KMS,
    KMS_NO_ROTATION,
    IMDSV1,
    VPC_NO_FLOW_LOGS,
    PROVIDER_CREDENTIALS,
    USER_DATA_SECRETS,
    LAMBDA_ENV_SECRETS,
    SQS_UNENCRYPTED,
    SNS_UNENCRYPTED,
    ECR_NO_SCAN,
    ECR_MUTABLE_TAGS,
    LOG_GROUP_NO_RETENTION,
    LOG_GROUP_SHORT_RETENTION,
    LOG_GROUP_NO_KMS,
    EC2_PUBLIC_IP,
    GHA_SCRIPT_INJECTION,
    GHA_PR_TARGET_CHECKOUT,
    GHA_UNPINNED_ACTION,
    GHA_WRITE_ALL,
    GHA_NO_PERMISSIONS,
    DF_ROOT_USER,
    DF_LATEST_TAG,
    DF_ADD_URL,
    DF_SECRET_ENV,
    DF_APT_NO_CLEANUP,
    K8S_PRIVILEGED,
    K8S_HOST_PATH,
    K8S_HOST_NAMESPACE,
    K8S_RUN_AS_ROOT,
    K8S_NO_LIMITS,
    K8S_LATEST_IMAGE,
    K8S_PRIV_ESCALATION,
];
