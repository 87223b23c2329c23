//! The catalog of posture checks: what each one looks at, how bad a
//! failure is, how to fix it, and the names other tools give the same
//! control.
//!
//! Aliases are `AVD-AWS-NNNN` (Trivy), `CKV_AWS_N` / `CKV2_AWS_N` (the
//! Checkov Terraform check for the same setting) and `CIS-AWS-V:N` (the
//! CIS AWS Foundations Benchmark control, version V). A check without a
//! known counterpart has none rather than a guessed one.

use serde::Serialize;

use crate::finding::Severity;

/// Whether a check reads account-wide (IAM, S3, the account's trails) or
/// once per scanned region (EC2, KMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Account,
    Region,
}

/// One posture check as output formats list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub description: &'static str,
    pub remediation: &'static str,
    pub aliases: &'static [&'static str],
    pub scope: Scope,
    /// The read-only API calls the check makes (for building a policy).
    pub permissions: &'static [&'static str],
}

macro_rules! ids {
    ($($name:ident = $id:literal;)*) => {
        $(pub(crate) const $name: &str = $id;)*
    };
}

ids! {
    ROOT_KEYS = "GNT-AWSP-001";
    ROOT_MFA = "GNT-AWSP-002";
    PASSWORD_POLICY = "GNT-AWSP-003";
    CONSOLE_MFA = "GNT-AWSP-004";
    KEY_ROTATION = "GNT-AWSP-005";
    KEY_UNUSED = "GNT-AWSP-006";
    S3_PUBLIC_ACL = "GNT-AWSP-007";
    S3_PUBLIC_POLICY = "GNT-AWSP-008";
    S3_BUCKET_PAB = "GNT-AWSP-009";
    S3_ACCOUNT_PAB = "GNT-AWSP-010";
    S3_ENCRYPTION = "GNT-AWSP-011";
    SG_ADMIN_PORTS = "GNT-AWSP-012";
    SG_ALL_PORTS = "GNT-AWSP-013";
    DEFAULT_SG = "GNT-AWSP-014";
    TRAIL_MULTI_REGION = "GNT-AWSP-015";
    TRAIL_VALIDATION = "GNT-AWSP-016";
    TRAIL_LOGGING = "GNT-AWSP-017";
    TRAIL_KMS = "GNT-AWSP-018";
    KMS_ROTATION = "GNT-AWSP-019";
    IMDSV1 = "GNT-AWSP-020";
    EBS_DEFAULT_ENCRYPTION = "GNT-AWSP-021";
    VPC_FLOW_LOGS = "GNT-AWSP-022";
}

static CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: ROOT_KEYS,
        title: "Root user has access keys",
        severity: Severity::Critical,
        description: "The account's root user has programmatic access keys \
            (GetAccountSummary AccountAccessKeysPresent). Root keys cannot be limited by \
            any policy; whoever holds them owns the account.",
        remediation: "Sign in as the root user, delete its access keys under Security \
            credentials, and use IAM roles or users with least privilege for automation.",
        aliases: &["AVD-AWS-0141", "CIS-AWS-1.2:1.12", "CIS-AWS-1.4:1.4"],
        scope: Scope::Account,
        permissions: &["iam:GetAccountSummary"],
    },
    CheckInfo {
        id: ROOT_MFA,
        title: "Root user has no MFA",
        severity: Severity::Critical,
        description: "Multi-factor authentication is not enabled for the root user \
            (GetAccountSummary AccountMFAEnabled): its password alone opens the account.",
        remediation: "Sign in as the root user and assign an MFA device (preferably a \
            hardware key) under Security credentials.",
        aliases: &["AVD-AWS-0142", "CIS-AWS-1.2:1.13", "CIS-AWS-1.4:1.5"],
        scope: Scope::Account,
        permissions: &["iam:GetAccountSummary"],
    },
    CheckInfo {
        id: PASSWORD_POLICY,
        title: "Account password policy is missing or weak",
        severity: Severity::Medium,
        description: "The IAM password policy is missing, or allows passwords shorter \
            than 14 characters, allows reuse of the last 24 passwords, lets passwords \
            live longer than 90 days, or does not require upper- and lower-case \
            letters, numbers and symbols.",
        remediation: "Set an account password policy: minimum length 14, reuse \
            prevention 24, maximum age 90 days, and require uppercase, lowercase, \
            numbers and symbols (aws iam update-account-password-policy).",
        aliases: &[
            "AVD-AWS-0056",
            "AVD-AWS-0058",
            "AVD-AWS-0059",
            "AVD-AWS-0060",
            "AVD-AWS-0061",
            "AVD-AWS-0062",
            "AVD-AWS-0063",
            "CKV_AWS_9",
            "CKV_AWS_10",
            "CKV_AWS_11",
            "CKV_AWS_12",
            "CKV_AWS_13",
            "CKV_AWS_14",
            "CKV_AWS_15",
            "CIS-AWS-1.2:1.5",
            "CIS-AWS-1.2:1.6",
            "CIS-AWS-1.2:1.7",
            "CIS-AWS-1.2:1.8",
            "CIS-AWS-1.2:1.9",
            "CIS-AWS-1.2:1.10",
            "CIS-AWS-1.2:1.11",
        ],
        scope: Scope::Account,
        permissions: &["iam:GetAccountPasswordPolicy"],
    },
    CheckInfo {
        id: CONSOLE_MFA,
        title: "Console user without MFA",
        severity: Severity::High,
        description: "An IAM user can sign in to the console with a password but has \
            no MFA device.",
        remediation: "Assign an MFA device to the user, or remove the console password \
            if the user does not need the console; enforce MFA with a policy condition \
            on aws:MultiFactorAuthPresent.",
        aliases: &["AVD-AWS-0145", "CIS-AWS-1.2:1.2", "CIS-AWS-1.4:1.10"],
        scope: Scope::Account,
        permissions: &["iam:ListUsers", "iam:GetLoginProfile", "iam:ListMFADevices"],
    },
    CheckInfo {
        id: KEY_ROTATION,
        title: "Access key older than 90 days",
        severity: Severity::Medium,
        description: "An active IAM access key was created more than 90 days ago and \
            has not been rotated.",
        remediation: "Create a new access key, move its users to it, then deactivate \
            and delete the old one; prefer roles with temporary credentials.",
        aliases: &["AVD-AWS-0146", "CIS-AWS-1.2:1.4", "CIS-AWS-1.4:1.14"],
        scope: Scope::Account,
        permissions: &["iam:ListUsers", "iam:ListAccessKeys"],
    },
    CheckInfo {
        id: KEY_UNUSED,
        title: "Access key unused for 90 days",
        severity: Severity::Medium,
        description: "An active IAM access key has not been used for more than 90 days \
            (or was never used and is older than 90 days).",
        remediation: "Deactivate the key, and delete it once nothing breaks.",
        aliases: &["AVD-AWS-0144", "CIS-AWS-1.2:1.3"],
        scope: Scope::Account,
        permissions: &[
            "iam:ListUsers",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
        ],
    },
    CheckInfo {
        id: S3_PUBLIC_ACL,
        title: "S3 bucket is public through its ACL",
        severity: Severity::Critical,
        description: "The bucket's ACL grants access to everyone (AllUsers) or to any \
            AWS account (AuthenticatedUsers), and no public access block ignores \
            public ACLs.",
        remediation: "Remove the AllUsers/AuthenticatedUsers grants (set the ACL to \
            private), enable IgnorePublicAcls and BlockPublicAcls, and prefer \
            bucket-owner-enforced object ownership.",
        aliases: &["AVD-AWS-0092", "CKV_AWS_20", "CKV_AWS_57"],
        scope: Scope::Account,
        permissions: &["s3:ListAllMyBuckets", "s3:GetBucketAcl"],
    },
    CheckInfo {
        id: S3_PUBLIC_POLICY,
        title: "S3 bucket is public through its policy",
        severity: Severity::Critical,
        description: "The bucket policy allows a principal of \"*\" (everyone) without \
            any condition, and no public access block restricts public buckets.",
        remediation: "Restrict the policy's Principal to specific accounts or roles, or \
            add conditions (aws:SourceVpce, aws:PrincipalOrgID); enable \
            BlockPublicPolicy and RestrictPublicBuckets.",
        aliases: &["CKV_AWS_70"],
        scope: Scope::Account,
        permissions: &["s3:ListAllMyBuckets", "s3:GetBucketPolicy"],
    },
    CheckInfo {
        id: S3_BUCKET_PAB,
        title: "S3 bucket public access block missing or partial",
        severity: Severity::Medium,
        description: "Not all four public access block settings (BlockPublicAcls, \
            IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets) are in effect \
            for the bucket, counting both its own and the account's block.",
        remediation: "Enable all four settings on the bucket (aws s3api \
            put-public-access-block) or on the account.",
        aliases: &[
            "AVD-AWS-0086",
            "AVD-AWS-0087",
            "AVD-AWS-0091",
            "AVD-AWS-0093",
            "AVD-AWS-0094",
            "CKV_AWS_53",
            "CKV_AWS_54",
            "CKV_AWS_55",
            "CKV_AWS_56",
            "CKV2_AWS_6",
            "CIS-AWS-1.4:2.1.5",
        ],
        scope: Scope::Account,
        permissions: &["s3:ListAllMyBuckets", "s3:GetBucketPublicAccessBlock"],
    },
    CheckInfo {
        id: S3_ACCOUNT_PAB,
        title: "Account-level S3 public access block missing or partial",
        severity: Severity::Medium,
        description: "The account-wide S3 public access block (S3 Control) is missing \
            or does not enable all four settings, so every new bucket can be made \
            public by mistake.",
        remediation: "Enable all four settings account-wide (aws s3control \
            put-public-access-block --account-id ...).",
        aliases: &["CIS-AWS-1.4:2.1.5"],
        scope: Scope::Account,
        permissions: &["s3:GetAccountPublicAccessBlock"],
    },
    CheckInfo {
        id: S3_ENCRYPTION,
        title: "S3 bucket has no default encryption",
        severity: Severity::Medium,
        description: "The bucket has no default server-side encryption configuration.",
        remediation: "Configure default encryption (SSE-KMS with a customer key, or at \
            least SSE-S3) with aws s3api put-bucket-encryption.",
        aliases: &["AVD-AWS-0088", "CKV_AWS_19", "CIS-AWS-1.4:2.1.1"],
        scope: Scope::Account,
        permissions: &["s3:ListAllMyBuckets", "s3:GetEncryptionConfiguration"],
    },
    CheckInfo {
        id: SG_ADMIN_PORTS,
        title: "Security group opens SSH or RDP to the world",
        severity: Severity::High,
        description: "A security group allows inbound traffic from 0.0.0.0/0 or ::/0 \
            to port 22 (SSH) or 3389 (RDP), directly or through a port range or an \
            all-traffic rule.",
        remediation: "Limit the rule's source to known address ranges or security \
            groups, or reach instances through SSM Session Manager instead.",
        aliases: &[
            "AVD-AWS-0107",
            "CKV_AWS_24",
            "CKV_AWS_25",
            "CIS-AWS-1.2:4.1",
            "CIS-AWS-1.2:4.2",
        ],
        scope: Scope::Region,
        permissions: &["ec2:DescribeSecurityGroups"],
    },
    CheckInfo {
        id: SG_ALL_PORTS,
        title: "Security group opens all ports to the world",
        severity: Severity::Critical,
        description: "A security group allows inbound traffic on every port (protocol \
            -1, or 0-65535) from 0.0.0.0/0 or ::/0.",
        remediation: "Replace the rule with rules for the ports the service needs, from \
            the sources that need them.",
        aliases: &["CKV_AWS_277"],
        scope: Scope::Region,
        permissions: &["ec2:DescribeSecurityGroups"],
    },
    CheckInfo {
        id: DEFAULT_SG,
        title: "Default security group has rules",
        severity: Severity::Low,
        description: "A VPC's default security group allows inbound or outbound \
            traffic; anything launched without a group gets it.",
        remediation: "Remove every inbound and outbound rule from the default security \
            group and attach purpose-made groups instead.",
        aliases: &[
            "AVD-AWS-0173",
            "CKV2_AWS_12",
            "CIS-AWS-1.2:4.3",
            "CIS-AWS-1.4:5.3",
        ],
        scope: Scope::Region,
        permissions: &["ec2:DescribeSecurityGroups"],
    },
    CheckInfo {
        id: TRAIL_MULTI_REGION,
        title: "No multi-region CloudTrail trail is logging",
        severity: Severity::High,
        description: "The account has no CloudTrail trail that records every region and \
            is logging, so API activity in some regions goes unrecorded.",
        remediation: "Create a multi-region trail (aws cloudtrail create-trail \
            --is-multi-region-trail) and start logging.",
        aliases: &[
            "AVD-AWS-0014",
            "CKV_AWS_67",
            "CIS-AWS-1.2:2.1",
            "CIS-AWS-1.4:3.1",
        ],
        scope: Scope::Account,
        permissions: &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"],
    },
    CheckInfo {
        id: TRAIL_VALIDATION,
        title: "CloudTrail log file validation is off",
        severity: Severity::Medium,
        description: "The trail does not write digest files, so changed or deleted log \
            files cannot be detected.",
        remediation: "Enable log file validation (aws cloudtrail update-trail \
            --enable-log-file-validation).",
        aliases: &[
            "AVD-AWS-0016",
            "CKV_AWS_36",
            "CIS-AWS-1.2:2.2",
            "CIS-AWS-1.4:3.2",
        ],
        scope: Scope::Account,
        permissions: &["cloudtrail:DescribeTrails"],
    },
    CheckInfo {
        id: TRAIL_LOGGING,
        title: "CloudTrail trail is not logging",
        severity: Severity::High,
        description: "The trail exists but logging is stopped (GetTrailStatus \
            IsLogging is false).",
        remediation: "Start logging (aws cloudtrail start-logging --name TRAIL), and \
            alert on StopLogging calls.",
        aliases: &["CIS-AWS-1.2:2.1"],
        scope: Scope::Account,
        permissions: &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"],
    },
    CheckInfo {
        id: TRAIL_KMS,
        title: "CloudTrail logs are not encrypted with a KMS key",
        severity: Severity::Medium,
        description: "The trail's log files are not encrypted with a customer-managed \
            KMS key (SSE-KMS).",
        remediation: "Set a KMS key on the trail (aws cloudtrail update-trail \
            --kms-key-id ...) whose policy lets CloudTrail encrypt.",
        aliases: &[
            "AVD-AWS-0015",
            "CKV_AWS_35",
            "CIS-AWS-1.2:2.7",
            "CIS-AWS-1.4:3.7",
        ],
        scope: Scope::Account,
        permissions: &["cloudtrail:DescribeTrails"],
    },
    CheckInfo {
        id: KMS_ROTATION,
        title: "KMS customer key without automatic rotation",
        severity: Severity::Medium,
        description: "An enabled, customer-managed symmetric KMS key does not rotate \
            its key material automatically.",
        remediation: "Enable automatic rotation (aws kms enable-key-rotation --key-id \
            ...).",
        aliases: &[
            "AVD-AWS-0065",
            "CKV_AWS_7",
            "CIS-AWS-1.2:2.8",
            "CIS-AWS-1.4:3.8",
        ],
        scope: Scope::Region,
        permissions: &[
            "kms:ListKeys",
            "kms:DescribeKey",
            "kms:GetKeyRotationStatus",
        ],
    },
    CheckInfo {
        id: IMDSV1,
        title: "Instance allows IMDSv1",
        severity: Severity::High,
        description: "The instance's metadata service answers requests without a \
            session token (HttpTokens is not `required`), which server-side request \
            forgery can use to steal the instance role's credentials.",
        remediation: "Require IMDSv2 (aws ec2 modify-instance-metadata-options \
            --http-tokens required), and set it in launch templates.",
        aliases: &["AVD-AWS-0028", "CKV_AWS_79"],
        scope: Scope::Region,
        permissions: &["ec2:DescribeInstances"],
    },
    CheckInfo {
        id: EBS_DEFAULT_ENCRYPTION,
        title: "EBS encryption by default is off",
        severity: Severity::Medium,
        description: "New EBS volumes and snapshot copies in the region are not \
            encrypted unless each request asks for it.",
        remediation: "Enable EBS encryption by default in the region (aws ec2 \
            enable-ebs-encryption-by-default).",
        aliases: &["CKV_AWS_106", "CIS-AWS-1.4:2.2.1"],
        scope: Scope::Region,
        permissions: &["ec2:GetEbsEncryptionByDefault"],
    },
    CheckInfo {
        id: VPC_FLOW_LOGS,
        title: "VPC without flow logs",
        severity: Severity::Medium,
        description: "The VPC has no flow log, so its network traffic cannot be \
            investigated after an incident.",
        remediation: "Create a flow log for the VPC (at least REJECT traffic) to \
            CloudWatch Logs or S3.",
        aliases: &[
            "AVD-AWS-0178",
            "CKV2_AWS_11",
            "CIS-AWS-1.2:2.9",
            "CIS-AWS-1.4:3.9",
        ],
        scope: Scope::Region,
        permissions: &["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"],
    },
];

