//! A minimal DNS client over UDP (RFC 1035): one question with recursion
//! desired, answers of type A, AAAA, CNAME, MX, TXT and NS decoded (names
//! with compression pointers), and the response code.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::net::UdpSocket;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    #[error("invalid dns name `{0}`")]
    BadName(String),
    #[error("unsupported record type `{0}`")]
    BadType(String),
    #[error("malformed dns response: {0}")]
    Malformed(&'static str),
    #[error("dns i/o: {0}")]
    Io(String),
    #[error("dns query timed out after {0:?}")]
    Timeout(Duration),
}

/// Record types by name and number.
pub const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
];

pub fn type_code(name: &str) -> Option<u16> {
    TYPES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

pub fn type_name(code: u16) -> Option<&'static str> {
    TYPES.iter().find(|(_, c)| *c == code).map(|(n, _)| *n)
}

/// The RCODE's conventional name.
pub fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        other => format!("RCODE{other}"),
    }
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    /// `A`, `AAAA`, ... or `TYPE<n>` for others.
    pub rtype: String,
    pub ttl: u32,
    /// The data as text: an address, a name, `10 mail.example.com` for MX,
    /// the joined strings for TXT; hex for other types.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub id: u16,
    pub rcode: u8,
    pub truncated: bool,
    pub answers: Vec<Record>,
}

/// Encodes a query for `name` and type `qtype`, recursion desired.
pub fn build_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00]); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question
    encode_name(name, &mut out)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&[0, 1]); // IN
    Ok(out)
}

fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), DnsError> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.len() > 253 {
        return Err(DnsError::BadName(name.into()));
    }
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 || !label.is_ascii() {
                return Err(DnsError::BadName(name.into()));
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    Ok(())
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DnsError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.msg.len())
            .ok_or(DnsError::Malformed("truncated message"))?;
        let s = &self.msg[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A possibly compressed name starting at the cursor.
    fn name(&mut self) -> Result<String, DnsError> {
        let (name, end) = read_name(self.msg, self.pos)?;
        self.pos = end;
        Ok(name)
    }
}

/// Reads the name at `start`, following compression pointers (each must
/// point backwards, which also bounds the walk); returns the name and the
/// offset just after it in the original position.
fn read_name(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut pos = start;
    let mut end = None;
    let mut limit = start;
    let mut total = 0usize;
    loop {
        let &len = msg
            .get(pos)
            .ok_or(DnsError::Malformed("name runs past the end"))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                end.get_or_insert(pos + 1);
                break;
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + len as usize)
                    .ok_or(DnsError::Malformed("label runs past the end"))?;
                total += label.len() + 1;
                if total > 255 {
                    return Err(DnsError::Malformed("name longer than 255 bytes"));
                }
                labels.push(String::from_utf8_lossy(label).into_owned());
                pos += 1 + len as usize;
            }
            0xc0 => {
                let &low = msg
                    .get(pos + 1)
                    .ok_or(DnsError::Malformed("truncated pointer"))?;
                let target = (((len & 0x3f) as usize) << 8) | low as usize;
                end.get_or_insert(pos + 2);
                if target >= limit {
                    return Err(DnsError::Malformed(
                        "compression pointer does not point back",
                    ));
                }
                limit = target;
                pos = target;
            }
            _ => return Err(DnsError::Malformed("reserved label type")),
        }
    }
    // `end` is set on every path that leaves the loop.
    let end = end.unwrap_or(pos);
    Ok((labels.join("."), end))
}

