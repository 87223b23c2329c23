//! The aws provider's DynamoDB, KMS, SSM, ECR, CloudWatch Logs, SNS and
//! CloudWatch alarm resources against moto (the AWS emulator), through
//! the real gantry binary: each type is created, re-planned clean,
//! updated in place, replaced, imported into an empty state and
//! destroyed, and every step is checked through the AWS API.
//!
//! Needs `moto_server` (`pip install 'moto[server]==5.2.5'`); set
//! GANTRY_MOTO to its path (scripts/test does).

mod common;

use common::moto::{Lifecycle, Moto, Stack, block_on, run_lifecycle};
use gantry_aws::service::{cloudwatch, dynamodb, ecr, kms, logs, sns, ssm};

fn tag<'a>(tags: &'a std::collections::BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    tags.get(k).map(String::as_str)
}

#[test]
fn dynamodb_table_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    // v1: a provisioned table with a local index; v2 adds a global index
    // (and its attribute), TTL, point-in-time recovery and a stream, and
    // raises the capacity; v3 renames it (replace).
    let table = |name: &str, v2: bool| {
        let extra = if v2 {
            r#"
  attribute {
    name = "email"
    type = "S"
  }
  global_secondary_index {
    name            = "by-email"
    hash_key        = "email"
    projection_type = "INCLUDE"
    non_key_attributes = ["nick"]
    read_capacity   = 1
    write_capacity  = 1
  }
  ttl {
    attribute_name = "expires"
    enabled        = true
  }
  point_in_time_recovery { enabled = true }
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
"#
        } else {
            ""
        };
        let (rc, team) = if v2 { (2, "b") } else { (1, "a") };
        format!(
            r#"
resource "aws_dynamodb_table" "t" {{
  name           = "{name}"
  hash_key       = "pk"
  range_key      = "sk"
  read_capacity  = {rc}
  write_capacity = 1
  attribute {{
    name = "pk"
    type = "S"
  }}
  attribute {{
    name = "sk"
    type = "N"
  }}
  attribute {{
    name = "created"
    type = "N"
  }}
  local_secondary_index {{
    name            = "by-created"
    range_key       = "created"
    projection_type = "KEYS_ONLY"
  }}
{extra}
  tags = {{ team = "{team}" }}
}}
resource "aws_dynamodb_table" "od" {{
  name         = "gt-on-demand"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
  server_side_encryption {{ enabled = true }}
}}
output "aws_dynamodb_table_t" {{ value = aws_dynamodb_table.t.id }}
output "aws_dynamodb_table_od" {{ value = aws_dynamodb_table.od.id }}
output "arn" {{ value = aws_dynamodb_table.t.arn }}
output "stream_arn" {{ value = aws_dynamodb_table.t.stream_arn }}
"#
        )
    };
    let v1 = table("gt-table-one", false);
    let v2 = table("gt-table-one", true);
    let v3 = table("gt-table-two", true);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_dynamodb_table.t", "aws_dynamodb_table.od"],
        },
    );
    assert!(
        s.output("arn").ends_with(":table/gt-table-two"),
        "{}",
        s.output("arn")
    );
    assert!(
        s.output("stream_arn")
            .starts_with(&format!("{}/stream/", s.output("arn"))),
        "{}",
        s.output("stream_arn")
    );
    block_on(async {
        assert_eq!(
            dynamodb::describe_table(&c, "gt-table-one").await.unwrap(),
            None,
            "replaced table remains"
        );
        let t = dynamodb::describe_table(&c, "gt-table-two")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t["ProvisionedThroughput"]["ReadCapacityUnits"], 2);
        assert_eq!(t["GlobalSecondaryIndexes"][0]["IndexName"], "by-email");
        assert_eq!(
            t["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"][0],
            "nick"
        );
        assert_eq!(t["LocalSecondaryIndexes"][0]["IndexName"], "by-created");
        assert_eq!(t["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
        assert_eq!(
            dynamodb::describe_time_to_live(&c, "gt-table-two")
                .await
                .unwrap(),
            (true, "expires".to_owned())
        );
        assert!(
            dynamodb::point_in_time_recovery(&c, "gt-table-two")
                .await
                .unwrap()
        );
        let tags = dynamodb::list_tags(&c, t["TableArn"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(tag(&tags, "team"), Some("b"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
        let od = dynamodb::describe_table(&c, "gt-on-demand")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(od["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(od["SSEDescription"]["Status"], "ENABLED");
    });

    // Removing the global index is an in-place update.
    s.write(&table("gt-table-two", false));
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("updated in-place"), "{out}");
    assert!(!out.contains("must be replaced"), "{out}");
    s.apply();
    s.assert_clean("after removing the global index");
    block_on(async {
        let t = dynamodb::describe_table(&c, "gt-table-two")
            .await
            .unwrap()
            .unwrap();
        let gsis = t["GlobalSecondaryIndexes"].as_array().map_or(0, Vec::len);
        assert_eq!(gsis, 0, "{t}");
        assert!(
            !dynamodb::point_in_time_recovery(&c, "gt-table-two")
                .await
                .unwrap()
        );
        assert!(
            !dynamodb::describe_time_to_live(&c, "gt-table-two")
                .await
                .unwrap()
                .0
        );
    });

    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        for t in ["gt-table-two", "gt-on-demand"] {
            assert_eq!(dynamodb::describe_table(&c, t).await.unwrap(), None, "{t}");
        }
    });
}

const KEY_POLICY: &str = r#"jsonencode({
    Version = "2012-10-17"
    Id      = "key-default-1"
    Statement = [{
      Sid       = "Enable IAM User Permissions"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })"#;

/// The same policy as [`KEY_POLICY`], written differently: other key
/// order, other whitespace, a list of one.
const KEY_POLICY_REWRITTEN: &str = r#"<<EOT
{ "Statement": [ { "Resource": "*", "Action": ["kms:*"],
    "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
    "Effect": "Allow", "Sid": "Enable IAM User Permissions" } ],
  "Id": "key-default-1", "Version": "2012-10-17" }
EOT"#;

#[test]
fn kms_key_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let key = |desc: &str, rotation: bool, multi: bool, policy: &str| {
        format!(
            r#"
resource "aws_kms_key" "k" {{
  description             = "{desc}"
  enable_key_rotation     = {rotation}
  multi_region            = {multi}
  policy                  = {policy}
  tags                    = {{ purpose = "{desc}" }}
}}
output "aws_kms_key_k" {{ value = aws_kms_key.k.id }}
output "arn" {{ value = aws_kms_key.k.arn }}
"#
        )
    };
    let v1 = key("first", false, false, KEY_POLICY);
    let v2 = key("second", true, false, KEY_POLICY);
    let v3 = key("second", true, true, KEY_POLICY);
    let first_id = {
        let s = Stack::new(&moto);
        s.write(&v1.replace(
            "enable_key_rotation",
            "deletion_window_in_days = 7\n  enable_key_rotation",
        ));
        s.apply();
        let id = s.output("aws_kms_key_k");
        s.ok(&["destroy", "-auto-approve"]);
        id
    };
    block_on(async {
        let k = kms::describe_key(&c, &first_id).await.unwrap().unwrap();
        assert_eq!(k.key_state, "PendingDeletion", "destroy schedules deletion");
    });
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_kms_key.k"],
        },
    );
    let id = s.output("aws_kms_key_k");
    assert!(
        s.output("arn").ends_with(&format!(":key/{id}")),
        "{}",
        s.output("arn")
    );
    block_on(async {
        let k = kms::describe_key(&c, &id).await.unwrap().unwrap();
        assert_eq!(k.description, "second");
        assert!(k.multi_region);
        assert!(k.enabled);
        assert!(kms::get_key_rotation_status(&c, &id).await.unwrap());
        let tags = kms::list_resource_tags(&c, &id).await.unwrap();
        assert_eq!(tag(&tags, "purpose"), Some("second"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
    });
    // The same policy written differently is no change; a different one
    // is an in-place update that reaches AWS.
    s.write(&key("second", true, true, KEY_POLICY_REWRITTEN));
    s.assert_clean("equivalent key policy");
    let other = KEY_POLICY.replace("key-default-1", "key-custom");
    s.write(&key("second", true, true, &other));
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("updated in-place"), "{out}");
    s.apply();
    block_on(async {
        let p = kms::get_key_policy(&c, &id).await.unwrap();
        assert!(p.contains("key-custom"), "{p}");
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        let k = kms::describe_key(&c, &id).await.unwrap().unwrap();
        assert_eq!(k.key_state, "PendingDeletion");
    });
}

#[test]
fn ssm_parameter_lifecycle_keeps_the_value_secret() {
    let moto = Moto::start();
    let c = moto.client();
    let param = |name: &str, value: &str, desc: &str| {
        format!(
            r#"
resource "aws_ssm_parameter" "p" {{
  name        = "{name}"
  type        = "SecureString"
  value       = "{value}"
  description = "{desc}"
  tags        = {{ app = "{desc}" }}
}}
resource "aws_ssm_parameter" "plain" {{
  name  = "/gt/plain"
  type  = "StringList"
  value = "a,b,c"
}}
output "aws_ssm_parameter_p" {{ value = aws_ssm_parameter.p.id }}
output "aws_ssm_parameter_plain" {{ value = aws_ssm_parameter.plain.id }}
output "version" {{ value = aws_ssm_parameter.p.version }}
output "arn" {{ value = aws_ssm_parameter.p.arn }}
"#
        )
    };
    let v1 = param("/gt/secret-one", "hunter2-alpha", "first");
    let v2 = param("/gt/secret-one", "hunter2-bravo", "second");
    let v3 = param("/gt/secret-two", "hunter2-bravo", "second");
    // The value never appears in a plan, before or after it exists.
    let s = Stack::new(&moto);
    s.write(&v1);
    let (_, out) = s.plan();
    assert!(!out.contains("hunter2"), "create: value printed:\n{out}");
    assert!(out.contains("(sensitive value)"), "{out}");
    s.apply();
    s.write(&v2);
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("hunter2"), "update: value printed:\n{out}");
    let (_, apply_out, apply_err) = s.run(&["apply", "-auto-approve"]);
    assert!(
        !apply_out.contains("hunter2") && !apply_err.contains("hunter2"),
        "apply printed the value:\n{apply_out}\n{apply_err}"
    );
    assert_eq!(s.output("version"), "2");
    block_on(async {
        let p = ssm::get_parameter(&c, "/gt/secret-one")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.value, "hunter2-bravo");
        assert_eq!(p.type_, "SecureString");
        assert_eq!(p.description.as_deref(), Some("second"));
    });
    s.ok(&["destroy", "-auto-approve"]);

    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_ssm_parameter.p", "aws_ssm_parameter.plain"],
        },
    );
    assert!(
        s.output("arn").ends_with(":parameter/gt/secret-two"),
        "{}",
        s.output("arn")
    );
    block_on(async {
        assert_eq!(
            ssm::get_parameter(&c, "/gt/secret-one").await.unwrap(),
            None,
            "replaced parameter remains"
        );
        let p = ssm::get_parameter(&c, "/gt/secret-two")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.value, "hunter2-bravo");
        let tags = ssm::list_tags(&c, "/gt/secret-two").await.unwrap();
        assert_eq!(tag(&tags, "app"), Some("second"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
        let plain = ssm::get_parameter(&c, "/gt/plain").await.unwrap().unwrap();
        assert_eq!(plain.value, "a,b,c");
    });
    let shown = s.ok(&["show"]);
    assert!(
        !shown.contains("hunter2"),
        "show printed the value:\n{shown}"
    );
    assert!(shown.contains("aws_ssm_parameter"), "{shown}");
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        for n in ["/gt/secret-two", "/gt/plain"] {
            assert_eq!(ssm::get_parameter(&c, n).await.unwrap(), None, "{n}");
        }
    });
}

