//! Robustness of the Terraform engine through the real `gantry` binary:
//! `kill -9` in the middle of applies, destroys and replacements; state
//! lock contention; the exact v4 state format; the state, workspace and
//! init commands; deposed objects of create_before_destroy replacements.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{gantry, wait_with_timeout};
use serde_json::{Value, json};

// ------------------------------------------------------------ helpers

/// `gantry ARGS` in `dir`: exit code, stdout, stderr.
fn tf(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = gantry()
        .arg("tf")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("gantry runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs and expects exit code `code`; returns stdout.
#[track_caller]
fn tf_ok(dir: &Path, args: &[&str], code: i32) -> String {
    let (c, out, err) = tf(dir, args);
    assert_eq!(
        c, code,
        "gantry {args:?} exited {c}\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    out
}

/// A stack directory (inside a temp dir that also holds logs).
struct Stack {
    tmp: tempfile::TempDir,
}

impl Stack {
    fn new(main_tf: &str) -> Stack {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("stack")).unwrap();
        let s = Stack { tmp };
        s.write("main.tf", main_tf);
        s
    }

    fn dir(&self) -> PathBuf {
        self.tmp.path().join("stack")
    }

    fn write(&self, name: &str, text: &str) {
        let p = self.dir().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn state_path(&self) -> PathBuf {
        self.dir().join("terraform.tfstate")
    }

    fn state(&self) -> Value {
        read_state(&self.state_path()).expect("a state file")
    }

    /// Starts `gantry ARGS` in the background, output into a log file.
    fn spawn(&self, args: &[&str], log: &str) -> Child {
        let out = std::fs::File::create(self.tmp.path().join(log)).unwrap();
        let err = out.try_clone().unwrap();
        gantry()
            .arg("tf")
            .args(args)
            .current_dir(self.dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("gantry runs")
    }

    fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join(log)).unwrap_or_default()
    }

    /// Names of the files under `out/`.
    fn files(&self) -> BTreeSet<String> {
        match std::fs::read_dir(self.dir().join("out")) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => BTreeSet::new(),
        }
    }
}

/// The state file, parsed; `None` when it does not exist. A state that
/// exists must be complete JSON (writes are atomic).
fn read_state(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{} is not JSON ({e}):\n{}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        )
    }))
}

/// One object of a resource in a state.
#[derive(Debug, Clone)]
struct Obj {
    /// `local_file.f[3]`
    addr: String,
    tainted: bool,
    deposed: Option<String>,
    attrs: Value,
}

fn objects(state: &Value) -> Vec<Obj> {
    let mut out = Vec::new();
    for r in state["resources"].as_array().unwrap() {
        let mut base = String::new();
        if let Some(m) = r["module"].as_str() {
            base.push_str(m);
            base.push('.');
        }
        if r["mode"] == "data" {
            base.push_str("data.");
        }
        base.push_str(&format!(
            "{}.{}",
            r["type"].as_str().unwrap(),
            r["name"].as_str().unwrap()
        ));
        for i in r["instances"].as_array().unwrap() {
            let addr = match &i["index_key"] {
                Value::Null => base.clone(),
                Value::String(s) => format!("{base}[{s:?}]"),
                k => format!("{base}[{k}]"),
            };
            out.push(Obj {
                addr,
                tainted: i["status"] == "tainted",
                deposed: i["deposed"].as_str().map(str::to_owned),
                attrs: i["attributes"].clone(),
            });
        }
    }
    out
}

/// The file names (under out/) that local_file objects in the state name.
fn state_file_names(state: &Value) -> BTreeMap<String, Vec<Obj>> {
    let mut m: BTreeMap<String, Vec<Obj>> = BTreeMap::new();
    for o in objects(state) {
        if let Some(f) = o.attrs["filename"].as_str() {
            let name = Path::new(f)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            m.entry(name).or_default().push(o);
        }
    }
    m
}

/// Runs `gantry tf ARGS` and kills it (SIGKILL) as soon as `ready` holds
/// for the stored state. When the operation completes before that could be
/// seen (coalesced state writes can skip past the moment), `reset` brings
/// the stack back and it is tried again; an operation that fails on its own
/// fails the test.
fn crash_during(
    s: &Stack,
    args: &[&str],
    what: &str,
    ready: impl Fn(&Value) -> bool,
    reset: impl Fn(),
) {
    use std::os::unix::process::ExitStatusExt;
    for attempt in 0..5 {
        let log = format!("{}-{attempt}.log", what.replace(' ', "-"));
        let mut child = s.spawn(args, &log);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{what} failed:\n{}", s.log(&log));
                break;
            }
            if let Some(st) = read_state(&s.state_path())
                && ready(&st)
            {
                let _ = child.kill();
                let status = child.wait().unwrap();
                if status.signal() == Some(9) {
                    return;
                }
                assert!(status.success(), "{what} failed:\n{}", s.log(&log));
                break;
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        reset();
    }
    panic!("{what}: the operation finished before it could be killed, 5 times");
}

