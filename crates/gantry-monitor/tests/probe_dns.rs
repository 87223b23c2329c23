//! dns probes against a UDP responder thread started here: every record
//! type with compressed names, NXDOMAIN, a stray datagram with another id,
//! a server that never answers, monitors built from gantry.yml, and the
//! response parser on garbage.

use std::net::UdpSocket;
use std::time::Duration;

use gantry_monitor::probe::dns::{self, parse_response};
use gantry_monitor::probe::{Monitor, ProbeResult, Prober, Target, from_config};
use proptest::prelude::*;

/// The question's name (labels joined) and where the question ends.
fn question(q: &[u8]) -> (String, usize) {
    let mut pos = 12;
    let mut labels = Vec::new();
    while q[pos] != 0 {
        let n = q[pos] as usize;
        labels.push(String::from_utf8_lossy(&q[pos + 1..pos + 1 + n]).into_owned());
        pos += 1 + n;
    }
    (labels.join("."), pos + 5)
}

fn name(n: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for l in n.split('.') {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
    out
}

/// An answer owned by the question's name (pointer to offset 12).
fn answer(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut a = vec![0xc0, 0x0c];
    a.extend_from_slice(&rtype.to_be_bytes());
    a.extend_from_slice(&[0, 1, 0, 0, 1, 44]); // IN, ttl 300
    a.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    a.extend_from_slice(rdata);
    a
}

fn reply(q: &[u8], qend: usize, rcode: u8, answers: &[Vec<u8>]) -> Vec<u8> {
    let mut r = q[..2].to_vec();
    r.extend_from_slice(&[0x81, 0x80 | rcode]);
    r.extend_from_slice(&[0, 1]);
    r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(&q[12..qend]);
    for a in answers {
        r.extend_from_slice(a);
    }
    r
}

/// Starts the responder; returns its `127.0.0.1:port`.
fn responder() -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let q = &buf[..n];
            let (qname, qend) = question(q);
            let qtype = u16::from_be_bytes([q[qend - 4], q[qend - 3]]);
            let resp = match (qname.as_str(), qtype) {
                ("example.test", 1) => reply(
                    q,
                    qend,
                    0,
                    &[answer(1, &[1, 2, 3, 4]), answer(1, &[5, 6, 7, 8])],
                ),
                ("example.test", 28) => {
                    let mut v6 = [0u8; 16];
                    v6[15] = 1;
                    reply(q, qend, 0, &[answer(28, &v6)])
                }
                // www.example.test: `example.test` starts at 12 + 4.
                ("www.example.test", 5) => reply(q, qend, 0, &[answer(5, &[0xc0, 16])]),
                ("example.test", 15) => {
                    let mut mx = vec![0, 10, 4];
                    mx.extend_from_slice(b"mail");
                    mx.extend_from_slice(&[0xc0, 12]);
                    reply(q, qend, 0, &[answer(15, &mx)])
                }
                ("example.test", 16) => {
                    let mut txt = vec![7];
                    txt.extend_from_slice(b"v=spf1 ");
                    txt.push(4);
                    txt.extend_from_slice(b"-all");
                    reply(q, qend, 0, &[answer(16, &txt)])
                }
                ("example.test", 2) => reply(q, qend, 0, &[answer(2, &name("ns1.example.test"))]),
                ("stray.test", 1) => {
                    let mut wrong = reply(q, qend, 0, &[answer(1, &[9, 9, 9, 9])]);
                    wrong[0] ^= 0xff;
                    let _ = sock.send_to(&wrong, peer);
                    reply(q, qend, 0, &[answer(1, &[1, 1, 1, 1])])
                }
                ("slow.test", _) => continue,
                _ => reply(q, qend, 3, &[]),
            };
            let _ = sock.send_to(&resp, peer);
        }
    });
    addr
}

fn monitor(server: &str, qname: &str, qtype: &str, conditions: &[&str]) -> Monitor {
    Monitor::new(
        "dns",
        Target::Dns {
            server: Some(server.into()),
            name: qname.into(),
            qtype: qtype.into(),
        },
    )
    .with_conditions(conditions)
    .unwrap()
}

async fn probe(m: Monitor) -> ProbeResult {
    Prober::new(m).unwrap().probe().await
}