#[test]
fn ecr_repository_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let repo = |name: &str, mutability: &str, scan: bool| {
        format!(
            r#"
resource "aws_ecr_repository" "r" {{
  name                 = "{name}"
  image_tag_mutability = "{mutability}"
  image_scanning_configuration {{
    scan_on_push = {scan}
  }}
  tags = {{ scan = "{scan}" }}
}}
resource "aws_ecr_repository" "plain" {{
  name = "gt-plain"
}}
output "aws_ecr_repository_r" {{ value = aws_ecr_repository.r.id }}
output "aws_ecr_repository_plain" {{ value = aws_ecr_repository.plain.id }}
output "url" {{ value = aws_ecr_repository.r.repository_url }}
output "registry" {{ value = aws_ecr_repository.r.registry_id }}
"#
        )
    };
    let v1 = repo("gt-repo-one", "MUTABLE", false);
    let v2 = repo("gt-repo-one", "IMMUTABLE", true);
    let v3 = repo("gt-repo-two", "IMMUTABLE", true);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_ecr_repository.r", "aws_ecr_repository.plain"],
        },
    );
    assert_eq!(s.output("registry"), "123456789012");
    assert!(
        s.output("url").ends_with("/gt-repo-two"),
        "{}",
        s.output("url")
    );
    block_on(async {
        assert_eq!(
            ecr::describe_repository(&c, "gt-repo-one").await.unwrap(),
            None,
            "replaced repository remains"
        );
        let r = ecr::describe_repository(&c, "gt-repo-two")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.image_tag_mutability, "IMMUTABLE");
        assert!(r.scan_on_push);
        let tags = ecr::list_tags(&c, &r.arn).await.unwrap();
        assert_eq!(tag(&tags, "scan"), Some("true"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
        let plain = ecr::describe_repository(&c, "gt-plain")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(plain.image_tag_mutability, "MUTABLE");
        assert_eq!(plain.encryption_type, "AES256");
    });
    // A repository with an image: destroy fails without force_delete
    // (an in-place change of the state only) and succeeds with it.
    block_on(async {
        use gantry_aws::client::ECR;
        let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"layers":[]}"#;
        gantry_aws::protocol::json(
            &c,
            &ECR,
            "AmazonEC2ContainerRegistry_V20150921",
            "1.1",
            "PutImage",
            &serde_json::json!({
                "repositoryName": "gt-repo-two",
                "imageManifest": manifest,
                "imageTag": "v1",
            }),
        )
        .await
        .unwrap();
    });
    let (code, out, err) = s.run(&["destroy", "-auto-approve"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        format!("{out}{err}").contains("RepositoryNotEmptyException"),
        "{out}\n{err}"
    );
    s.write(&v3.replace(
        "image_tag_mutability = \"IMMUTABLE\"",
        "image_tag_mutability = \"IMMUTABLE\"\n  force_delete = true",
    ));
    let (code, out) = s.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("force_delete"), "{out}");
    s.apply();
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        for n in ["gt-repo-two", "gt-plain"] {
            assert_eq!(ecr::describe_repository(&c, n).await.unwrap(), None, "{n}");
        }
    });
}

