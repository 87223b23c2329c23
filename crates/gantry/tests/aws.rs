//! The aws provider against moto (the AWS emulator), through the real
//! gantry binary: each resource type is created, re-planned clean,
//! updated in place, replaced, imported into an empty state and
//! destroyed, and every step is checked through the AWS API.
//!
//! Needs `moto_server` (`pip install 'moto[server]==5.2.5'`); set
//! GANTRY_MOTO to its path (scripts/test does).

mod common;

use common::moto::{Lifecycle, Moto, Stack, block_on, run_lifecycle};
use gantry_aws::service::{iam, s3, sqs};

#[test]
fn s3_bucket_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let bucket = |name: &str, tags: &str| {
        format!(
            r#"
resource "aws_s3_bucket" "b" {{
  bucket = "{name}"
  tags   = {tags}
}}
output "aws_s3_bucket_b" {{ value = aws_s3_bucket.b.id }}
output "arn" {{ value = aws_s3_bucket.b.arn }}
"#
        )
    };
    let v1 = bucket("gt-bucket-one", r#"{ team = "a" }"#);
    let v2 = bucket("gt-bucket-one", r#"{ team = "b", extra = "x" }"#);
    let v3 = bucket("gt-bucket-two", r#"{ team = "b" }"#);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_s3_bucket.b"],
        },
    );
    assert_eq!(s.output("arn"), "arn:aws:s3:::gt-bucket-two");
    block_on(async {
        assert!(
            !s3::head_bucket(&c, "gt-bucket-one").await.unwrap(),
            "replaced bucket remains"
        );
        let tags = s3::get_bucket_tagging(&c, "gt-bucket-two").await.unwrap();
        assert_eq!(tags.get("team").map(String::as_str), Some("b"));
        assert_eq!(
            tags.get("managed_by").map(String::as_str),
            Some("gantry"),
            "default_tags"
        );
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(!s3::head_bucket(&c, "gt-bucket-two").await.unwrap());
    });
}

#[test]
fn s3_bucket_configuration_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let cfg = |target: &str, status: &str, acls: bool, alg: &str| {
        format!(
            r#"
resource "aws_s3_bucket" "one" {{ bucket = "gt-cfg-one" }}
resource "aws_s3_bucket" "two" {{ bucket = "gt-cfg-two" }}
resource "aws_s3_bucket_versioning" "v" {{
  bucket = aws_s3_bucket.{target}.id
  versioning_configuration {{ status = "{status}" }}
}}
resource "aws_s3_bucket_public_access_block" "p" {{
  bucket                  = aws_s3_bucket.{target}.id
  block_public_acls       = {acls}
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}
resource "aws_s3_bucket_server_side_encryption_configuration" "e" {{
  bucket = aws_s3_bucket.{target}.id
  rule {{
    apply_server_side_encryption_by_default {{ sse_algorithm = "{alg}" }}
  }}
}}
output "aws_s3_bucket_versioning_v" {{ value = aws_s3_bucket_versioning.v.id }}
output "aws_s3_bucket_public_access_block_p" {{ value = aws_s3_bucket_public_access_block.p.id }}
output "aws_s3_bucket_server_side_encryption_configuration_e" {{ value = aws_s3_bucket_server_side_encryption_configuration.e.id }}
output "aws_s3_bucket_one" {{ value = aws_s3_bucket.one.id }}
output "aws_s3_bucket_two" {{ value = aws_s3_bucket.two.id }}
"#
        )
    };
    let v1 = cfg("one", "Enabled", true, "AES256");
    let v2 = cfg("one", "Suspended", false, "aws:kms");
    let v3 = cfg("two", "Enabled", false, "aws:kms");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_s3_bucket.one",
                "aws_s3_bucket.two",
                "aws_s3_bucket_versioning.v",
                "aws_s3_bucket_public_access_block.p",
                "aws_s3_bucket_server_side_encryption_configuration.e",
            ],
        },
    );
    block_on(async {
        let (status, _) = s3::get_bucket_versioning(&c, "gt-cfg-two").await.unwrap();
        assert_eq!(status.as_deref(), Some("Enabled"));
        // The replaced configuration left bucket one: versioning suspended,
        // no public access block, no encryption rule of ours.
        let (status, _) = s3::get_bucket_versioning(&c, "gt-cfg-one").await.unwrap();
        assert_eq!(status.as_deref(), Some("Suspended"));
        assert_eq!(
            s3::get_public_access_block(&c, "gt-cfg-one").await.unwrap(),
            None
        );
        let pab = s3::get_public_access_block(&c, "gt-cfg-two").await.unwrap();
        assert_eq!(pab, Some([false, true, true, true]));
        let enc = s3::get_bucket_encryption(&c, "gt-cfg-two")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(enc[0].sse_algorithm.as_deref(), Some("aws:kms"));
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(!s3::head_bucket(&c, "gt-cfg-one").await.unwrap());
        assert!(!s3::head_bucket(&c, "gt-cfg-two").await.unwrap());
    });
}

