//! Workflow, Dockerfile and Kubernetes checks: fixtures with exact
//! (check, line) results, a failing and a passing case per check, bad
//! input, and no panics on arbitrary input.

use std::path::Path;

use gantry_scan::Severity;
use gantry_scan::misconfig::{Target, checks, parse_dockerfile, scan_file};
use proptest::prelude::*;

fn results(rel: &str, text: &str) -> Vec<(String, u32)> {
    let found = scan_file(rel, text)
        .unwrap_or_else(|| panic!("{rel} not recognised"))
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out: Vec<(String, u32)> = found
        .iter()
        .map(|f| {
            let loc = f.location.as_ref().expect("location");
            assert_eq!(loc.path, rel);
            (f.rule_id.clone(), loc.line)
        })
        .collect();
    out.sort();
    out
}

fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/misconfig/files")
        .join(rel);
    std::fs::read_to_string(p).expect("fixture")
}

fn pairs(xs: &[(&str, u32)]) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = xs.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect();
    v.sort();
    v
}

#[test]
fn workflow_fixture() {
    let rel = ".github/workflows/triage.yml";
    let text = fixture(rel);
    assert_eq!(
        results(rel, &text),
        pairs(&[
            ("GNT-GHA-001", 17),
            ("GNT-GHA-002", 11),
            ("GNT-GHA-003", 11),
            ("GNT-GHA-003", 18),
            ("GNT-GHA-004", 6),
        ])
    );
    let found = scan_file(rel, &text)
        .and_then(Result::ok)
        .unwrap_or_default();
    let sev = |line: u32| {
        found
            .iter()
            .find(|f| {
                f.rule_id == "GNT-GHA-003" && f.location.as_ref().is_some_and(|l| l.line == line)
            })
            .map(|f| f.severity)
    };
    // GitHub-owned actions are reported lower than third-party ones.
    assert_eq!(sev(11), Some(Severity::Low));
    assert_eq!(sev(18), Some(Severity::Medium));
    let inj = found
        .iter()
        .find(|f| f.rule_id == "GNT-GHA-001")
        .expect("injection");
    assert_eq!(inj.resource.as_deref(), Some("label.greet"));
    assert!(inj.message.contains("github.event.issue.title"));
}

#[test]
fn dockerfile_fixture() {
    assert_eq!(
        results("Dockerfile", &fixture("Dockerfile")),
        pairs(&[
            ("GNT-DF-001", 5),
            ("GNT-DF-002", 5),
            ("GNT-DF-003", 7),
            ("GNT-DF-004", 6),
            ("GNT-DF-005", 8),
        ])
    );
}

#[test]
fn manifest_fixture() {
    let found = scan_file("deploy.yaml", &fixture("deploy.yaml"))
        .and_then(Result::ok)
        .unwrap_or_default();
    assert!(
        found
            .iter()
            .all(|f| f.resource.as_deref() == Some("Deployment/web"))
    );
    assert_eq!(
        results("deploy.yaml", &fixture("deploy.yaml")),
        pairs(&[
            ("GNT-K8S-001", 13),
            ("GNT-K8S-003", 8),
            ("GNT-K8S-004", 10),
            ("GNT-K8S-005", 10),
            ("GNT-K8S-006", 11),
            ("GNT-K8S-007", 10),
        ])
    );
}

const WF_HEAD: &str = "on: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n";

fn wf(steps: &str) -> String {
    format!("{WF_HEAD}{steps}")
}

fn pod(container_extra: &str, spec_extra: &str, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{spec_extra}  securityContext:\n    runAsNonRoot: true\n  containers:\n    - name: c\n      image: {image}\n      resources:\n        limits:\n          cpu: 1\n          memory: 1Gi\n      securityContext:\n        allowPrivilegeEscalation: false\n{container_extra}"
    )
}

fn cron(container_extra: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: \"0 0 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          securityContext:\n            runAsNonRoot: true\n          containers:\n            - name: c\n              image: busybox:1.36\n              resources:\n                limits: {{cpu: 1, memory: 1Gi}}\n              securityContext:\n                allowPrivilegeEscalation: false\n{container_extra}"
    )
}

