//! Thin clients: exactly the operations the provider's resources need,
//! each one function over [`crate::Client`] in its service's protocol.

pub mod cloudtrail;
pub mod cloudwatch;
pub mod dynamodb;
pub mod ec2;
pub mod ecr;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod route53;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod ssm;
pub mod sts;

use std::collections::BTreeMap;

/// Tags as AWS APIs take and give them.
pub type Tags = BTreeMap<String, String>;
