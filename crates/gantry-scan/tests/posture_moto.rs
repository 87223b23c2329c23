//! Posture checks against moto (the AWS emulator): for each check, one
//! resource set up to pass and one to fail, and the scan must report
//! exactly the failing ones. Needs `moto_server` (moto[server] 5.2.5);
//! GANTRY_MOTO names it (scripts/test sets it).
//!
//! What moto cannot represent: a root user with access keys or with MFA
//! (GetAccountSummary always reports AccountAccessKeysPresent = 0 and
//! AccountMFAEnabled = 0), so the root checks are tested in the one
//! direction moto gives. Access-key ages cannot be back-dated either; the
//! 90-day checks run twice, at the real time and 100 days later.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use gantry_aws::client::{CLOUDTRAIL, CredentialSource, EC2, IAM, KMS, Request, S3, S3CONTROL};
use gantry_aws::protocol::{self, Params};
use gantry_aws::service::s3 as s3api;
use gantry_aws::xml::Element;
use gantry_aws::{Client, Settings};
use gantry_scan::posture::{
    NotRunKind, PostureOptions, PostureReport, enabled_regions, scan_account,
};
use serde_json::json;

/// A moto server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let bin = std::env::var("GANTRY_MOTO").unwrap_or_else(|_| {
            panic!(
                "GANTRY_MOTO is not set: install moto with `python3 -m venv /var/tmp/gantry-venv && \
                 /var/tmp/gantry-venv/bin/pip install 'moto[server]==5.2.5'` and set \
                 GANTRY_MOTO=/var/tmp/gantry-venv/bin/moto_server (scripts/test does both)"
            )
        });
        assert!(
            Path::new(&bin).exists(),
            "GANTRY_MOTO={bin} does not exist: install moto[server] (see scripts/test)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} (GANTRY_MOTO): {e}"));
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited early: {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::new("us-east-1");
        s.s3_use_path_style = true;
        s.max_retries = 1;
        s.env = |_| None;
        for key in ["iam", "sts", "s3", "s3control", "ec2", "kms", "cloudtrail"] {
            s.endpoints.insert(key.into(), self.url.clone());
        }
        s
    }

    fn client_as(&self, access: &str, secret: &str, region: &str) -> Client {
        let mut s = self.settings();
        s.region = region.into();
        Client::new(s, CredentialSource::static_keys(access, secret)).unwrap()
    }

    fn client(&self) -> Client {
        self.client_as("test", "test", "us-east-1")
    }

    fn options(&self) -> PostureOptions {
        PostureOptions::new(
            self.settings(),
            CredentialSource::static_keys("test", "test"),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn iam(c: &Client, op: &'static str, args: &[(&str, &str)]) -> Element {
    let mut p = Params::new();
    for (k, v) in args {
        p.set(*k, *v);
    }
    protocol::query(c, &IAM, op, "2010-05-08", &p)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

async fn ec2(c: &Client, op: &'static str, args: &[(&str, &str)]) -> Element {
    let mut p = Params::new();
    for (k, v) in args {
        p.set(*k, *v);
    }
    protocol::query(c, &EC2, op, "2016-11-15", &p)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

async fn kms(c: &Client, op: &'static str, input: serde_json::Value) -> serde_json::Value {
    protocol::json(c, &KMS, "TrentService", "1.1", op, &input)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

async fn trail(c: &Client, op: &'static str, input: serde_json::Value) -> serde_json::Value {
    protocol::json(
        c,
        &CLOUDTRAIL,
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
        "1.1",
        op,
        &input,
    )
    .await
    .unwrap_or_else(|e| panic!("{op}: {e}"))
}

/// The resources reported by check `id`.
fn reported(r: &PostureReport, id: &str) -> BTreeSet<String> {
    r.findings
        .iter()
        .filter(|f| f.rule_id == id)
        .filter_map(|f| f.resource.clone())
        .collect()
}

fn message(r: &PostureReport, id: &str, resource: &str) -> String {
    r.findings
        .iter()
        .find(|f| f.rule_id == id && f.resource.as_deref() == Some(resource))
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no {id} finding on {resource}: {:#?}", r.findings))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn assert_ran(r: &PostureReport, ids: &[&str]) {
    for id in ids {
        assert!(r.ran(id), "{id} did not run: {:#?}", r.not_run);
    }
}

const ACCOUNT: &str = "123456789012";

#[test]
fn iam_checks() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let c = moto.client();
        // No password policy yet.
        let r = scan_account(&moto.options()).await.unwrap();
        assert_eq!(r.account_id, ACCOUNT);
        assert_ran(&r, &["GNT-AWSP-001", "GNT-AWSP-002", "GNT-AWSP-003"]);
        let root = format!("arn:aws:iam::{ACCOUNT}:root");
        // moto's root user never has keys and never has MFA.
        assert!(reported(&r, "GNT-AWSP-001").is_empty());
        assert_eq!(reported(&r, "GNT-AWSP-002"), set(&[&root]));
        let policy = format!("arn:aws:iam::{ACCOUNT}:account-password-policy");
        assert!(message(&r, "GNT-AWSP-003", &policy).contains("no password policy"));

        // A weak policy, then a strong one.
        iam(
            &c,
            "UpdateAccountPasswordPolicy",
            &[
                ("MinimumPasswordLength", "8"),
                ("RequireSymbols", "true"),
                ("RequireNumbers", "true"),
                ("RequireUppercaseCharacters", "true"),
                ("RequireLowercaseCharacters", "true"),
                ("MaxPasswordAge", "90"),
                ("PasswordReusePrevention", "24"),
            ],
        )
        .await;
        let r = scan_account(&moto.options()).await.unwrap();
        assert_eq!(
            message(&r, "GNT-AWSP-003", &policy),
            "minimum password length is 8, expected at least 14"
        );
        iam(
            &c,
            "UpdateAccountPasswordPolicy",
            &[
                ("MinimumPasswordLength", "16"),
                ("RequireSymbols", "true"),
                ("RequireNumbers", "true"),
                ("RequireUppercaseCharacters", "true"),
                ("RequireLowercaseCharacters", "true"),
                ("MaxPasswordAge", "60"),
                ("PasswordReusePrevention", "24"),
            ],
        )
        .await;

        // Console users: alice without MFA (fails), bob with MFA and
        // carol without a console password (both pass).
        for u in ["alice", "bob", "carol"] {
            iam(&c, "CreateUser", &[("UserName", u)]).await;
        }
        for u in ["alice", "bob"] {
            iam(
                &c,
                "CreateLoginProfile",
                &[("UserName", u), ("Password", "Correct-Horse-9!")],
            )
            .await;
        }
        let dev = iam(
            &c,
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "bob-phone")],
        )
        .await;
        let serial = dev
            .text_at("VirtualMFADevice/SerialNumber")
            .unwrap()
            .to_owned();
        iam(
            &c,
            "EnableMFADevice",
            &[
                ("UserName", "bob"),
                ("SerialNumber", &serial),
                ("AuthenticationCode1", "123456"),
                ("AuthenticationCode2", "654321"),
            ],
        )
        .await;

        // Keys: carol's used one and never-used one (AWS allows two per
        // user), and an inactive one of dave's.
        iam(&c, "CreateUser", &[("UserName", "dave")]).await;
        let mut keys = Vec::new();
        for u in ["carol", "carol", "dave"] {
            let k = iam(&c, "CreateAccessKey", &[("UserName", u)]).await;
            keys.push((
                k.text_at("AccessKey/AccessKeyId").unwrap().to_owned(),
                k.text_at("AccessKey/SecretAccessKey").unwrap().to_owned(),
            ));
        }
        let (used, never, inactive) = (&keys[0].0, &keys[1].0, &keys[2].0);
        iam(
            &c,
            "UpdateAccessKey",
            &[
                ("UserName", "dave"),
                ("AccessKeyId", inactive),
                ("Status", "Inactive"),
            ],
        )
        .await;
        // moto records a key as used when a request is signed with it.
        let as_carol = moto.client_as(&keys[0].0, &keys[0].1, "us-east-1");
        iam(&as_carol, "ListUsers", &[]).await;

        let r = scan_account(&moto.options()).await.unwrap();
        assert_ran(
            &r,
            &[
                "GNT-AWSP-003",
                "GNT-AWSP-004",
                "GNT-AWSP-005",
                "GNT-AWSP-006",
            ],
        );
        assert!(reported(&r, "GNT-AWSP-003").is_empty(), "{:#?}", r.findings);
        let user = |u: &str| format!("arn:aws:iam::{ACCOUNT}:user/{u}");
        assert_eq!(reported(&r, "GNT-AWSP-004"), set(&[&user("alice")]));
        assert!(reported(&r, "GNT-AWSP-005").is_empty());
        assert!(reported(&r, "GNT-AWSP-006").is_empty());

        // 100 days on, both active keys are stale; the inactive one is not
        // reported.
        let mut later = moto.options();
        later.now = Some(SystemTime::now() + Duration::from_secs(100 * 86_400));
        let r = scan_account(&later).await.unwrap();
        let key = |id: &str| format!("{}/access-key/{id}", user("carol"));
        assert_eq!(
            reported(&r, "GNT-AWSP-005"),
            set(&[&key(used), &key(never)])
        );
        assert_eq!(
            reported(&r, "GNT-AWSP-006"),
            set(&[&key(used), &key(never)])
        );
        assert!(message(&r, "GNT-AWSP-006", &key(used)).contains("last used 100 days ago"));
        assert!(message(&r, "GNT-AWSP-006", &key(never)).contains("never used"));
        assert!(message(&r, "GNT-AWSP-005", &key(never)).contains("created 100 days ago"));
    });
}

async fn put_acl(c: &Client, bucket: &str, canned: &str) {
    let mut r = Request::new("PutBucketAcl", &S3, reqwest::Method::PUT)
        .header("x-amz-acl", canned)
        .header("content-length", "0");
    r.bucket = Some(bucket.into());
    r.query.push(("acl".into(), String::new()));
    c.send(&r).await.unwrap();
}

async fn put_account_pab(c: &Client) {
    let body = "<PublicAccessBlockConfiguration xmlns=\"http://awss3control.amazonaws.com/doc/2018-08-20/\">\
        <BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>\
        <BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>\
        </PublicAccessBlockConfiguration>";
    let mut r = Request::new("PutPublicAccessBlock", &S3CONTROL, reqwest::Method::PUT)
        .header("x-amz-account-id", ACCOUNT)
        .header("content-type", "application/xml")
        .body(body);
    r.path = "/v20180820/configuration/publicAccessBlock".into();
    c.send(&r).await.unwrap();
}

#[test]
fn s3_checks() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let c = moto.client();
        let names = ["pub-acl", "auth-acl", "pub-policy", "cond-policy", "locked"];
        for b in names {
            s3api::create_bucket(&c, b, false).await.unwrap();
        }
        put_acl(&c, "pub-acl", "public-read").await;
        put_acl(&c, "auth-acl", "authenticated-read").await;
        put_acl(&c, "locked", "public-read").await;
        let policy = |b: &str, condition: bool| {
            let mut st = json!({
                "Sid": "Read", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*")
            });
            if condition {
                st["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1234"}});
            }
            json!({"Version": "2012-10-17", "Statement": [st]}).to_string()
        };
        s3api::put_bucket_policy(&c, "pub-policy", &policy("pub-policy", false))
            .await
            .unwrap();
        s3api::put_bucket_policy(&c, "cond-policy", &policy("cond-policy", true))
            .await
            .unwrap();
        // `locked`: its public ACL is neutralised by its own block, and it
        // is encrypted.
        s3api::put_public_access_block(&c, "locked", [true; 4])
            .await
            .unwrap();
        s3api::put_bucket_encryption(
            &c,
            "locked",
            &[s3api::SseRule {
                sse_algorithm: Some("AES256".into()),
                ..Default::default()
            }],
        )
        .await
        .unwrap();

        let r = scan_account(&moto.options()).await.unwrap();
        assert_ran(
            &r,
            &[
                "GNT-AWSP-007",
                "GNT-AWSP-008",
                "GNT-AWSP-009",
                "GNT-AWSP-010",
                "GNT-AWSP-011",
            ],
        );
        let arn = |b: &str| format!("arn:aws:s3:::{b}");
        assert_eq!(
            reported(&r, "GNT-AWSP-007"),
            set(&[&arn("auth-acl"), &arn("pub-acl")])
        );
        assert!(message(&r, "GNT-AWSP-007", &arn("pub-acl")).contains("AllUsers:READ"));
        assert!(message(&r, "GNT-AWSP-007", &arn("auth-acl")).contains("AuthenticatedUsers:READ"));
        assert_eq!(reported(&r, "GNT-AWSP-008"), set(&[&arn("pub-policy")]));
        let unlocked: Vec<String> = names
            .iter()
            .filter(|b| **b != "locked")
            .map(|b| arn(b))
            .collect();
        let unlocked: Vec<&str> = unlocked.iter().map(String::as_str).collect();
        assert_eq!(reported(&r, "GNT-AWSP-009"), set(&unlocked));
        assert_eq!(reported(&r, "GNT-AWSP-010"), set(&[ACCOUNT]));
        assert_eq!(reported(&r, "GNT-AWSP-011"), set(&unlocked));

        // An account-wide block neutralises the public ACLs and policy and
        // completes every bucket's block.
        put_account_pab(&c).await;
        let r = scan_account(&moto.options()).await.unwrap();
        for id in [
            "GNT-AWSP-007",
            "GNT-AWSP-008",
            "GNT-AWSP-009",
            "GNT-AWSP-010",
        ] {
            assert!(reported(&r, id).is_empty(), "{id}: {:#?}", r.findings);
        }
        assert_eq!(reported(&r, "GNT-AWSP-011"), set(&unlocked));
    });
}

