//! Version ordering per ecosystem, as OSV's ECOSYSTEM and SEMVER ranges
//! need it. A version that does not parse under its scheme compares as
//! `None` (and so never falls inside a range; it can still match a record's
//! explicit `versions` list).

use std::cmp::Ordering;
use std::str::FromStr;

use crate::finding::Ecosystem;

/// How versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// SemVer 2.0 precedence, leniently read: an optional `v`/`=` prefix,
    /// missing minor/patch as 0, build metadata ignored. OSV SEMVER ranges,
    /// npm and Go (`v1.2.3`, `+incompatible`, pseudo-versions, which are
    /// SemVer pre-releases of the next patch).
    Semver,
    /// crates.io: strict SemVer (the `semver` crate), build metadata ignored.
    Cargo,
    /// PyPI: PEP 440 (epochs, pre/post/dev releases, local versions).
    Pep440,
    /// RubyGems: `Gem::Version` (a letter makes a pre-release).
    RubyGems,
    /// Packagist: Composer's normalisation, then PHP `version_compare`.
    Packagist,
    /// Maven: `ComparableVersion` (qualifiers alpha < beta < milestone <
    /// rc < snapshot < release < sp).
    Maven,
}

impl Scheme {
    /// The ordering of an ecosystem's own versions (OSV `ECOSYSTEM` ranges).
    pub fn of(ecosystem: Ecosystem) -> Scheme {
        match ecosystem {
            Ecosystem::CratesIo => Scheme::Cargo,
            Ecosystem::Npm | Ecosystem::Go => Scheme::Semver,
            Ecosystem::PyPI => Scheme::Pep440,
            Ecosystem::RubyGems => Scheme::RubyGems,
            Ecosystem::Packagist => Scheme::Packagist,
            Ecosystem::Maven => Scheme::Maven,
        }
    }

    pub fn parse(self, s: &str) -> Option<Version> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match self {
            Scheme::Semver => parse_semver(s).map(Version::Semver),
            Scheme::Cargo => {
                let mut v = semver::Version::parse(s).ok()?;
                v.build = semver::BuildMetadata::EMPTY;
                Some(Version::Cargo(v))
            }
            Scheme::Pep440 => pep440_rs::Version::from_str(s).ok().map(Version::Pep440),
            Scheme::RubyGems => parse_ruby(s).map(Version::Ruby),
            Scheme::Packagist => parse_composer(s).map(Version::Composer),
            Scheme::Maven => Some(Version::Maven(parse_maven(s))),
        }
    }

    /// Compares two version strings; `None` if either does not parse.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        self.parse(a)?.partial_cmp(&self.parse(b)?)
    }
}

/// A parsed version; only versions of the same scheme compare.
#[derive(Debug, Clone)]
pub enum Version {
    Semver(SemverKey),
    Cargo(semver::Version),
    Pep440(pep440_rs::Version),
    Ruby(Vec<Seg>),
    Composer(Vec<Seg>),
    Maven(Vec<Seg>),
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp(b)),
            (Version::Cargo(a), Version::Cargo(b)) => Some(a.cmp(b)),
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Ruby(a), Version::Ruby(b)) => Some(cmp_ruby(a, b)),
            (Version::Composer(a), Version::Composer(b)) => Some(cmp_composer(a, b)),
            (Version::Maven(a), Version::Maven(b)) => Some(cmp_maven(a, b)),
            _ => None,
        }
    }
}

/// A version part: a number or a word.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Num(u64),
    Str(String),
}

fn num(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Longer digit runs than u64 holds saturate; still ordered sensibly.
    Some(s.parse().unwrap_or(u64::MAX))
}

// ---------------------------------------------------------------- SemVer

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemverKey {
    core: [u64; 3],
    pre: Vec<Seg>,
}

