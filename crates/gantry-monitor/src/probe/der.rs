//! Just enough DER to read an X.509 certificate's validity period:
//! `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
//! OPTIONAL, serialNumber, signature, issuer, validity SEQUENCE { notBefore,
//! notAfter }, ... }, ... }` with UTCTime or GeneralizedTime values.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid certificate: {0}")]
pub struct DerError(&'static str);

/// A certificate's validity, in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const VERSION_TAG: u8 = 0xa0;

/// One TLV: its tag, its contents and what follows it.
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError(
            "multi-byte tags are not used in a certificate's header",
        ));
    }
    let (&first, rest) = rest.split_first().ok_or(DerError("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err(DerError("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(DerError("truncated value"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect<'a>(
    input: &'a [u8],
    want: u8,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), DerError> {
    let (tag, value, rest) = tlv(input)?;
    if tag != want {
        return Err(DerError(what));
    }
    Ok((value, rest))
}

/// Reads the validity period of a DER-encoded certificate.
pub fn validity(cert: &[u8]) -> Result<Validity, DerError> {
    let (certificate, _) = expect(cert, SEQUENCE, "expected a sequence")?;
    let (tbs, _) = expect(certificate, SEQUENCE, "expected tbsCertificate")?;
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == VERSION_TAG {
        rest = after;
    }
    // serialNumber, signature algorithm, issuer.
    for _ in 0..3 {
        rest = tlv(rest)?.2;
    }
    let (validity, _) = expect(rest, SEQUENCE, "expected the validity sequence")?;
    let (tag, nb, after) = tlv(validity)?;
    let not_before = time(tag, nb)?;
    let (tag, na, _) = tlv(after)?;
    let not_after = time(tag, na)?;
    Ok(Validity {
        not_before,
        not_after,
    })
}

fn digits(b: &[u8]) -> Result<i64, DerError> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(DerError("bad digits in a time"));
    }
    Ok(b.iter().fold(0i64, |acc, d| acc * 10 + (d - b'0') as i64))
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`, to unix seconds.
fn time(tag: u8, v: &[u8]) -> Result<i64, DerError> {
    let (year, rest) = match tag {
        UTC_TIME if v.len() == 13 => {
            let yy = digits(&v[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &v[2..])
        }
        GENERALIZED_TIME if v.len() == 15 => (digits(&v[..4])?, &v[4..]),
        UTC_TIME | GENERALIZED_TIME => return Err(DerError("unsupported time format")),
        _ => return Err(DerError("expected a time")),
    };
    if rest[10] != b'Z' {
        return Err(DerError("time is not in UTC"));
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let (h, m, s) = (
        digits(&rest[4..6])?,
        digits(&rest[6..8])?,
        digits(&rest[8..10])?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return Err(DerError("time out of range"));
    }
    Ok(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn times() {
        assert_eq!(time(UTC_TIME, b"700101000000Z"), Ok(0));
        assert_eq!(
            time(GENERALIZED_TIME, b"20380119031408Z"),
            Ok(2_147_483_648)
        );
        assert_eq!(time(UTC_TIME, b"491231235959Z"), Ok(2_524_607_999));
        assert!(time(UTC_TIME, b"7001010000Z").is_err());
        assert!(time(UTC_TIME, b"701301000000Z").is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01",
        ] {
            assert!(validity(input).is_err());
        }
    }
}