#[test]
fn ec2_checks() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let c = moto.client();
        let vpc = ec2(&c, "CreateVpc", &[("CidrBlock", "10.1.0.0/16")]).await;
        let vpc = vpc.text_at("vpc/vpcId").unwrap().to_owned();
        // The new VPC's default group loses its egress rule (passes); the
        // default VPC's default group keeps it (fails).
        let groups = ec2(
            &c,
            "DescribeSecurityGroups",
            &[
                ("Filter.1.Name", "vpc-id"),
                ("Filter.1.Value.1", &vpc),
                ("Filter.2.Name", "group-name"),
                ("Filter.2.Value.1", "default"),
            ],
        )
        .await;
        let vpc_default_sg = groups.list("securityGroupInfo")[0]
            .text_at("groupId")
            .unwrap()
            .to_owned();
        ec2(
            &c,
            "RevokeSecurityGroupEgress",
            &[
                ("GroupId", &vpc_default_sg),
                ("IpPermissions.1.IpProtocol", "-1"),
                ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
            ],
        )
        .await;

        let sg = |name: &'static str| {
            let c = c.clone();
            let vpc = vpc.clone();
            async move {
                let e = ec2(
                    &c,
                    "CreateSecurityGroup",
                    &[
                        ("GroupName", name),
                        ("GroupDescription", name),
                        ("VpcId", &vpc),
                    ],
                )
                .await;
                e.text_at("groupId").unwrap().to_owned()
            }
        };
        let ssh = sg("ssh-world").await;
        let all = sg("all-world6").await;
        let web = sg("web-world").await;
        let internal = sg("ssh-internal").await;
        let ingress = |g: &str,
                       proto: &'static str,
                       port: Option<&'static str>,
                       key: &'static str,
                       cidr: &'static str| {
            let c = c.clone();
            let g = g.to_owned();
            async move {
                let mut args = vec![
                    ("GroupId", g.as_str()),
                    ("IpPermissions.1.IpProtocol", proto),
                ];
                if let Some(p) = port {
                    args.push(("IpPermissions.1.FromPort", p));
                    args.push(("IpPermissions.1.ToPort", p));
                }
                args.push((key, cidr));
                ec2(&c, "AuthorizeSecurityGroupIngress", &args).await;
            }
        };
        let v4 = "IpPermissions.1.IpRanges.1.CidrIp";
        let v6 = "IpPermissions.1.Ipv6Ranges.1.CidrIpv6";
        ingress(&ssh, "tcp", Some("22"), v4, "0.0.0.0/0").await;
        ingress(&all, "-1", None, v6, "::/0").await;
        ingress(&web, "tcp", Some("443"), v4, "0.0.0.0/0").await;
        ingress(&internal, "tcp", Some("22"), v4, "10.0.0.0/8").await;

        // Flow logs on the new VPC only.
        s3api::create_bucket(&c, "flow-logs", false).await.unwrap();
        ec2(
            &c,
            "CreateFlowLogs",
            &[
                ("ResourceId.1", &vpc),
                ("ResourceType", "VPC"),
                ("TrafficType", "ALL"),
                ("LogDestinationType", "s3"),
                ("LogDestination", "arn:aws:s3:::flow-logs"),
            ],
        )
        .await;

        // Instances: one requiring IMDSv2, one not.
        let images = ec2(&c, "DescribeImages", &[]).await;
        let ami = images.list("imagesSet")[0]
            .text_at("imageId")
            .unwrap()
            .to_owned();
        let run = |tokens: &'static str| {
            let c = c.clone();
            let ami = ami.clone();
            async move {
                let e = ec2(
                    &c,
                    "RunInstances",
                    &[
                        ("ImageId", &ami),
                        ("MinCount", "1"),
                        ("MaxCount", "1"),
                        ("InstanceType", "t3.micro"),
                        ("MetadataOptions.HttpTokens", tokens),
                    ],
                )
                .await;
                e.list("instancesSet")[0]
                    .text_at("instanceId")
                    .unwrap()
                    .to_owned()
            }
        };
        let v2 = run("required").await;
        let v1 = run("optional").await;

        // EBS encryption by default on in us-east-1 only.
        ec2(&c, "EnableEbsEncryptionByDefault", &[]).await;

        let enabled = enabled_regions(&moto.options()).await.unwrap();
        assert!(
            enabled.len() > 2
                && enabled.is_sorted()
                && enabled.iter().any(|r| r == "us-east-1")
                && enabled.iter().any(|r| r == "eu-west-1"),
            "{enabled:?}"
        );
        let mut opts = moto.options();
        opts.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        let r = scan_account(&opts).await.unwrap();
        assert_eq!(r.regions, vec!["us-east-1", "eu-west-1"]);
        assert_ran(
            &r,
            &[
                "GNT-AWSP-012",
                "GNT-AWSP-013",
                "GNT-AWSP-014",
                "GNT-AWSP-020",
                "GNT-AWSP-021",
                "GNT-AWSP-022",
            ],
        );
        let sg_arn = |g: &str| format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{g}");
        assert_eq!(
            reported(&r, "GNT-AWSP-012"),
            set(&[&sg_arn(&ssh), &sg_arn(&all)])
        );
        assert_eq!(reported(&r, "GNT-AWSP-013"), set(&[&sg_arn(&all)]));
        assert!(message(&r, "GNT-AWSP-013", &sg_arn(&all)).contains("all traffic from ::/0"));
        // Every default group but the cleaned one has rules: the default
        // VPC's in each region.
        let defaults = reported(&r, "GNT-AWSP-014");
        assert!(!defaults.contains(&sg_arn(&vpc_default_sg)), "{defaults:?}");
        assert_eq!(
            defaults
                .iter()
                .filter(|a| a.contains(":us-east-1:"))
                .count(),
            1,
            "{defaults:?}"
        );
        assert_eq!(
            defaults
                .iter()
                .filter(|a| a.contains(":eu-west-1:"))
                .count(),
            1,
            "{defaults:?}"
        );
        let inst = |i: &str| format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{i}");
        assert_eq!(reported(&r, "GNT-AWSP-020"), set(&[&inst(&v1)]));
        assert!(!reported(&r, "GNT-AWSP-020").contains(&inst(&v2)));
        assert_eq!(
            reported(&r, "GNT-AWSP-021"),
            set(&[&format!("{ACCOUNT}/eu-west-1")])
        );
        let flow = reported(&r, "GNT-AWSP-022");
        assert!(
            !flow.contains(&format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{vpc}")),
            "{flow:?}"
        );
        // The default VPC of each region has no flow log.
        assert_eq!(flow.len(), 2, "{flow:?}");
    });
}

