//! The aws provider's IAM policies, S3 bucket policies, Lambda functions
//! and Route 53 zones and records against moto (the AWS emulator),
//! through the real gantry binary: each resource type is created,
//! re-planned clean, updated in place, replaced, imported into an empty
//! state and destroyed, and every step is checked through the AWS API.
//!
//! Needs `moto_server` (`pip install 'moto[server]==5.2.5'`); set
//! GANTRY_MOTO to its path (scripts/test does).

mod common;

use std::path::{Path, PathBuf};

use common::moto::{Lifecycle, Moto, Stack, block_on, run_lifecycle};
use gantry_aws::service::{iam, lambda, route53, s3};

/// A document the tests use as an IAM role's trust policy.
const TRUST: &str = r#"jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })"#;

#[test]
fn s3_bucket_policy_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let config = |bucket: &str, action: &str| {
        format!(
            r#"
resource "aws_s3_bucket" "b" {{
  bucket = "{bucket}"
}}
resource "aws_s3_bucket_policy" "p" {{
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Sid       = "Read"
      Effect    = "Allow"
      Principal = "*"
      Action    = "{action}"
      Resource  = "${{aws_s3_bucket.b.arn}}/*"
    }}]
  }})
}}
output "aws_s3_bucket_b" {{ value = aws_s3_bucket.b.id }}
output "aws_s3_bucket_policy_p" {{ value = aws_s3_bucket_policy.p.id }}
"#
        )
    };
    let v1 = config("gt-pol-one", "s3:GetObject");
    let v2 = config("gt-pol-one", "s3:GetObjectVersion");
    let v3 = config("gt-pol-two", "s3:GetObjectVersion");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_s3_bucket.b", "aws_s3_bucket_policy.p"],
        },
    );
    assert_eq!(s.output("aws_s3_bucket_policy_p"), "gt-pol-two");
    block_on(async {
        let p = s3::get_bucket_policy(&c, "gt-pol-two")
            .await
            .unwrap()
            .expect("the bucket has a policy");
        assert!(p.contains("s3:GetObjectVersion"), "{p}");
        assert!(p.contains("arn:aws:s3:::gt-pol-two/*"), "{p}");
        assert!(!s3::head_bucket(&c, "gt-pol-one").await.unwrap());
    });
    // The same document written differently (a literal string with other
    // key order and spacing, a list of one) is no change.
    s.write(
        r#"
resource "aws_s3_bucket" "b" {
  bucket = "gt-pol-two"
}
resource "aws_s3_bucket_policy" "p" {
  bucket = aws_s3_bucket.b.id
  policy = <<EOT
{
  "Statement": [
    { "Resource": "arn:aws:s3:::gt-pol-two/*", "Action": ["s3:GetObjectVersion"],
      "Principal": "*", "Effect": "Allow", "Sid": "Read" }
  ],
  "Version": "2012-10-17"
}
EOT
}
output "aws_s3_bucket_b" { value = aws_s3_bucket.b.id }
output "aws_s3_bucket_policy_p" { value = aws_s3_bucket_policy.p.id }
"#,
    );
    s.assert_clean("equivalent bucket policy");
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(!s3::head_bucket(&c, "gt-pol-two").await.unwrap());
    });
}