/// Every posture check, in id order.
pub fn posture_checks() -> &'static [CheckInfo] {
    CHECKS
}

/// The check with this id. Every id the scanner reports is in the table.
pub(crate) fn check(id: &str) -> &'static CheckInfo {
    CHECKS
        .iter()
        .find(|c| c.id == id)
        // Invariant: callers pass one of the constants above, each of
        // which has an entry (checked by the `catalog_is_complete` test).
        .unwrap_or(&CHECKS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_complete() {
        let ids = [
            ROOT_KEYS,
            ROOT_MFA,
            PASSWORD_POLICY,
            CONSOLE_MFA,
            KEY_ROTATION,
            KEY_UNUSED,
            S3_PUBLIC_ACL,
            S3_PUBLIC_POLICY,
            S3_BUCKET_PAB,
            S3_ACCOUNT_PAB,
            S3_ENCRYPTION,
            SG_ADMIN_PORTS,
            SG_ALL_PORTS,
            DEFAULT_SG,
            TRAIL_MULTI_REGION,
            TRAIL_VALIDATION,
            TRAIL_LOGGING,
            TRAIL_KMS,
            KMS_ROTATION,
            IMDSV1,
            EBS_DEFAULT_ENCRYPTION,
            VPC_FLOW_LOGS,
        ];
        assert_eq!(ids.len(), CHECKS.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(CHECKS[i].id, *id, "catalog out of order at {i}");
            assert_eq!(check(id).id, *id);
        }
        for c in CHECKS {
            assert!(c.id.starts_with("GNT-AWSP-"));
            assert!(!c.title.is_empty() && !c.description.is_empty());
            assert!(!c.remediation.is_empty() && !c.permissions.is_empty());
            for a in c.aliases {
                assert!(
                    a.starts_with("AVD-AWS-") || a.starts_with("CKV") || a.starts_with("CIS-AWS-"),
                    "{}: alias {a}",
                    c.id
                );
            }
        }
    }
}
