//! IP network functions: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Def, FuncError, FuncHost, Pt, int, p, r_list_string, r_string, s};
use crate::value::Value;

pub(super) const DEFS: &[Def] = &[
    Def::new(
        "cidrhost",
        &[p("prefix", Pt::String), p("hostnum", Pt::Number)],
        r_string,
        cidrhost,
    ),
    Def::new(
        "cidrnetmask",
        &[p("prefix", Pt::String)],
        r_string,
        cidrnetmask,
    ),
    Def::new(
        "cidrsubnet",
        &[
            p("prefix", Pt::String),
            p("newbits", Pt::Number),
            p("netnum", Pt::Number),
        ],
        r_string,
        cidrsubnet,
    ),
    Def::new(
        "cidrsubnets",
        &[p("prefix", Pt::String)],
        r_list_string,
        cidrsubnets,
    )
    .var(p("newbits", Pt::Number)),
];

/// A parsed network: its base address as a number, its prefix length and
/// whether it is IPv4 (32 bits) or IPv6 (128 bits).
#[derive(Debug, Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    v4: bool,
}

impl Net {
    fn bits(&self) -> u32 {
        if self.v4 { 32 } else { 128 }
    }

    /// The number of addresses in the network, as a power of two exponent.
    fn host_bits(&self) -> u32 {
        self.bits() - self.len
    }

    fn mask(bits: u32, len: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            (all >> (bits - len) << (bits - len)) & all
        }
    }

    fn base(&self) -> Net {
        Net {
            addr: self.addr & Net::mask(self.bits(), self.len),
            ..*self
        }
    }

    fn addr_string(&self, a: u128) -> String {
        if self.v4 {
            Ipv4Addr::from(a as u32).to_string()
        } else {
            Ipv6Addr::from(a).to_string()
        }
    }

    fn cidr_string(&self) -> String {
        format!("{}/{}", self.addr_string(self.addr), self.len)
    }
}

/// Terraform reads IPv4 octets with leading zeros as decimal numbers (a
/// historical accident it keeps): `010.001.0.0` is `10.1.0.0`.
fn legacy_ipv4(addr: &str) -> Option<String> {
    let octets: Vec<&str> = addr.split('.').collect();
    if octets.len() != 4
        || !octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(
        octets
            .iter()
            .map(|o| {
                let t = o.trim_start_matches('0');
                if t.is_empty() { "0" } else { t }
            })
            .collect::<Vec<_>>()
            .join("."),
    )
}

fn parse_cidr(text: &str) -> Result<Net, FuncError> {
    let bad = || {
        FuncError::arg(
            0,
            "prefix",
            format!("invalid CIDR expression: invalid CIDR address: {text}"),
        )
    };
    let (addr, len) = text.split_once('/').ok_or_else(bad)?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return Err(bad());
    }
    let len: u32 = len.parse().map_err(|_| bad())?;
    let ip: IpAddr = legacy_ipv4(addr)
        .unwrap_or_else(|| addr.to_owned())
        .parse()
        .map_err(|_| bad())?;
    let net = match ip {
        IpAddr::V4(a) => Net {
            addr: u32::from(a) as u128,
            len,
            v4: true,
        },
        IpAddr::V6(a) => Net {
            addr: u128::from(a),
            len,
            v4: false,
        },
    };
    if len > net.bits() {
        return Err(bad());
    }
    Ok(net.base())
}

fn cidrhost(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let net = parse_cidr(s(&args[0]))?;
    let hostnum = int(&args[1], 1, "hostnum")?;
    let hb = net.host_bits();
    let size: Option<u128> = if hb >= 128 { None } else { Some(1u128 << hb) };
    let too_big = || {
        FuncError::arg(
            1,
            "hostnum",
            format!(
                "prefix of {} bits cannot accommodate a host numbered {hostnum}",
                net.len
            ),
        )
    };
    let offset: u128 = if hostnum >= 0 {
        let h = hostnum as u128;
        if size.is_some_and(|sz| h >= sz) {
            return Err(too_big());
        }
        h
    } else {
        let back = hostnum.unsigned_abs() as u128;
        match size {
            Some(sz) if back > sz => return Err(too_big()),
            Some(sz) => sz - back,
            None => u128::MAX - back + 1,
        }
    };
    Ok(Value::String(net.addr_string(net.addr | offset)))
}

