//! Misconfiguration checks: Terraform (evaluated through gantry-iac),
//! GitHub Actions workflows, Dockerfiles and Kubernetes manifests.
//!
//! Entry points: [`checks`] (the catalog), [`scan_file`] (workflows,
//! Dockerfiles, manifests: one file at a time), [`scan_terraform`] (a
//! directory of `.tf` files and the local modules it calls, evaluated
//! statically), [`check_planned`] (the planned values of a `gantry plan`,
//! for the apply gate) and [`check_resources`] (the Terraform checks over
//! any list of evaluated resource instances).
//!
//! Never: calls a provider or the network. A value the configuration does
//! not determine (a computed attribute, a variable without a value) stays
//! unknown, and a check that cannot decide because of it reports nothing.

mod actions;
mod catalog;
mod dockerfile;
mod kubernetes;
mod terraform;

use crate::finding::{FileError, Finding, Kind, Location, Severity};

pub use catalog::{CheckInfo, Target};
pub use dockerfile::{Instruction, parse_dockerfile};
pub use terraform::{TfResource, check_planned, check_resources, scan_terraform, terraform_roots};

/// Every check Gantry runs, in ID order.
pub fn checks() -> &'static [CheckInfo] {
    catalog::CHECKS
}

/// The check with this ID.
pub fn check(id: &str) -> Option<&'static CheckInfo> {
    catalog::CHECKS.iter().find(|c| c.id == id)
}

/// What kind of file `rel_path` is for these checks, from its name alone.
fn file_kind(rel_path: &str) -> Option<Target> {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    let lower = name.to_ascii_lowercase();
    let in_workflows =
        rel_path.starts_with(".github/workflows/") || rel_path.contains("/.github/workflows/");
    if in_workflows && (lower.ends_with(".yml") || lower.ends_with(".yaml")) {
        let dir = &rel_path[..rel_path.len() - name.len()];
        // Only files directly in the workflows folder are workflows.
        if dir.ends_with(".github/workflows/") {
            return Some(Target::GithubActions);
        }
    }
    if name == "Dockerfile"
        || name.starts_with("Dockerfile.")
        || lower.ends_with(".dockerfile")
        || lower == "containerfile"
    {
        return Some(Target::Dockerfile);
    }
    if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        return Some(Target::Kubernetes);
    }
    None
}

/// Scans one workflow, Dockerfile or Kubernetes manifest. `None` when the
/// file is none of these (for YAML: no document has both `apiVersion` and
/// `kind`); `Some(Err)` when it is one but cannot be parsed (the message
/// starts with `line:col`).
pub fn scan_file(rel_path: &str, content: &str) -> Option<Result<Vec<Finding>, FileError>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    match file_kind(rel_path)? {
        Target::GithubActions => Some(actions::scan(rel_path, content)),
        Target::Dockerfile => Some(dockerfile::scan(rel_path, content)),
        Target::Kubernetes => kubernetes::scan(rel_path, content),
        Target::Terraform => None,
    }
}

/// A finding of `check` at `path:line` about `resource`; `evidence` is what
/// the fingerprint hashes (the offending value).
pub(crate) fn report(
    check: &CheckInfo,
    severity: Option<Severity>,
    message: impl Into<String>,
    location: Location,
    resource: &str,
    evidence: &str,
) -> Finding {
    let mut f = Finding::new(
        Kind::Misconfig,
        check.id,
        severity.unwrap_or(check.severity),
        check.title,
        message,
    )
    .with_location(location)
    .with_resource(resource)
    .with_remediation(check.remediation);
    f.aliases = check.aliases();
    f.seal(evidence.as_bytes())
}

/// A file error at `line:col`.
pub(crate) fn file_error(
    path: &str,
    line: usize,
    col: usize,
    message: impl AsRef<str>,
) -> FileError {
    FileError {
        path: path.to_owned(),
        message: format!("{line}:{col}: {}", message.as_ref()),
    }
}

/// Variable names that say their value is a secret.
pub(crate) fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: [&str; 10] = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
    ];
    if WORDS.iter().any(|w| upper.contains(w)) {
        // Names about a secret's location or type, not the secret itself.
        const NOT: [&str; 8] = [
            "_FILE", "_PATH", "_ARN", "_NAME", "_ID", "_URL", "_DIR", "_LENGTH",
        ];
        let id_suffix = upper.ends_with("ACCESS_KEY_ID");
        return id_suffix || !NOT.iter().any(|n| upper.ends_with(n));
    }
    false
}

/// Whether a literal value looks like a real secret rather than a
/// placeholder or a reference (`${VAR}`, `changeme`, empty).
pub(crate) fn literal_secret(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if v.len() < 4 || v.starts_with('$') || v.starts_with("{{") {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const PLACEHOLDERS: [&str; 8] = [
        "changeme",
        "change-me",
        "example",
        "placeholder",
        "xxxx",
        "<",
        "none",
        "null",
    ];
    !PLACEHOLDERS.iter().any(|p| lower.starts_with(p)) && lower != "true" && lower != "false"
}

/// Byte offset of an AWS access key ID (`AKIA`/`ASIA` + 16 upper-case
/// letters or digits) in `s`.
pub(crate) fn find_aws_key_id(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 20 <= b.len() {
        if (b[i..].starts_with(b"AKIA") || b[i..].starts_with(b"ASIA"))
            && b[i + 4..i + 20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kinds() {
        assert_eq!(
            file_kind(".github/workflows/ci.yml"),
            Some(Target::GithubActions)
        );
        assert_eq!(
            file_kind("sub/.github/workflows/ci.yaml"),
            Some(Target::GithubActions)
        );
        assert_eq!(file_kind("Dockerfile"), Some(Target::Dockerfile));
        assert_eq!(file_kind("app/Dockerfile.prod"), Some(Target::Dockerfile));
        assert_eq!(file_kind("app/web.Dockerfile"), Some(Target::Dockerfile));
        assert_eq!(file_kind("k8s/deploy.yaml"), Some(Target::Kubernetes));
        assert_eq!(file_kind("main.tf"), None);
        assert_eq!(file_kind("README.md"), None);
    }

    #[test]
    fn catalog_is_complete_and_unique() {
        let mut ids: Vec<&str> = checks().iter().map(|c| c.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate check IDs");
        let aws = checks()
            .iter()
            .filter(|c| c.target == Target::Terraform)
            .count();
        assert!(aws >= 30, "only {aws} Terraform checks");
        for c in checks() {
            assert!(!c.title.is_empty() && !c.remediation.is_empty(), "{}", c.id);
            for a in c.checkov {
                assert!(a.starts_with("CKV"), "{}: {a}", c.id);
            }
            for a in c.trivy {
                assert!(a.starts_with("AVD-"), "{}: {a}", c.id);
            }
        }
        assert_eq!(check("GNT-AWS-001").map(|c| c.id), Some("GNT-AWS-001"));
    }

    #[test]
    fn secrets_and_keys() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("api_key"));
        assert!(!secret_name("PASSWORD_FILE"));
        assert!(!secret_name("HOME"));
        assert!(literal_secret("hunter2hunter2"));
        assert!(!literal_secret("${DB_PASSWORD}"));
        assert!(!literal_secret("changeme"));
        assert_eq!(find_aws_key_id("key=AKIAIOSFODNN7EXAMPLE;"), Some(4));
        assert_eq!(find_aws_key_id("AKIAIOSFODNN7EXAMPLEX"), None);
        assert_eq!(find_aws_key_id("akia"), None);
    }
}
