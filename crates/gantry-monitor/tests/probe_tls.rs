//! tls and https probes against a rustls server started here, with
//! certificates made by `openssl` at test time: expiry read from the chain
//! (checked against openssl's own `notAfter`), verification on and off,
//! expired and self-signed certificates.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use gantry_monitor::probe::der;
use gantry_monitor::probe::{HttpTarget, Monitor, ProbeResult, Prober, Target, samples};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SAN: &str = "subjectAltName=IP:127.0.0.1,DNS:localhost";

/// A self-signed EC certificate valid for `days`.
fn self_signed(dir: &Path, name: &str, days: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            days,
            "-subj",
            "/CN=localhost",
            "-addext",
            SAN,
        ],
    );
}

/// A leaf valid for 30 days signed by a CA valid for 2.
fn chain(dir: &Path) {
    self_signed(dir, "ca", "2");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), format!("{SAN}\n")).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "leaf.pem",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// A self-signed certificate valid only on 2020-01-01.
fn expired(dir: &Path) {
    let d = dir.display();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n\
             serial = {d}/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n\
             x509_extensions = e\n[p]\ncommonName = supplied\n[e]\n{SAN}\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "old.key",
            "-out",
            "old.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            "ca.cnf",
            "-keyfile",
            "old.key",
            "-in",
            "old.csr",
            "-out",
            "old.pem",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ],
    );
}

