//! Terraform misconfiguration checks: one failing and one passing
//! configuration per check, evaluation through variables, tfvars, locals,
//! modules, count/for_each and dynamic blocks, bad files, and the planned
//! values of a plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_scan::misconfig::{Target, check_planned, checks, scan_terraform, terraform_roots};
use gantry_scan::{Finding, Kind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/misconfig/terraform")
        .join(name)
}

fn scan_text(main_tf: &str) -> Vec<Finding> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main_tf).expect("write");
    let (findings, errors) = scan_terraform(dir.path(), "");
    assert!(
        errors.is_empty(),
        "unexpected errors: {errors:?}\n{main_tf}"
    );
    findings
}

const BUCKET: &str = r#"
resource "aws_s3_bucket" "b" {
  bucket = "my-bucket"
}
"#;

const SSE: &str = r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
"#;

fn trail(multi: bool, validation: bool, kms: bool) -> String {
    format!(
        r#"resource "aws_cloudtrail" "t" {{
  name                       = "t"
  s3_bucket_name             = "logs"
  is_multi_region_trail      = {multi}
  enable_log_file_validation = {validation}
  {}
}}"#,
        if kms {
            "kms_key_id = \"arn:aws:kms:us-east-1:111122223333:key/k\""
        } else {
            ""
        }
    )
}

fn log_group(retention: Option<u32>, kms: bool) -> String {
    format!(
        "resource \"aws_cloudwatch_log_group\" \"g\" {{\n  name = \"g\"\n  {}\n  {}\n}}\n",
        retention
            .map(|r| format!("retention_in_days = {r}"))
            .unwrap_or_default(),
        if kms {
            "kms_key_id = \"arn:aws:kms:us-east-1:111122223333:key/k\""
        } else {
            ""
        }
    )
}

fn ecr(scan: bool, mutability: &str) -> String {
    format!(
        "resource \"aws_ecr_repository\" \"r\" {{\n  name = \"r\"\n  image_tag_mutability = \"{mutability}\"\n  image_scanning_configuration {{\n    scan_on_push = {scan}\n  }}\n}}\n"
    )
}

fn instance(extra: &str) -> String {
    format!(
        "resource \"aws_instance\" \"i\" {{\n  ami = \"ami-1\"\n  instance_type = \"t3.micro\"\n  metadata_options {{\n    http_tokens = \"required\"\n  }}\n  {extra}\n}}\n"
    )
}

fn sg(port: u32, cidr: &str) -> String {
    format!(
        "resource \"aws_security_group\" \"s\" {{\n  name = \"s\"\n  ingress {{\n    from_port = {port}\n    to_port = {port}\n    protocol = \"tcp\"\n    cidr_blocks = [\"{cidr}\"]\n  }}\n}}\n"
    )
}

fn policy(resource_type: &str, action: &str, res: &str) -> String {
    format!(
        "resource \"{resource_type}\" \"p\" {{\n  name = \"p\"\n  role = \"r\"\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{ Effect = \"Allow\", Action = [\"{action}\"], Resource = \"{res}\" }}]\n  }})\n}}\n"
    )
}