impl Ord for SemverKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Numeric identifiers sort below alphanumeric ones (Seg's order),
                // and a longer list of equal prefix is greater (Vec's order).
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for SemverKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn parse_semver(s: &str) -> Option<SemverKey> {
    let s = s.trim_start_matches(['v', 'V', '=']).trim();
    let s = s.split('+').next().unwrap_or(s); // build metadata / +incompatible
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s, None),
    };
    let mut parts = [0u64; 3];
    for (n, part) in core.split('.').enumerate() {
        *parts.get_mut(n)? = num(part)?;
    }
    let pre = match pre {
        None => Vec::new(),
        Some(p) => {
            let mut ids = Vec::new();
            for id in p.split('.') {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return None;
                }
                ids.push(match num(id) {
                    Some(n) => Seg::Num(n),
                    None => Seg::Str(id.to_string()),
                });
            }
            ids
        }
    };
    Some(SemverKey { core: parts, pre })
}

// ---------------------------------------------------------------- RubyGems

fn parse_ruby(s: &str) -> Option<Vec<Seg>> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
    {
        return None;
    }
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // RubyGems reads `1.0-x` as `1.0.pre.x`.
    let s = s.replace('-', ".pre.");
    let mut segs = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            segs.push(Seg::Num(num(&s[start..i])?));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            segs.push(Seg::Str(s[start..i].to_string()));
        } else {
            i += 1;
        }
    }
    // Canonical segments: trailing zeros dropped from the release part and
    // from the pre-release part.
    let split = segs
        .iter()
        .position(|s| matches!(s, Seg::Str(_)))
        .unwrap_or(segs.len());
    let (mut release, mut pre) = (segs[..split].to_vec(), segs[split..].to_vec());
    while release.last() == Some(&Seg::Num(0)) {
        release.pop();
    }
    while pre.last() == Some(&Seg::Num(0)) {
        pre.pop();
    }
    release.extend(pre);
    Some(release)
}