#[test]
fn iam_policy_role_policy_attachment_instance_profile_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    struct V<'a> {
        desc: &'a str,
        action: &'a str,
        team: &'a str,
        inline: &'a str,
        profile_path: &'a str,
        profile_role: &'a str,
    }
    let config = |v: &V<'_>| {
        format!(
            r#"
resource "aws_iam_role" "r" {{
  name               = "gt-iam-role"
  assume_role_policy = {TRUST}
}}
resource "aws_iam_role" "r2" {{
  name               = "gt-iam-role2"
  assume_role_policy = {TRUST}
}}
resource "aws_iam_policy" "p" {{
  name        = "gt-policy"
  description = "{desc}"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "{action}", Resource = "*" }}]
  }})
  tags = {{ team = "{team}" }}
}}
resource "aws_iam_role_policy" "inline" {{
  name = "{inline}"
  role = aws_iam_role.r.name
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "{action}", Resource = "*" }}]
  }})
}}
resource "aws_iam_role_policy_attachment" "a" {{
  role       = aws_iam_role.r.name
  policy_arn = aws_iam_policy.p.arn
}}
resource "aws_iam_instance_profile" "ip" {{
  name = "gt-profile"
  path = "{profile_path}"
  role = aws_iam_role.{profile_role}.name
}}
output "aws_iam_role_r" {{ value = aws_iam_role.r.id }}
output "aws_iam_role_r2" {{ value = aws_iam_role.r2.id }}
output "aws_iam_policy_p" {{ value = aws_iam_policy.p.id }}
output "aws_iam_role_policy_inline" {{ value = aws_iam_role_policy.inline.id }}
output "aws_iam_role_policy_attachment_a" {{
  value = "${{aws_iam_role_policy_attachment.a.role}}/${{aws_iam_role_policy_attachment.a.policy_arn}}"
}}
output "aws_iam_instance_profile_ip" {{ value = aws_iam_instance_profile.ip.id }}
output "policy_id" {{ value = aws_iam_policy.p.policy_id }}
output "profile_arn" {{ value = aws_iam_instance_profile.ip.arn }}
"#,
            desc = v.desc,
            action = v.action,
            team = v.team,
            inline = v.inline,
            profile_path = v.profile_path,
            profile_role = v.profile_role,
        )
    };
    let v1 = config(&V {
        desc: "first",
        action: "s3:GetObject",
        team: "a",
        inline: "gt-inline",
        profile_path: "/",
        profile_role: "r",
    });
    let v2 = config(&V {
        desc: "first",
        action: "s3:ListBucket",
        team: "b",
        inline: "gt-inline",
        profile_path: "/",
        profile_role: "r2",
    });
    let v3 = config(&V {
        desc: "second",
        action: "s3:ListBucket",
        team: "b",
        inline: "gt-inline2",
        profile_path: "/svc/",
        profile_role: "r2",
    });
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_iam_role.r",
                "aws_iam_role.r2",
                "aws_iam_policy.p",
                "aws_iam_role_policy.inline",
                "aws_iam_role_policy_attachment.a",
                "aws_iam_instance_profile.ip",
            ],
        },
    );
    let arn = s.output("aws_iam_policy_p");
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/gt-policy");
    assert!(!s.output("policy_id").is_empty());
    assert_eq!(
        s.output("profile_arn"),
        "arn:aws:iam::123456789012:instance-profile/svc/gt-profile"
    );
    assert_eq!(
        s.output("aws_iam_role_policy_inline"),
        "gt-iam-role:gt-inline2"
    );
    block_on(async {
        let p = iam::get_policy(&c, &arn).await.unwrap().expect("policy");
        assert_eq!(p.description.as_deref(), Some("second"));
        let doc = iam::get_policy_version(&c, &arn, &p.default_version_id)
            .await
            .unwrap();
        assert!(doc.contains("s3:ListBucket"), "{doc}");
        let tags = iam::list_policy_tags(&c, &arn).await.unwrap();
        assert_eq!(tags.get("team").map(String::as_str), Some("b"));
        assert_eq!(
            tags.get("managed_by").map(String::as_str),
            Some("gantry"),
            "default_tags"
        );
        // The inline policy was replaced under its new name.
        assert_eq!(
            iam::get_role_policy(&c, "gt-iam-role", "gt-inline")
                .await
                .unwrap(),
            None
        );
        let inline = iam::get_role_policy(&c, "gt-iam-role", "gt-inline2")
            .await
            .unwrap()
            .expect("inline policy");
        assert!(inline.contains("s3:ListBucket"), "{inline}");
        let attached = iam::list_attached_role_policies(&c, "gt-iam-role")
            .await
            .unwrap();
        assert_eq!(attached, vec![arn.clone()]);
        let ip = iam::get_instance_profile(&c, "gt-profile")
            .await
            .unwrap()
            .expect("instance profile");
        assert_eq!(ip.path, "/svc/");
        assert_eq!(ip.roles, vec!["gt-iam-role2".to_owned()]);
        assert_eq!(
            ip.tags.get("managed_by").map(String::as_str),
            Some("gantry")
        );
    });

    // Five more policy documents: IAM keeps five versions, so the oldest
    // non-default one makes room each time.
    for (i, action) in [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
        "s3:ListAllMyBuckets",
    ]
    .iter()
    .enumerate()
    {
        s.write(&config(&V {
            desc: "second",
            action,
            team: "b",
            inline: "gt-inline2",
            profile_path: "/svc/",
            profile_role: "r2",
        }));
        let (code, out) = s.plan();
        assert_eq!(code, 2, "policy change {i}:\n{out}");
        assert!(!out.contains("must be replaced"), "{out}");
        s.apply();
    }
    s.assert_clean("after five policy versions");
    block_on(async {
        let versions = iam::list_policy_versions(&c, &arn).await.unwrap();
        assert_eq!(versions.len(), 5, "{versions:?}");
        assert!(!versions.iter().any(|v| v.id == "v1"), "{versions:?}");
        let default: Vec<_> = versions.iter().filter(|v| v.is_default).collect();
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].id, "v6");
        let doc = iam::get_policy_version(&c, &arn, "v6").await.unwrap();
        assert!(doc.contains("s3:ListAllMyBuckets"), "{doc}");
    });

    // The managed policy written as a literal with other spacing and key
    // order is no change.
    let literal = config(&V {
        desc: "second",
        action: "s3:ListAllMyBuckets",
        team: "b",
        inline: "gt-inline2",
        profile_path: "/svc/",
        profile_role: "r2",
    })
    .replace(
        r#"  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListAllMyBuckets", Resource = "*" }]
  })
  tags"#,
        r#"  policy = "{ \"Statement\": { \"Resource\": \"*\", \"Action\": [\"s3:ListAllMyBuckets\"], \"Effect\": \"Allow\" }, \"Version\": \"2012-10-17\" }"
  tags"#,
    );
    assert!(
        literal.contains(r#"\"Version\""#),
        "the replacement applied"
    );
    s.write(&literal);
    s.assert_clean("equivalent managed policy");

    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(iam::get_policy(&c, &arn).await.unwrap(), None);
        assert_eq!(
            iam::get_instance_profile(&c, "gt-profile").await.unwrap(),
            None
        );
        assert_eq!(iam::get_role(&c, "gt-iam-role").await.unwrap(), None);
        assert_eq!(iam::get_role(&c, "gt-iam-role2").await.unwrap(), None);
    });
}