#[test]
fn cloudwatch_log_group_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let group = |name: &str, days: u32| {
        format!(
            r#"
resource "aws_cloudwatch_log_group" "g" {{
  name              = "{name}"
  retention_in_days = {days}
  tags              = {{ days = "{days}" }}
}}
resource "aws_cloudwatch_log_group" "p" {{
  name_prefix = "/gt/prefixed-"
}}
output "aws_cloudwatch_log_group_g" {{ value = aws_cloudwatch_log_group.g.id }}
output "aws_cloudwatch_log_group_p" {{ value = aws_cloudwatch_log_group.p.id }}
output "arn" {{ value = aws_cloudwatch_log_group.g.arn }}
"#
        )
    };
    let v1 = group("/gt/app-one", 7);
    let v2 = group("/gt/app-one", 30);
    let v3 = group("/gt/app-two", 30);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_cloudwatch_log_group.g", "aws_cloudwatch_log_group.p"],
        },
    );
    let arn = s.output("arn");
    assert!(arn.ends_with(":log-group:/gt/app-two"), "{arn}");
    let prefixed = s.output("aws_cloudwatch_log_group_p");
    assert!(prefixed.starts_with("/gt/prefixed-"), "{prefixed}");
    block_on(async {
        assert_eq!(
            logs::describe_log_group(&c, "/gt/app-one").await.unwrap(),
            None,
            "replaced log group remains"
        );
        let g = logs::describe_log_group(&c, "/gt/app-two")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(g.retention_in_days, 30);
        let tags = logs::list_tags(&c, &arn).await.unwrap();
        assert_eq!(tag(&tags, "days"), Some("30"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
        let p = logs::describe_log_group(&c, &prefixed)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.retention_in_days, 0);
    });
    // skip_destroy leaves the group in AWS.
    s.write(&v3.replace(
        "retention_in_days = 30",
        "retention_in_days = 30\n  skip_destroy = true",
    ));
    s.apply();
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(
            logs::describe_log_group(&c, "/gt/app-two")
                .await
                .unwrap()
                .is_some(),
            "skip_destroy"
        );
        assert_eq!(logs::describe_log_group(&c, &prefixed).await.unwrap(), None);
    });
}

