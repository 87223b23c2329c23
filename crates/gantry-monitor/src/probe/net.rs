//! The probers: http(s) through reqwest, tcp connect, a TLS handshake with
//! rustls, and dns over UDP.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;
use tokio::net::TcpStream;

use super::{HttpTarget, Measured, der, dns};

/// Most of a response body kept for conditions.
const MAX_BODY: usize = 1 << 20;

/// An error and its causes, `outer: inner: ...`, without repeats.
fn chain(e: &dyn StdError) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn with_expiry(m: &mut Measured, not_after: i64) {
    m.cert_not_after = Some(not_after);
    m.observation.cert_expiry_ms = Some((not_after - now_secs()).saturating_mul(1000));
}

pub(super) fn http_client(h: &HttpTarget, timeout: Duration) -> Result<reqwest::Client, String> {
    let redirect = if h.follow_redirects {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .user_agent(concat!("Gantry/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect)
        .timeout(timeout)
        .tls_danger_accept_invalid_certs(!h.tls_verify)
        .tls_info(true)
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the http client: {}", chain(&e)))
}

pub(super) async fn http(client: &reqwest::Client, h: &HttpTarget, timeout: Duration) -> Measured {
    let mut m = Measured::default();
    let method = match reqwest::Method::from_bytes(h.method.as_bytes()) {
        Ok(method) => method,
        Err(_) => {
            m.error = Some(format!("invalid http method `{}`", h.method));
            return m;
        }
    };
    let mut req = client.request(method, &h.url);
    for (k, v) in &h.headers {
        req = req.header(k, v);
    }
    if let Some(body) = &h.body {
        req = req.body(body.clone());
    }
    let exchange = async {
        let mut resp = req.send().await?;
        let status = resp.status().as_u16();
        let ip = resp.remote_addr().map(|a| a.ip().to_string());
        let cert = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate())
            .map(<[u8]>::to_vec);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            let room = MAX_BODY.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, ip, cert, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => m.error = Some(format!("timed out after {}", secs(timeout))),
        Ok(Err(e)) if e.is_timeout() => {
            m.error = Some(format!("timed out after {}", secs(timeout)))
        }
        Ok(Err(e)) => m.error = Some(chain(&e)),
        Ok(Ok((status, ip, cert, body))) => {
            m.observation.connected = true;
            m.observation.status = Some(status);
            m.observation.ip = ip;
            m.observation.body = Some(String::from_utf8_lossy(&body).into_owned());
            if let Some(cert) = cert {
                match der::validity(&cert) {
                    Ok(v) => with_expiry(&mut m, v.not_after),
                    Err(e) => m.error = Some(e.to_string()),
                }
            }
        }
    }
    m
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Err(_) => Err(format!(
            "connecting to {host}:{port} timed out after {}",
            secs(timeout)
        )),
        Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}")),
        Ok(Ok(s)) => Ok(s),
    }
}

pub(super) async fn tcp(host: &str, port: u16, timeout: Duration) -> Measured {
    let mut m = Measured::default();
    match connect(host, port, timeout).await {
        Ok(s) => {
            m.observation.connected = true;
            m.observation.ip = s.peer_addr().ok().map(|a| a.ip().to_string());
        }
        Err(e) => m.error = Some(e),
    }
    m
}

/// Accepts any certificate but still checks handshake signatures, for
/// `tls-verify: false`.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(verify: bool) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls setup: {e}"))?;
    let config = if verify {
        builder
            .with_platform_verifier()
            .map_err(|e| format!("tls setup: {e}"))?
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    };
    Ok(config)
}

pub(super) async fn tls(host: &str, port: u16, verify: bool, timeout: Duration) -> Measured {
    let mut m = Measured::default();
    let config = match tls_config(verify) {
        Ok(c) => c,
        Err(e) => {
            m.error = Some(e);
            return m;
        }
    };
    let name = match host.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(e) => {
                m.error = Some(format!("invalid tls server name `{host}`: {e}"));
                return m;
            }
        },
    };
    let work = async {
        let tcp = connect(host, port, timeout).await.map_err(|e| (false, e))?;
        let ip = tcp.peer_addr().ok().map(|a| a.ip().to_string());
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = connector.connect(name, tcp).await.map_err(|e| {
            let e = format!("tls handshake with {host}:{port} failed: {}", chain(&e));
            (true, e)
        })?;
        let certs: Vec<Vec<u8>> = stream
            .get_ref()
            .1
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect();
        Ok::<_, (bool, String)>((ip, certs))
    };
    match tokio::time::timeout(timeout, work).await {
        Err(_) => m.error = Some(format!("tls handshake timed out after {}", secs(timeout))),
        Ok(Err((connected, e))) => {
            m.observation.connected = connected;
            m.error = Some(e);
        }
        Ok(Ok((ip, certs))) => {
            m.observation.connected = true;
            m.observation.ip = ip;
            let mut earliest: Option<i64> = None;
            for c in &certs {
                match der::validity(c) {
                    Ok(v) => earliest = Some(earliest.map_or(v.not_after, |e| e.min(v.not_after))),
                    Err(e) => m.error = Some(e.to_string()),
                }
            }
            match earliest {
                Some(t) => with_expiry(&mut m, t),
                None if m.error.is_none() => {
                    m.error = Some("the server sent no certificate".into())
                }
                None => {}
            }
        }
    }
    m
}

/// `host`, `host:port`, `[v6]:port` to a socket address (port 53 by
/// default), resolving names.
async fn dns_server(server: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = server.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = server.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    let with_port = if server.contains(':') {
        server.to_string()
    } else {
        format!("{server}:53")
    };
    tokio::net::lookup_host(&with_port)
        .await
        .map_err(|e| format!("cannot resolve dns server `{server}`: {e}"))?
        .next()
        .ok_or_else(|| format!("dns server `{server}` has no address"))
}

pub(super) async fn dns(
    server: Option<&str>,
    name: &str,
    qtype: &str,
    timeout: Duration,
) -> Measured {
    let mut m = Measured::default();
    let addr = match server {
        Some(s) => dns_server(s).await,
        None => dns::system_nameserver()
            .ok_or_else(|| "no dns `server` set and no nameserver in /etc/resolv.conf".to_string()),
    };
    let addr = match addr {
        Ok(a) => a,
        Err(e) => {
            m.error = Some(e);
            return m;
        }
    };
    match dns::query(addr, name, qtype, timeout).await {
        Err(e) => m.error = Some(e.to_string()),
        Ok(resp) => {
            m.observation.connected = true;
            m.observation.dns_rcode = Some(dns::rcode_name(resp.rcode));
            let wanted: Vec<&dns::Record> =
                resp.answers.iter().filter(|r| r.rtype == qtype).collect();
            m.observation.ip = resp
                .answers
                .iter()
                .find(|r| r.rtype == "A" || r.rtype == "AAAA")
                .map(|r| r.data.clone());
            m.observation.body = Some(
                wanted
                    .iter()
                    .map(|r| r.data.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    m
}