/// The CRC-32 (IEEE) of `data`, for the zip writer.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A .zip archive holding one stored (uncompressed) file.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let size = u32::try_from(data.len()).expect("small file");
    let name_len = u16::try_from(name.len()).expect("short name");
    let mut out = Vec::new();
    // Local file header.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&0u16.to_le_bytes()); // stored
    out.extend_from_slice(&0u16.to_le_bytes()); // time
    out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let cd_offset = u32::try_from(out.len()).expect("small archive");
    // Central directory entry.
    let mut cd = Vec::new();
    cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    cd.extend_from_slice(&20u16.to_le_bytes()); // made by
    cd.extend_from_slice(&20u16.to_le_bytes()); // needed
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&0x21u16.to_le_bytes());
    cd.extend_from_slice(&crc.to_le_bytes());
    cd.extend_from_slice(&size.to_le_bytes());
    cd.extend_from_slice(&size.to_le_bytes());
    cd.extend_from_slice(&name_len.to_le_bytes());
    cd.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
    cd.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    cd.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    cd.extend_from_slice(name.as_bytes());
    let cd_size = u32::try_from(cd.len()).expect("small directory");
    out.extend_from_slice(&cd);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn write_zip(dir: &Path, file: &str, source: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(&p, stored_zip("index.py", source.as_bytes())).unwrap();
    p
}

#[test]
fn stored_zip_is_well_formed() {
    // The CRC-32 check value, and the archive's fixed offsets.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let z = stored_zip("a.txt", b"hello");
    assert_eq!(&z[..4], b"PK\x03\x04");
    assert_eq!(&z[z.len() - 22..z.len() - 18], b"PK\x05\x06");
    assert_eq!(z.len(), 30 + 5 + 5 + 46 + 5 + 22);
}