/// Checks that a JSON value is a state in exactly Terraform's v4 shape.
fn validate_v4(s: &Value) {
    fn keys(v: &Value, allowed: &[&str], required: &[&str], at: &str) {
        let m = v
            .as_object()
            .unwrap_or_else(|| panic!("{at}: not an object: {v}"));
        for k in m.keys() {
            assert!(allowed.contains(&k.as_str()), "{at}: unexpected key {k:?}");
        }
        for k in required {
            assert!(m.contains_key(*k), "{at}: missing key {k:?}");
        }
    }
    fn is_cty_type(t: &Value) -> bool {
        match t {
            Value::String(s) => ["string", "number", "bool", "dynamic"].contains(&s.as_str()),
            Value::Array(a) => {
                matches!(
                    a.first().and_then(Value::as_str),
                    Some("list" | "set" | "map" | "tuple" | "object")
                ) && a.len() >= 2
            }
            _ => false,
        }
    }
    keys(
        s,
        &[
            "version",
            "terraform_version",
            "serial",
            "lineage",
            "outputs",
            "resources",
            "check_results",
        ],
        &[
            "version",
            "terraform_version",
            "serial",
            "lineage",
            "outputs",
            "resources",
        ],
        "state",
    );
    assert_eq!(s["version"], 4, "version");
    let tv = s["terraform_version"].as_str().expect("terraform_version");
    assert_eq!(tv.split('.').count(), 3, "terraform_version {tv}");
    assert!(s["serial"].is_u64(), "serial is a whole number");
    let lineage = s["lineage"].as_str().expect("lineage is a string");
    assert_eq!(lineage.len(), 36, "lineage is a UUID: {lineage}");
    assert!(
        s["check_results"].is_null() || s["check_results"].is_array(),
        "check_results"
    );
    for (name, o) in s["outputs"].as_object().expect("outputs") {
        let at = format!("outputs.{name}");
        keys(o, &["value", "type", "sensitive"], &["value", "type"], &at);
        assert!(is_cty_type(&o["type"]), "{at}: type {}", o["type"]);
        if let Some(x) = o.get("sensitive") {
            assert!(x.is_boolean(), "{at}: sensitive");
        }
    }
    for (ri, r) in s["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .enumerate()
    {
        let at = format!("resources[{ri}]");
        keys(
            r,
            &[
                "module",
                "mode",
                "type",
                "name",
                "each",
                "provider",
                "instances",
            ],
            &["mode", "type", "name", "provider", "instances"],
            &at,
        );
        if let Some(m) = r.get("module") {
            assert!(
                m.as_str().is_some_and(|m| m.starts_with("module.")),
                "{at}: module {m}"
            );
        }
        assert!(r["mode"] == "managed" || r["mode"] == "data", "{at}: mode");
        assert!(r["type"].is_string() && r["name"].is_string(), "{at}");
        let provider = r["provider"].as_str().expect("provider");
        let inner = provider
            .strip_prefix("provider[\"registry.terraform.io/hashicorp/")
            .and_then(|p| p.split_once("\"]"))
            .unwrap_or_else(|| panic!("{at}: provider {provider}"));
        assert!(
            !inner.0.is_empty() && inner.0.chars().all(|c| c.is_ascii_lowercase()),
            "{at}: provider {provider}"
        );
        assert!(
            inner.1.is_empty() || inner.1.starts_with('.'),
            "{at}: provider {provider}"
        );
        let each = r.get("each").map(|e| e.as_str().expect("each is a string"));
        assert!(
            matches!(each, None | Some("list" | "map")),
            "{at}: each {each:?}"
        );
        let instances = r["instances"].as_array().expect("instances");
        assert!(!instances.is_empty(), "{at}: no instances");
        for (ii, i) in instances.iter().enumerate() {
            let at = format!("{at}.instances[{ii}]");
            keys(
                i,
                &[
                    "index_key",
                    "status",
                    "deposed",
                    "schema_version",
                    "attributes",
                    "sensitive_attributes",
                    "private",
                    "dependencies",
                    "create_before_destroy",
                ],
                &["schema_version", "attributes", "sensitive_attributes"],
                &at,
            );
            match (each, i.get("index_key")) {
                (None, None) => {}
                (Some("list"), Some(k)) => assert!(k.is_i64(), "{at}: index_key {k}"),
                (Some("map"), Some(k)) => assert!(k.is_string(), "{at}: index_key {k}"),
                (e, k) => panic!("{at}: each {e:?} with index_key {k:?}"),
            }
            if let Some(st) = i.get("status") {
                assert_eq!(st, "tainted", "{at}: status");
            }
            if let Some(d) = i.get("deposed") {
                let d = d.as_str().expect("deposed is a string");
                assert!(
                    d.len() == 8 && d.chars().all(|c| c.is_ascii_hexdigit()),
                    "{at}: deposed key {d:?}"
                );
            }
            assert!(i["schema_version"].is_u64(), "{at}: schema_version");
            assert!(i["attributes"].is_object(), "{at}: attributes");
            for p in i["sensitive_attributes"].as_array().expect("array") {
                for step in p.as_array().expect("a path is an array") {
                    keys(step, &["type", "value"], &["type", "value"], &at);
                    assert!(step["type"] == "get_attr" || step["type"] == "index");
                }
            }
            if let Some(p) = i.get("private") {
                assert!(p.is_string(), "{at}: private");
            }
            if let Some(d) = i.get("dependencies") {
                assert!(
                    d.as_array()
                        .expect("dependencies")
                        .iter()
                        .all(Value::is_string),
                    "{at}: dependencies"
                );
            }
            if let Some(c) = i.get("create_before_destroy") {
                assert_eq!(
                    c, true,
                    "{at}: create_before_destroy is written only when true"
                );
            }
        }
    }
}

const N: usize = 500;

/// 500 files under out/, named `GEN-I.txt`.
fn files_tf(cbd: bool) -> String {
    format!(
        r#"
variable "gen" {{
  type    = string
  default = "a"
}}

resource "local_file" "f" {{
  count    = {N}
  filename = "${{path.module}}/out/${{var.gen}}-${{count.index}}.txt"
  content  = "file ${{count.index}}\n"
  lifecycle {{
    create_before_destroy = {cbd}
  }}
}}
"#
    )
}

/// After a crash: every file on disk is accounted for in the state.
#[track_caller]
fn every_file_in_state(s: &Stack) {
    let state = s.state();
    validate_v4(&state);
    let in_state = state_file_names(&state);
    for f in s.files() {
        assert!(
            in_state.contains_key(&f),
            "out/{f} exists on disk but is not in the state"
        );
    }
}

/// After convergence: exactly the 500 files of `generation`, right
/// content, one current object each, nothing tainted or deposed, and a
/// plan with no changes.
#[track_caller]
fn converged(s: &Stack, generation: &str) {
    let files = s.files();
    let want: BTreeSet<String> = (0..N).map(|i| format!("{generation}-{i}.txt")).collect();
    assert_eq!(files, want, "files on disk");
    for i in 0..N {
        let text =
            std::fs::read_to_string(s.dir().join(format!("out/{generation}-{i}.txt"))).unwrap();
        assert_eq!(text, format!("file {i}\n"));
    }
    let state = s.state();
    validate_v4(&state);
    let objs = objects(&state);
    assert_eq!(objs.len(), N, "objects in the state");
    assert!(objs.iter().all(|o| !o.tainted && o.deposed.is_none()));
    let addrs: BTreeSet<&str> = objs.iter().map(|o| o.addr.as_str()).collect();
    assert_eq!(addrs.len(), N, "no address twice");
    let var = format!("gen={generation}");
    tf_ok(&s.dir(), &["plan", "-detailed-exitcode", "-var", &var], 0);
}

fn count_with_prefix(state: &Value, prefix: &str) -> usize {
    state_file_names(state)
        .iter()
        .filter(|(f, objs)| f.starts_with(prefix) && objs.iter().any(|o| !o.tainted))
        .count()
}

// ------------------------------------------------------------ 1. crash

#[test]
fn kill_9_during_apply_destroy_and_replace_converges() {
    let s = Stack::new(&files_tf(false));
    let dir = s.dir();

    // Apply, killed when some but not all files are recorded.
    crash_during(
        &s,
        &["apply", "-auto-approve", "-parallelism=4"],
        "a partial apply",
        |st| (20..N).contains(&count_with_prefix(st, "a-")),
        || {
            tf_ok(&dir, &["destroy", "-auto-approve"], 0);
        },
    );
    let on_disk = s.files().len();
    assert!(on_disk >= 20, "{on_disk} files after the kill");
    every_file_in_state(&s);
    let out = tf_ok(&dir, &["apply", "-auto-approve"], 0);
    assert!(out.contains("Apply complete!"), "{out}");
    converged(&s, "a");
    let lineage = s.state()["lineage"].clone();

    // -replace of every instance, killed part way.
    let serial0 = s.state()["serial"].as_u64().unwrap();
    let mut args: Vec<String> = vec![
        "apply".into(),
        "-auto-approve".into(),
        "-parallelism=4".into(),
    ];
    args.extend((0..N).map(|i| format!("-replace=local_file.f[{i}]")));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let serial0 = std::cell::Cell::new(serial0);
    crash_during(
        &s,
        &argv,
        "a partial -replace",
        |st| st["serial"].as_u64().unwrap() >= serial0.get() + 20,
        || serial0.set(s.state()["serial"].as_u64().unwrap()),
    );
    every_file_in_state(&s);
    assert_eq!(s.state()["lineage"], lineage, "lineage is stable");
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    converged(&s, "a");

    // Destroy, killed part way.
    crash_during(
        &s,
        &["destroy", "-auto-approve", "-parallelism=4"],
        "a partial destroy",
        |st| (1..N).contains(&objects(st).len()),
        || {
            tf_ok(&dir, &["apply", "-auto-approve"], 0);
        },
    );
    every_file_in_state(&s);
    let left = s.files().len();
    assert!(left < N, "{left} files after the kill");
    let out = tf_ok(&dir, &["destroy", "-auto-approve"], 0);
    assert!(out.contains("Destroy complete!"), "{out}");
    assert!(s.files().is_empty(), "files left: {:?}", s.files());
    let state = s.state();
    validate_v4(&state);
    assert!(objects(&state).is_empty());
    assert_eq!(state["lineage"], lineage, "lineage is stable");
    tf_ok(&dir, &["plan", "-destroy", "-detailed-exitcode"], 0);
}

#[test]
fn kill_9_during_create_before_destroy_replacement_converges() {
    let s = Stack::new(&files_tf(true));
    let dir = s.dir();
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    converged(&s, "a");

    // A new generation: every file is replaced, new one first.
    crash_during(
        &s,
        &["apply", "-auto-approve", "-parallelism=4", "-var", "gen=b"],
        "a partial replacement with deposed objects",
        |st| {
            let n = count_with_prefix(st, "b-");
            (20..N).contains(&n) && objects(st).iter().any(|o| o.deposed.is_some())
        },
        || {
            tf_ok(&dir, &["apply", "-auto-approve", "-var", "gen=a"], 0);
        },
    );
    every_file_in_state(&s);
    let state = s.state();
    // Only old objects are ever deposed, and an instance has at most one
    // current object.
    for (f, objs) in state_file_names(&state) {
        if objs.iter().any(|o| o.deposed.is_some()) {
            assert!(
                f.starts_with("a-"),
                "deposed object {f} of the new generation"
            );
        }
    }
    let currents: Vec<String> = objects(&state)
        .into_iter()
        .filter(|o| o.deposed.is_none())
        .map(|o| o.addr)
        .collect();
    let unique: BTreeSet<&String> = currents.iter().collect();
    assert_eq!(
        unique.len(),
        currents.len(),
        "one current object per instance"
    );
    let deposed: Vec<Obj> = objects(&state)
        .into_iter()
        .filter(|o| o.deposed.is_some())
        .collect();
    assert!(!deposed.is_empty());
    let plan = tf_ok(
        &dir,
        &[
            "plan",
            "-detailed-exitcode",
            "-var",
            "gen=b",
            "-refresh=false",
        ],
        2,
    );
    for o in &deposed {
        let header = format!(
            "# {} (deposed object {}) will be destroyed",
            o.addr,
            o.deposed.as_deref().unwrap()
        );
        assert!(plan.contains(&header), "missing {header:?} in\n{plan}");
    }
    tf_ok(&dir, &["apply", "-auto-approve", "-var", "gen=b"], 0);
    converged(&s, "b");
}

// ------------------------------------------------------------ 2. locks

const SMALL_TF: &str = r#"
resource "null_resource" "a" {
  triggers = { v = var.v }
}

variable "v" {
  type    = string
  default = "1"
}

output "id" {
  value = null_resource.a.id
}
"#;

/// Starts `gantry apply` without -auto-approve: it takes the lock and
/// waits at the prompt. Returns once the prompt is shown.
fn hold_lock_at_prompt(s: &Stack, args: &[&str]) -> Child {
    let mut child = gantry()
        .args(["tf", "apply"])
        .args(args)
        .current_dir(s.dir())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        let mut sent = false;
        loop {
            let mut chunk = Vec::new();
            match r.read_until(b':', &mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    buf.extend_from_slice(&chunk);
                    if !sent && String::from_utf8_lossy(&buf).contains("Enter a value:") {
                        let _ = tx.send(());
                        sent = true;
                    }
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("apply shows its prompt");
    child
}

fn lock_info(s: &Stack) -> Value {
    let text = std::fs::read_to_string(s.dir().join(".terraform.tfstate.lock.info"))
        .expect("lock info file");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn lock_contention_names_the_holder_waits_and_force_unlocks() {
    let s = Stack::new(SMALL_TF);
    let dir = s.dir();
    tf_ok(&dir, &["apply", "-auto-approve"], 0);

    // A second apply while the first holds the lock fails, naming it.
    let mut holder = hold_lock_at_prompt(&s, &["-var", "v=2"]);
    let info = lock_info(&s);
    let id = info["ID"].as_str().unwrap().to_owned();
    let (code, _, err) = tf(&dir, &["apply", "-auto-approve", "-var", "v=3"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the state is locked"), "{err}");
    assert!(err.contains(&format!("ID:        {id}")), "{err}");
    assert!(err.contains("Operation: OperationTypeApply"), "{err}");
    assert!(
        err.contains(&format!("Who:       {}", info["Who"].as_str().unwrap())),
        "{err}"
    );
    assert!(
        err.contains(&format!("Created:   {}", info["Created"].as_str().unwrap())),
        "{err}"
    );
    // A plan is refused the same way.
    let (code, _, err) = tf(&dir, &["plan"]);
    assert_eq!(code, 1);
    assert!(err.contains(&id), "{err}");

    // With -lock-timeout the second waits, then runs once the first is done.
    let mut waiter = s.spawn(
        &[
            "apply",
            "-auto-approve",
            "-lock-timeout=300s",
            "-var",
            "v=3",
        ],
        "waiter.log",
    );
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "the waiter gave up while the lock was held:\n{}",
        s.log("waiter.log")
    );
    holder.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let st = wait_with_timeout(&mut holder, Duration::from_secs(120));
    assert!(st.success(), "the holder's apply failed");
    let st = wait_with_timeout(&mut waiter, Duration::from_secs(120));
    assert!(st.success(), "waiter failed:\n{}", s.log("waiter.log"));
    let state = s.state();
    let objs = objects(&state);
    assert_eq!(
        objs[0].attrs["triggers"]["v"], "3",
        "the waiter applied last"
    );
    assert!(!dir.join(".terraform.tfstate.lock.info").exists());

    // force-unlock refuses a wrong id and releases the right one.
    let mut holder = hold_lock_at_prompt(&s, &["-var", "v=4"]);
    let id = lock_info(&s)["ID"].as_str().unwrap().to_owned();
    let (code, _, err) = tf(
        &dir,
        &[
            "force-unlock",
            "-force",
            "00000000-0000-4000-8000-000000000000",
        ],
    );
    assert_eq!(code, 1, "a wrong lock id is refused");
    assert!(err.contains("unlock"), "{err}");
    assert_eq!(lock_info(&s)["ID"], id.as_str(), "the lock is untouched");
    let out = tf_ok(&dir, &["force-unlock", "-force", &id], 0);
    assert!(out.contains("successfully unlocked"), "{out}");
    // Now another operation gets the lock although the holder still runs.
    tf_ok(&dir, &["apply", "-auto-approve", "-var", "v=5"], 0);
    holder.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let st = wait_with_timeout(&mut holder, Duration::from_secs(60));
    assert!(!st.success(), "a declined apply exits non-zero");
    assert_eq!(
        objects(&s.state())[0].attrs["triggers"]["v"],
        "5",
        "the declined apply changed nothing"
    );
}

// ------------------------------------------------------------ 3. format

const FORMAT_TF: &str = r#"
resource "null_resource" "n" {
  triggers = { a = "1" }
}

resource "random_id" "r" {
  for_each    = toset(["x", "y"])
  byte_length = 4
}

resource "null_resource" "after" {
  triggers   = { r = random_id.r["x"].hex }
  lifecycle {
    create_before_destroy = true
  }
}

module "m" {
  source = "./m"
}

output "greeting" {
  value = "hello"
}

output "ids" {
  value     = [for k, v in random_id.r : v.hex]
  sensitive = true
}
"#;

const MODULE_TF: &str = r#"
resource "null_resource" "inner" {
  count = 2
}
"#;

#[test]
fn states_written_have_exactly_the_v4_shape() {
    let s = Stack::new(FORMAT_TF);
    s.write("m/main.tf", MODULE_TF);
    let dir = s.dir();
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    let state = s.state();
    validate_v4(&state);
    let lineage = state["lineage"].clone();
    let backup = read_state(&dir.join("terraform.tfstate.backup")).expect("backup");
    // Each write bumps the serial by exactly one: the backup is the
    // previous write.
    assert_eq!(
        backup["serial"].as_u64().unwrap() + 1,
        state["serial"].as_u64().unwrap()
    );
    assert_eq!(backup["lineage"], lineage);
    let res = |ty: &str, name: &str| -> Value {
        state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == ty && r["name"] == name)
            .unwrap_or_else(|| panic!("{ty}.{name} in state"))
            .clone()
    };
    let r = res("random_id", "r");
    assert_eq!(r["each"], "map");
    assert_eq!(
        r["provider"],
        "provider[\"registry.terraform.io/hashicorp/random\"]"
    );
    let keys: Vec<&Value> = r["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["index_key"])
        .collect();
    assert_eq!(keys, [&json!("x"), &json!("y")]);
    let inner = res("null_resource", "inner");
    assert_eq!(inner["module"], "module.m");
    assert_eq!(inner["each"], "list");
    assert_eq!(inner["instances"][1]["index_key"], 1);
    let after = res("null_resource", "after");
    assert_eq!(after["instances"][0]["create_before_destroy"], true);
    assert_eq!(
        after["instances"][0]["dependencies"],
        json!(["random_id.r"])
    );
    assert!(res("null_resource", "n").get("each").is_none());
    assert_eq!(
        state["outputs"]["greeting"],
        json!({"value": "hello", "type": "string"})
    );
    assert_eq!(state["outputs"]["ids"]["sensitive"], true);
    assert_eq!(state["outputs"]["ids"]["type"][0], "tuple");

    // Single-write commands bump the serial by one each; lineage stays.
    let mut serial = state["serial"].as_u64().unwrap();
    for args in [
        vec!["state", "mv", "null_resource.n", "null_resource.moved"],
        vec!["state", "mv", "null_resource.moved", "null_resource.n"],
        vec!["apply", "-auto-approve", "-replace=null_resource.n"],
    ] {
        tf_ok(&dir, &args, 0);
        let st = s.state();
        validate_v4(&st);
        let now = st["serial"].as_u64().unwrap();
        let prev = read_state(&dir.join("terraform.tfstate.backup")).unwrap();
        assert_eq!(prev["serial"].as_u64().unwrap() + 1, now, "{args:?}");
        assert!(now > serial, "{args:?}");
        assert_eq!(st["lineage"], lineage, "{args:?}");
        serial = now;
    }
    tf_ok(&dir, &["plan", "-detailed-exitcode"], 0);
}

/// A state in the shape Terraform documents, written by hand.
const HAND_STATE: &str = r#"{
  "version": 4,
  "terraform_version": "1.9.8",
  "serial": 7,
  "lineage": "3f1c2a4e-8d2b-4c6e-9a7f-0b1c2d3e4f50",
  "outputs": {
    "hex": {
      "value": "a1b2c3d4",
      "type": "string"
    }
  },
  "resources": [
    {
      "mode": "managed",
      "type": "null_resource",
      "name": "n",
      "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "4242424242424242424",
            "triggers": {
              "a": "1"
            }
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "mode": "managed",
      "type": "random_id",
      "name": "r",
      "each": "map",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        {
          "index_key": "x",
          "schema_version": 0,
          "attributes": {
            "b64_std": "obLD1A==",
            "b64_url": "obLD1A",
            "byte_length": 4,
            "dec": "2712847316",
            "hex": "a1b2c3d4",
            "id": "obLD1A",
            "keepers": null,
            "prefix": null
          },
          "sensitive_attributes": []
        },
        {
          "index_key": "y",
          "schema_version": 0,
          "attributes": {
            "b64_std": "AQIDBA==",
            "b64_url": "AQIDBA",
            "byte_length": 4,
            "dec": "16909060",
            "hex": "01020304",
            "id": "AQIDBA",
            "keepers": null,
            "prefix": null
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "module": "module.m",
      "mode": "managed",
      "type": "null_resource",
      "name": "inner",
      "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "1111",
            "triggers": null
          },
          "sensitive_attributes": [],
          "dependencies": [
            "null_resource.n"
          ]
        }
      ]
    }
  ],
  "check_results": null
}
"#;

const HAND_TF: &str = r#"
resource "null_resource" "n" {
  triggers = { a = "1" }
}

resource "random_id" "r" {
  for_each    = toset(["x", "y"])
  byte_length = 4
}

module "m" {
  source = "./m"
}

output "hex" {
  value = random_id.r["x"].hex
}
"#;

#[test]
fn a_hand_written_terraform_state_is_read_and_planned_against() {
    let s = Stack::new(HAND_TF);
    s.write("m/main.tf", "resource \"null_resource\" \"inner\" {}\n");
    s.write("terraform.tfstate", HAND_STATE);
    let dir = s.dir();
    validate_v4(&serde_json::from_str(HAND_STATE).unwrap());
    let out = tf_ok(&dir, &["plan", "-detailed-exitcode"], 0);
    assert!(out.contains("No changes."), "{out}");
    let list = tf_ok(&dir, &["state", "list"], 0);
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "null_resource.n",
            "random_id.r[\"x\"]",
            "random_id.r[\"y\"]",
            "module.m.null_resource.inner",
        ]
    );
    let out = tf_ok(&dir, &["output", "-raw", "hex"], 0);
    assert_eq!(out, "a1b2c3d4");
    // A round trip through pull/push keeps it as it was.
    let pulled: Value = serde_json::from_str(&tf_ok(&dir, &["state", "pull"], 0)).unwrap();
    validate_v4(&pulled);
    assert_eq!(pulled, serde_json::from_str::<Value>(HAND_STATE).unwrap());
}

// ------------------------------------------------------------ 4. commands

#[test]
fn state_commands_workspaces_and_push_rules() {
    let s = Stack::new(FORMAT_TF);
    s.write("m/main.tf", MODULE_TF);
    let dir = s.dir();
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    let list = tf_ok(&dir, &["state", "list"], 0);
    assert_eq!(list.lines().count(), 6, "{list}");
    let filtered = tf_ok(&dir, &["state", "list", "module.m"], 0);
    assert_eq!(
        filtered.lines().collect::<Vec<_>>(),
        [
            "module.m.null_resource.inner[0]",
            "module.m.null_resource.inner[1]"
        ]
    );
    let show = tf_ok(&dir, &["state", "show", "random_id.r[\"x\"]"], 0);
    assert!(show.contains("# random_id.r[\"x\"]:"), "{show}");
    assert!(show.contains("byte_length = 4"), "{show}");
    let (code, _, err) = tf(&dir, &["state", "show", "random_id.nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("no instance found"), "{err}");

    // mv, then rm.
    let out = tf_ok(&dir, &["state", "mv", "module.m", "module.k"], 0);
    assert!(out.contains("Successfully moved 2 object(s)."), "{out}");
    let list = tf_ok(&dir, &["state", "list", "module.k"], 0);
    assert_eq!(list.lines().count(), 2);
    let plan = tf_ok(&dir, &["plan", "-detailed-exitcode"], 2);
    assert!(
        plan.contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "{plan}"
    );
    tf_ok(&dir, &["state", "mv", "module.k", "module.m"], 0);
    tf_ok(&dir, &["plan", "-detailed-exitcode"], 0);
    let out = tf_ok(&dir, &["state", "rm", "null_resource.n"], 0);
    assert!(out.contains("Removed null_resource.n"), "{out}");
    let plan = tf_ok(&dir, &["plan", "-detailed-exitcode"], 2);
    assert!(plan.contains("# null_resource.n will be created"), "{plan}");
    let (code, _, err) = tf(&dir, &["state", "rm", "null_resource.n"]);
    assert_eq!(code, 1, "{err}");

    // pull / push.
    let pulled = tf_ok(&dir, &["state", "pull"], 0);
    let current: Value = serde_json::from_str(&pulled).unwrap();
    assert_eq!(current, s.state());
    let pushed = s.tmp.path().join("pushed.json");
    let mut lower = current.clone();
    lower["serial"] = json!(current["serial"].as_u64().unwrap() - 1);
    std::fs::write(&pushed, serde_json::to_vec(&lower).unwrap()).unwrap();
    let p = pushed.to_str().unwrap();
    let (code, _, err) = tf(&dir, &["state", "push", p]);
    assert_eq!(code, 1, "a lower serial is refused");
    assert!(err.contains("lower serial"), "{err}");
    let mut other = current.clone();
    other["lineage"] = json!("00000000-1111-4222-8333-444444444444");
    other["serial"] = json!(current["serial"].as_u64().unwrap() + 5);
    std::fs::write(&pushed, serde_json::to_vec(&other).unwrap()).unwrap();
    let (code, _, err) = tf(&dir, &["state", "push", p]);
    assert_eq!(code, 1, "another lineage is refused");
    assert!(err.contains("lineage"), "{err}");
    assert_eq!(s.state(), current, "refused pushes leave the state alone");
    tf_ok(&dir, &["state", "push", "-force", p], 0);
    assert_eq!(s.state()["lineage"], other["lineage"]);
    let mut higher = other.clone();
    higher["serial"] = json!(other["serial"].as_u64().unwrap() + 1);
    higher["outputs"]["pushed"] = json!({"value": "yes", "type": "string"});
    std::fs::write(&pushed, serde_json::to_vec(&higher).unwrap()).unwrap();
    tf_ok(&dir, &["state", "push", p], 0);
    assert_eq!(s.state()["outputs"]["pushed"]["value"], "yes");

    // Workspaces: separate states under terraform.tfstate.d.
    let out = tf_ok(&dir, &["workspace", "new", "staging"], 0);
    assert!(
        out.contains("Created and switched to workspace \"staging\""),
        "{out}"
    );
    let plan = tf_ok(&dir, &["plan", "-detailed-exitcode"], 2);
    assert!(
        plan.contains("Plan: 6 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    let staging = read_state(&dir.join("terraform.tfstate.d/staging/terraform.tfstate"))
        .expect("staging state");
    validate_v4(&staging);
    assert_eq!(objects(&staging).len(), 6);
    assert_ne!(staging["lineage"], s.state()["lineage"]);
    let list = tf_ok(&dir, &["workspace", "list"], 0);
    assert_eq!(list, "  default\n* staging\n");
    let (code, _, err) = tf(&dir, &["workspace", "delete", "staging"]);
    assert_eq!(code, 1, "the active workspace can't be deleted");
    assert!(err.contains("active workspace"), "{err}");
    tf_ok(&dir, &["workspace", "select", "default"], 0);
    assert_eq!(tf_ok(&dir, &["workspace", "show"], 0), "default\n");
    let (code, _, err) = tf(&dir, &["workspace", "delete", "staging"]);
    assert_eq!(code, 1, "a workspace with resources needs -force");
    assert!(err.contains("not empty"), "{err}");
    tf_ok(&dir, &["workspace", "delete", "-force", "staging"], 0);
    assert!(!dir.join("terraform.tfstate.d/staging").exists());
    let (code, _, err) = tf(&dir, &["workspace", "select", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("doesn't exist"), "{err}");
    let (code, _, _) = tf(&dir, &["workspace", "new", "../x"]);
    assert_eq!(code, 1, "path separators are refused");
}

#[test]
fn init_migrates_state_between_local_and_gantry_backends_and_records_events() {
    let tmp = tempfile::tempdir().unwrap();
    // The nearest data dir: events land in its event log.
    let data = tmp.path().join(".gantry");
    std::fs::create_dir_all(&data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = data.join("gantry.db");
    rt.block_on(async {
        let store = gantry_store::SqliteStore::open(&db).await.unwrap();
        gantry_store::Store::close(&store).await;
    });
    let dir = tmp.path().join("infra");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), SMALL_TF).unwrap();
    tf_ok(&dir, &["init"], 0);
    tf_ok(&dir, &["apply", "-auto-approve"], 0);
    let local: Value = read_state(&dir.join("terraform.tfstate")).unwrap();
    let id = objects(&local)[0].attrs["id"].clone();

    // local → gantry.
    let backend = "terraform {\n  backend \"gantry\" {\n    stack = \"infra\"\n  }\n}\n";
    std::fs::write(dir.join("backend.tf"), backend).unwrap();
    let (code, _, err) = tf(&dir, &["plan"]);
    assert_ne!(code, 0, "a changed backend needs init");
    assert!(err.contains("init"), "{err}");
    let (code, _, err) = tf(&dir, &["init"]);
    assert_eq!(
        code, 1,
        "init without -migrate-state refuses to drop the state"
    );
    assert!(err.contains("-migrate-state"), "{err}");
    let out = tf_ok(&dir, &["init", "-migrate-state"], 0);
    assert!(out.contains("Successfully migrated"), "{out}");
    tf_ok(&dir, &["plan", "-detailed-exitcode"], 0);
    let pulled: Value = serde_json::from_str(&tf_ok(&dir, &["state", "pull"], 0)).unwrap();
    validate_v4(&pulled);
    assert_eq!(pulled["lineage"], local["lineage"]);
    assert_eq!(objects(&pulled)[0].attrs["id"], id);
    // A change applied through the gantry backend.
    tf_ok(&dir, &["apply", "-auto-approve", "-var", "v=2"], 0);
    let pulled: Value = serde_json::from_str(&tf_ok(&dir, &["state", "pull"], 0)).unwrap();
    let id2 = objects(&pulled)[0].attrs["id"].clone();
    assert_ne!(id2, id);

    // gantry → local.
    std::fs::remove_file(dir.join("backend.tf")).unwrap();
    std::fs::remove_file(dir.join("terraform.tfstate")).unwrap();
    let _ = std::fs::remove_file(dir.join("terraform.tfstate.backup"));
    tf_ok(&dir, &["init", "-migrate-state"], 0);
    let back = read_state(&dir.join("terraform.tfstate")).expect("migrated back");
    validate_v4(&back);
    assert_eq!(back["lineage"], local["lineage"]);
    assert_eq!(objects(&back)[0].attrs["id"], id2);
    tf_ok(&dir, &["plan", "-detailed-exitcode", "-var", "v=2"], 0);

    // Plans and applies were recorded in the nearest data dir.
    let events = rt.block_on(async {
        let store = gantry_store::SqliteStore::open(&db).await.unwrap();
        let q = gantry_store::EventQuery {
            kind: Some("infra.*".into()),
            limit: 1000,
            ..Default::default()
        };
        let evs = gantry_store::EventLog::list(&store, &q).await.unwrap();
        gantry_store::Store::close(&store).await;
        evs
    });
    let kinds: Vec<String> = events.iter().map(|e| e.kind.to_string()).collect();
    assert!(kinds.iter().any(|k| k == "infra.plan"), "{kinds:?}");
    let finished: Vec<&gantry_core::Event> = events
        .iter()
        .filter(|e| e.kind.to_string() == "infra.apply.finished")
        .collect();
    assert!(finished.len() >= 2, "{kinds:?}");
    assert!(finished.iter().all(|e| e.subject == "stack/infra"));
    assert!(
        finished
            .iter()
            .any(|e| e.data["ok"] == true && e.data["added"] == 1)
    );
}

// ------------------------------------------------------------ 5. deposed

const DEPOSED_TF: &str = r#"
variable "name" {
  type = string
}

resource "local_file" "x" {
  filename = "${path.module}/out/${var.name}"
  content  = "hello\n"
  lifecycle {
    create_before_destroy = true
  }
}
"#;

/// Replaces `out/old.txt` by a non-empty directory, so deleting it fails.
fn make_undeletable(s: &Stack) {
    let p = s.dir().join("out/old.txt");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir_all(p.join("inside")).unwrap();
}

fn make_deletable(s: &Stack) {
    let p = s.dir().join("out/old.txt");
    std::fs::remove_dir_all(&p).unwrap();
    std::fs::write(&p, "hello\n").unwrap();
}

/// Applies old.txt, then a replacement by new.txt whose destroy of
/// old.txt fails; returns the deposed key.
fn deposed_stack() -> (Stack, String) {
    let s = Stack::new(DEPOSED_TF);
    let dir = s.dir();
    tf_ok(&dir, &["apply", "-auto-approve", "-var", "name=old.txt"], 0);
    make_undeletable(&s);
    let (code, out, err) = tf(
        &dir,
        &[
            "apply",
            "-auto-approve",
            "-refresh=false",
            "-var",
            "name=new.txt",
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("+/- resource \"local_file\" \"x\""), "{out}");
    assert!(err.contains("deposed object"), "{err}");
    assert!(dir.join("out/new.txt").is_file(), "the replacement exists");
    let state = s.state();
    validate_v4(&state);
    let objs = objects(&state);
    assert_eq!(objs.len(), 2, "{objs:?}");
    let current = objs.iter().find(|o| o.deposed.is_none()).expect("current");
    assert!(
        current.attrs["filename"]
            .as_str()
            .unwrap()
            .ends_with("new.txt")
    );
    assert!(!current.tainted);
    let old = objs.iter().find(|o| o.deposed.is_some()).expect("deposed");
    assert_eq!(old.addr, "local_file.x");
    assert!(old.attrs["filename"].as_str().unwrap().ends_with("old.txt"));
    let key = old.deposed.clone().unwrap();
    make_deletable(&s);
    (s, key)
}

#[test]
fn a_failed_destroy_of_a_replaced_object_leaves_it_deposed_until_the_next_apply() {
    let (s, key) = deposed_stack();
    let dir = s.dir();
    let plan = tf_ok(
        &dir,
        &["plan", "-detailed-exitcode", "-var", "name=new.txt"],
        2,
    );
    let header = format!("  # local_file.x (deposed object {key}) will be destroyed\n");
    let at = plan
        .find(&header)
        .unwrap_or_else(|| panic!("{header:?} in\n{plan}"));
    let block = &plan[at + header.len()..];
    assert!(
        block
            .lines()
            .find(|l| !l.trim_start().starts_with('#'))
            .unwrap()
            .starts_with("  - resource \"local_file\" \"x\" {"),
        "{block}"
    );
    assert!(block.contains("old.txt"), "{block}");
    assert!(plan.contains("  - destroy"), "{plan}");
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{plan}"
    );
    // The JSON plan carries the deposed key.
    let saved = s.tmp.path().join("p.plan");
    let saved = saved.to_str().unwrap();
    tf_ok(
        &dir,
        &["plan", "-var", "name=new.txt", &format!("-out={saved}")],
        0,
    );
    let shown: Value = serde_json::from_str(&tf_ok(&dir, &["show", "-json", saved], 0)).unwrap();
    let rc = shown["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["deposed"] == key.as_str())
        .unwrap_or_else(|| panic!("deposed change in {shown}"));
    assert_eq!(rc["change"]["actions"], json!(["delete"]));
    assert_eq!(rc["address"], "local_file.x");

    // state list shows the instance once; show shows both objects.
    assert_eq!(tf_ok(&dir, &["state", "list"], 0), "local_file.x\n");
    let show = tf_ok(&dir, &["show"], 0);
    assert!(show.contains("# local_file.x:\n"), "{show}");
    assert!(
        show.contains(&format!("# local_file.x: (deposed object {key})\n")),
        "{show}"
    );
    let shown: Value = serde_json::from_str(&tf_ok(&dir, &["show", "-json"], 0)).unwrap();
    let res = shown["values"]["root_module"]["resources"]
        .as_array()
        .unwrap();
    assert_eq!(res.len(), 2, "{shown}");
    assert_eq!(
        res.iter()
            .filter(|r| r["deposed_key"] == key.as_str())
            .count(),
        1
    );

    // Applying the saved plan destroys the deposed object only.
    let out = tf_ok(&dir, &["apply", saved], 0);
    assert!(out.contains("0 added, 0 changed, 1 destroyed"), "{out}");
    assert!(!dir.join("out/old.txt").exists());
    assert!(dir.join("out/new.txt").is_file());
    let state = s.state();
    validate_v4(&state);
    assert_eq!(objects(&state).len(), 1);
    assert!(objects(&state)[0].deposed.is_none());
    tf_ok(
        &dir,
        &["plan", "-detailed-exitcode", "-var", "name=new.txt"],
        0,
    );
}

#[test]
fn deposed_objects_move_and_go_with_their_instance_and_are_destroyed() {
    let (s, key) = deposed_stack();
    let dir = s.dir();
    // state mv carries the deposed object along.
    tf_ok(&dir, &["state", "mv", "local_file.x", "local_file.y"], 0);
    let objs = objects(&s.state());
    assert_eq!(objs.len(), 2);
    assert!(objs.iter().all(|o| o.addr == "local_file.y"), "{objs:?}");
    assert!(objs.iter().any(|o| o.deposed.as_deref() == Some(&key)));
    tf_ok(&dir, &["state", "mv", "local_file.y", "local_file.x"], 0);
    assert!(objects(&s.state()).iter().all(|o| o.addr == "local_file.x"));

    // A destroy takes the deposed object too.
    let plan = tf_ok(&dir, &["plan", "-destroy", "-var", "name=new.txt"], 0);
    assert!(
        plan.contains(&format!(
            "# local_file.x (deposed object {key}) will be destroyed"
        )),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{plan}"
    );

    // state rm removes the instance with its deposed object.
    let out = tf_ok(&dir, &["state", "rm", "local_file.x"], 0);
    assert!(out.contains("Removed local_file.x"), "{out}");
    let state = s.state();
    validate_v4(&state);
    assert!(objects(&state).is_empty(), "{state}");
}

#[test]
fn destroy_removes_deposed_objects() {
    let (s, _key) = deposed_stack();
    let dir = s.dir();
    let out = tf_ok(
        &dir,
        &["destroy", "-auto-approve", "-var", "name=new.txt"],
        0,
    );
    assert!(
        out.contains("Destroy complete! Resources: 2 destroyed."),
        "{out}"
    );
    assert!(s.files().is_empty(), "{:?}", s.files());
    assert!(objects(&s.state()).is_empty());
}

#[test]
fn a_deposed_object_already_gone_leaves_the_state_quietly() {
    let (s, _key) = deposed_stack();
    let dir = s.dir();
    std::fs::remove_file(dir.join("out/old.txt")).unwrap();
    tf_ok(
        &dir,
        &["plan", "-detailed-exitcode", "-var", "name=new.txt"],
        0,
    );
    let out = tf_ok(&dir, &["apply", "-auto-approve", "-var", "name=new.txt"], 0);
    assert!(out.contains("No changes."), "{out}");
    // The apply records what the refresh found.
    let objs = objects(&s.state());
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert!(objs[0].deposed.is_none());
}
