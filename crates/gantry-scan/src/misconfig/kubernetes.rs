//! Kubernetes manifests: every document of a (multi-document) YAML file
//! that has `apiVersion` and `kind`, with pod specs found where each
//! workload kind keeps its pod template.

use gantry_config::yaml::{Entry, Kind as YKind, Node};

use super::actions::parse_yaml;
use crate::finding::{FileError, Finding, Location};
use crate::misconfig::catalog::{self as c, CheckInfo};
use crate::misconfig::report;

fn entries(n: &Node) -> &[Entry] {
    match &n.kind {
        YKind::Map(es) => es,
        _ => &[],
    }
}

fn entry<'n>(n: &'n Node, key: &str) -> Option<&'n Entry> {
    entries(n).iter().find(|e| e.key == key)
}

fn child<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    entry(n, key).map(|e| &e.value)
}

fn path<'n>(n: &'n Node, keys: &[&str]) -> Option<&'n Node> {
    keys.iter().try_fold(n, |cur, k| child(cur, k))
}

fn scalar(n: &Node) -> Option<&str> {
    match &n.kind {
        YKind::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(scalar).is_some_and(|s| s == "true")
}

fn seq(n: Option<&Node>) -> &[Node] {
    match n.map(|n| &n.kind) {
        Some(YKind::Seq(items)) => items,
        _ => &[],
    }
}

/// The documents of a YAML stream: (text padded so lines keep their
/// numbers, first line).
fn documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        let is_sep = line.starts_with("---")
            && line[3..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '#');
        let is_end = line.trim_end() == "...";
        if is_sep || is_end {
            if !cur.trim().is_empty() {
                docs.push(format!("{}{}", "\n".repeat(start), cur));
            }
            cur.clear();
            start = i + 1;
            // `--- key: value` starts the document on the separator line.
            if is_sep
                && line.len() > 3
                && !line[3..].trim().is_empty()
                && !line[3..].trim().starts_with('#')
            {
                start = i;
                cur.push_str(line[3..].trim_start());
                cur.push('\n');
            }
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        docs.push(format!("{}{}", "\n".repeat(start), cur));
    }
    docs
}

