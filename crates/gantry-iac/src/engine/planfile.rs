//! Saved plan files (`plan -out FILE`): everything apply needs, plus the
//! identity of the state and configuration the plan was made from, so a
//! stale plan is refused.
//!
//! The file is JSON with a tagged value encoding that keeps unknowns and
//! sensitive marks: strings, numbers, bools and null are plain; every
//! other value is an object with one tag: `{"l":[..]}` list, `{"s":[..]}`
//! set, `{"t":[..]}` tuple, `{"m":{..}}` map, `{"o":{..}}` object,
//! `{"u":true}` unknown, `{"x":V}` sensitive. Sensitive values are stored
//! as they are, as in Terraform's plan files: treat the file as secret.

use std::collections::BTreeMap;

use serde_json::{Value as J, json};
use sha2::{Digest, Sha256};

use super::addr::{InstanceAddr, Target, parse_instance, parse_target};
use super::config::ModuleNode;
use super::{Action, Change, InstanceObj, OutputChange, Plan, PlanMode, World};
use crate::value::{PathStep, Type, Value};

const FORMAT: &str = "gantry-plan/1";

/// A plan with what it was made from.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    pub plan: Plan,
    /// Lineage and serial of the stored state when the plan was made.
    pub lineage: String,
    pub serial: u64,
    pub workspace: String,
    /// SHA-256 over every configuration file of the tree.
    pub config_digest: String,
    pub refresh: bool,
    pub parallelism: usize,
}

/// SHA-256 over the paths and texts of every file in the tree.
pub fn config_digest(tree: &ModuleNode) -> String {
    let mut h = Sha256::new();
    for node in tree.walk() {
        for f in &node.module.files {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
    }
    hex::encode(h.finalize())
}

pub fn encode_value(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.clone()),
        Value::List(xs) => json!({ "l": xs.iter().map(encode_value).collect::<Vec<_>>() }),
        Value::Set(xs) => json!({ "s": xs.iter().map(encode_value).collect::<Vec<_>>() }),
        Value::Tuple(xs) => json!({ "t": xs.iter().map(encode_value).collect::<Vec<_>>() }),
        Value::Map(m) => {
            json!({ "m": m.iter().map(|(k, x)| (k.clone(), encode_value(x))).collect::<serde_json::Map<_, _>>() })
        }
        Value::Object(m) => {
            json!({ "o": m.iter().map(|(k, x)| (k.clone(), encode_value(x))).collect::<serde_json::Map<_, _>>() })
        }
        Value::Unknown(_) => json!({ "u": true }),
        Value::Sensitive(x) => json!({ "x": encode_value(x) }),
    }
}

pub fn decode_value(j: &J) -> Result<Value, String> {
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().ok_or("bad number")?),
        J::String(s) => Value::String(s.clone()),
        J::Array(_) => return Err("untagged array".into()),
        J::Object(m) => {
            let (tag, inner) = m.iter().next().ok_or("empty tagged value")?;
            let seq = |x: &J| -> Result<Vec<Value>, String> {
                x.as_array()
                    .ok_or("expected an array")?
                    .iter()
                    .map(decode_value)
                    .collect()
            };
            let map = |x: &J| -> Result<BTreeMap<String, Value>, String> {
                x.as_object()
                    .ok_or("expected an object")?
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), decode_value(v)?)))
                    .collect()
            };
            match tag.as_str() {
                "l" => Value::List(seq(inner)?),
                "s" => Value::Set(seq(inner)?),
                "t" => Value::Tuple(seq(inner)?),
                "m" => Value::Map(map(inner)?),
                "o" => Value::Object(map(inner)?),
                "u" => Value::Unknown(Type::Any),
                "x" => decode_value(inner)?.mark(),
                other => return Err(format!("unknown value tag {other:?}")),
            }
        }
    })
}

fn opt(v: &Option<Value>) -> J {
    v.as_ref()
        .map_or(J::Null, |v| json!({ "v": encode_value(v) }))
}

fn de_opt(j: &J) -> Result<Option<Value>, String> {
    match j {
        J::Null => Ok(None),
        J::Object(m) => m.get("v").map(decode_value).transpose(),
        _ => Err("bad optional value".into()),
    }
}

fn path_json(p: &[PathStep]) -> J {
    J::Array(
        p.iter()
            .map(|s| match s {
                PathStep::Attr(a) => json!({ "a": a }),
                PathStep::Key(k) => json!({ "k": k }),
                PathStep::Index(i) => json!({ "i": i }),
            })
            .collect(),
    )
}

fn de_path(j: &J) -> Result<Vec<PathStep>, String> {
    j.as_array()
        .ok_or("bad path")?
        .iter()
        .map(|s| {
            if let Some(a) = s.get("a").and_then(J::as_str) {
                Ok(PathStep::Attr(a.to_owned()))
            } else if let Some(k) = s.get("k").and_then(J::as_str) {
                Ok(PathStep::Key(k.to_owned()))
            } else if let Some(i) = s.get("i").and_then(J::as_i64) {
                Ok(PathStep::Index(i))
            } else {
                Err("bad path step".to_owned())
            }
        })
        .collect()
}