#[test]
fn sqs_queue_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let q = |name: &str, vis: u32| {
        format!(
            r#"
resource "aws_sqs_queue" "q" {{
  name                       = "{name}"
  visibility_timeout_seconds = {vis}
  tags                       = {{ app = "orders" }}
}}
output "aws_sqs_queue_q" {{ value = aws_sqs_queue.q.id }}
output "arn" {{ value = aws_sqs_queue.q.arn }}
"#
        )
    };
    let (v1, v2, v3) = (q("gt-q1", 30), q("gt-q1", 90), q("gt-q2", 90));
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_sqs_queue.q"],
        },
    );
    assert!(s.output("arn").ends_with(":gt-q2"), "{}", s.output("arn"));
    let url = s.output("aws_sqs_queue_q");
    block_on(async {
        assert_eq!(
            sqs::get_queue_url(&c, "gt-q1").await.unwrap(),
            None,
            "replaced queue remains"
        );
        let attrs = sqs::get_queue_attributes(&c, &url).await.unwrap().unwrap();
        assert_eq!(
            attrs.get("VisibilityTimeout").map(String::as_str),
            Some("90")
        );
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(sqs::get_queue_url(&c, "gt-q2").await.unwrap(), None);
    });
}

#[test]
fn iam_role_lifecycle_with_policy_documents() {
    let moto = Moto::start();
    let c = moto.client();
    let role = |path: &str, desc: &str, policy: &str| {
        format!(
            r#"
data "aws_iam_policy_document" "trust" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }}
  }}
}}
resource "aws_iam_role" "r" {{
  name               = "gt-role"
  path               = "{path}"
  description        = "{desc}"
  assume_role_policy = {policy}
}}
output "aws_iam_role_r" {{ value = aws_iam_role.r.id }}
output "arn" {{ value = aws_iam_role.r.arn }}
"#
        )
    };
    let doc = "data.aws_iam_policy_document.trust.json";
    let v1 = role("/", "first", doc);
    let v2 = role("/", "second", doc);
    let v3 = role("/svc/", "second", doc);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_iam_role.r"],
        },
    );
    assert!(
        s.output("arn").ends_with(":role/svc/gt-role"),
        "{}",
        s.output("arn")
    );
    // The same policy written differently (key order, whitespace, a list
    // of one) is no change.
    let same = r#"jsonencode({ Statement = [{ Principal = { Service = ["ec2.amazonaws.com"] }, Effect = "Allow", Action = "sts:AssumeRole" }], Version = "2012-10-17" })"#;
    s.write(&role("/svc/", "second", same));
    s.assert_clean("equivalent policy");
    // A different policy is an in-place update.
    let other = r#"jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })"#;
    s.write(&role("/svc/", "second", other));
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("updated in-place"), "{out}");
    s.apply();
    block_on(async {
        let r = iam::get_role(&c, "gt-role").await.unwrap().unwrap();
        assert!(
            r.assume_role_policy.contains("lambda.amazonaws.com"),
            "{}",
            r.assume_role_policy
        );
        assert_eq!(r.description.as_deref(), Some("second"));
        assert_eq!(r.tags.get("managed_by").map(String::as_str), Some("gantry"));
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(iam::get_role(&c, "gt-role").await.unwrap(), None);
    });
}