/// Where each workload kind keeps its pod spec.
fn pod_spec<'n>(kind: &str, doc: &'n Node) -> Option<&'n Node> {
    match kind {
        "Pod" => child(doc, "spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => path(doc, &["spec", "template", "spec"]),
        "CronJob" => path(doc, &["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

pub(super) fn scan(file: &str, text: &str) -> Option<Result<Vec<Finding>, FileError>> {
    let looks_like_manifest = text.contains("apiVersion") && text.contains("kind");
    if !looks_like_manifest {
        return None;
    }
    let mut out = Vec::new();
    let mut any = false;
    for doc_text in documents(text) {
        let doc = match parse_yaml(file, &doc_text) {
            Ok(d) => d,
            // Templates (Helm, Kustomize patches with `{{ }}`) are not
            // manifests until rendered.
            Err(_) if text.contains("{{") => return None,
            Err(e) => return Some(Err(e)),
        };
        let (Some(_), Some(kind)) = (
            child(&doc, "apiVersion").and_then(scalar),
            child(&doc, "kind").and_then(scalar),
        ) else {
            continue;
        };
        any = true;
        // `kind: List` (kubectl get -o yaml) holds its objects in `items`.
        let objects: Vec<&Node> = if kind == "List" {
            seq(child(&doc, "items")).iter().collect()
        } else {
            vec![&doc]
        };
        for obj in objects {
            let Some(kind) = child(obj, "kind").and_then(scalar) else {
                continue;
            };
            let name = path(obj, &["metadata", "name"])
                .and_then(scalar)
                .unwrap_or("unnamed");
            let resource = format!("{kind}/{name}");
            if let Some(spec) = pod_spec(kind, obj) {
                check_pod(&mut out, file, &resource, spec);
            }
        }
    }
    if !any {
        return None;
    }
    Some(Ok(out))
}

fn check_pod(out: &mut Vec<Finding>, file: &str, resource: &str, spec: &Node) {
    let mut emit = |check: &CheckInfo, line: usize, message: String, evidence: &str| {
        out.push(report(
            check,
            None,
            message,
            Location::new(file, line as u32),
            resource,
            evidence,
        ));
    };
    for flag in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some(e) = entry(spec, flag)
            && is_true(Some(&e.value))
        {
            emit(
                &c::K8S_HOST_NAMESPACE,
                e.key_span.line,
                format!("{resource} sets {flag}: true"),
                flag,
            );
        }
    }
    for v in seq(child(spec, "volumes")) {
        if let Some(hp) = entry(v, "hostPath") {
            let vname = child(v, "name").and_then(scalar).unwrap_or("?");
            let p = child(&hp.value, "path").and_then(scalar).unwrap_or("?");
            emit(
                &c::K8S_HOST_PATH,
                hp.key_span.line,
                format!("{resource}: volume {vname} mounts host path {p}"),
                vname,
            );
        }
    }
    let pod_sc = child(spec, "securityContext");
    let pod_non_root = pod_sc.is_some_and(|sc| {
        is_true(child(sc, "runAsNonRoot"))
            || child(sc, "runAsUser")
                .and_then(scalar)
                .and_then(|u| u.parse::<i64>().ok())
                .is_some_and(|u| u > 0)
    });
    let containers = seq(child(spec, "containers"))
        .iter()
        .chain(seq(child(spec, "initContainers")))
        .chain(seq(child(spec, "ephemeralContainers")));
    for ct in containers {
        let cname = child(ct, "name").and_then(scalar).unwrap_or("?");
        let cline = ct.span.line;
        let what = format!("{resource} container {cname}");
        let sc = child(ct, "securityContext");
        if let Some(p) = sc.and_then(|sc| entry(sc, "privileged"))
            && is_true(Some(&p.value))
        {
            emit(
                &c::K8S_PRIVILEGED,
                p.key_span.line,
                format!("{what} runs privileged"),
                cname,
            );
        }
        let ape = sc.and_then(|sc| child(sc, "allowPrivilegeEscalation"));
        if ape.and_then(scalar) != Some("false") {
            let line = sc
                .and_then(|sc| entry(sc, "allowPrivilegeEscalation"))
                .map(|e| e.key_span.line)
                .unwrap_or(cline);
            emit(
                &c::K8S_PRIV_ESCALATION,
                line,
                format!("{what} does not set allowPrivilegeEscalation: false"),
                cname,
            );
        }
        let c_non_root = sc.and_then(|sc| child(sc, "runAsNonRoot")).and_then(scalar);
        let c_user = sc
            .and_then(|sc| child(sc, "runAsUser"))
            .and_then(scalar)
            .and_then(|u| u.parse::<i64>().ok());
        let non_root = match (c_non_root, c_user) {
            (_, Some(0)) => false,
            (Some("false"), _) => false,
            (Some("true"), _) => true,
            (_, Some(u)) if u > 0 => true,
            _ => pod_non_root,
        };
        if !non_root {
            emit(
                &c::K8S_RUN_AS_ROOT,
                cline,
                format!("{what} may run as root: runAsNonRoot is not true"),
                cname,
            );
        }
        let limits = path(ct, &["resources", "limits"]);
        let missing: Vec<&str> = ["cpu", "memory"]
            .into_iter()
            .filter(|k| limits.and_then(|l| child(l, k)).is_none())
            .collect();
        if !missing.is_empty() {
            emit(
                &c::K8S_NO_LIMITS,
                cline,
                format!("{what} has no {} limit", missing.join(" or ")),
                cname,
            );
        }
        if let Some(img) = entry(ct, "image")
            && let Some(image) = scalar(&img.value)
        {
            let (name_part, digest) = match image.split_once('@') {
                Some((n, _)) => (n, true),
                None => (image, false),
            };
            let last = name_part.rsplit('/').next().unwrap_or(name_part);
            let tag = last.split_once(':').map(|(_, t)| t);
            let why = match tag {
                Some("latest") => Some("the latest tag"),
                None if !digest => Some("no tag"),
                _ => None,
            };
            if let Some(why) = why {
                emit(
                    &c::K8S_LATEST_IMAGE,
                    img.key_span.line,
                    format!("{what} uses image {image} with {why}"),
                    image,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_keeping_lines() {
        let docs = documents("a: 1\n---\nb: 2\n--- # c\n\nc: 3\n...\n");
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].lines().position(|l| l == "b: 2"), Some(2));
        assert_eq!(docs[2].lines().position(|l| l == "c: 3"), Some(5));
    }
}
