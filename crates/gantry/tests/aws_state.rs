//! The `s3` state backend and `gantry drift` against moto: state objects
//! round-trip as v4 JSON, a lock object and a DynamoDB lock item keep a
//! second apply out (failing with the holder's name or waiting for it),
//! force-unlock, workspaces under `env:/`, Terraform's MD5 digest item;
//! and drift made through the AWS API is reported and put back by apply.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::moto::{Moto, Stack, block_on};
use gantry_aws::client::DYNAMODB;
use gantry_aws::protocol::json;
use gantry_aws::service::{s3, sqs};
use serde_json::{Value as J, json};

const BUCKET: &str = "gt-state";
const KEY: &str = "app/terraform.tfstate";
const TABLE: &str = "gt-locks";

/// A bucket for states and a lock table (hash key LockID), as Terraform's
/// s3 backend documentation asks for.
fn state_bucket_and_table(moto: &Moto) {
    let c = moto.client();
    block_on(async {
        s3::create_bucket(&c, BUCKET, false).await.unwrap();
        json(
            &c,
            &DYNAMODB,
            "DynamoDB_20120810",
            "1.0",
            "CreateTable",
            &json!({
                "TableName": TABLE,
                "AttributeDefinitions": [{ "AttributeName": "LockID", "AttributeType": "S" }],
                "KeySchema": [{ "AttributeName": "LockID", "KeyType": "HASH" }],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )
        .await
        .unwrap();
    });
}

fn backend_block(moto: &Moto, lockfile: bool, table: bool) -> String {
    let table = if table {
        format!("dynamodb_table = \"{TABLE}\"")
    } else {
        String::new()
    };
    format!(
        r#"
terraform {{
  backend "s3" {{
    bucket                      = "{BUCKET}"
    key                         = "{KEY}"
    region                      = "us-east-1"
    access_key                  = "test"
    secret_key                  = "test"
    use_path_style              = true
    skip_credentials_validation = true
    use_lockfile                = {lockfile}
    {table}
    endpoints = {{
      s3       = "{u}"
      dynamodb = "{u}"
    }}
  }}
}}
"#,
        u = moto.url
    )
}

fn get_object(moto: &Moto, key: &str) -> Option<Vec<u8>> {
    let c = moto.client();
    block_on(async { s3::get_object(&c, BUCKET, key).await.unwrap() })
}

fn lock_item(moto: &Moto, id: &str) -> Option<J> {
    let c = moto.client();
    block_on(async {
        let out = json(
            &c,
            &DYNAMODB,
            "DynamoDB_20120810",
            "1.0",
            "GetItem",
            &json!({ "TableName": TABLE, "Key": { "LockID": { "S": id } }, "ConsistentRead": true }),
        )
        .await
        .unwrap();
        out.get("Item").cloned()
    })
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn s3_backend_stores_v4_state_with_digest_and_workspaces() {
    let moto = Moto::start();
    state_bucket_and_table(&moto);
    let s = Stack::new(&moto);
    let body = |v: &str| {
        format!(
            "{}\nresource \"terraform_data\" \"x\" {{ input = \"{v}\" }}\noutput \"v\" {{ value = terraform_data.x.output }}\n",
            backend_block(&moto, true, true)
        )
    };
    s.write(&body("one"));
    let out = s.ok(&["tf", "init"]);
    assert!(out.contains("s3"), "{out}");
    // The backend settings hold the secret key: readable by the owner only.
    {
        use std::os::unix::fs::PermissionsExt;
        let record = s.dir.path().join(".terraform/gantry-backend.json");
        let mode = std::fs::metadata(&record).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", record.display());
    }
    s.apply();
    let state = get_object(&moto, KEY).expect("the state object exists");
    let j: J = serde_json::from_slice(&state).unwrap();
    assert_eq!(j["version"], 4, "{j}");
    assert!(j["serial"].as_u64().is_some_and(|n| n >= 1), "{j}");
    assert!(j["lineage"].as_str().is_some_and(|l| l.len() == 36), "{j}");
    assert_eq!(j["resources"][0]["type"], "terraform_data");
    assert_eq!(j["outputs"]["v"]["value"], "one");
    // Terraform's digest item matches the object, and no lock is left.
    let digest = lock_item(&moto, &format!("{BUCKET}/{KEY}-md5")).expect("digest item");
    assert_eq!(digest["Digest"]["S"], md5_hex(&state));
    assert!(lock_item(&moto, &format!("{BUCKET}/{KEY}")).is_none());
    assert!(get_object(&moto, &format!("{KEY}.tflock")).is_none());
    s.assert_clean("after apply on the s3 backend");

    // The same state read back by a fresh working directory.
    let other = Stack::new(&moto);
    other.write(&body("one"));
    other.ok(&["tf", "init"]);
    other.assert_clean("another checkout of the same state");
    let list = other.ok(&["state", "list"]);
    assert_eq!(list.trim(), "terraform_data.x");

    // Workspaces live under env:/NAME/KEY.
    s.ok(&["workspace", "new", "staging"]);
    s.write(&body("two"));
    s.apply();
    let staged = get_object(&moto, &format!("env:/staging/{KEY}")).expect("workspace state");
    let j: J = serde_json::from_slice(&staged).unwrap();
    assert_eq!(j["outputs"]["v"]["value"], "two");
    let list = other.ok(&["workspace", "list"]);
    assert!(list.contains("staging"), "{list}");
    // The default workspace is untouched.
    let j: J = serde_json::from_slice(&get_object(&moto, KEY).unwrap()).unwrap();
    assert_eq!(j["outputs"]["v"]["value"], "one");
    s.ok(&["workspace", "select", "default"]);
    s.ok(&["workspace", "delete", "-force", "staging"]);
    assert!(get_object(&moto, &format!("env:/staging/{KEY}")).is_none());

    // A state written behind the table's back is noticed.
    let c = moto.client();
    block_on(async {
        s3::put_object(&c, BUCKET, KEY, br#"{"version":4,"terraform_version":"1.9.0","serial":9,"lineage":"00000000-0000-4000-8000-000000000000","outputs":{},"resources":[]}"#)
            .await
            .unwrap();
    });
    let (code, out, err) = s.run(&["plan"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("does not have the expected content") && err.contains("Digest"),
        "{err}"
    );
}

#[test]
fn s3_backend_locks_name_the_holder_and_wait() {
    let moto = Moto::start();
    state_bucket_and_table(&moto);
    for (lockfile, table) in [(true, false), (false, true), (true, true)] {
        let s = Stack::new(&moto);
        s.write(&format!(
            "{}\nresource \"terraform_data\" \"x\" {{ input = \"{lockfile}-{table}\" }}\n",
            backend_block(&moto, lockfile, table)
        ));
        s.ok(&["tf", "init"]);
        // The first apply stops at its approval prompt, holding the lock.
        let mut first = common::gantry()
            .args(["apply", "-no-color"])
            .current_dir(s.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let locked = || {
            (lockfile && get_object(&moto, &format!("{KEY}.tflock")).is_some())
                || (table && lock_item(&moto, &format!("{BUCKET}/{KEY}")).is_some())
        };
        while !locked() {
            assert!(
                Instant::now() < deadline,
                "the first apply never took the lock"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The second fails at once, naming the holder.
        let (code, out, err) = s.run(&["apply", "-auto-approve"]);
        assert_eq!(code, 1, "{out}\n{err}");
        assert!(err.contains("the state is locked"), "{err}");
        assert!(err.contains("OperationTypeApply"), "{err}");
        assert!(err.contains(&format!("{BUCKET}/{KEY}")), "{err}");
        // force-unlock with a wrong id is refused.
        let (code, _, err) = s.run(&["force-unlock", "-force", "not-the-id"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("does not match"), "{err}");
        // With -lock-timeout it waits until the first one is done.
        let mut second = common::gantry()
            .args(["apply", "-auto-approve", "-no-color", "-lock-timeout=60s"])
            .current_dir(s.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            second.try_wait().unwrap().is_none(),
            "the waiting apply should still be waiting"
        );
        first.stdin.take().unwrap().write_all(b"yes\n").unwrap();
        let out = first.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out2 = second.wait_with_output().unwrap();
        assert!(
            out2.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out2.stdout),
            String::from_utf8_lossy(&out2.stderr)
        );
        // The second apply found the first one's state: nothing to do.
        assert!(
            String::from_utf8_lossy(&out2.stdout).contains("0 added"),
            "{}",
            String::from_utf8_lossy(&out2.stdout)
        );
        assert!(!locked(), "a lock was left behind");
        // A stale lock from a crashed holder: force-unlock by its id.
        let stale = json!({
            "ID": "7b4c1a2e-0000-4000-8000-00000000dead",
            "Operation": "OperationTypeApply",
            "Info": "",
            "Who": "ci@crashed-runner",
            "Version": "1.9.0",
            "Created": "2026-12-01T00:00:00Z",
            "Path": format!("{BUCKET}/{KEY}"),
        });
        let c = moto.client();
        block_on(async {
            if lockfile {
                s3::put_object(
                    &c,
                    BUCKET,
                    &format!("{KEY}.tflock"),
                    stale.to_string().as_bytes(),
                )
                .await
                .unwrap();
            }
            if table {
                json(
                    &c,
                    &DYNAMODB,
                    "DynamoDB_20120810",
                    "1.0",
                    "PutItem",
                    &json!({ "TableName": TABLE, "Item": { "LockID": { "S": format!("{BUCKET}/{KEY}") }, "Info": { "S": stale.to_string() } } }),
                )
                .await
                .unwrap();
            }
        });
        let (code, _, err) = s.run(&["plan"]);
        assert_eq!(code, 1);
        assert!(err.contains("ci@crashed-runner"), "{err}");
        s.ok(&[
            "force-unlock",
            "-force",
            "7b4c1a2e-0000-4000-8000-00000000dead",
        ]);
        assert!(!locked());
        s.assert_clean("after force-unlock");
        // Next round starts from no state.
        block_on(async {
            s3::delete_object(&c, BUCKET, KEY).await.unwrap();
        });
        if table {
            block_on(async {
                json(
                    &c,
                    &DYNAMODB,
                    "DynamoDB_20120810",
                    "1.0",
                    "DeleteItem",
                    &json!({ "TableName": TABLE, "Key": { "LockID": { "S": format!("{BUCKET}/{KEY}-md5") } } }),
                )
                .await
                .unwrap();
            });
        }
    }
}

#[test]
fn s3_backend_bad_settings_are_named() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    s.write(
        r#"
terraform {
  backend "s3" {
    bucket  = "b"
    key     = "/abs/terraform.tfstate"
    region  = "us-east-1"
  }
}
"#,
    );
    let (code, out, err) = s.run(&["tf", "init"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("\"key\""), "{err}");
    s.write(
        r#"
terraform {
  backend "s3" {
    bucket      = "b"
    key         = "k"
    region      = "us-east-1"
    dynamo_lock = true
  }
}
"#,
    );
    let (code, _, err) = s.run(&["tf", "init"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("unsupported argument \"dynamo_lock\""),
        "{err}"
    );
}

#[test]
fn drift_is_reported_and_apply_puts_it_back() {
    let moto = Moto::start();
    let c = moto.client();
    let s = Stack::new(&moto);
    s.write(
        r#"
resource "aws_s3_bucket" "b" {
  bucket = "gt-drift"
  tags   = { team = "a" }
}
resource "aws_s3_bucket_versioning" "v" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration { status = "Enabled" }
}
resource "aws_sqs_queue" "q" {
  name = "gt-drift-q"
}
"#,
    );
    s.apply();
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("No drift"), "{out}");

    let url = block_on(async { sqs::get_queue_url(&c, "gt-drift-q").await.unwrap().unwrap() });
    block_on(async {
        let mut tags = s3::get_bucket_tagging(&c, "gt-drift").await.unwrap();
        tags.insert("team".into(), "b".into());
        s3::put_bucket_tagging(&c, "gt-drift", &tags).await.unwrap();
        s3::put_bucket_versioning(&c, "gt-drift", "Suspended", None, None)
            .await
            .unwrap();
        sqs::delete_queue(&c, &url).await.unwrap();
    });
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("3 of 3 resource instance(s)"), "{out}");
    assert!(out.contains(r#"tags["team"]: "a" -> "b""#), "{out}");
    assert!(
        out.contains(r#"versioning_configuration[0].status: "Enabled" -> "Suspended""#),
        "{out}"
    );
    assert!(out.contains("aws_sqs_queue.q was deleted"), "{out}");
    let (code, out, _) = s.run(&["drift", "--json"]);
    assert_eq!(code, 2);
    let j: J = serde_json::from_str(&out).unwrap();
    let resources = j["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 3, "{j}");
    assert_eq!(resources[0]["address"], "aws_s3_bucket.b");
    assert_eq!(resources[2]["change"], "deleted");
    // drift changes nothing: the state still holds the configured values.
    let (code, _) = s.plan();
    assert_eq!(code, 2);
    s.apply();
    block_on(async {
        let (status, _) = s3::get_bucket_versioning(&c, "gt-drift").await.unwrap();
        assert_eq!(status.as_deref(), Some("Enabled"));
        let tags = s3::get_bucket_tagging(&c, "gt-drift").await.unwrap();
        assert_eq!(tags.get("team").map(String::as_str), Some("a"));
        assert!(
            sqs::get_queue_url(&c, "gt-drift-q")
                .await
                .unwrap()
                .is_some()
        );
    });
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    // An error (no such directory) is exit 1, not "no drift".
    let (code, _, err) = s.run(&["drift", "-C", "/nonexistent/gantry-stack"]);
    assert_eq!(code, 1, "{err}");
}

/// `stacks:` in gantry.yml: the server checks each stack (an interval
/// schedule at start, then every interval) and records `infra.drift`.
#[test]
fn the_server_checks_scheduled_stacks_for_drift() {
    let moto = Moto::start();
    let c = moto.client();
    let infra = Stack::new(&moto);
    infra.write(r#"resource "aws_sqs_queue" "q" { name = "gt-scheduled" }"#);
    infra.apply();
    let url = block_on(async {
        sqs::get_queue_url(&c, "gt-scheduled")
            .await
            .unwrap()
            .unwrap()
    });
    block_on(async { sqs::delete_queue(&c, &url).await.unwrap() });

    let ws = tempfile::tempdir().unwrap();
    std::fs::write(
        ws.path().join("gantry.yml"),
        format!(
            "version: 1\nmonitoring:\n  self-scrape: false\nstacks:\n  - name: queues\n    dir: {}\n    schedule: 1h\n  - name: nightly\n    dir: {}\n    schedule: \"0 3 * * *\"\n",
            infra.dir.path().display(),
            infra.dir.path().display()
        ),
    )
    .unwrap();
    let data = ws.path().join("data");
    let server = common::Server::start(ws.path(), &["up", "--data-dir", data.to_str().unwrap()]);
    let token = common::admin_token(&data);
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let page: J = block_on(async {
            reqwest::Client::new()
                .get(format!("{}/api/v1/events?kind=infra.drift", server.url))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if !events.is_empty() {
            break events;
        }
        assert!(Instant::now() < deadline, "no infra.drift event: {page}");
        std::thread::sleep(Duration::from_millis(250));
    };
    // Only the interval schedule has fired; the cron one waits for 03:00.
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["subject"], "stack/queues", "{e}");
    assert_eq!(e["data"]["drifted"], 1, "{e}");
    assert_eq!(
        e["data"]["resources"][0]["address"], "aws_sqs_queue.q",
        "{e}"
    );
    assert_eq!(e["data"]["resources"][0]["change"], "deleted", "{e}");
    assert_eq!(server.terminate().code(), Some(0));

    // A stack whose directory does not exist stops the server at start.
    std::fs::write(
        ws.path().join("gantry.yml"),
        "version: 1\nstacks:\n  - name: gone\n    dir: no/such/dir\n    schedule: 1h\n",
    )
    .unwrap();
    let out = common::gantry()
        .args([
            "up",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gantry.yml:3:5") && err.contains("does not exist"),
        "{err}"
    );
}

/// examples/demo/aws against moto through AWS_ENDPOINT_URL and the
/// standard credential chain (environment), as its header says.
#[test]
fn the_aws_demo_stack_applies_plans_clean_and_destroys() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/aws");
    for f in ["main.tf", "variables.tf", "outputs.tf"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let run = |args: &[&str]| {
        let mut cmd = common::gantry();
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(&k);
            }
        }
        let out = cmd
            .args(args)
            .current_dir(dir.path())
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Apply complete! Resources: 9 added"), "{out}");
    let (code, out, err) = run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(code, 0, "the demo plans clean after apply:\n{out}\n{err}");
    let (code, out, err) = run(&["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, _) = run(&["output", "-raw", "bucket"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "gantry-demo-artifacts-123456789012");
    let (code, out, err) = run(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("9 destroyed"), "{out}");
    let c = moto.client();
    block_on(async {
        assert!(
            !s3::head_bucket(&c, "gantry-demo-artifacts-123456789012")
                .await
                .unwrap()
        );
        assert_eq!(
            sqs::get_queue_url(&c, "gantry-demo-jobs").await.unwrap(),
            None
        );
    });
}

/// A configuration in the style of a real project: a two-tier VPC with
/// public and private subnets made with `count` and `cidrsubnet`, an IAM
/// role with policy documents, and a local module used twice with
/// `for_each`. It applies, re-plans clean and destroys.
#[test]
fn a_real_project_style_stack_applies_replans_clean_and_destroys() {
    let moto = Moto::start();
    let c = moto.client();
    let s = Stack::new(&moto);
    let module = s.dir.path().join("modules/queue");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("main.tf"),
        r#"
variable "name" { type = string }
variable "retention" { type = number }

resource "aws_sqs_queue" "q" {
  name                      = var.name
  message_retention_seconds = var.retention
}

resource "aws_sns_topic" "events" {
  name = "${var.name}-events"
}

output "queue_arn" { value = aws_sqs_queue.q.arn }
output "queue_url" { value = aws_sqs_queue.q.url }
"#,
    )
    .unwrap();
    s.write(
        r#"
locals {
  azs  = ["us-east-1a", "us-east-1b"]
  cidr = "10.10.0.0/16"
}

resource "aws_vpc" "main" {
  cidr_block           = local.cidr
  enable_dns_hostnames = true
  tags                 = { Name = "two-tier" }
}

resource "aws_subnet" "public" {
  count                   = length(local.azs)
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(local.cidr, 8, count.index)
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = true
  tags                    = { Name = "public-${count.index}", tier = "public" }
}

resource "aws_subnet" "private" {
  count             = length(local.azs)
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(local.cidr, 8, count.index + 10)
  availability_zone = local.azs[count.index]
  tags              = { Name = "private-${count.index}", tier = "private" }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "web" {
  name   = "two-tier-web"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

module "queue" {
  for_each  = { orders = 345600, emails = 86400 }
  source    = "./modules/queue"
  name      = "gt-${each.key}"
  retention = each.value
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "consume" {
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [for m in module.queue : m.queue_arn]
  }
}

resource "aws_iam_role" "app" {
  name               = "two-tier-app"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "consume" {
  name   = "consume"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.consume.json
}

output "private_subnets" { value = aws_subnet.private[*].id }
output "queue_urls" { value = { for k, m in module.queue : k => m.queue_url } }
"#,
    );
    let out = s.apply();
    assert!(out.contains("Apply complete! Resources: 16 added"), "{out}");
    s.assert_clean("the project stack after apply");
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let state = s.ok(&["state", "list"]);
    for addr in [
        "aws_subnet.private[1]",
        "aws_route_table_association.public[0]",
        "module.queue[\"emails\"].aws_sqs_queue.q",
        "module.queue[\"orders\"].aws_sns_topic.events",
        "aws_iam_role_policy.consume",
    ] {
        assert!(state.lines().any(|l| l == addr), "{addr} missing:\n{state}");
    }
    block_on(async {
        let url = sqs::get_queue_url(&c, "gt-orders").await.unwrap().unwrap();
        let attrs = sqs::get_queue_attributes(&c, &url).await.unwrap().unwrap();
        assert_eq!(
            attrs.get("MessageRetentionPeriod").map(String::as_str),
            Some("345600")
        );
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert_eq!(sqs::get_queue_url(&c, "gt-orders").await.unwrap(), None);
        assert_eq!(sqs::get_queue_url(&c, "gt-emails").await.unwrap(), None);
    });
    let state = s.ok(&["state", "list"]);
    assert!(state.trim().is_empty(), "{state}");
}