#[test]
fn sns_topic_lifecycle_with_policy() {
    let moto = Moto::start();
    let c = moto.client();
    let policy = |name: &str| {
        format!(
            r#"jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "Publish"
      Effect    = "Allow"
      Principal = {{ Service = "events.amazonaws.com" }}
      Action    = "sns:Publish"
      Resource  = "arn:aws:sns:us-east-1:123456789012:{name}"
    }}]
  }})"#
        )
    };
    let topic = |name: &str, display: &str, policy: &str| {
        format!(
            r#"
resource "aws_sns_topic" "t" {{
  name         = "{name}"
  display_name = "{display}"
  {policy}
  tags         = {{ display = "{display}" }}
}}
resource "aws_sns_topic" "f" {{
  name                        = "gt-orders.fifo"
  fifo_topic                  = true
  content_based_deduplication = true
}}
output "aws_sns_topic_t" {{ value = aws_sns_topic.t.id }}
output "aws_sns_topic_f" {{ value = aws_sns_topic.f.id }}
output "owner" {{ value = aws_sns_topic.t.owner }}
"#
        )
    };
    let p1 = format!("policy = {}", policy("gt-topic-one"));
    let p2 = format!("policy = {}", policy("gt-topic-two"));
    let v1 = topic("gt-topic-one", "first", "");
    let v2 = topic("gt-topic-one", "second", &p1);
    let v3 = topic("gt-topic-two", "second", &p2);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_sns_topic.t", "aws_sns_topic.f"],
        },
    );
    let arn = s.output("aws_sns_topic_t");
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:gt-topic-two");
    assert_eq!(s.output("owner"), "123456789012");
    block_on(async {
        assert_eq!(
            sns::get_topic_attributes(&c, "arn:aws:sns:us-east-1:123456789012:gt-topic-one")
                .await
                .unwrap(),
            None,
            "replaced topic remains"
        );
        let a = sns::get_topic_attributes(&c, &arn).await.unwrap().unwrap();
        assert_eq!(a.get("DisplayName").map(String::as_str), Some("second"));
        assert!(
            a["Policy"].contains("events.amazonaws.com"),
            "{}",
            a["Policy"]
        );
        let tags = sns::list_tags(&c, &arn).await.unwrap();
        assert_eq!(tag(&tags, "display"), Some("second"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
        let f = sns::get_topic_attributes(&c, &s.output("aws_sns_topic_f"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(f.get("FifoTopic").map(String::as_str), Some("true"));
    });
    // The same policy written differently plans clean.
    let rewritten = r#"policy = <<EOT
{"Statement":{"Resource":"arn:aws:sns:us-east-1:123456789012:gt-topic-two",
 "Action":["sns:Publish"],"Principal":{"Service":"events.amazonaws.com"},
 "Effect":"Allow","Sid":"Publish"},
 "Version":"2012-10-17"}
EOT"#;
    s.write(&topic("gt-topic-two", "second", rewritten));
    s.assert_clean("equivalent topic policy");
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(sns::get_topic_attributes(&c, &arn).await.unwrap(), None);
    });
}

#[test]
fn cloudwatch_metric_alarm_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let alarm = |name: &str, threshold: u32, missing: &str| {
        format!(
            r#"
resource "aws_sns_topic" "alerts" {{ name = "gt-alerts" }}
resource "aws_cloudwatch_metric_alarm" "a" {{
  alarm_name          = "{name}"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = 300
  statistic           = "Average"
  threshold           = {threshold}
  treat_missing_data  = "{missing}"
  alarm_description   = "cpu over {threshold}"
  dimensions          = {{ InstanceId = "i-0123456789" }}
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = {{ threshold = "{threshold}" }}
}}
output "aws_cloudwatch_metric_alarm_a" {{ value = aws_cloudwatch_metric_alarm.a.id }}
output "aws_sns_topic_alerts" {{ value = aws_sns_topic.alerts.id }}
output "arn" {{ value = aws_cloudwatch_metric_alarm.a.arn }}
"#
        )
    };
    let v1 = alarm("gt-cpu-high", 80, "missing");
    let v2 = alarm("gt-cpu-high", 90, "breaching");
    let v3 = alarm("gt-cpu-very-high", 90, "breaching");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &["aws_cloudwatch_metric_alarm.a", "aws_sns_topic.alerts"],
        },
    );
    let arn = s.output("arn");
    assert!(arn.ends_with(":alarm:gt-cpu-very-high"), "{arn}");
    block_on(async {
        assert_eq!(
            cloudwatch::describe_alarm(&c, "gt-cpu-high").await.unwrap(),
            None,
            "replaced alarm remains"
        );
        let a = cloudwatch::describe_alarm(&c, "gt-cpu-very-high")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.threshold, Some(90.0));
        assert_eq!(a.treat_missing_data.as_deref(), Some("breaching"));
        assert_eq!(a.evaluation_periods, 2);
        assert_eq!(
            a.dimensions.get("InstanceId").map(String::as_str),
            Some("i-0123456789")
        );
        assert_eq!(a.alarm_actions, vec![s.output("aws_sns_topic_alerts")]);
        assert!(a.actions_enabled);
        let tags = cloudwatch::list_tags(&c, &arn).await.unwrap();
        assert_eq!(tag(&tags, "threshold"), Some("90"));
        assert_eq!(tag(&tags, "managed_by"), Some("gantry"), "default_tags");
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(
            cloudwatch::describe_alarm(&c, "gt-cpu-very-high")
                .await
                .unwrap(),
            None
        );
    });
}

