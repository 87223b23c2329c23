//! Number conversions exactly as GitHub's expression engine does them:
//! string → number (`ParseNumber`, JavaScript `Number()`-like) and
//! number → string (.NET `G15`: 15 significant digits, `E+XX` exponents).

/// Converts a string to a number like GitHub: surrounding whitespace is
/// ignored, `''` is 0, decimal with optional sign/point/exponent, `0x` hex and
/// `0o` octal (32-bit, two's complement like .NET `Int32`), `Infinity` and
/// `-Infinity`; anything else is NaN.
pub(crate) fn parse_number(s: &str) -> f64 {
    let s = s.trim();
    if s.is_empty() {
        return 0.0;
    }
    if let Some(x) = parse_decimal(s) {
        return x;
    }
    let b = s.as_bytes();
    if b.len() > 2 && b[0] == b'0' && b[1] == b'x' && b[2..].iter().all(u8::is_ascii_hexdigit) {
        let digits = s[2..].trim_start_matches('0');
        if digits.len() > 8 {
            return f64::NAN;
        }
        return match u32::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16) {
            // .NET parses hex into Int32 with the sign bit: 0xffffffff is -1.
            Ok(u) => f64::from(u as i32),
            Err(_) => f64::NAN,
        };
    }
    if b.len() > 2
        && b[0] == b'0'
        && b[1] == b'o'
        && b[2..].iter().all(|c| (b'0'..=b'7').contains(c))
    {
        return match u64::from_str_radix(&s[2..], 8) {
            Ok(u) if u <= u64::from(u32::MAX) => f64::from(u as u32 as i32),
            _ => f64::NAN,
        };
    }
    match s {
        "Infinity" | "+Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => f64::NAN,
    }
}

/// `[+-]? digits? (. digits?)? ([eE] [+-]? digits)?` with at least one
/// mantissa digit (.NET `AllowLeadingSign | AllowDecimalPoint | AllowExponent`).
fn parse_decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut mantissa_digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    // Rust's parser accepts a superset of the syntax checked above ("5.", ".5",
    // "+1e3"); overflow gives ±infinity like .NET Core.
    s.parse::<f64>().ok()
}

/// Formats a number the way GitHub prints it (.NET `ToString("G15")`,
/// invariant culture): integers without a decimal point, at most 15
/// significant digits, scientific notation (`1E+15`, `1E-05`) when the
/// exponent is below -5 or above 14.
pub(crate) fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{:.14e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if exp > -5 && exp < 15 {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('E');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g15() {
        for (x, s) in [
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.333333333333333"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1.23456789012346E+15"),
            (1e15, "1E+15"),
            (1e21, "1E+21"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (1.5e-7, "1.5E-07"),
            (255.0, "255"),
            (1e100, "1E+100"),
        ] {
            assert_eq!(format_number(x), s, "{x}");
        }
    }

    #[test]
    fn parse() {
        assert_eq!(parse_number(" 12 "), 12.0);
        assert_eq!(parse_number(""), 0.0);
        assert_eq!(parse_number("0xff"), 255.0);
        assert_eq!(parse_number("0xffffffff"), -1.0);
        assert!(parse_number("0x1ffffffff").is_nan());
        assert_eq!(parse_number("0o17"), 15.0);
        assert_eq!(parse_number("-1.5e2"), -150.0);
        assert_eq!(parse_number(".5"), 0.5);
        assert!(parse_number("1,000").is_nan());
        assert!(parse_number("inf").is_nan());
        assert!(parse_number("abc").is_nan());
        assert_eq!(parse_number("-Infinity"), f64::NEG_INFINITY);
    }
}
