//! Version ordering through the public API: each ecosystem's order is a
//! total order on the versions it parses (antisymmetric, transitive on
//! samples), and no input panics.

use std::cmp::Ordering;

use gantry_scan::Ecosystem;
use gantry_scan::deps::{Scheme, compare_versions};
use proptest::prelude::*;

#[test]
fn ecosystems_use_their_own_order() {
    // 1.0.0-rc.1 < 1.0.0 in SemVer; PEP 440 agrees for 1.0rc1.
    assert_eq!(
        compare_versions(Ecosystem::Npm, "1.0.0-rc.1", "1.0.0"),
        Some(Ordering::Less)
    );
    assert_eq!(
        compare_versions(Ecosystem::PyPI, "1.0rc1", "1.0"),
        Some(Ordering::Less)
    );
    // RubyGems: 1.0.a < 1.0; Packagist: 1.0-p1 > 1.0; Maven: 1.0-sp > 1.0.
    assert_eq!(
        compare_versions(Ecosystem::RubyGems, "1.0.a", "1.0"),
        Some(Ordering::Less)
    );
    assert_eq!(
        compare_versions(Ecosystem::Packagist, "1.0-p1", "1.0"),
        Some(Ordering::Greater)
    );
    assert_eq!(
        compare_versions(Ecosystem::Maven, "1.0-sp", "1.0"),
        Some(Ordering::Greater)
    );
    // Go keeps its v prefix; crates.io is strict SemVer.
    assert_eq!(
        compare_versions(Ecosystem::Go, "v1.10.0", "v1.9.9"),
        Some(Ordering::Greater)
    );
    assert_eq!(
        compare_versions(Ecosystem::CratesIo, "v1.0.0", "1.0.0"),
        None
    );
    // The same strings order differently per ecosystem: PEP 440 has post releases.
    assert_eq!(
        compare_versions(Ecosystem::PyPI, "1.0.post1", "1.0"),
        Some(Ordering::Greater)
    );
}

const SCHEMES: [Scheme; 6] = [
    Scheme::Semver,
    Scheme::Cargo,
    Scheme::Pep440,
    Scheme::RubyGems,
    Scheme::Packagist,
    Scheme::Maven,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn orders_are_consistent(
        a in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-.]?(alpha|beta|rc|pre|dev|post|sp|p|a|b)[0-9]?)?",
        b in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-.]?(alpha|beta|rc|pre|dev|post|sp|p|a|b)[0-9]?)?",
        c in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-.]?(alpha|beta|rc|pre|dev|post|sp|p|a|b)[0-9]?)?",
    ) {
        for s in SCHEMES {
            let (Some(ab), Some(ba)) = (s.compare(&a, &b), s.compare(&b, &a)) else { continue };
            prop_assert_eq!(ab, ba.reverse(), "{:?} {} {}", s, a, b);
            if let (Some(bc), Some(ac)) = (s.compare(&b, &c), s.compare(&a, &c))
                && ab != Ordering::Greater && bc != Ordering::Greater {
                prop_assert_ne!(ac, Ordering::Greater, "{:?}: {} <= {} <= {}", s, a, b, c);
            }
        }
    }

    #[test]
    fn no_panic_on_arbitrary_versions(a in "\\PC{0,30}", b in "\\PC{0,30}") {
        for s in SCHEMES {
            let _ = s.compare(&a, &b);
        }
    }
}
