//! A moto server (the AWS emulator) and a working directory for running
//! `gantry` against it, shared by the aws provider tests.
//!
//! Needs `moto_server` (`pip install 'moto[server]==5.2.5'`); GANTRY_MOTO
//! names it (scripts/test sets it).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gantry_aws::client::{CredentialSource, SERVICES, Settings};

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    pub fn start() -> Moto {
        let bin = std::env::var("GANTRY_MOTO").unwrap_or_else(|_| {
            panic!(
                "GANTRY_MOTO is not set: install moto with `python3 -m venv /var/tmp/gantry-venv && \
                 /var/tmp/gantry-venv/bin/pip install 'moto[server]==5.2.5'` and set \
                 GANTRY_MOTO=/var/tmp/gantry-venv/bin/moto_server (scripts/test does both)"
            )
        });
        if !Path::new(&bin).exists() {
            panic!("GANTRY_MOTO={bin} does not exist: install moto[server] (see scripts/test)");
        }
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
        let url = format!("http://127.0.0.1:{port}");
        let mut moto = Moto { child, url };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.reset();
        moto
    }

    /// `POST /moto-api/reset`: forgets every resource.
    pub fn reset(&mut self) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{}/moto-api/reset", self.url))
                .send()
                .await
                .expect("moto reset")
                .error_for_status()
                .expect("moto reset status");
        });
    }

    /// A client for checking results through the AWS API.
    pub fn client(&self) -> gantry_aws::Client {
        let mut s = Settings::new("us-east-1");
        s.s3_use_path_style = true;
        for svc in SERVICES {
            s.endpoints.insert(svc.key.into(), self.url.clone());
        }
        s.env = |_| None;
        gantry_aws::Client::new(s, CredentialSource::static_keys("test", "test")).unwrap()
    }

    /// A provider block with every service pointed at this server and a
    /// `default_tags` block (`managed_by = "gantry"`).
    pub fn provider_block(&self) -> String {
        let endpoints: String = SERVICES
            .iter()
            .map(|svc| format!("    {} = \"{}\"\n", svc.key, self.url))
            .collect();
        format!(
            r#"
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  endpoints {{
{endpoints}  }}
  default_tags {{
    tags = {{ managed_by = "gantry" }}
  }}
}}
"#
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// A working directory holding one configuration.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub provider: String,
}

impl Stack {
    pub fn new(moto: &Moto) -> Stack {
        Stack {
            dir: tempfile::tempdir().unwrap(),
            provider: moto.provider_block(),
        }
    }

    pub fn write(&self, body: &str) {
        std::fs::write(
            self.dir.path().join("main.tf"),
            format!("{}\n{body}", self.provider),
        )
        .unwrap();
    }

    /// Runs `gantry ARGS` here: exit code, stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = super::gantry();
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(&k);
            }
        }
        let out = cmd
            .args(args)
            .args(["-no-color"].iter().filter(|_| {
                matches!(
                    args[0],
                    "plan" | "apply" | "destroy" | "refresh" | "import" | "show" | "tf"
                )
            }))
            .current_dir(self.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "gantry {args:?} failed:\n{out}\n{err}");
        out
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve"])
    }

    /// `plan -detailed-exitcode`: the exit code (0 clean, 2 changes) and
    /// the plan text.
    pub fn plan(&self) -> (i32, String) {
        let (code, out, err) = self.run(&["plan", "-detailed-exitcode"]);
        assert!(code == 0 || code == 2, "plan failed:\n{out}\n{err}");
        (code, out)
    }

    pub fn assert_clean(&self, when: &str) {
        let (code, out) = self.plan();
        assert_eq!(code, 0, "{when}: expected no changes, got:\n{out}");
    }

    pub fn output(&self, name: &str) -> String {
        self.ok(&["output", "-raw", name]).trim().to_owned()
    }
}

/// One resource's lifecycle: `v1` creates, `v2` changes in place, `v3`
/// forces replacement; then `addr` is imported by the id output `id`
/// into an empty state (with the `v3` configuration) and must plan
/// clean; finally everything is destroyed.
pub struct Lifecycle<'a> {
    pub v1: &'a str,
    pub v2: &'a str,
    pub v3: &'a str,
    /// Resources to import, by address; the id is the output of the same
    /// name with dots replaced by underscores.
    pub imports: &'a [&'a str],
}

pub fn output_name(addr: &str) -> String {
    addr.replace('.', "_")
}

pub fn run_lifecycle(moto: &Moto, l: &Lifecycle<'_>) -> Stack {
    let s = Stack::new(moto);
    s.write(l.v1);
    let out = s.apply();
    assert!(out.contains("Apply complete!"), "{out}");
    s.assert_clean("after create");

    s.write(l.v2);
    let (code, out) = s.plan();
    assert_eq!(code, 2, "v2 should change something:\n{out}");
    assert!(
        out.contains("updated in-place"),
        "v2 should update in place:\n{out}"
    );
    assert!(
        !out.contains("must be replaced"),
        "v2 must not replace:\n{out}"
    );
    s.apply();
    s.assert_clean("after update");

    s.write(l.v3);
    let (code, out) = s.plan();
    assert_eq!(code, 2, "v3 should change something:\n{out}");
    assert!(
        out.contains("must be replaced"),
        "v3 should replace:\n{out}"
    );
    s.apply();
    s.assert_clean("after replace");

    // Import into an empty state with the same configuration, outputs
    // included: as in Terraform, import does not evaluate them.
    let fresh = Stack::new(moto);
    fresh.write(l.v3);
    for addr in l.imports {
        let id = s.output(&output_name(addr));
        fresh.ok(&["import", addr, &id]);
    }
    // Nothing imported may need a change. Outputs are not part of an
    // import, so (as in Terraform) the plan may add them and nothing else.
    let (code, out) = fresh.plan();
    let resource_changes = [
        "will be created",
        "will be updated",
        "will be destroyed",
        "must be replaced",
    ];
    assert!(
        code == 0 || (code == 2 && out.contains("Changes to Outputs:")),
        "plan after import: exit {code}\n{out}"
    );
    assert!(
        !resource_changes.iter().any(|c| out.contains(c)),
        "plan after import should not change resources:\n{out}"
    );
    s
}