#[tokio::test]
async fn every_record_type() {
    let server = responder();
    let r = probe(monitor(
        &server,
        "example.test",
        "A",
        &[
            "[DNS_RCODE] == NOERROR",
            "[BODY] == pat(*5.6.7.8*)",
            "[IP] == 1.2.3.4",
        ],
    ))
    .await;
    assert!(r.success, "{r:?}");
    assert_eq!(r.observation.body.as_deref(), Some("1.2.3.4\n5.6.7.8"));

    let cases = [
        ("example.test", "AAAA", "::1"),
        ("www.example.test", "CNAME", "example.test"),
        ("example.test", "MX", "10 mail.example.test"),
        ("example.test", "TXT", "v=spf1 -all"),
        ("example.test", "NS", "ns1.example.test"),
    ];
    for (qname, qtype, want) in cases {
        let cond = format!("[BODY] == {want}");
        let r = probe(monitor(&server, qname, qtype, &[&cond])).await;
        assert!(r.success, "{qtype}: {r:?}");
        assert_eq!(r.observation.dns_rcode.as_deref(), Some("NOERROR"));
    }
}

#[tokio::test]
async fn nxdomain_fails_the_default_condition() {
    let server = responder();
    let r = probe(monitor(&server, "missing.test", "A", &[])).await;
    assert!(!r.success);
    assert!(r.error.is_none());
    assert_eq!(r.reason(), "[DNS_RCODE] (NXDOMAIN) == NOERROR");
    let r = probe(monitor(
        &server,
        "missing.test",
        "A",
        &["[DNS_RCODE] == NXDOMAIN"],
    ))
    .await;
    assert!(r.success);
}

#[tokio::test]
async fn a_response_with_another_id_is_ignored() {
    let server = responder();
    let r = probe(monitor(&server, "stray.test", "A", &["[IP] == 1.1.1.1"])).await;
    assert!(r.success, "{r:?}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = responder();
    let mut m = monitor(&server, "slow.test", "A", &[]);
    m.timeout = Duration::from_millis(300);
    let r = probe(m).await;
    assert!(!r.success);
    assert_eq!(r.error.as_deref(), Some("dns query timed out after 300ms"));
}

#[tokio::test]
async fn monitors_from_gantry_yml() {
    let server = responder();
    let text = format!(
        "version: 1
monitors:
  - name: mail
    labels: {{zone: test}}
    dns:
      server: {server}
      query-name: example.test
      query-type: MX
    conditions:
      - \"[BODY] == 10 mail.example.test\"
      - \"[DNS_RCODE] == NOERROR\"
"
    );
    let config = gantry_config::load_str("gantry.yml", &text).unwrap();
    let monitors = from_config(&config).unwrap();
    assert_eq!(monitors[0].labels["zone"], "test");
    let r = probe(monitors[0].clone()).await;
    assert!(r.success, "{r:?}");
}

#[test]
fn query_and_parse_roundtrip_with_compression() {
    let q = dns::build_query(0xbeef, "www.example.test", 5).unwrap();
    let (qname, qend) = question(&q);
    assert_eq!(qname, "www.example.test");
    let resp = reply(&q, qend, 0, &[answer(5, &[0xc0, 16])]);
    let parsed = parse_response(&resp).unwrap();
    assert_eq!(parsed.id, 0xbeef);
    assert_eq!(parsed.rcode, 0);
    assert_eq!(parsed.answers.len(), 1);
    let a = &parsed.answers[0];
    assert_eq!(
        (a.name.as_str(), a.rtype.as_str(), a.ttl, a.data.as_str()),
        ("www.example.test", "CNAME", 300, "example.test")
    );
    // Every truncation is an error, never a panic.
    for n in 0..resp.len() {
        assert!(parse_response(&resp[..n]).is_err(), "{n}");
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_response(&bytes);
    }

    #[test]
    fn corrupted_responses_never_panic(i in 0usize..60, b in any::<u8>()) {
        let q = dns::build_query(1, "example.test", 15).unwrap();
        let (_, qend) = question(&q);
        let mut resp = reply(&q, qend, 0, &[answer(15, &[0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 12])]);
        let i = i % resp.len();
        resp[i] = b;
        let _ = parse_response(&resp);
    }
}