#[test]
fn cloudtrail_and_kms_checks() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let c = moto.client();
        let r = scan_account(&moto.options()).await.unwrap();
        assert_ran(&r, &["GNT-AWSP-015", "GNT-AWSP-019"]);
        assert_eq!(reported(&r, "GNT-AWSP-015"), set(&[ACCOUNT]));
        assert!(message(&r, "GNT-AWSP-015", ACCOUNT).contains("no CloudTrail trail"));

        s3api::create_bucket(&c, "trail-logs", false).await.unwrap();
        let key = kms(&c, "CreateKey", json!({"Description": "trail"})).await;
        let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
        trail(
            &c,
            "CreateTrail",
            json!({
                "Name": "good", "S3BucketName": "trail-logs", "IsMultiRegionTrail": true,
                "EnableLogFileValidation": true, "KmsKeyId": key_arn,
            }),
        )
        .await;
        trail(&c, "StartLogging", json!({"Name": "good"})).await;
        trail(
            &c,
            "CreateTrail",
            json!({"Name": "bad", "S3BucketName": "trail-logs"}),
        )
        .await;

        // KMS: rotating (passes), not rotating (fails), disabled and
        // asymmetric (not applicable). The trail key above does not rotate.
        let id = |v: &serde_json::Value| v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
        let rotating = id(&kms(&c, "CreateKey", json!({})).await);
        kms(&c, "EnableKeyRotation", json!({"KeyId": rotating})).await;
        let plain = kms(&c, "CreateKey", json!({})).await;
        let plain_arn = plain["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
        let disabled = id(&kms(&c, "CreateKey", json!({})).await);
        kms(&c, "DisableKey", json!({"KeyId": disabled})).await;
        kms(
            &c,
            "CreateKey",
            json!({"KeyUsage": "SIGN_VERIFY", "KeySpec": "RSA_2048"}),
        )
        .await;

        let r = scan_account(&moto.options()).await.unwrap();
        assert_ran(
            &r,
            &[
                "GNT-AWSP-015",
                "GNT-AWSP-016",
                "GNT-AWSP-017",
                "GNT-AWSP-018",
                "GNT-AWSP-019",
            ],
        );
        let arn = |t: &str| format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{t}");
        assert!(reported(&r, "GNT-AWSP-015").is_empty(), "{:#?}", r.findings);
        assert_eq!(reported(&r, "GNT-AWSP-016"), set(&[&arn("bad")]));
        assert_eq!(reported(&r, "GNT-AWSP-017"), set(&[&arn("bad")]));
        assert_eq!(reported(&r, "GNT-AWSP-018"), set(&[&arn("bad")]));
        assert_eq!(reported(&r, "GNT-AWSP-019"), set(&[&key_arn, &plain_arn]));

        // Stopping the only multi-region trail fails the account check.
        trail(&c, "StopLogging", json!({"Name": "good"})).await;
        let r = scan_account(&moto.options()).await.unwrap();
        assert_eq!(reported(&r, "GNT-AWSP-015"), set(&[ACCOUNT]));
        assert!(message(&r, "GNT-AWSP-015", ACCOUNT).contains("no multi-region trail is logging"));
        assert_eq!(
            reported(&r, "GNT-AWSP-017"),
            set(&[&arn("bad"), &arn("good")])
        );
    });
}