#[test]
fn lambda_function_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let code = tempfile::tempdir().unwrap();
    let zip1 = write_zip(code.path(), "one.zip", "def handler(e, c):\n    return 1\n");
    let zip2 = write_zip(code.path(), "two.zip", "def handler(e, c):\n    return 2\n");
    let zip3 = write_zip(
        code.path(),
        "three.zip",
        "def handler(e, c):\n    return 3\n",
    );
    struct V<'a> {
        name: &'a str,
        zip: &'a Path,
        extra: &'a str,
        stage: &'a str,
    }
    let config = |v: &V<'_>| {
        let zip = v.zip.display();
        format!(
            r#"
resource "aws_iam_role" "lambda" {{
  name               = "gt-lambda-role"
  assume_role_policy = {TRUST}
}}
resource "aws_lambda_function" "f" {{
  function_name    = "{name}"
  role             = aws_iam_role.lambda.arn
  handler          = "index.handler"
  runtime          = "python3.12"
  filename         = "{zip}"
  source_code_hash = filebase64sha256("{zip}")
  description      = "gantry test"
  {extra}
  environment {{
    variables = {{ STAGE = "{stage}" }}
  }}
  tags = {{ team = "a" }}
}}
output "aws_iam_role_lambda" {{ value = aws_iam_role.lambda.id }}
output "aws_lambda_function_f" {{ value = aws_lambda_function.f.id }}
output "arn" {{ value = aws_lambda_function.f.arn }}
output "invoke_arn" {{ value = aws_lambda_function.f.invoke_arn }}
output "version" {{ value = aws_lambda_function.f.version }}
output "qualified_arn" {{ value = aws_lambda_function.f.qualified_arn }}
output "size" {{ value = aws_lambda_function.f.source_code_size }}
output "zip_hash" {{ value = filebase64sha256("{zip}") }}
"#,
            name = v.name,
            extra = v.extra,
            stage = v.stage,
        )
    };
    let v1 = config(&V {
        name: "gt-fn",
        zip: &zip1,
        extra: "",
        stage: "one",
    });
    let v2 = config(&V {
        name: "gt-fn",
        zip: &zip2,
        extra: "memory_size = 256\n  timeout = 10",
        stage: "two",
    });
    let v3 = config(&V {
        name: "gt-fn2",
        zip: &zip2,
        extra: "memory_size = 256\n  timeout = 10",
        stage: "two",
    });
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_iam_role.lambda", "aws_lambda_function.f"],
        },
    );
    let arn = s.output("arn");
    assert_eq!(arn, "arn:aws:lambda:us-east-1:123456789012:function:gt-fn2");
    assert_eq!(
        s.output("invoke_arn"),
        format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    );
    assert_eq!(s.output("version"), "$LATEST");
    assert_eq!(s.output("qualified_arn"), format!("{arn}:$LATEST"));
    let hash2 = s.output("zip_hash");
    assert_eq!(
        s.output("size"),
        std::fs::metadata(&zip2).unwrap().len().to_string()
    );
    block_on(async {
        assert_eq!(lambda::get_function(&c, "gt-fn").await.unwrap(), None);
        let (f, tags) = lambda::get_function(&c, "gt-fn2")
            .await
            .unwrap()
            .expect("function");
        assert_eq!(f.memory_size, 256);
        assert_eq!(f.timeout, 10);
        assert_eq!(f.handler.as_deref(), Some("index.handler"));
        assert_eq!(f.code_sha256, hash2);
        assert_eq!(f.environment.get("STAGE").map(String::as_str), Some("two"));
        assert_eq!(tags.get("managed_by").map(String::as_str), Some("gantry"));
    });

    // New code from a new zip, new settings and publishing: one in-place
    // update that uploads the package and publishes version 1.
    s.write(&config(&V {
        name: "gt-fn2",
        zip: &zip3,
        extra: "memory_size = 512\n  timeout = 30\n  publish = true",
        stage: "three",
    }));
    let (code_exit, out) = s.plan();
    assert_eq!(code_exit, 2, "{out}");
    assert!(out.contains("updated in-place"), "{out}");
    assert!(!out.contains("must be replaced"), "{out}");
    s.apply();
    s.assert_clean("after the code update");
    let hash3 = s.output("zip_hash");
    assert_ne!(hash2, hash3);
    assert_eq!(s.output("version"), "1");
    assert_eq!(s.output("qualified_arn"), format!("{arn}:1"));
    block_on(async {
        let (f, _) = lambda::get_function(&c, "gt-fn2")
            .await
            .unwrap()
            .expect("function");
        assert_eq!(f.code_sha256, hash3, "the new package was uploaded");
        assert_eq!(f.memory_size, 512);
        assert_eq!(f.timeout, 30);
        assert_eq!(
            f.environment.get("STAGE").map(String::as_str),
            Some("three")
        );
        let versions = lambda::list_versions_by_function(&c, "gt-fn2")
            .await
            .unwrap();
        assert_eq!(
            versions
                .iter()
                .map(|v| v.version.as_str())
                .collect::<Vec<_>>(),
            ["$LATEST", "1"]
        );
    });

    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(lambda::get_function(&c, "gt-fn2").await.unwrap(), None);
        assert_eq!(iam::get_role(&c, "gt-lambda-role").await.unwrap(), None);
    });
}