#[test]
fn invalid_arguments_fail_at_plan() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            r#"resource "aws_cloudwatch_log_group" "g" {
  name              = "/gt/bad"
  retention_in_days = 4
}"#,
            "aws_cloudwatch_log_group.g",
            &["retention_in_days", "got 4"],
        ),
        (
            r#"resource "aws_kms_key" "k" { deletion_window_in_days = 3 }"#,
            "aws_kms_key.k",
            &["deletion_window_in_days", "(7 - 30)", "got 3"],
        ),
        (
            r#"resource "aws_dynamodb_table" "t" {
  name         = "gt-bad"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {
    name = "id"
    type = "S"
  }
}"#,
            "aws_dynamodb_table.t",
            &["hash_key \"pk\" must be declared in an attribute block"],
        ),
        (
            r#"resource "aws_dynamodb_table" "t" {
  name     = "gt-bad"
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}"#,
            "aws_dynamodb_table.t",
            &["read_capacity must be set when billing_mode is \"PROVISIONED\""],
        ),
        (
            r#"resource "aws_ssm_parameter" "p" {
  name  = "/gt/bad"
  type  = "Secret"
  value = "x"
}"#,
            "aws_ssm_parameter.p",
            &["invalid value for type", "SecureString"],
        ),
        (
            r#"resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "gt-bad"
  comparison_operator = "Bigger"
  evaluation_periods  = 1
}"#,
            "aws_cloudwatch_metric_alarm.a",
            &["invalid value for comparison_operator"],
        ),
    ];
    for (cfg, addr, wants) in cases {
        s.write(cfg);
        let (code, out, err) = s.run(&["plan"]);
        let all = format!("{out}\n{err}");
        assert_eq!(code, 1, "{cfg}\n{all}");
        assert!(all.contains(addr), "{cfg}\n{all}");
        for w in wants {
            assert!(all.contains(w), "want {w:?}:\n{all}");
        }
        assert!(!all.contains("panicked"), "{all}");
    }
}