/// (check, path, failing text, passing text)
fn cases() -> Vec<(&'static str, &'static str, String, String)> {
    let s = |x: &str| x.to_owned();
    let w = ".github/workflows/ci.yml";
    vec![
        (
            "GNT-GHA-001",
            w,
            wf("      - run: echo \"${{ github.event.pull_request.title }}\"\n"),
            wf(
                "      - env:\n          TITLE: ${{ github.event.pull_request.title }}\n        run: echo \"$TITLE\" ${{ github.event.pull_request.number }}\n",
            ),
        ),
        (
            "GNT-GHA-002",
            w,
            s(
                "on: pull_request_target\npermissions: {}\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab\n        with:\n          ref: ${{ github.event.pull_request.head.ref }}\n",
            ),
            s(
                "on: pull_request_target\npermissions: {}\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab\n",
            ),
        ),
        (
            "GNT-GHA-003",
            w,
            wf("      - uses: docker/login-action@v3\n"),
            wf(
                "      - uses: docker/login-action@8e5e7e5ab8b370d6c329ec480221332ada57f0ab\n      - uses: ./local-action\n",
            ),
        ),
        (
            "GNT-GHA-004",
            w,
            s(
                "on: push\njobs:\n  b:\n    runs-on: x\n    permissions: write-all\n    steps:\n      - run: make\n",
            ),
            s(
                "on: push\njobs:\n  b:\n    runs-on: x\n    permissions:\n      contents: write\n    steps:\n      - run: make\n",
            ),
        ),
        (
            "GNT-GHA-005",
            w,
            s("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: make\n"),
            s(
                "on: push\njobs:\n  b:\n    runs-on: x\n    permissions: read-all\n    steps:\n      - run: make\n",
            ),
        ),
        (
            "GNT-DF-001",
            "Dockerfile",
            s("FROM alpine:3.19\nUSER app\nUSER root\n"),
            s("FROM alpine:3.19 AS b\nUSER root\nFROM alpine:3.19\nUSER 1000:1000\n"),
        ),
        (
            "GNT-DF-002",
            "app.Dockerfile",
            s("FROM alpine:latest\nUSER app\n"),
            s(
                "FROM alpine:3.19 AS base\nFROM base\nFROM scratch\nFROM registry.local:5000/img@sha256:abc\nUSER app\n",
            ),
        ),
        (
            "GNT-DF-003",
            "Dockerfile.prod",
            s("FROM alpine:3.19\nADD https://example.com/x.tgz /x\nUSER app\n"),
            s(
                "FROM alpine:3.19\nADD --checksum=sha256:00 https://example.com/x.tgz /x\nADD local.tgz /x\nUSER app\n",
            ),
        ),
        (
            "GNT-DF-004",
            "Dockerfile",
            s("FROM alpine:3.19\nARG DB_PASSWORD=hunter2hunter2\nUSER app\n"),
            s(
                "FROM alpine:3.19\nARG DB_PASSWORD\nENV DB_PASSWORD_FILE=/run/secrets/db\nENV TOKEN=${TOKEN}\nUSER app\n",
            ),
        ),
        (
            "GNT-DF-005",
            "Dockerfile",
            s("FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl\nUSER app\n"),
            s(
                "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*\nUSER app\n",
            ),
        ),
        (
            "GNT-K8S-001",
            "k8s/pod.yaml",
            pod("        privileged: true\n", "", "nginx:1.25"),
            pod("        privileged: false\n", "", "nginx:1.25"),
        ),
        (
            "GNT-K8S-002",
            "k8s/pod.yaml",
            pod(
                "",
                "  volumes:\n    - name: docker\n      hostPath:\n        path: /var/run/docker.sock\n",
                "nginx:1.25",
            ),
            pod(
                "",
                "  volumes:\n    - name: tmp\n      emptyDir: {}\n",
                "nginx:1.25",
            ),
        ),
        (
            "GNT-K8S-003",
            "k8s/pod.yaml",
            pod("", "  hostPID: true\n", "nginx:1.25"),
            pod("", "  hostPID: false\n", "nginx:1.25"),
        ),
        (
            "GNT-K8S-004",
            "k8s/pod.yaml",
            pod("        runAsUser: 0\n", "", "nginx:1.25"),
            pod("        runAsUser: 1000\n", "", "nginx:1.25"),
        ),
        (
            "GNT-K8S-005",
            "k8s/cron.yml",
            cron("").replace("limits: {cpu: 1, memory: 1Gi}", "requests: {cpu: 1}"),
            cron("").replace("memory: 1Gi", "memory: 2Gi"),
        ),
        (
            "GNT-K8S-006",
            "k8s/pod.yaml",
            pod("", "", "nginx:latest"),
            pod("", "", "nginx@sha256:0123"),
        ),
        (
            "GNT-K8S-007",
            "k8s/cron.yml",
            cron("").replace(
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
            ),
            cron(""),
        ),
    ]
}