fn obj_json(a: &InstanceAddr, deposed: Option<&str>, o: &InstanceObj) -> J {
    let mut j = json!({
        "addr": a.to_string(),
        "value": encode_value(&o.value),
        "provider": o.provider,
        "schema_version": o.schema_version,
        "dependencies": o.dependencies,
        "create_before_destroy": o.create_before_destroy,
        "tainted": o.tainted,
    });
    if let Some(key) = deposed {
        j["deposed"] = J::String(key.to_owned());
    }
    j
}

fn world_json(w: &World) -> J {
    json!({
        "lineage": w.lineage,
        "serial": w.serial,
        "instances": w
            .instances
            .iter()
            .map(|(a, o)| obj_json(a, None, o))
            .chain(w.deposed.iter().map(|((a, k), o)| obj_json(a, Some(k), o)))
            .collect::<Vec<_>>(),
        "outputs": w.outputs.iter().map(|(k, (v, s))| (k.clone(), json!({ "value": encode_value(v), "sensitive": s }))).collect::<serde_json::Map<_, _>>(),
    })
}

fn de_world(j: &J) -> Result<World, String> {
    let mut w = World {
        lineage: j
            .get("lineage")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_owned(),
        serial: j.get("serial").and_then(J::as_u64).unwrap_or_default(),
        ..World::default()
    };
    for i in j
        .get("instances")
        .and_then(J::as_array)
        .ok_or("missing instances")?
    {
        let addr = parse_instance(i.get("addr").and_then(J::as_str).ok_or("missing addr")?)?;
        let obj = InstanceObj {
            value: decode_value(i.get("value").ok_or("missing value")?)?,
            provider: i
                .get("provider")
                .and_then(J::as_str)
                .unwrap_or_default()
                .to_owned(),
            schema_version: i
                .get("schema_version")
                .and_then(J::as_u64)
                .unwrap_or_default(),
            dependencies: i
                .get("dependencies")
                .and_then(J::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            create_before_destroy: i
                .get("create_before_destroy")
                .and_then(J::as_bool)
                .unwrap_or(false),
            tainted: i.get("tainted").and_then(J::as_bool).unwrap_or(false),
        };
        match i.get("deposed").and_then(J::as_str) {
            Some(key) => {
                w.deposed.insert((addr, key.to_owned()), obj);
            }
            None => {
                w.instances.insert(addr, obj);
            }
        }
    }
    if let Some(outs) = j.get("outputs").and_then(J::as_object) {
        for (k, o) in outs {
            let v = decode_value(o.get("value").ok_or("missing output value")?)?;
            let s = o.get("sensitive").and_then(J::as_bool).unwrap_or(false);
            w.outputs.insert(k.clone(), (v, s));
        }
    }
    Ok(w)
}

fn mode_str(m: PlanMode) -> &'static str {
    match m {
        PlanMode::Normal => "normal",
        PlanMode::Destroy => "destroy",
        PlanMode::RefreshOnly => "refresh-only",
    }
}

fn action_str(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::DeleteThenCreate => "delete-then-create",
        Action::CreateThenDelete => "create-then-delete",
        Action::Delete => "delete",
    }
}

fn de_action(s: &str) -> Result<Action, String> {
    Ok(match s {
        "no-op" => Action::NoOp,
        "create" => Action::Create,
        "read" => Action::Read,
        "update" => Action::Update,
        "delete-then-create" => Action::DeleteThenCreate,
        "create-then-delete" => Action::CreateThenDelete,
        "delete" => Action::Delete,
        other => return Err(format!("unknown action {other:?}")),
    })
}