#[test]
fn route53_zone_and_records_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    // The engine deletes a replaced zone before its replaced records
    // (dependents are not destroyed first), so before the replacement the
    // zone has force_destroy and takes them along. The imported v3 leaves
    // it at its default: force_destroy is not something AWS reports.
    let config = |zone: &str, comment: &str, ttl: u32, records: &str| {
        let force_destroy = if zone == "gt-one.example" {
            "force_destroy = true"
        } else {
            ""
        };
        format!(
            r#"
resource "aws_route53_zone" "z" {{
  name    = "{zone}."
  comment = "{comment}"
  tags    = {{ env = "{comment}" }}
  {force_destroy}
}}
resource "aws_route53_record" "www" {{
  zone_id = aws_route53_zone.z.zone_id
  name    = "www.{zone}"
  type    = "A"
  ttl     = {ttl}
  records = {records}
}}
resource "aws_route53_record" "txt" {{
  zone_id = aws_route53_zone.z.zone_id
  name    = "{zone}"
  type    = "TXT"
  ttl     = 300
  records = ["v=spf1 -all"]
}}
resource "aws_route53_record" "api" {{
  zone_id = aws_route53_zone.z.zone_id
  name    = "api.{zone}"
  type    = "A"
  alias {{
    name                   = aws_route53_record.www.fqdn
    zone_id                = aws_route53_zone.z.zone_id
    evaluate_target_health = false
  }}
}}
output "aws_route53_zone_z" {{ value = aws_route53_zone.z.id }}
output "aws_route53_record_www" {{ value = aws_route53_record.www.id }}
output "aws_route53_record_txt" {{ value = aws_route53_record.txt.id }}
output "aws_route53_record_api" {{ value = aws_route53_record.api.id }}
output "zone_name" {{ value = aws_route53_zone.z.name }}
output "arn" {{ value = aws_route53_zone.z.arn }}
output "ns" {{ value = length(aws_route53_zone.z.name_servers) }}
"#
        )
    };
    let v1 = config("gt-one.example", "first", 300, r#"["10.0.0.1"]"#);
    let v2 = config(
        "gt-one.example",
        "second",
        60,
        r#"["10.0.0.1", "10.0.0.2"]"#,
    );
    let v3 = config(
        "gt-two.example",
        "second",
        60,
        r#"["10.0.0.1", "10.0.0.2"]"#,
    );
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_route53_zone.z",
                "aws_route53_record.www",
                "aws_route53_record.txt",
                "aws_route53_record.api",
            ],
        },
    );
    let zone_id = s.output("aws_route53_zone_z");
    assert!(!zone_id.starts_with("/hostedzone/"), "{zone_id}");
    assert_eq!(s.output("zone_name"), "gt-two.example");
    assert_eq!(
        s.output("arn"),
        format!("arn:aws:route53:::hostedzone/{zone_id}")
    );
    assert_ne!(s.output("ns"), "0");
    assert_eq!(
        s.output("aws_route53_record_www"),
        format!("{zone_id}_www.gt-two.example_A")
    );
    block_on(async {
        let z = route53::get_hosted_zone(&c, &zone_id)
            .await
            .unwrap()
            .expect("zone");
        assert_eq!(z.name, "gt-two.example.");
        assert_eq!(z.comment, "second");
        let tags = route53::list_tags(&c, &zone_id).await.unwrap();
        assert_eq!(tags.get("env").map(String::as_str), Some("second"));
        assert_eq!(tags.get("managed_by").map(String::as_str), Some("gantry"));
        let records = route53::list_all_record_sets(&c, &zone_id).await.unwrap();
        let find = |name: &str, t: &str| {
            records
                .iter()
                .find(|r| r.name == name && r.r#type == t)
                .unwrap_or_else(|| panic!("no {t} record {name}: {records:?}"))
        };
        let www = find("www.gt-two.example.", "A");
        assert_eq!(www.ttl, Some(60));
        let mut values = www.records.clone();
        values.sort();
        assert_eq!(values, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(find("gt-two.example.", "TXT").records, ["\"v=spf1 -all\""]);
        let api = find("api.gt-two.example.", "A");
        let alias = api.alias.as_ref().expect("an alias record");
        assert_eq!(alias.dns_name.trim_end_matches('.'), "www.gt-two.example");
    });

    // A record type change is an in-place update (delete and create in
    // one batch) that moves the id along.
    s.write(&v3.replace(
        "name    = \"www.gt-two.example\"\n  type    = \"A\"\n  ttl     = 60\n  records = [\"10.0.0.1\", \"10.0.0.2\"]",
        "name    = \"www.gt-two.example\"\n  type    = \"CNAME\"\n  ttl     = 60\n  records = [\"web.example.org\"]",
    ));
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("updated in-place"), "{out}");
    assert!(
        !out.contains("aws_route53_record.www must be replaced"),
        "{out}"
    );
    s.apply();
    s.assert_clean("after the type change");
    assert_eq!(
        s.output("aws_route53_record_www"),
        format!("{zone_id}_www.gt-two.example_CNAME")
    );
    block_on(async {
        let records = route53::list_all_record_sets(&c, &zone_id).await.unwrap();
        let www: Vec<_> = records
            .iter()
            .filter(|r| r.name == "www.gt-two.example.")
            .collect();
        assert_eq!(www.len(), 1, "{www:?}");
        assert_eq!(www[0].r#type, "CNAME");
        assert_eq!(www[0].records, ["web.example.org"]);
    });

    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(route53::get_hosted_zone(&c, &zone_id).await.unwrap(), None);
    });
}

