//! Parsing of typed condition values: dates (ISO 8601 or epoch seconds), numbers, booleans,
//! base64 binaries and IPv4/IPv6 CIDR ranges. Used both at policy parse time (policy values,
//! where failure is an error) and at evaluation time (request values, where failure means "no
//! match"). All allocation-free.

use std::net::IpAddr;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s.iter()
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')),
    )
}

/// Parses a date as AWS accepts it in conditions: epoch seconds (`1767225600`), an ISO 8601
/// date (`2026-01-01`), or date-time with optional seconds, fraction and zone
/// (`2026-01-01T00:00:00Z`, `2026-01-01T01:00:00.5+01:00`). A date-time without a zone is UTC.
/// Returns milliseconds since the Unix epoch.
pub fn parse_date_millis(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    if let Some(secs) = digits(s) {
        return secs.checked_mul(1000);
    }
    if s.first() == Some(&b'-') {
        return digits(&s[1..]).and_then(|v| v.checked_mul(-1000));
    }
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(millis);
    }
    if rest[0] != b'T' && rest[0] != b't' {
        return None;
    }
    let rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let (hour, minute) = (digits(&rest[0..2])?, digits(&rest[3..5])?);
    let mut rest = &rest[5..];
    let mut second = 0;
    let mut frac_ms = 0;
    if rest.first() == Some(&b':') {
        if rest.len() < 3 {
            return None;
        }
        second = digits(&rest[1..3])?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &rest[1..1 + n];
            let mut ms = 0;
            for i in 0..3 {
                ms = ms * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
            }
            frac_ms = ms;
            rest = &rest[1 + n..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_min = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (h, m) = match tz {
                [a, b] => (digits(&[*a, *b])?, 0),
                [a, b, b':', c, d] | [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 60 + m;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    millis += ((hour * 60 + minute - offset_min) * 60 + second) * 1000 + frac_ms;
    Some(millis)
}

/// Parses a number as the numeric operators compare it (integers and decimals).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses `true` / `false` (any case).
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Decodes standard base64 (padding optional). Used only at parse time and for request
/// values of `BinaryEquals`.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2 || trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for chunk in trimmed.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | val(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                acc <<= 6;
                out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8]);
            }
            2 => {
                acc <<= 12;
                out.push((acc >> 16) as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// An IPv4 or IPv6 network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// Network address (host bits cleared).
    network: IpAddr,
    /// Prefix length in bits.
    prefix_bits: u8,
}

impl Cidr {
    /// Parses `203.0.113.0/24`, `2001:db8::/32` or a bare address (a /32 or /128).
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, bits) = match text.trim().split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix_bits = match bits {
            Some(b) => {
                let v: u8 = b.parse().ok()?;
                if v > max {
                    return None;
                }
                v
            }
            None => max,
        };
        Some(Cidr {
            network: mask(ip, prefix_bits),
            prefix_bits,
        })
    }

    /// True when `ip` lies inside this network (families must agree).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix_bits) == self.network
            }
            _ => false,
        }
    }
}

fn mask(ip: IpAddr, bits: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            IpAddr::V4((u32::from(v4) & m).into())
        }
        IpAddr::V6(v6) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            IpAddr::V6((u128::from(v6) & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date_millis("1970-01-01"), Some(0));
        assert_eq!(parse_date_millis("1767225600"), Some(1_767_225_600_000));
        assert_eq!(
            parse_date_millis("2026-01-01T00:00:00Z"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_date_millis("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_date_millis("2026-01-01T00:00:00.250Z"),
            Some(1_767_225_600_250)
        );
        assert_eq!(
            parse_date_millis("2026-01-01T00:00Z"),
            Some(1_767_225_600_000)
        );
        assert_eq!(parse_date_millis("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(parse_date_millis("2023-02-29"), None);
        assert_eq!(parse_date_millis("yesterday"), None);
        assert_eq!(parse_date_millis("2026-13-01"), None);
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.5".parse().unwrap()));
        assert!(!c.contains("203.0.114.5".parse().unwrap()));
        assert!(!c.contains("2001:db8::1".parse().unwrap()));
        let c6 = Cidr::parse("2001:DB8:1234:5678::/64").unwrap();
        assert!(c6.contains("2001:db8:1234:5678::9".parse().unwrap()));
        assert!(Cidr::parse("203.0.113.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn base64_and_numbers() {
        assert_eq!(decode_base64("QmluYXJ5VmFsdWU=").unwrap(), b"BinaryValue");
        assert_eq!(decode_base64("QQ").unwrap(), b"A");
        assert!(decode_base64("Q").is_none());
        assert!(decode_base64("@@@@").is_none());
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number("ten"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
    }
}
