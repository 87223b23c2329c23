//! Thin clients: exactly the operations the provider's resources need,
//! each one function over [`crate::Client`] in its service's protocol.

pub mod ec2;
pub mod iam;
pub mod s3;
pub mod sqs;
pub mod sts;

use std::collections::BTreeMap;

/// Tags as AWS APIs take and give them.
pub type Tags = BTreeMap<String, String>;