fn cidrnetmask(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let text = s(&args[0]);
    let net = parse_cidr(text)?;
    if !net.v4 {
        return Err(FuncError::arg(
            0,
            "prefix",
            format!("IPv6 addresses cannot have a netmask: {text}"),
        ));
    }
    Ok(Value::String(net.addr_string(Net::mask(32, net.len))))
}

fn cidrsubnet(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let net = parse_cidr(s(&args[0]))?;
    let newbits = int(&args[1], 1, "newbits")?;
    let netnum = int(&args[2], 2, "netnum")?;
    if newbits < 0 {
        return Err(FuncError::arg(
            1,
            "newbits",
            "must extend prefix by at least 0 bits",
        ));
    }
    let newlen = net.len as i64 + newbits;
    if newlen > net.bits() as i64 {
        return Err(FuncError::arg(
            1,
            "newbits",
            format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                net.len
            ),
        ));
    }
    let newlen = newlen as u32;
    if netnum < 0 || (newbits < 64 && netnum as u128 >= (1u128 << newbits)) {
        return Err(FuncError::arg(
            2,
            "netnum",
            format!(
                "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
            ),
        ));
    }
    let shift = net.bits() - newlen;
    let offset = if shift >= 128 {
        0
    } else {
        (netnum as u128) << shift
    };
    let sub = Net {
        addr: net.addr | offset,
        len: newlen,
        v4: net.v4,
    };
    Ok(Value::String(sub.cidr_string()))
}

/// The last address of a network.
fn last_addr(n: &Net) -> u128 {
    let hb = n.host_bits();
    let span = if hb >= 128 {
        u128::MAX
    } else {
        (1u128 << hb) - 1
    };
    n.addr | span
}

fn wrap(n: &Net, a: u128) -> u128 {
    if n.v4 { a & 0xFFFF_FFFF } else { a }
}

fn cidrsubnets(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let net = parse_cidr(s(&args[0]))?;
    if args.len() < 2 {
        return Ok(Value::List(Vec::new()));
    }
    let mut lengths = Vec::new();
    for (i, a) in args.iter().enumerate().skip(1) {
        let nb = int(a, i, "newbits")?;
        if nb < 1 {
            return Err(FuncError::arg(
                i,
                "newbits",
                "must extend prefix by at least one bit",
            ));
        }
        if nb > 32 {
            return Err(FuncError::arg(
                i,
                "newbits",
                "may not extend prefix by more than 32 bits",
            ));
        }
        let len = net.len as i64 + nb;
        if len > net.bits() as i64 {
            return Err(FuncError::arg(
                i,
                "newbits",
                format!(
                    "would extend prefix to {len} bits, which is too long for an {} address",
                    if net.v4 { "IPv4" } else { "IPv6" }
                ),
            ));
        }
        lengths.push(len as u32);
    }
    // Start from the subnet just before the base address, then take each
    // next subnet of the requested size.
    let first = lengths[0];
    let mut current = Net {
        addr: wrap(&net, net.addr.wrapping_sub(1)),
        len: first,
        v4: net.v4,
    }
    .base();
    let parent_last = last_addr(&net);
    let mut out = Vec::new();
    for (k, &len) in lengths.iter().enumerate() {
        let aligned = Net {
            addr: last_addr(&current),
            len,
            v4: net.v4,
        }
        .base();
        let next_addr = wrap(&net, last_addr(&aligned).wrapping_add(1));
        let next = Net {
            addr: next_addr,
            len,
            v4: net.v4,
        }
        .base();
        let rolled = next_addr == 0 && k > 0;
        if rolled
            || next.addr < net.addr
            || next.addr > parent_last
            || last_addr(&next) > parent_last
        {
            return Err(FuncError::arg(
                k + 1,
                "newbits",
                format!(
                    "not enough remaining address space for a subnet with a prefix of {len} bits after {}",
                    current.cidr_string()
                ),
            ));
        }
        current = next;
        out.push(Value::String(current.cidr_string()));
    }
    Ok(Value::List(out))
}