fn cmp_ruby(a: &[Seg], b: &[Seg]) -> Ordering {
    let zero = Seg::Num(0);
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        let o = match (x, y) {
            (Seg::Num(p), Seg::Num(q)) => p.cmp(q),
            (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
            (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            (Seg::Str(p), Seg::Str(q)) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------- Packagist

fn parse_composer(s: &str) -> Option<Vec<Seg>> {
    let s = s.trim_start_matches(['v', 'V']);
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None; // `dev-main` and other branch names have no order
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    // Composer pads the numeric release to four parts (1.2 → 1.2.0.0).
    let release_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let release = lower[..release_end].trim_end_matches('.');
    let mut segs: Vec<Seg> = Vec::new();
    for p in release.split('.') {
        segs.push(Seg::Num(num(p)?));
    }
    while segs.len() < 4 {
        segs.push(Seg::Num(0));
    }
    // PHP version_compare canonical form of the rest: `-_+` become `.`, and
    // a switch between digits and letters starts a new part.
    let rest = &lower[release_end..];
    let mut cur = String::new();
    let mut cur_digit = false;
    let flush = |cur: &mut String, segs: &mut Vec<Seg>| {
        if !cur.is_empty() {
            segs.push(match num(cur) {
                Some(n) => Seg::Num(n),
                None => Seg::Str(std::mem::take(cur)),
            });
            cur.clear();
        }
    };
    for c in rest.chars() {
        if matches!(c, '.' | '-' | '_' | '+') {
            flush(&mut cur, &mut segs);
            continue;
        }
        let d = c.is_ascii_digit();
        if !cur.is_empty() && d != cur_digit {
            flush(&mut cur, &mut segs);
        }
        cur_digit = d;
        cur.push(c);
    }
    flush(&mut cur, &mut segs);
    Some(segs)
}

/// PHP's order of special forms; a number counts as `#`.
fn php_special(s: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
        ("stable", 4),
    ];
    FORMS
        .iter()
        .find(|(f, _)| s.starts_with(f))
        .map_or(-6, |(_, o)| *o)
}

fn cmp_composer(a: &[Seg], b: &[Seg]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let o = match (a.get(i), b.get(i)) {
            (Some(Seg::Num(p)), Some(Seg::Num(q))) => p.cmp(q),
            (Some(Seg::Num(_)), Some(Seg::Str(s))) => 4.cmp(&php_special(s)),
            (Some(Seg::Str(s)), Some(Seg::Num(_))) => php_special(s).cmp(&4),
            (Some(Seg::Str(p)), Some(Seg::Str(q))) => php_special(p).cmp(&php_special(q)),
            // The shorter one is compared as `#` against the longer's part:
            // 1.0 > 1.0-rc1, 1.0 < 1.0.1, 1.0 < 1.0-p1.
            (None, Some(Seg::Num(_))) => Ordering::Less,
            (Some(Seg::Num(_)), None) => Ordering::Greater,
            (None, Some(Seg::Str(s))) => 4.cmp(&php_special(s)),
            (Some(Seg::Str(s)), None) => php_special(s).cmp(&4),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------- Maven

/// Qualifier rank: well-known qualifiers below a release (0), `sp` above;
/// unknown qualifiers rank above all and then compare as text.
fn maven_rank(q: &str) -> i32 {
    match q {
        "alpha" | "a" => -5,
        "beta" | "b" => -4,
        "milestone" | "m" => -3,
        "rc" | "cr" => -2,
        "snapshot" => -1,
        "" | "ga" | "final" | "release" => 0,
        "sp" => 1,
        _ => 2,
    }
}

fn parse_maven(s: &str) -> Vec<Seg> {
    let lower = s.to_ascii_lowercase();
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut cur_digit = false;
    let push = |cur: &mut String, segs: &mut Vec<Seg>| {
        let item = match num(cur) {
            Some(n) => Seg::Num(n),
            None => Seg::Str(std::mem::take(cur)),
        };
        segs.push(item);
        cur.clear();
    };
    for c in lower.chars() {
        if c == '.' || c == '-' {
            if !cur.is_empty() {
                push(&mut cur, &mut segs);
            }
            continue;
        }
        let d = c.is_ascii_digit();
        if !cur.is_empty() && d != cur_digit {
            push(&mut cur, &mut segs);
        }
        cur_digit = d;
        cur.push(c);
    }
    if !cur.is_empty() {
        push(&mut cur, &mut segs);
    }
    // `a1`, `b2`, `m3` are shorthand only when followed by a number.
    for i in 0..segs.len() {
        let next_is_num = matches!(segs.get(i + 1), Some(Seg::Num(_)));
        if let Seg::Str(q) = &mut segs[i] {
            match q.as_str() {
                "a" if next_is_num => *q = "alpha".into(),
                "b" if next_is_num => *q = "beta".into(),
                "m" if next_is_num => *q = "milestone".into(),
                "ga" | "final" | "release" => q.clear(),
                _ => {}
            }
        }
    }
    // Trailing null items (0 and the release qualifiers) do not count.
    while matches!(segs.last(), Some(Seg::Num(0)))
        || matches!(segs.last(), Some(Seg::Str(q)) if q.is_empty())
    {
        segs.pop();
    }
    segs
}

fn cmp_maven(a: &[Seg], b: &[Seg]) -> Ordering {
    let item = |s: Option<&Seg>| -> (i32, u64, String) {
        match s {
            None => (0, 0, String::new()),
            Some(Seg::Num(n)) => (10, *n, String::new()),
            Some(Seg::Str(q)) => (
                maven_rank(q),
                0,
                if maven_rank(q) == 2 {
                    q.clone()
                } else {
                    String::new()
                },
            ),
        }
    };
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        let o = match (x, y) {
            // A missing item is `0` against a number (1.0 == 1.0.0).
            (Some(Seg::Num(p)), None) => p.cmp(&0),
            (None, Some(Seg::Num(q))) => 0.cmp(q),
            _ => item(x).cmp(&item(y)),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(scheme: Scheme, a: &str, b: &str) {
        assert_eq!(
            scheme.compare(a, b),
            Some(Ordering::Less),
            "{scheme:?}: {a} < {b}"
        );
        assert_eq!(
            scheme.compare(b, a),
            Some(Ordering::Greater),
            "{scheme:?}: {b} > {a}"
        );
    }

    fn eq(scheme: Scheme, a: &str, b: &str) {
        assert_eq!(
            scheme.compare(a, b),
            Some(Ordering::Equal),
            "{scheme:?}: {a} == {b}"
        );
    }

    #[test]
    fn semver_precedence() {
        let s = Scheme::Semver;
        for w in [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
        ]
        .windows(2)
        {
            lt(s, w[0], w[1]);
        }
        eq(s, "v1.2.3", "1.2.3");
        eq(s, "1.2.3+build.5", "1.2.3");
        eq(s, "1.2", "1.2.0");
        assert_eq!(s.compare("1.2.x", "1.0.0"), None);
    }

    #[test]
    fn go_versions() {
        let s = Scheme::Semver;
        // Pseudo-versions sit between the previous tag and the next patch.
        lt(s, "v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5");
        lt(s, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4");
        lt(
            s,
            "v0.0.0-20190101000000-aaaaaaaaaaaa",
            "v0.0.0-20200101000000-bbbbbbbbbbbb",
        );
        lt(s, "v0.0.0-20200101000000-bbbbbbbbbbbb", "0.1.0");
        eq(s, "v2.0.0+incompatible", "2.0.0");
    }

    #[test]
    fn cargo_strict() {
        let s = Scheme::Cargo;
        lt(s, "0.0.0-0", "0.1.0");
        lt(s, "1.0.0-rc.1", "1.0.0");
        eq(s, "1.0.0+abc", "1.0.0");
        assert_eq!(s.compare("1.0", "1.0.0"), None);
    }

    #[test]
    fn pep440() {
        let s = Scheme::Pep440;
        for w in [
            "1.0.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0+local.7",
            "1.0.post1",
            "1.1",
            "1!0.5",
        ]
        .windows(2)
        {
            lt(s, w[0], w[1]);
        }
        eq(s, "1.0", "1.0.0");
        eq(s, "1.0RC1", "1.0rc1");
    }

    #[test]
    fn rubygems() {
        let s = Scheme::RubyGems;
        lt(s, "1.0.0.pre", "1.0.0");
        lt(s, "1.0.0.alpha", "1.0.0.beta");
        lt(s, "1.0.0.rc1", "1.0.0");
        lt(s, "1.9", "1.10");
        eq(s, "1.0", "1.0.0");
        lt(s, "1.0-x", "1.0");
    }

    #[test]
    fn packagist() {
        let s = Scheme::Packagist;
        lt(s, "1.0.0-dev", "1.0.0-alpha1");
        lt(s, "1.0.0-alpha1", "1.0.0-beta2");
        lt(s, "1.0.0-beta2", "1.0.0-RC1");
        lt(s, "1.0.0-RC1", "1.0.0");
        lt(s, "1.0.0", "1.0.0-p1");
        lt(s, "v5.4.3", "5.4.10");
        eq(s, "v1.2", "1.2.0.0");
        assert_eq!(s.compare("dev-main", "1.0.0"), None);
    }

    #[test]
    fn maven() {
        let s = Scheme::Maven;
        for w in [
            "1.0-alpha-1",
            "1.0-beta-1",
            "1.0-milestone-1",
            "1.0-rc-1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp-1",
            "1.0.1",
            "1.1",
        ]
        .windows(2)
        {
            lt(s, w[0], w[1]);
        }
        eq(s, "1.0", "1.0.0");
        eq(s, "1.0.Final", "1.0");
        eq(s, "1.0a1", "1.0-alpha-1");
        lt(s, "2.14.1", "2.15.0");
    }
}