#[test]
fn every_file_check_has_a_failing_and_a_passing_case() {
    let cases = cases();
    for check in checks().iter().filter(|c| c.target != Target::Terraform) {
        assert!(
            cases.iter().any(|(id, _, _, _)| *id == check.id),
            "no case for {}",
            check.id
        );
    }
    for (id, path, bad, good) in &cases {
        let got = results(path, bad);
        assert!(
            got.iter().any(|(r, _)| r == id),
            "{id}: failing case not reported; got {got:?}\n{bad}"
        );
        let got = results(path, good);
        assert!(
            !got.iter().any(|(r, _)| r == id),
            "{id}: passing case reported; got {got:?}\n{good}"
        );
    }
}

#[test]
fn cronjob_pod_template_is_found() {
    let clean = results("k8s/cron.yml", &cron(""));
    assert!(clean.is_empty(), "{clean:?}");
    let bad = results("k8s/cron.yml", &cron("").replace("busybox:1.36", "busybox"));
    assert_eq!(bad, vec![("GNT-K8S-006".to_owned(), 15)]);
}

#[test]
fn from_uses_global_arg_defaults() {
    let text = "ARG BASE=alpine\nARG TAG=latest\nFROM ${BASE}:$TAG\nUSER app\n";
    assert_eq!(
        results("Dockerfile", text),
        vec![("GNT-DF-002".to_owned(), 3)]
    );
    let text = "ARG BASE=alpine\nARG TAG=3.19\nFROM ${BASE}:$TAG\nFROM $UNSET\nUSER app\n";
    assert!(results("Dockerfile", text).is_empty());
}

#[test]
fn github_script_injection() {
    let text = format!(
        "{WF_HEAD}      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea\n        with:\n          script: |\n            console.log(\"${{{{ github.event.comment.body }}}}\")\n"
    );
    let got = results(".github/workflows/ci.yml", &text);
    assert_eq!(got, vec![("GNT-GHA-001".to_owned(), 11)]);
}

#[test]
fn list_items_are_checked() {
    let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: a\n    spec:\n      hostIPC: true\n      containers: []\n";
    assert_eq!(
        results("list.yaml", text),
        vec![("GNT-K8S-003".to_owned(), 9)]
    );
}

#[test]
fn bad_input_is_an_error_with_a_position() {
    let e = scan_file(".github/workflows/x.yml", "jobs:\n  a: [\n")
        .expect("a workflow")
        .expect_err("invalid yaml");
    assert_eq!(e.path, ".github/workflows/x.yml");
    assert!(
        e.message
            .split(':')
            .take(2)
            .all(|p| p.trim().parse::<u32>().is_ok()),
        "{e:?}"
    );
    let e = scan_file(".github/workflows/x.yml", "name: x\n")
        .expect("a workflow")
        .expect_err("no jobs");
    assert!(e.message.contains("jobs"));
    let e = scan_file("Dockerfile", "FROM a:1\nFORM b\n")
        .expect("a dockerfile")
        .expect_err("bad instruction");
    assert!(e.message.starts_with("2:1:"), "{e:?}");
    let e = scan_file("k8s/x.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
        .expect("a manifest")
        .expect_err("invalid yaml");
    assert!(
        e.message
            .split(':')
            .next()
            .is_some_and(|l| l.parse::<u32>().is_ok())
    );
}

#[test]
fn files_that_are_not_checked_are_none() {
    assert!(scan_file("README.md", "# hi").is_none());
    assert!(scan_file("config/app.yaml", "port: 8080\n").is_none());
    assert!(
        scan_file(
            "charts/x/templates/d.yaml",
            "apiVersion: v1\nkind: {{ .Values.kind }\n"
        )
        .is_none()
    );
    assert!(scan_file("main.tf", "resource \"a\" \"b\" {}").is_none());
}

proptest! {
    #[test]
    fn dockerfile_parser_never_panics(s in "\\PC*") {
        let _ = parse_dockerfile(&s);
        let _ = scan_file("Dockerfile", &s);
    }

    #[test]
    fn dockerfile_like_input_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("FROM a:1".to_owned()), Just("RUN x \\".to_owned()), Just("# escape=`".to_owned()),
            Just("RUN <<EOF".to_owned()), Just("EOF".to_owned()), Just("USER root".to_owned()),
            Just("ENV A=\"b".to_owned()), Just("ADD http://x /y".to_owned()), Just("".to_owned()),
            "\\PC{0,12}",
        ], 0..12)) {
        let text = lines.join("\n");
        let _ = parse_dockerfile(&text);
        let _ = scan_file("Dockerfile", &text);
    }

    #[test]
    fn yaml_scanners_never_panic(s in "\\PC*") {
        let _ = scan_file(".github/workflows/a.yml", &s);
        let _ = scan_file("k8s/a.yaml", &format!("apiVersion: v1\nkind: Pod\n{s}"));
    }
}