/// openssl's `notAfter` of a PEM file, in unix seconds (through GNU date).
fn not_after(dir: &Path, pem: &str) -> i64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "date -u +%s -d \"$(openssl x509 -in {pem} -noout -enddate | cut -d= -f2)\""
        ))
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn certs(dir: &Path, files: &[&str]) -> Vec<CertificateDer<'static>> {
    files
        .iter()
        .flat_map(|f| {
            CertificateDer::pem_file_iter(dir.join(f))
                .unwrap()
                .map(|c| c.unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Serves TLS on a loopback port; each connection that sends an HTTP
/// request gets `200 OK` with body `secure`. Returns the port.
async fn serve(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn key(dir: &Path, file: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(dir.join(file)).unwrap()
}

fn tls(port: u16, verify: bool, conditions: &[&str]) -> Monitor {
    Monitor::new(
        "cert",
        Target::Tls {
            host: "127.0.0.1".into(),
            port,
            verify,
        },
    )
    .with_conditions(conditions)
    .unwrap()
}

fn https(port: u16, verify: bool, conditions: &[&str]) -> Monitor {
    Monitor::new(
        "site",
        Target::Http(HttpTarget {
            url: format!("https://127.0.0.1:{port}/"),
            method: "GET".into(),
            headers: Default::default(),
            body: None,
            follow_redirects: true,
            tls_verify: verify,
        }),
    )
    .with_conditions(conditions)
    .unwrap()
}

async fn probe(m: Monitor) -> ProbeResult {
    Prober::new(m).unwrap().probe().await
}

#[test]
fn der_reader_matches_openssl() {
    let dir = tempfile::tempdir().unwrap();
    self_signed(dir.path(), "a", "10");
    expired(dir.path());
    for pem in ["a.pem", "old.pem"] {
        let c = &certs(dir.path(), &[pem])[0];
        let v = der::validity(c.as_ref()).unwrap();
        assert_eq!(v.not_after, not_after(dir.path(), pem), "{pem}");
        assert!(v.not_before < v.not_after);
    }
    let c = &certs(dir.path(), &["old.pem"])[0];
    assert_eq!(
        der::validity(c.as_ref()).unwrap(),
        der::Validity {
            not_before: 1_577_836_800,
            not_after: 1_577_923_200
        }
    );
    // Every truncation of a real certificate is an error, never a panic.
    for n in 0..c.as_ref().len() {
        let _ = der::validity(&c.as_ref()[..n]);
    }
}

#[tokio::test]
async fn tls_expiry_is_the_earliest_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    chain(dir.path());
    let port = serve(
        certs(dir.path(), &["leaf.pem", "ca.pem"]),
        key(dir.path(), "leaf.key"),
    )
    .await;
    let r = probe(tls(
        port,
        false,
        &["[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 24h"],
    ))
    .await;
    assert!(r.success, "{r:?}");
    // The CA (2 days) expires before the leaf (30 days).
    assert_eq!(r.cert_not_after, Some(not_after(dir.path(), "ca.pem")));
    assert!(not_after(dir.path(), "ca.pem") < not_after(dir.path(), "leaf.pem"));
    let r = probe(tls(port, false, &["[CERTIFICATE_EXPIRATION] > 7d"])).await;
    assert!(!r.success);
    assert!(
        r.conditions[0]
            .result
            .starts_with("[CERTIFICATE_EXPIRATION] (1"),
        "{:?}",
        r.conditions
    );
    let m = tls(port, false, &[]);
    let s = samples(&m, &r, 5);
    let expiry = s
        .iter()
        .find(|(l, _, _)| l.metric_name() == Some("probe_ssl_earliest_cert_expiry"))
        .expect("expiry sample");
    assert_eq!(expiry.2, not_after(dir.path(), "ca.pem") as f64);
    assert_eq!(expiry.0.get("type"), Some("tls"));
}

#[tokio::test]
async fn verification_rejects_an_unknown_issuer() {
    let dir = tempfile::tempdir().unwrap();
    self_signed(dir.path(), "self", "5");
    let port = serve(
        certs(dir.path(), &["self.pem"]),
        key(dir.path(), "self.key"),
    )
    .await;
    let r = probe(tls(port, true, &["[CONNECTED] == true"])).await;
    assert!(!r.success);
    assert!(
        r.observation.connected,
        "tcp connected; the handshake failed"
    );
    let e = r.error.unwrap();
    assert!(
        e.starts_with(&format!(
            "tls handshake with 127.0.0.1:{port} failed: invalid peer certificate"
        )),
        "{e}"
    );
    assert_eq!(r.cert_not_after, None);
}

#[tokio::test]
async fn expired_certificate_fails_with_or_without_verification() {
    let dir = tempfile::tempdir().unwrap();
    expired(dir.path());
    let port = serve(certs(dir.path(), &["old.pem"]), key(dir.path(), "old.key")).await;
    let r = probe(tls(port, true, &["[CERTIFICATE_EXPIRATION] > 48h"])).await;
    assert!(!r.success);
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("invalid peer certificate"),
        "{:?}",
        r.error
    );
    // Without verification the handshake works and the condition fails.
    let r = probe(tls(port, false, &["[CERTIFICATE_EXPIRATION] > 48h"])).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(!r.success);
    assert_eq!(r.cert_not_after, Some(1_577_923_200));
    assert!(r.observation.cert_expiry_ms.unwrap() < 0);
    assert!(
        r.conditions[0]
            .result
            .starts_with("[CERTIFICATE_EXPIRATION] (-")
    );
}

#[tokio::test]
async fn https_with_and_without_verification() {
    let dir = tempfile::tempdir().unwrap();
    chain(dir.path());
    let port = serve(
        certs(dir.path(), &["leaf.pem", "ca.pem"]),
        key(dir.path(), "leaf.key"),
    )
    .await;
    let r = probe(https(
        port,
        false,
        &[
            "[STATUS] == 200",
            "[BODY] == secure",
            "[CERTIFICATE_EXPIRATION] > 20d",
        ],
    ))
    .await;
    assert!(r.success, "{r:?}");
    // reqwest exposes the leaf only.
    assert_eq!(r.cert_not_after, Some(not_after(dir.path(), "leaf.pem")));
    let m = https(port, false, &[]);
    let s = samples(&m, &r, 1);
    assert!(s.iter().any(
        |(l, _, v)| l.metric_name() == Some("probe_ssl_earliest_cert_expiry")
            && *v == not_after(dir.path(), "leaf.pem") as f64
    ));

    let r = probe(https(port, true, &["[STATUS] == 200"])).await;
    assert!(!r.success);
    let e = r.error.unwrap();
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert_eq!(r.observation.status, None);
}

#[tokio::test]
async fn a_server_that_never_handshakes_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let mut m = tls(port, false, &[]);
    m.timeout = std::time::Duration::from_millis(300);
    let r = probe(m).await;
    assert!(!r.success);
    assert_eq!(
        r.error.as_deref(),
        Some("tls handshake timed out after 300ms")
    );
    assert_eq!(r.reason(), "tls handshake timed out after 300ms");
}