/// `force_destroy` deletes records Terraform does not manage.
#[test]
fn route53_zone_force_destroy() {
    let moto = Moto::start();
    let c = moto.client();
    let s = Stack::new(&moto);
    s.write(
        r#"
resource "aws_route53_zone" "z" {
  name          = "gt-force.example"
  force_destroy = true
}
output "id" { value = aws_route53_zone.z.id }
output "comment" { value = aws_route53_zone.z.comment }
"#,
    );
    s.apply();
    s.assert_clean("after create");
    assert_eq!(s.output("comment"), "Managed by Terraform");
    let zone_id = s.output("id");
    block_on(async {
        let rs = route53::RecordSet {
            name: "stray.gt-force.example.".into(),
            r#type: "A".into(),
            ttl: Some(30),
            records: vec!["10.1.1.1".into()],
            ..Default::default()
        };
        route53::change_resource_record_sets(&c, &zone_id, &[("CREATE", &rs)])
            .await
            .unwrap();
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(route53::get_hosted_zone(&c, &zone_id).await.unwrap(), None);
    });
}

#[test]
fn bad_input_rejected_at_plan() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    let cases = [
        (
            r#"resource "aws_route53_record" "r" {
  zone_id = "Z123"
  name    = "x.example.com"
  type    = "BOGUS"
  ttl     = 60
  records = ["1.2.3.4"]
}"#,
            "aws_route53_record.r",
            "invalid value for type",
        ),
        (
            r#"resource "aws_iam_policy" "p" {
  name   = "bad"
  policy = "{not json"
}"#,
            "aws_iam_policy.p",
            "invalid JSON policy",
        ),
        (
            r#"resource "aws_s3_bucket_policy" "p" {
  bucket = "some-bucket"
  policy = "[1, 2]"
}"#,
            "aws_s3_bucket_policy.p",
            "invalid JSON policy",
        ),
        (
            r#"resource "aws_iam_role_policy" "p" {
  role   = "r"
  policy = "nope"
}"#,
            "aws_iam_role_policy.p",
            "invalid JSON policy",
        ),
        (
            r#"resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "arn:aws:iam::123456789012:role/r"
  filename      = "f.zip"
  memory_size   = 64
}"#,
            "aws_lambda_function.f",
            "expected memory_size to be in the range (128 - 10240), got 64",
        ),
        (
            r#"resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "arn:aws:iam::123456789012:role/r"
  runtime       = "cobol85"
}"#,
            "aws_lambda_function.f",
            "missing deployment package",
        ),
        (
            r#"resource "aws_route53_record" "r" {
  zone_id = "Z123"
  name    = "x.example.com"
  type    = "A"
  ttl     = 60
  records = ["1.2.3.4"]
  alias {
    name                   = "y.example.com"
    zone_id                = "Z123"
    evaluate_target_health = false
  }
}"#,
            "aws_route53_record.r",
            "conflicting configuration arguments",
        ),
        (
            r#"resource "aws_iam_role_policy_attachment" "a" {
  role       = "r"
  policy_arn = "ReadOnlyAccess"
}"#,
            "aws_iam_role_policy_attachment.a",
            "invalid value for policy_arn",
        ),
    ];
    for (body, addr, want) in cases {
        s.write(body);
        let (code, out, err) = s.run(&["plan"]);
        let all = format!("{out}\n{err}");
        assert_eq!(code, 1, "{addr} should fail at plan:\n{all}");
        assert!(all.contains(addr), "{addr}: {all}");
        assert!(all.contains(want), "{addr}: want {want:?} in:\n{all}");
        assert!(!all.contains("panicked"), "{all}");
    }
}