impl SavedPlan {
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = &self.plan;
        let j = json!({
            "format": FORMAT,
            "gantry_version": env!("CARGO_PKG_VERSION"),
            "lineage": self.lineage,
            "serial": self.serial,
            "workspace": self.workspace,
            "config_digest": self.config_digest,
            "refresh": self.refresh,
            "parallelism": self.parallelism,
            "mode": mode_str(p.mode),
            "targets": p.targets.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "replace": p.replace.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "variables": p.variables.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<serde_json::Map<_, _>>(),
            "prior": world_json(&p.prior),
            "changes": p.changes.iter().map(|c| json!({
                "addr": c.addr.to_string(),
                "action": action_str(c.action),
                "before": opt(&c.before),
                "after": opt(&c.after),
                "replace_paths": c.replace_paths.iter().map(|x| path_json(x)).collect::<Vec<_>>(),
                "reason": c.reason,
                "provider": c.provider,
                "importing": c.importing,
                "moved_from": c.moved_from.as_ref().map(ToString::to_string),
                "deposed": c.deposed,
            })).collect::<Vec<_>>(),
            "outputs": p.outputs.iter().map(|(k, o)| (k.clone(), json!({
                "before": opt(&o.before),
                "after": opt(&o.after),
                "sensitive": o.sensitive,
            }))).collect::<serde_json::Map<_, _>>(),
        });
        let mut bytes = serde_json::to_vec(&j).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SavedPlan, String> {
        let j: J = serde_json::from_slice(bytes)
            .map_err(|e| format!("the file is not a Gantry plan file: {e}"))?;
        if j.get("format").and_then(J::as_str) != Some(FORMAT) {
            return Err(format!(
                "the file is not a Gantry plan file (expected format {FORMAT:?})"
            ));
        }
        let s = |k: &str| j.get(k).and_then(J::as_str).unwrap_or_default().to_owned();
        let mode = match j.get("mode").and_then(J::as_str) {
            Some("destroy") => PlanMode::Destroy,
            Some("refresh-only") => PlanMode::RefreshOnly,
            _ => PlanMode::Normal,
        };
        let targets: Vec<Target> = j
            .get("targets")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(J::as_str)
                    .map(parse_target)
                    .collect::<Result<_, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let replace: Vec<InstanceAddr> = j
            .get("replace")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(J::as_str)
                    .map(parse_instance)
                    .collect::<Result<_, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let variables = j
            .get("variables")
            .and_then(J::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), decode_value(v)?)))
                    .collect::<Result<BTreeMap<_, _>, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        let prior = de_world(j.get("prior").ok_or("missing prior state")?)?;
        let mut changes = Vec::new();
        for c in j
            .get("changes")
            .and_then(J::as_array)
            .ok_or("missing changes")?
        {
            changes.push(Change {
                addr: parse_instance(c.get("addr").and_then(J::as_str).ok_or("missing addr")?)?,
                action: de_action(c.get("action").and_then(J::as_str).unwrap_or_default())?,
                before: de_opt(c.get("before").unwrap_or(&J::Null))?,
                after: de_opt(c.get("after").unwrap_or(&J::Null))?,
                replace_paths: c
                    .get("replace_paths")
                    .and_then(J::as_array)
                    .map(|a| a.iter().map(de_path).collect::<Result<_, _>>())
                    .transpose()?
                    .unwrap_or_default(),
                reason: c.get("reason").and_then(J::as_str).map(str::to_owned),
                provider: c
                    .get("provider")
                    .and_then(J::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                importing: c.get("importing").and_then(J::as_str).map(str::to_owned),
                moved_from: c
                    .get("moved_from")
                    .and_then(J::as_str)
                    .map(parse_instance)
                    .transpose()?,
                deposed: c.get("deposed").and_then(J::as_str).map(str::to_owned),
            });
        }
        let mut outputs = BTreeMap::new();
        if let Some(m) = j.get("outputs").and_then(J::as_object) {
            for (k, o) in m {
                outputs.insert(
                    k.clone(),
                    OutputChange {
                        before: de_opt(o.get("before").unwrap_or(&J::Null))?,
                        after: de_opt(o.get("after").unwrap_or(&J::Null))?,
                        sensitive: o.get("sensitive").and_then(J::as_bool).unwrap_or(false),
                    },
                );
            }
        }
        Ok(SavedPlan {
            plan: Plan {
                mode,
                changes,
                drift: Vec::new(),
                outputs,
                prior,
                variables,
                targets,
                replace,
                warnings: Vec::new(),
            },
            lineage: s("lineage"),
            serial: j.get("serial").and_then(J::as_u64).unwrap_or_default(),
            workspace: s("workspace"),
            config_digest: s("config_digest"),
            refresh: j.get("refresh").and_then(J::as_bool).unwrap_or(true),
            parallelism: j
                .get("parallelism")
                .and_then(J::as_u64)
                .map_or(10, |n| n as usize),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_unknowns_and_marks() {
        let v = Value::Object(
            [
                (
                    "a".to_string(),
                    Value::List(vec![Value::from("x"), Value::Unknown(Type::String)]),
                ),
                ("b".to_string(), Value::from(1.5).mark()),
                (
                    "c".to_string(),
                    Value::Map([("k".to_string(), Value::Null)].into()),
                ),
                ("d".to_string(), Value::Set(vec![Value::from(true)])),
                ("e".to_string(), Value::Tuple(vec![])),
            ]
            .into(),
        );
        let back = decode_value(&encode_value(&v)).unwrap();
        assert_eq!(back, {
            // Unknowns come back as unknown(any).
            let mut v2 = v.clone();
            if let Value::Object(m) = &mut v2 {
                m.insert(
                    "a".into(),
                    Value::List(vec![Value::from("x"), Value::Unknown(Type::Any)]),
                );
            }
            v2
        });
        assert!(decode_value(&json!([1])).is_err());
        assert!(decode_value(&json!({"zz": 1})).is_err());
    }

    #[test]
    fn garbage_is_not_a_plan() {
        assert!(SavedPlan::from_bytes(b"not json").is_err());
        assert!(SavedPlan::from_bytes(b"{\"format\":\"other\"}").is_err());
    }
}