#[test]
fn data_sources() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    s.write(
        r#"
data "aws_caller_identity" "me" {}
data "aws_region" "here" {}
data "aws_partition" "p" {}
data "aws_iam_policy_document" "d" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:aws:s3:::b/&{aws:username}/*"]
  }
}
output "account" { value = data.aws_caller_identity.me.account_id }
output "region" { value = data.aws_region.here.name }
output "partition" { value = data.aws_partition.p.partition }
output "suffix" { value = data.aws_partition.p.dns_suffix }
output "doc" { value = data.aws_iam_policy_document.d.minified_json }
"#,
    );
    s.apply();
    assert_eq!(s.output("account"), "123456789012");
    assert_eq!(s.output("region"), "us-east-1");
    assert_eq!(s.output("partition"), "aws");
    assert_eq!(s.output("suffix"), "amazonaws.com");
    assert_eq!(
        s.output("doc"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#
    );
}

/// An explicit Deny gives a readable AccessDenied error naming the
/// resource. moto enforces identity policies once authentication is on
/// (`/moto-api/reset-auth`); it checks bucket policies only for object
/// operations, so the Deny is the caller's own policy here.
#[test]
fn access_denied_names_the_resource() {
    use gantry_aws::client::IAM;
    use gantry_aws::protocol::{Params, query};
    let moto = Moto::start();
    let c = moto.client();
    let (key, secret) = block_on(async {
        let mut p = Params::new();
        p.set("UserName", "gt-deployer");
        query(&c, &IAM, "CreateUser", "2010-05-08", &p)
            .await
            .unwrap();
        let k = query(&c, &IAM, "CreateAccessKey", "2010-05-08", &p)
            .await
            .unwrap();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutBucketTagging","Resource":"*"}]}"#;
        p.set("PolicyName", "deny-tagging")
            .set("PolicyDocument", policy);
        query(&c, &IAM, "PutUserPolicy", "2010-05-08", &p)
            .await
            .unwrap();
        (
            k.text_at("AccessKey/AccessKeyId").unwrap().to_owned(),
            k.text_at("AccessKey/SecretAccessKey").unwrap().to_owned(),
        )
    });
    block_on(async {
        reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", moto.url))
            .body("0")
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    });
    let mut s = Stack::new(&moto);
    s.provider = s
        .provider
        .replace(
            r#"access_key                  = "test""#,
            &format!("access_key = \"{key}\""),
        )
        .replace(
            r#"secret_key                  = "test""#,
            &format!("secret_key = \"{secret}\""),
        );
    s.write(
        r#"
resource "aws_s3_bucket" "locked" {
  bucket = "gt-locked"
  tags   = { a = "1" }
}
"#,
    );
    let (code, out, err) = s.run(&["apply", "-auto-approve"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("aws_s3_bucket.locked"), "{all}");
    assert!(all.contains("AccessDenied"), "{all}");
    assert!(all.contains("PutBucketTagging"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn invalid_arguments_fail_at_plan() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    s.write(r#"resource "aws_s3_bucket" "b" { bucket = "Not_A_Valid_Bucket" }"#);
    let (code, out, err) = s.run(&["plan"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("aws_s3_bucket.b"), "{all}");
    assert!(all.contains("invalid bucket name"), "{all}");
    s.write(r#"resource "aws_iam_role" "r" { assume_role_policy = "{not json" }"#);
    let (code, out, err) = s.run(&["plan"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        format!("{out}{err}").contains("invalid JSON policy"),
        "{out}{err}"
    );
}