/// Decodes a response message.
pub fn parse_response(msg: &[u8]) -> Result<Response, DnsError> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err(DnsError::Malformed("not a response"));
    }
    let qd = r.u16()?;
    let an = r.u16()?;
    r.u16()?; // authority
    r.u16()?; // additional
    for _ in 0..qd {
        r.name()?;
        r.take(4)?;
    }
    let mut answers = Vec::with_capacity(an.min(64) as usize);
    for _ in 0..an {
        let name = r.name()?;
        let rtype = r.u16()?;
        let _class = r.u16()?;
        let ttl = r.u32()?;
        let rdlen = r.u16()? as usize;
        let rdata_start = r.pos;
        let rdata = r.take(rdlen)?;
        let data = match rtype {
            1 if rdlen == 4 => Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
            28 if rdlen == 16 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(rdata);
                Ipv6Addr::from(b).to_string()
            }
            1 | 28 => return Err(DnsError::Malformed("bad address length")),
            2 | 5 => read_name(msg, rdata_start)?.0,
            15 => {
                if rdlen < 3 {
                    return Err(DnsError::Malformed("short MX record"));
                }
                let pref = u16::from_be_bytes([rdata[0], rdata[1]]);
                format!("{pref} {}", read_name(msg, rdata_start + 2)?.0)
            }
            16 => {
                let mut s = String::new();
                let mut i = 0;
                while i < rdata.len() {
                    let n = rdata[i] as usize;
                    let part = rdata
                        .get(i + 1..i + 1 + n)
                        .ok_or(DnsError::Malformed("TXT string runs past its record"))?;
                    s.push_str(&String::from_utf8_lossy(part));
                    i += 1 + n;
                }
                s
            }
            _ => rdata.iter().map(|b| format!("{b:02x}")).collect(),
        };
        answers.push(Record {
            name,
            rtype: type_name(rtype).map_or_else(|| format!("TYPE{rtype}"), str::to_string),
            ttl,
            data,
        });
    }
    Ok(Response {
        id,
        rcode: (flags & 0x000f) as u8,
        truncated: flags & 0x0200 != 0,
        answers,
    })
}

static NEXT_ID: AtomicU16 = AtomicU16::new(0);

fn query_id() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos as u16) ^ NEXT_ID.fetch_add(0x9e37, Ordering::Relaxed)
}

/// Sends one query to `server` and waits for the matching response,
/// ignoring datagrams from elsewhere or with another id.
pub async fn query(
    server: SocketAddr,
    name: &str,
    qtype: &str,
    timeout: Duration,
) -> Result<Response, DnsError> {
    let code = type_code(qtype).ok_or_else(|| DnsError::BadType(qtype.into()))?;
    let id = query_id();
    let msg = build_query(id, name, code)?;
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let io = |e: std::io::Error| DnsError::Io(e.to_string());
    let exchange = async {
        let sock = UdpSocket::bind(bind).await.map_err(io)?;
        sock.connect(server).await.map_err(io)?;
        sock.send(&msg).await.map_err(io)?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = sock.recv(&mut buf).await.map_err(io)?;
            match parse_response(&buf[..n]) {
                Ok(resp) if resp.id == id => return Ok(resp),
                // A stray or late datagram: keep waiting for ours.
                Ok(_) => continue,
                Err(e) if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id => return Err(e),
                Err(_) => continue,
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| DnsError::Timeout(timeout))?
}

/// The first `nameserver` of `/etc/resolv.conf`, for dns monitors without
/// a `server`.
pub fn system_nameserver() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split_whitespace();
        (parts.next() == Some("nameserver"))
            .then(|| parts.next())
            .flatten()
            .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        let q = build_query(0x1234, "a.bc.", 1).unwrap();
        assert_eq!(
            q,
            [
                0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 2, b'b', b'c', 0, 0, 1, 0, 1
            ]
        );
        assert!(build_query(1, "a..b", 1).is_err());
        assert!(build_query(1, &"x".repeat(64), 1).is_err());
    }

    #[test]
    fn pointer_loops_are_rejected() {
        // A name that points at itself.
        let msg = [0xc0, 0x00];
        assert!(read_name(&msg, 0).is_err());
        let msg = [1, b'a', 0xc0, 0x02];
        assert!(read_name(&msg, 0).is_err());
    }
}