/// An HTTP server on loopback answering every request with `status`
/// and `body` (a JSON content type).
fn fixed_answer_server(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 65536];
            let mut got = Vec::new();
            // Read the head and the body announced by content-length.
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// An endpoint that does not know the operation.
fn unknown_operation_server() -> String {
    fixed_answer_server(
        "400 Bad Request",
        r#"{"__type":"UnknownOperationException","message":"not here"}"#,
    )
}

#[test]
fn malformed_answers_are_not_run_not_passes() {
    let moto = Moto::start();
    let mut opts = moto.options();
    // EC2 answers 200 with something that is not XML; KMS with JSON of
    // the wrong shape; S3 with XML that is not a bucket listing.
    opts.settings
        .endpoints
        .insert("ec2".into(), fixed_answer_server("200 OK", "<<< not xml"));
    opts.settings.endpoints.insert(
        "kms".into(),
        fixed_answer_server("200 OK", r#"{"Keys": 5}"#),
    );
    opts.settings.endpoints.insert(
        "s3".into(),
        fixed_answer_server("200 OK", "<Unexpected><Buckets/></Unexpected>"),
    );
    let r = rt().block_on(scan_account(&opts)).unwrap();
    let failed: BTreeSet<&str> = r
        .not_run
        .iter()
        .filter(|n| n.kind == NotRunKind::Failed)
        .map(|n| n.check_id.as_str())
        .collect();
    let expected: BTreeSet<&str> = [
        "GNT-AWSP-007",
        "GNT-AWSP-008",
        "GNT-AWSP-009",
        "GNT-AWSP-011",
        "GNT-AWSP-012",
        "GNT-AWSP-013",
        "GNT-AWSP-014",
        "GNT-AWSP-019",
        "GNT-AWSP-020",
        "GNT-AWSP-021",
        "GNT-AWSP-022",
    ]
    .into_iter()
    .collect();
    assert_eq!(failed, expected, "{:#?}", r.not_run);
    for n in &r.not_run {
        assert!(n.reason.contains("unexpected response"), "{n:?}");
    }
    for id in expected {
        assert!(reported(&r, id).is_empty(), "{id}");
    }
    // IAM, S3 Control and CloudTrail still answered from moto.
    assert!(r.ran("GNT-AWSP-002") && r.ran("GNT-AWSP-010") && r.ran("GNT-AWSP-015"));
}

#[test]
fn denied_and_unsupported_checks_are_reported_as_not_run() {
    let moto = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let c = moto.client();
        iam(&c, "CreateUser", &[("UserName", "auditor")]).await;
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": [
                "ec2:DescribeSecurityGroups", "kms:ListKeys",
                "s3:ListAllMyBuckets", "iam:GetAccountPasswordPolicy"
            ], "Resource": "*"}
        ]})
        .to_string();
        iam(
            &c,
            "PutUserPolicy",
            &[
                ("UserName", "auditor"),
                ("PolicyName", "audit"),
                ("PolicyDocument", &policy),
            ],
        )
        .await;
        let k = iam(&c, "CreateAccessKey", &[("UserName", "auditor")]).await;
        let access = k.text_at("AccessKey/AccessKeyId").unwrap().to_owned();
        let secret = k.text_at("AccessKey/SecretAccessKey").unwrap().to_owned();
        // From now on moto authorizes every request against IAM.
        reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", moto.url))
            .body("0")
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();

        let mut opts = moto.options();
        opts.credentials = CredentialSource::static_keys(&access, &secret);
        // CloudTrail answers from an endpoint that does not know it.
        opts.settings
            .endpoints
            .insert("cloudtrail".into(), unknown_operation_server());
        let r = scan_account(&opts).await.unwrap();

        let denied: BTreeSet<&str> = r
            .not_run
            .iter()
            .filter(|n| n.kind == NotRunKind::AccessDenied)
            .map(|n| n.check_id.as_str())
            .collect();
        assert_eq!(
            denied,
            [
                "GNT-AWSP-003",
                "GNT-AWSP-007",
                "GNT-AWSP-008",
                "GNT-AWSP-009",
                "GNT-AWSP-011",
                "GNT-AWSP-012",
                "GNT-AWSP-013",
                "GNT-AWSP-014",
                "GNT-AWSP-019"
            ]
            .into_iter()
            .collect(),
            "{:#?}",
            r.not_run
        );
        let regional = [
            "GNT-AWSP-012",
            "GNT-AWSP-013",
            "GNT-AWSP-014",
            "GNT-AWSP-019",
        ];
        let denied_ops = [
            "DescribeSecurityGroups",
            "ListKeys",
            "ListBuckets",
            "GetAccountPasswordPolicy",
        ];
        for n in r
            .not_run
            .iter()
            .filter(|n| n.kind == NotRunKind::AccessDenied)
        {
            let region = regional
                .contains(&n.check_id.as_str())
                .then_some("us-east-1");
            assert_eq!(n.region.as_deref(), region, "{n:?}");
            assert_eq!(n.error_code.as_deref(), Some("AccessDenied"), "{n:?}");
            assert!(denied_ops.iter().any(|op| n.reason.contains(op)), "{n:?}");
        }
        let unsupported: BTreeSet<&str> = r
            .not_run
            .iter()
            .filter(|n| n.kind == NotRunKind::Unsupported)
            .map(|n| n.check_id.as_str())
            .collect();
        assert_eq!(
            unsupported,
            [
                "GNT-AWSP-015",
                "GNT-AWSP-016",
                "GNT-AWSP-017",
                "GNT-AWSP-018"
            ]
            .into_iter()
            .collect(),
            "{:#?}",
            r.not_run
        );
        assert!(
            r.not_run.iter().all(|n| n.kind != NotRunKind::Failed),
            "{:#?}",
            r.not_run
        );
        // A check that could not run reports nothing, and is not a pass.
        for id in ["GNT-AWSP-012", "GNT-AWSP-015", "GNT-AWSP-019"] {
            assert!(!r.ran(id));
            assert!(reported(&r, id).is_empty());
        }
        // The permitted checks still ran and found what they find.
        assert!(r.ran("GNT-AWSP-002") && r.ran("GNT-AWSP-021"));
        assert_eq!(reported(&r, "GNT-AWSP-002").len(), 1);
        // Listing buckets was denied, the account-level block was not.
        assert_eq!(reported(&r, "GNT-AWSP-010"), set(&[ACCOUNT]));
        // The JSON form names the reason kinds.
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["account_id"], ACCOUNT);
        let kinds: BTreeSet<&str> = j["not_run"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            ["access-denied", "unsupported"].into_iter().collect()
        );
        assert!(
            j["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["kind"] == "posture" && f.get("location").is_none())
        );
        assert_eq!(r.caller_arn, format!("arn:aws:iam::{ACCOUNT}:user/auditor"));
    });
}

