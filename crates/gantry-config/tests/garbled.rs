//! Garbled input must never panic, and every error must render.

use gantry_config::load_str;

use gantry_config::testing::XorShift as Rng;

const SEED: &str = "version: 1\nserver:\n  listen: \"127.0.0.1:8080\"\n  data-dir: &dir /srv\n  body-limit: 1MiB\n  log-format: json\ndemo: {name: *dir, description: 'a ''demo'''}\nevents:\n  retention: 90d\n";
const ALPHABET: &[u8] = b" \t\n:-[]{},'\"&*!|>#?%@`\\~0123456789abcdefv\xc3\xa9\xe2\x98\x95";

/// Loads `text`; returns whether it loaded.
fn check(text: &str) -> bool {
    match load_str("fuzz.yml", text) {
        Ok(_) => true,
        Err(diags) => {
            assert!(diags.has_errors());
            assert!(!diags.render_all().is_empty());
            for diag in &diags {
                assert!(diag.one_line().starts_with("fuzz.yml"));
            }
            false
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..100 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn mutated_configs_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut loaded = 0;
    for _ in 0..150 {
        let mut bytes = SEED.as_bytes().to_vec();
        for _ in 0..=rng.below(6) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            }
        }
        loaded += usize::from(check(&String::from_utf8_lossy(&bytes)));
    }
    // Both outcomes must occur, or the mutations test nothing interesting.
    assert!(loaded > 0 && loaded < 150, "{loaded} of 150 loaded");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!(
        "version: 1\ndemo: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(load_str("deep.yml", &text).is_err());
}