/// (check, failing configuration, passing configuration)
fn cases() -> Vec<(&'static str, String, String)> {
    let s = |x: &str| x.to_owned();
    vec![
        (
            "GNT-AWS-001",
            s(r#"resource "aws_s3_bucket_acl" "a" { 
  bucket = "x"
  acl = "public-read"
}"#),
            s(r#"resource "aws_s3_bucket_acl" "a" {
  bucket = "x"
  acl = "private"
}"#),
        ),
        (
            "GNT-AWS-002",
            s(r#"resource "aws_s3_bucket_policy" "p" {
  bucket = "x"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::x/*" }] })
}"#),
            s(r#"resource "aws_s3_bucket_policy" "p" {
  bucket = "x"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:root" }, Action = "s3:GetObject", Resource = "arn:aws:s3:::x/*" }] })
}"#),
        ),
        (
            "GNT-AWS-003",
            s(r#"resource "aws_s3_bucket_public_access_block" "p" {
  bucket = "x"
  block_public_acls = true
  block_public_policy = false
  ignore_public_acls = true
  restrict_public_buckets = true
}"#),
            s(r#"resource "aws_s3_bucket_public_access_block" "p" {
  bucket = "x"
  block_public_acls = true
  block_public_policy = true
  ignore_public_acls = true
  restrict_public_buckets = true
}"#),
        ),
        (
            "GNT-AWS-004",
            s(BUCKET),
            format!(
                "{BUCKET}\nresource \"aws_s3_bucket_public_access_block\" \"p\" {{\n  bucket = aws_s3_bucket.b.id\n  block_public_acls = true\n  block_public_policy = true\n  ignore_public_acls = true\n  restrict_public_buckets = true\n}}\n"
            ),
        ),
        ("GNT-AWS-005", s(BUCKET), format!("{BUCKET}{SSE}")),
        (
            "GNT-AWS-006",
            format!(
                "{BUCKET}\nresource \"aws_s3_bucket_versioning\" \"v\" {{\n  bucket = aws_s3_bucket.b.id\n  versioning_configuration {{\n    status = \"Suspended\"\n  }}\n}}\n"
            ),
            format!(
                "{BUCKET}\nresource \"aws_s3_bucket_versioning\" \"v\" {{\n  bucket = aws_s3_bucket.b.bucket\n  versioning_configuration {{\n    status = \"Enabled\"\n  }}\n}}\n"
            ),
        ),
        (
            "GNT-AWS-007",
            s(BUCKET),
            format!(
                "{BUCKET}\nresource \"aws_s3_bucket_logging\" \"l\" {{\n  bucket = aws_s3_bucket.b.id\n  target_bucket = \"logs\"\n  target_prefix = \"b/\"\n}}\n"
            ),
        ),
        (
            "GNT-AWS-008",
            s(
                "resource \"aws_ebs_volume\" \"v\" {\n  availability_zone = \"us-east-1a\"\n  size = 10\n}\n",
            ),
            s(
                "resource \"aws_ebs_volume\" \"v\" {\n  availability_zone = \"us-east-1a\"\n  size = 10\n  encrypted = true\n}\n",
            ),
        ),
        (
            "GNT-AWS-009",
            instance("root_block_device {\n    encrypted = false\n  }"),
            instance("root_block_device {\n    encrypted = true\n  }"),
        ),
        (
            "GNT-AWS-010",
            s("resource \"aws_ebs_encryption_by_default\" \"d\" {\n  enabled = false\n}\n"),
            s("resource \"aws_ebs_encryption_by_default\" \"d\" {\n  enabled = true\n}\n"),
        ),
        (
            "GNT-AWS-011",
            s("resource \"aws_db_instance\" \"d\" {\n  instance_class = \"db.t3.micro\"\n}\n"),
            s(
                "resource \"aws_db_instance\" \"d\" {\n  instance_class = \"db.t3.micro\"\n  storage_encrypted = true\n}\n",
            ),
        ),
        (
            "GNT-AWS-012",
            s("resource \"aws_rds_cluster\" \"c\" {\n  engine = \"aurora-postgresql\"\n}\n"),
            s(
                "resource \"aws_rds_cluster\" \"c\" {\n  engine = \"aurora-postgresql\"\n  storage_encrypted = true\n}\n",
            ),
        ),
        (
            "GNT-AWS-013",
            s(
                "resource \"aws_db_instance\" \"d\" {\n  storage_encrypted = true\n  publicly_accessible = true\n}\n",
            ),
            s(
                "resource \"aws_db_instance\" \"d\" {\n  storage_encrypted = true\n  publicly_accessible = false\n}\n",
            ),
        ),
        ("GNT-AWS-014", sg(22, "0.0.0.0/0"), sg(22, "10.0.0.0/8")),
        (
            "GNT-AWS-015",
            s(
                "resource \"aws_security_group_rule\" \"r\" {\n  type = \"ingress\"\n  from_port = 3389\n  to_port = 3389\n  protocol = \"tcp\"\n  ipv6_cidr_blocks = [\"::/0\"]\n  security_group_id = \"sg-1\"\n}\n",
            ),
            s(
                "resource \"aws_security_group_rule\" \"r\" {\n  type = \"ingress\"\n  from_port = 3389\n  to_port = 3389\n  protocol = \"tcp\"\n  cidr_blocks = [\"10.1.0.0/16\"]\n  security_group_id = \"sg-1\"\n}\n",
            ),
        ),
        (
            "GNT-AWS-016",
            s(
                "resource \"aws_vpc_security_group_ingress_rule\" \"r\" {\n  security_group_id = \"sg-1\"\n  ip_protocol = \"-1\"\n  cidr_ipv4 = \"0.0.0.0/0\"\n}\n",
            ),
            s(
                "resource \"aws_vpc_security_group_ingress_rule\" \"r\" {\n  security_group_id = \"sg-1\"\n  ip_protocol = \"-1\"\n  cidr_ipv4 = \"10.0.0.0/8\"\n}\n",
            ),
        ),
        ("GNT-AWS-017", sg(5432, "0.0.0.0/0"), sg(443, "0.0.0.0/0")),
        (
            "GNT-AWS-018",
            s(
                "resource \"aws_default_security_group\" \"d\" {\n  vpc_id = \"vpc-1\"\n  ingress {\n    protocol = -1\n    self = true\n    from_port = 0\n    to_port = 0\n  }\n}\n",
            ),
            s("resource \"aws_default_security_group\" \"d\" {\n  vpc_id = \"vpc-1\"\n}\n"),
        ),
        (
            "GNT-AWS-019",
            policy("aws_iam_policy", "*", "*"),
            policy("aws_iam_policy", "s3:GetObject", "arn:aws:s3:::x/*"),
        ),
        (
            "GNT-AWS-020",
            s(
                "data \"aws_iam_policy_document\" \"d\" {\n  statement {\n    actions = [\"s3:*\"]\n    resources = [\"arn:aws:s3:::x\"]\n  }\n}\n",
            ),
            s(
                "data \"aws_iam_policy_document\" \"d\" {\n  statement {\n    actions = [\"s3:GetObject\"]\n    resources = [\"arn:aws:s3:::x\"]\n  }\n}\n",
            ),
        ),
        (
            "GNT-AWS-021",
            s(
                "resource \"aws_iam_role_policy\" \"p\" {\n  role = \"r\"\n  policy = <<JSON\n{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:PutObject\"], \"Resource\": \"*\"}]}\nJSON\n}\n",
            ),
            s(
                "resource \"aws_iam_role_policy\" \"p\" {\n  role = \"r\"\n  policy = <<JSON\n{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:PutObject\"], \"Resource\": \"arn:aws:s3:::x/*\"}]}\nJSON\n}\n",
            ),
        ),
        (
            "GNT-AWS-022",
            s(
                "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role = \"r\"\n  policy_arn = \"arn:aws:iam::aws:policy/AdministratorAccess\"\n}\n",
            ),
            s(
                "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role = \"r\"\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n",
            ),
        ),
        (
            "GNT-AWS-023",
            trail(false, true, true),
            trail(true, true, true),
        ),
        (
            "GNT-AWS-024",
            trail(true, false, true),
            trail(true, true, true),
        ),
        (
            "GNT-AWS-025",
            trail(true, true, false),
            trail(true, true, true),
        ),
        (
            "GNT-AWS-026",
            s("resource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n}\n"),
            s(
                "resource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n  enable_key_rotation = true\n}\n",
            ),
        ),
        (
            "GNT-AWS-027",
            s(
                "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n",
            ),
            instance(""),
        ),
        (
            "GNT-AWS-028",
            s("resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n"),
            s(
                "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\nresource \"aws_flow_log\" \"f\" {\n  vpc_id = aws_vpc.v.id\n  traffic_type = \"ALL\"\n  log_destination = \"arn:aws:s3:::logs\"\n  log_destination_type = \"s3\"\n}\n",
            ),
        ),
        (
            "GNT-AWS-029",
            s(
                "provider \"aws\" {\n  region = \"us-east-1\"\n  access_key = \"AKIAIOSFODNN7EXAMPLE\"\n  secret_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n}\n",
            ),
            s("provider \"aws\" {\n  region = \"us-east-1\"\n}\n"),
        ),
        (
            "GNT-AWS-030",
            instance(
                "user_data = \"#!/bin/sh\\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\n\"",
            ),
            instance("user_data = \"#!/bin/sh\\napt-get update\\n\""),
        ),
        (
            "GNT-AWS-031",
            s(
                "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"f\"\n  environment {\n    variables = {\n      DB_PASSWORD = \"hunter2hunter2\"\n    }\n  }\n}\n",
            ),
            s(
                "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"f\"\n  environment {\n    variables = {\n      DB_PASSWORD_ARN = \"arn:aws:secretsmanager:us-east-1:1:secret:x\"\n    }\n  }\n}\n",
            ),
        ),
        (
            "GNT-AWS-032",
            s(
                "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n  sqs_managed_sse_enabled = false\n}\n",
            ),
            s(
                "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n  sqs_managed_sse_enabled = false\n  kms_master_key_id = \"alias/q\"\n}\n",
            ),
        ),
        (
            "GNT-AWS-033",
            s("resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n"),
            s(
                "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n  kms_master_key_id = \"alias/aws/sns\"\n}\n",
            ),
        ),
        (
            "GNT-AWS-034",
            ecr(false, "IMMUTABLE"),
            ecr(true, "IMMUTABLE"),
        ),
        ("GNT-AWS-035", ecr(true, "MUTABLE"), ecr(true, "IMMUTABLE")),
        (
            "GNT-AWS-036",
            log_group(None, true),
            log_group(Some(400), true),
        ),
        (
            "GNT-AWS-037",
            log_group(Some(30), true),
            log_group(Some(365), true),
        ),
        (
            "GNT-AWS-038",
            log_group(Some(400), false),
            log_group(Some(400), true),
        ),
        (
            "GNT-AWS-039",
            instance("associate_public_ip_address = true"),
            instance("associate_public_ip_address = false"),
        ),
    ]
}

#[test]
fn every_terraform_check_has_a_failing_and_a_passing_case() {
    let cases = cases();
    for check in checks().iter().filter(|c| c.target == Target::Terraform) {
        assert!(
            cases.iter().any(|(id, _, _)| *id == check.id),
            "no case for {}",
            check.id
        );
    }
    for (id, bad, good) in &cases {
        let found = scan_text(bad);
        let hits: Vec<&Finding> = found.iter().filter(|f| f.rule_id == *id).collect();
        assert!(
            !hits.is_empty(),
            "{id}: the failing case reported nothing for it; got {:?}\n{bad}",
            found.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
        );
        for f in hits {
            assert_eq!(f.kind, Kind::Misconfig);
            let loc = f.location.as_ref().expect("location");
            assert_eq!(loc.path, "main.tf");
            assert!(loc.line >= 1);
            assert!(f.resource.is_some() && f.remediation.is_some());
            let info = checks().iter().find(|c| c.id == *id).expect("in catalog");
            assert_eq!(f.aliases.len(), info.checkov.len() + info.trivy.len());
            assert_eq!(f.fingerprint.len(), 32);
        }
        let found = scan_text(good);
        assert!(
            !found.iter().any(|f| f.rule_id == *id),
            "{id}: the passing case was reported: {:?}\n{good}",
            found
                .iter()
                .filter(|f| f.rule_id == *id)
                .map(|f| &f.message)
                .collect::<Vec<_>>()
        );
    }
}

fn by_rule(findings: &[Finding]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in findings {
        m.entry(f.rule_id.clone())
            .or_default()
            .push(f.resource.clone().unwrap_or_default());
    }
    m
}

#[test]
fn evaluation_follows_variables_locals_modules_and_for_each() {
    let root = fixture("");
    let (findings, errors) = scan_terraform(&root, "evaluated");
    assert!(errors.is_empty(), "{errors:?}");
    let m = by_rule(&findings);
    // for_each over a variable's default; the ACL comes from locals.
    assert_eq!(m["GNT-AWS-001"], vec!["aws_s3_bucket_acl.env[\"dev\"]"]);
    // The CIDR comes from terraform.tfvars, the port from a default.
    assert_eq!(m["GNT-AWS-014"], vec!["aws_security_group.ssh"]);
    // An unknown CIDR decides nothing.
    assert!(
        !findings
            .iter()
            .any(|f| f.resource.as_deref() == Some("aws_security_group.undecided"))
    );
    // count on a module, with an input overriding a default.
    assert_eq!(
        m["GNT-AWS-032"],
        vec![
            "module.queue[0].aws_sqs_queue.this",
            "module.queue[1].aws_sqs_queue.this"
        ]
    );
    // for_each on a module: only the instance whose input is true.
    assert_eq!(
        m["GNT-AWS-013"],
        vec!["module.db[\"a\"].aws_db_instance.this"]
    );
    let db = findings
        .iter()
        .find(|f| f.rule_id == "GNT-AWS-013")
        .and_then(|f| f.location.clone())
        .expect("location");
    assert_eq!(db.path, "evaluated/modules/db/main.tf");
    assert_eq!(db.line, 5);
    // A dynamic block in a policy document, rendered to JSON for the
    // policy that refers to it.
    assert_eq!(
        m["GNT-AWS-019"],
        vec![
            "aws_iam_policy.from_doc",
            "data.aws_iam_policy_document.admin"
        ]
    );
}

#[test]
fn called_modules_are_not_roots() {
    let root = fixture("");
    let dirs: Vec<String> = [
        "evaluated",
        "evaluated/modules/queue",
        "evaluated/modules/db",
        "other",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        terraform_roots(&root, &dirs),
        vec!["evaluated".to_owned(), "other".to_owned()]
    );
}

#[test]
fn a_broken_file_is_an_error_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.tf"),
        "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("b.tf"), "resource \"x\" {\n  = = =\n").expect("write");
    std::fs::write(dir.path().join("c.tf"), [0xff, 0xfe, 0x00]).expect("write");
    let (findings, errors) = scan_terraform(dir.path(), "");
    assert!(findings.iter().any(|f| f.rule_id == "GNT-AWS-033"));
    let b = errors
        .iter()
        .find(|e| e.path == "b.tf")
        .expect("b.tf error");
    let pos: Vec<&str> = b.message.splitn(3, ':').collect();
    assert!(
        pos.len() == 3 && pos[0].parse::<u32>().is_ok() && pos[1].parse::<u32>().is_ok(),
        "{b:?}"
    );
    assert!(errors.iter().any(|e| e.path == "c.tf"));
}

#[test]
fn evaluation_errors_are_reported_with_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"aws_sns_topic\" \"t\" {\n  name = nosuchfunc(1)\n}\n",
    )
    .expect("write");
    let (findings, errors) = scan_terraform(dir.path(), "");
    // The topic is still checked; its name is unknown.
    assert!(findings.iter().any(|f| f.rule_id == "GNT-AWS-033"));
    assert!(
        errors
            .iter()
            .any(|e| e.path == "main.tf" && e.message.starts_with("2:")),
        "{errors:?}"
    );
}

#[test]
fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (findings, errors) = scan_terraform(dir.path(), "nope");
    assert!(findings.is_empty());
    assert_eq!(errors.len(), 1);
}

#[test]
fn planned_values_are_checked_with_config_locations() {
    use gantry_iac::engine::{
        Action, Change, InstanceAddr, Key, Plan, PlanMode, ResourceAddr, World, load_tree,
    };
    use gantry_iac::syntax::Mode;
    use gantry_iac::value::{Type, Value};

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "\nresource \"aws_s3_bucket_acl\" \"a\" {\n  count = 2\n  bucket = \"x\"\n  acl = var.acl\n}\nvariable \"acl\" {}\n",
    )
    .expect("write");
    let tree = load_tree(dir.path()).expect("tree");
    let addr = |i: i64| InstanceAddr {
        resource: ResourceAddr {
            module: Vec::new(),
            mode: Mode::Managed,
            type_name: "aws_s3_bucket_acl".into(),
            name: "a".into(),
        },
        key: Key::Int(i),
    };
    let obj = |acl: Value| {
        Value::Object(BTreeMap::from([
            ("acl".to_owned(), acl),
            ("bucket".to_owned(), Value::from("x")),
            ("id".to_owned(), Value::Unknown(Type::String)),
        ]))
    };
    let provider = "provider[\"registry.terraform.io/hashicorp/aws\"]".to_owned();
    let plan = Plan {
        mode: PlanMode::Normal,
        changes: vec![
            Change::new(
                addr(0),
                Action::Create,
                None,
                Some(obj(Value::from("public-read-write"))),
                provider.clone(),
            ),
            Change::new(
                addr(1),
                Action::Create,
                None,
                Some(obj(Value::Unknown(Type::String))),
                provider.clone(),
            ),
        ],
        drift: Vec::new(),
        outputs: BTreeMap::new(),
        prior: World::default(),
        variables: BTreeMap::new(),
        targets: Vec::new(),
        replace: Vec::new(),
        warnings: Vec::new(),
    };
    let findings = check_planned(&plan, &tree, "infra");
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.rule_id, "GNT-AWS-001");
    assert_eq!(f.severity, gantry_scan::Severity::Critical);
    assert_eq!(f.resource.as_deref(), Some("aws_s3_bucket_acl.a[0]"));
    let loc = f.location.as_ref().expect("location");
    assert_eq!((loc.path.as_str(), loc.line), ("infra/main.tf", 2));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    #[test]
    fn arbitrary_terraform_never_panics(tail in "\\PC{0,200}", attr in "[a-z_]{1,12}", value in "\\PC{0,40}") {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "resource \"aws_s3_bucket\" \"b\" {{\n  {attr} = \"{}\"\n}}\n{tail}",
            value.replace(['"', '\\', '$', '%'], "")
        );
        std::fs::write(dir.path().join("main.tf"), text).expect("write");
        let _ = scan_terraform(dir.path(), "");
    }
}

#[test]
fn base64_user_data_is_decoded() {
    let tpl = |script: &str| {
        format!(
            "resource \"aws_launch_template\" \"t\" {{\n  metadata_options {{\n    http_tokens = \"required\"\n  }}\n  user_data = base64encode(\"{script}\")\n}}\n"
        )
    };
    let bad = scan_text(&tpl(
        "#!/bin/sh\\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\n",
    ));
    assert!(bad.iter().any(|f| f.rule_id == "GNT-AWS-030"), "{bad:?}");
    let good = scan_text(&tpl("#!/bin/sh\\necho hello world\\n"));
    assert!(!good.iter().any(|f| f.rule_id == "GNT-AWS-030"));
}

#[test]
fn companions_in_modules_or_under_for_each_are_linked_or_undecided() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("ver")).expect("mkdir");
    std::fs::write(
        dir.path().join("main.tf"),
        r#"
resource "aws_s3_bucket" "b" {
  for_each = toset(["a", "b"])
  bucket   = "data-${each.key}"
}

resource "aws_s3_bucket_versioning" "v" {
  for_each = aws_s3_bucket.b
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket" "lone" {
  bucket = "lone"
}

module "ver" {
  source    = "./ver"
  bucket_id = aws_s3_bucket.lone.id
}
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("ver/main.tf"),
        r#"
variable "bucket_id" {
  type = string
}

resource "aws_s3_bucket_logging" "l" {
  bucket        = var.bucket_id
  target_bucket = "logs"
}
"#,
    )
    .expect("write");
    let (findings, errors) = scan_terraform(dir.path(), "");
    assert!(errors.is_empty(), "{errors:?}");
    // `for_each = aws_s3_bucket.b` with `each.value.id`: the reference
    // names the buckets, so versioning is found for both.
    let versioning: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule_id == "GNT-AWS-006")
        .filter_map(|f| f.resource.as_deref())
        .collect();
    assert_eq!(versioning, vec!["aws_s3_bucket.lone"]);
    // A logging resource in a module whose bucket is not known could be
    // for any bucket: no bucket is reported for missing logging.
    assert!(
        !findings.iter().any(|f| f.rule_id == "GNT-AWS-007"),
        "{findings:?}"
    );
}