#[test]
fn unreachable_account_is_an_error_not_an_empty_report() {
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = Settings::new("us-east-1");
    s.env = |_| None;
    s.max_retries = 0;
    s.endpoints
        .insert("sts".into(), format!("http://127.0.0.1:{port}"));
    let opts = PostureOptions::new(s, CredentialSource::static_keys("a", "b"));
    let err = rt().block_on(scan_account(&opts)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot identify the AWS account"),
        "{err}"
    );
    let mut bad = opts.clone();
    bad.regions = vec!["US East".into()];
    let err = rt().block_on(scan_account(&bad)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid region \"US East\": expected a name like us-east-1"
    );
}

/// `PostureOptions::from_standard_chain` reads keys and region from the
/// environment (run in a child process so the variables stay its own).
#[test]
fn credentials_and_region_from_the_standard_chain() {
    const CHILD: &str = "GANTRY_POSTURE_CHAIN_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return rt().block_on(async {
            let opts = PostureOptions::from_standard_chain(None, None)
                .await
                .unwrap();
            assert_eq!(opts.settings.region, "eu-west-1");
            let r = scan_account(&opts).await.unwrap();
            assert_eq!(r.account_id, ACCOUNT);
            assert_eq!(r.regions, vec!["eu-west-1"]);
            assert!(r.not_run.is_empty(), "{:#?}", r.not_run);
            assert_eq!(
                reported(&r, "GNT-AWSP-021"),
                set(&[&format!("{ACCOUNT}/eu-west-1")])
            );
            println!("standard chain scan ok");
        });
    }
    let moto = Moto::start();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "credentials_and_region_from_the_standard_chain",
            "--nocapture",
        ])
        .env_clear()
        .env(CHILD, "1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/gantry/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/gantry/credentials",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("standard chain scan ok"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
