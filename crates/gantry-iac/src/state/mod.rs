//! Terraform state, format version 4, and the backends that keep it.
//!
//! [`State`] and its parts serialize to exactly the JSON Terraform writes
//! (`terraform.tfstate`): the same field names, the same field order, the
//! same omissions, two-space indentation. Resource attributes stay raw JSON
//! here; [`InstanceState::value`] turns them into a [`Value`] with the
//! sensitive marks that `sensitive_attributes` records, and
//! [`InstanceState::set_value`] does the reverse.
//!
//! Backends: [`backend::Backend`], with [`backend::LocalBackend`] (files)
//! and [`gantry::GantryBackend`] (the Gantry store).

pub mod backend;
pub mod gantry;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::syntax::Mode;
use crate::value::{PathStep, Type, Value};

pub use backend::{
    Backend, LocalBackend, LockInfo, backend_from_config, current_workspace, lock_with_timeout,
    select_workspace, validate_workspace_name,
};
pub use gantry::GantryBackend;

/// The Terraform version Gantry writes into new states.
pub const TERRAFORM_VERSION: &str = "1.9.8";

/// The state format version this module reads and writes.
pub const STATE_VERSION: u64 = 4;

/// Errors of state files and backends.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state is not valid state JSON.
    #[error("failed to read state: {0}")]
    Parse(String),
    #[error(
        "unsupported state version {0}: this version of Gantry reads and writes state version 4"
    )]
    UnsupportedVersion(u64),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The lock is held; carries the holder's lock info.
    #[error("{}", render_locked(.0))]
    Locked(Box<LockInfo>),
    #[error("failed to unlock state: {0}")]
    Unlock(String),
    #[error(
        "the workspace name {0:?} is not allowed: the name must contain only URL safe characters, and no path separators"
    )]
    InvalidWorkspace(String),
    #[error("workspace {0:?} doesn't exist")]
    WorkspaceNotFound(String),
    #[error("cannot delete the default workspace")]
    DeleteDefault,
    /// The backend refused the write (lineage or serial goes backwards).
    #[error("failed to write state: {0}")]
    Refused(String),
    #[error("{0}")]
    Config(String),
    /// A remote backend's storage failed (S3, DynamoDB): the message names
    /// the operation and the service's error.
    #[error("{0}")]
    Remote(String),
    #[error("state storage: {0}")]
    Store(#[from] gantry_store::StoreError),
    /// An address that does not parse.
    #[error("invalid resource instance address {0:?}: {1}")]
    Address(String, String),
}

fn render_locked(holder: &LockInfo) -> String {
    format!(
        "error acquiring the state lock: the state is locked\n\
         Lock Info:\n  \
           ID:        {}\n  \
           Path:      {}\n  \
           Operation: {}\n  \
           Who:       {}\n  \
           Version:   {}\n  \
           Created:   {}\n  \
           Info:      {}\n\n\
         Terraform acquires a state lock to protect the state from being written\n\
         by multiple users at the same time. Please resolve the issue above and try\n\
         again. For most commands, you can disable locking with the \"-lock=false\"\n\
         flag, but this is not recommended.",
        holder.id,
        holder.path,
        holder.operation,
        holder.who,
        holder.version,
        holder.created,
        holder.info
    )
}

/// A whole state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u64,
    pub terraform_version: String,
    pub serial: u64,
    pub lineage: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    #[serde(default)]
    pub resources: Vec<ResourceState>,
    /// Kept as written (Terraform writes `null` when no checks ran).
    #[serde(default)]
    pub check_results: Option<serde_json::Value>,
}

/// A root module output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: serde_json::Value,
    /// The cty type JSON: `"string"`, `["list","string"]`, ...
    #[serde(rename = "type")]
    pub type_: serde_json::Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
}

/// All instances of one resource (`aws_instance.web` in one module
/// instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The module instance address, `module.a["k"].module.b`; empty for the
    /// root module.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    #[serde(with = "mode_serde")]
    pub mode: Mode,
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    /// `"list"` under count, `"map"` under for_each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<EachMode>,
    /// `provider["registry.terraform.io/hashicorp/random"]`, with `.alias`
    /// when aliased, and the module path prefix when configured in a module.
    pub provider: String,
    #[serde(default)]
    pub instances: Vec<InstanceState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EachMode {
    List,
    Map,
}

/// An instance key: `[0]` under count, `["k"]` under for_each.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndexKey {
    Int(i64),
    Str(String),
}

impl Ord for IndexKey {
    /// Numbers first, in numeric order, then strings.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (IndexKey::Int(a), IndexKey::Int(b)) => a.cmp(b),
            (IndexKey::Str(a), IndexKey::Str(b)) => a.cmp(b),
            (IndexKey::Int(_), IndexKey::Str(_)) => Ordering::Less,
            (IndexKey::Str(_), IndexKey::Int(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for IndexKey {
    /// `[0]` or `["k"]`, as in addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexKey::Int(i) => write!(f, "[{i}]"),
            IndexKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

/// One instance object (current, or deposed when `deposed` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<IndexKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InstanceStatus>,
    /// The deposed object key (create_before_destroy replacement pending
    /// destroy); `None` for the current object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    #[serde(default)]
    pub schema_version: u64,
    #[serde(default = "empty_object")]
    pub attributes: serde_json::Value,
    /// Paths to sensitive attribute values, in cty's path JSON.
    #[serde(default)]
    pub sensitive_attributes: Vec<Vec<PathStepJson>>,
    /// Provider private data, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_before_destroy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceStatus {
    Tainted,
}

/// One step of a path in `sensitive_attributes`:
/// `{"type":"get_attr","value":"x"}` or
/// `{"type":"index","value":{"value":0,"type":"number"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum PathStepJson {
    GetAttr(String),
    Index(IndexValue),
}

/// The key of an index step: a cty value with its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexValue {
    pub value: serde_json::Value,
    #[serde(rename = "type")]
    pub type_: serde_json::Value,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

mod mode_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::syntax::Mode;

    pub fn serialize<S: Serializer>(mode: &Mode, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "managed" => Ok(Mode::Managed),
            "data" => Ok(Mode::Data),
            other => Err(serde::de::Error::custom(format!(
                "invalid resource mode {other:?}: expected \"managed\" or \"data\""
            ))),
        }
    }
}

fn mode_str(mode: Mode) -> &'static str {
    match mode {
        Mode::Managed => "managed",
        Mode::Data => "data",
    }
}

/// A string quoted as in addresses: `"k"` with `\` and `"` escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Only the version, read first so a state of another version gets a clear
/// error rather than a complaint about its fields.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

/// The JSON path (`resources[1].instances[0]`) of the deepest part of a
/// state that does not deserialize, found by deserializing the parts one
/// by one.
fn locate_error(v: &serde_json::Value) -> Option<String> {
    use serde::de::IntoDeserializer;
    fn fails<'de, T: Deserialize<'de>>(v: &'de serde_json::Value) -> bool {
        T::deserialize(v.into_deserializer()).is_err()
    }
    if let Some(outputs) = v.get("outputs").and_then(serde_json::Value::as_object) {
        for (name, o) in outputs {
            if fails::<OutputState>(o) {
                return Some(format!("outputs.{name}"));
            }
        }
    }
    if let Some(resources) = v.get("resources").and_then(serde_json::Value::as_array) {
        for (i, r) in resources.iter().enumerate() {
            if let Some(instances) = r.get("instances").and_then(serde_json::Value::as_array) {
                for (j, inst) in instances.iter().enumerate() {
                    if fails::<InstanceState>(inst) {
                        return Some(format!("resources[{i}].instances[{j}]"));
                    }
                }
            }
            if fails::<ResourceState>(r) {
                return Some(format!("resources[{i}]"));
            }
        }
    }
    None
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    /// An empty state with a fresh lineage (a UUID v4) and serial 0.
    pub fn new() -> State {
        State {
            version: STATE_VERSION,
            terraform_version: TERRAFORM_VERSION.to_string(),
            serial: 0,
            lineage: new_uuid_v4(),
            outputs: BTreeMap::new(),
            resources: Vec::new(),
            check_results: None,
        }
    }

    /// Parses a state file. Errors name the line and column; a state whose
    /// `version` is not 4 fails with [`StateError::UnsupportedVersion`].
    pub fn from_json(bytes: &[u8]) -> Result<State, StateError> {
        let probe: VersionProbe =
            serde_json::from_slice(bytes).map_err(|e| StateError::Parse(e.to_string()))?;
        match probe.version {
            None => {
                return Err(StateError::Parse(
                    "the state has no \"version\" field".to_string(),
                ));
            }
            Some(v) => match v.as_u64() {
                Some(STATE_VERSION) => {}
                Some(other) => return Err(StateError::UnsupportedVersion(other)),
                None => {
                    return Err(StateError::Parse(format!(
                        "\"version\" must be a whole number, not {v}"
                    )));
                }
            },
        }
        let mut state: State = serde_json::from_slice(bytes).map_err(|e| {
            // Name the part of the state that is wrong, as well as the line.
            let at = serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| locate_error(&v));
            match at {
                Some(path) => StateError::Parse(format!("{path}: {e}")),
                None => StateError::Parse(e.to_string()),
            }
        })?;
        if state.lineage.is_empty() {
            return Err(StateError::Parse(
                "the state has an empty \"lineage\"".to_string(),
            ));
        }
        for r in &state.resources {
            if r.each.is_none() && r.instances.iter().any(|i| i.index_key.is_some()) {
                return Err(StateError::Parse(format!(
                    "resource {} has instance keys but no \"each\" mode",
                    r.address()
                )));
            }
            for i in &r.instances {
                if !i.attributes.is_object() && !i.attributes.is_null() {
                    return Err(StateError::Parse(format!(
                        "resource {}: \"attributes\" must be an object",
                        r.address()
                    )));
                }
            }
        }
        state.sort();
        Ok(state)
    }

    /// The state as Terraform writes it: two-space indentation, resources
    /// sorted, a final newline.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        let mut sorted = self.clone();
        sorted.sort();
        // Serializing these types cannot fail: every map key is a string.
        let mut out = serde_json::to_vec_pretty(&sorted).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Sorts resources by (module, mode, type, name) and each resource's
    /// instances by key (numbers before strings), current object before
    /// deposed ones.
    pub fn sort(&mut self) {
        self.resources.sort_by(|a, b| {
            (&a.module, mode_str(a.mode), &a.type_, &a.name).cmp(&(
                &b.module,
                mode_str(b.mode),
                &b.type_,
                &b.name,
            ))
        });
        for r in &mut self.resources {
            r.instances.sort_by(|a, b| {
                a.index_key
                    .cmp(&b.index_key)
                    .then_with(|| a.deposed.cmp(&b.deposed))
            });
        }
    }

    /// Sets the serial for persisting this state over `previous` (the state
    /// last read or written), as Terraform does: one more than the
    /// previous serial when anything but the serial changed, the previous
    /// serial when nothing did. A state with another lineage keeps its own
    /// serial (the backend decides whether to accept it).
    pub fn bump_serial(&mut self, previous: Option<&State>) {
        let Some(prev) = previous else { return };
        if prev.lineage != self.lineage {
            return;
        }
        let mut a = self.clone();
        a.serial = prev.serial;
        a.sort();
        let mut b = prev.clone();
        b.sort();
        self.serial = if a == b {
            prev.serial
        } else {
            prev.serial.saturating_add(1)
        };
    }

    /// True when the state has no resources and no outputs.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }

    /// The resource, if the state has it.
    pub fn resource(
        &self,
        module: &str,
        mode: Mode,
        type_: &str,
        name: &str,
    ) -> Option<&ResourceState> {
        self.resources
            .iter()
            .find(|r| r.module == module && r.mode == mode && r.type_ == type_ && r.name == name)
    }

    /// The current (not deposed) object of an instance.
    pub fn instance(&self, addr: &InstanceAddr) -> Option<&InstanceState> {
        self.resource(&addr.module, addr.mode, &addr.type_, &addr.name)?
            .instances
            .iter()
            .find(|i| i.index_key == addr.key && i.deposed.is_none())
    }

    /// Mutable access to the current object of an instance.
    pub fn instance_mut(&mut self, addr: &InstanceAddr) -> Option<&mut InstanceState> {
        self.resources
            .iter_mut()
            .find(|r| {
                r.module == addr.module
                    && r.mode == addr.mode
                    && r.type_ == addr.type_
                    && r.name == addr.name
            })?
            .instances
            .iter_mut()
            .find(|i| i.index_key == addr.key && i.deposed.is_none())
    }

    /// Sets the current object of an instance (replacing one at the same
    /// address), creating its resource with `provider` when missing.
    /// `instance.index_key` and `deposed` are set from `addr`. The resource's
    /// `each` follows the key (`list` for a number, `map` for a string).
    pub fn set_instance(
        &mut self,
        addr: &InstanceAddr,
        provider: &str,
        mut instance: InstanceState,
    ) {
        instance.index_key = addr.key.clone();
        instance.deposed = None;
        let each = match &addr.key {
            None => None,
            Some(IndexKey::Int(_)) => Some(EachMode::List),
            Some(IndexKey::Str(_)) => Some(EachMode::Map),
        };
        let pos = self.resources.iter().position(|r| {
            r.module == addr.module
                && r.mode == addr.mode
                && r.type_ == addr.type_
                && r.name == addr.name
        });
        let resource = match pos {
            Some(p) => &mut self.resources[p],
            None => {
                self.resources.push(ResourceState {
                    module: addr.module.clone(),
                    mode: addr.mode,
                    type_: addr.type_.clone(),
                    name: addr.name.clone(),
                    each,
                    provider: provider.to_string(),
                    instances: Vec::new(),
                });
                let last = self.resources.len() - 1;
                &mut self.resources[last]
            }
        };
        resource.each = each;
        resource.provider = provider.to_string();
        resource
            .instances
            .retain(|i| !(i.index_key == addr.key && i.deposed.is_none()));
        resource.instances.push(instance);
        self.sort();
    }

    /// Removes the current object of an instance, and the resource when it
    /// has no objects left. Returns the removed object.
    pub fn remove_instance(&mut self, addr: &InstanceAddr) -> Option<InstanceState> {
        let rpos = self.resources.iter().position(|r| {
            r.module == addr.module
                && r.mode == addr.mode
                && r.type_ == addr.type_
                && r.name == addr.name
        })?;
        let resource = &mut self.resources[rpos];
        let ipos = resource
            .instances
            .iter()
            .position(|i| i.index_key == addr.key && i.deposed.is_none())?;
        let removed = resource.instances.remove(ipos);
        if resource.instances.is_empty() {
            self.resources.remove(rpos);
        }
        Some(removed)
    }

    /// Every instance object with its address, in state order.
    pub fn instances(
        &self,
    ) -> impl Iterator<Item = (InstanceAddr, &ResourceState, &InstanceState)> {
        self.resources.iter().flat_map(|r| {
            r.instances.iter().map(move |i| {
                (
                    InstanceAddr {
                        module: r.module.clone(),
                        mode: r.mode,
                        type_: r.type_.clone(),
                        name: r.name.clone(),
                        key: i.index_key.clone(),
                    },
                    r,
                    i,
                )
            })
        })
    }
}

impl ResourceState {
    /// `module.a.aws_instance.web`, `data.x.y`.
    pub fn address(&self) -> String {
        InstanceAddr {
            module: self.module.clone(),
            mode: self.mode,
            type_: self.type_.clone(),
            name: self.name.clone(),
            key: None,
        }
        .to_string()
    }
}

/// The address of a resource instance: `module.a["k"].aws_instance.web[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceAddr {
    /// The module instance path (`module.a["k"]`), empty for the root.
    pub module: String,
    pub mode: Mode,
    pub type_: String,
    pub name: String,
    pub key: Option<IndexKey>,
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_empty() {
            write!(f, "{}.", self.module)?;
        }
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_, self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for InstanceAddr {
    type Err = StateError;

    /// Parses `module.a["k"].module.b[0].data.x.y["z"]` and simpler forms.
    fn from_str(s: &str) -> Result<InstanceAddr, StateError> {
        let bad = |why: &str| StateError::Address(s.to_string(), why.to_string());
        let mut p = AddrParser { s, pos: 0 };
        let mut module = String::new();
        loop {
            let save = p.pos;
            let word = p.ident().ok_or_else(|| bad("expected a name"))?;
            if word == "module" {
                if !p.eat('.') {
                    return Err(bad("expected \".\" after \"module\""));
                }
                let name = p.ident().ok_or_else(|| bad("expected a module name"))?;
                if !module.is_empty() {
                    module.push('.');
                }
                module.push_str("module.");
                module.push_str(&name);
                if let Some(k) = p.key().map_err(|e| bad(&e))? {
                    module.push_str(&k.to_string());
                }
                if !p.eat('.') {
                    return Err(bad("expected a resource after the module path"));
                }
                continue;
            }
            p.pos = save;
            break;
        }
        let mut mode = Mode::Managed;
        let mut type_ = p.ident().ok_or_else(|| bad("expected a resource type"))?;
        if !p.eat('.') {
            return Err(bad("expected \".\" after the resource type"));
        }
        let mut name = p.ident().ok_or_else(|| bad("expected a resource name"))?;
        if type_ == "data" {
            if !p.eat('.') {
                return Err(bad("expected \".\" after the data source type"));
            }
            mode = Mode::Data;
            type_ = name;
            name = p
                .ident()
                .ok_or_else(|| bad("expected a data source name"))?;
        }
        let key = p.key().map_err(|e| bad(&e))?;
        if p.pos != s.len() {
            return Err(bad("unexpected characters at the end"));
        }
        Ok(InstanceAddr {
            module,
            mode,
            type_,
            name,
            key,
        })
    }
}

struct AddrParser<'a> {
    s: &'a str,
    pos: usize,
}

impl AddrParser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|(i, c)| !(c.is_alphanumeric() || *c == '_' || (*i > 0 && *c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let word = rest[..len].to_string();
        self.pos += len;
        Some(word)
    }

    /// `[0]`, `["k"]`, or nothing.
    fn key(&mut self) -> Result<Option<IndexKey>, String> {
        if !self.eat('[') {
            return Ok(None);
        }
        let key = if self.eat('"') {
            let mut out = String::new();
            let mut chars = self.rest().char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("unterminated string key".into()),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, c)) => out.push(c),
                        None => return Err("unterminated string key".into()),
                    },
                    Some((_, c)) => out.push(c),
                }
            };
            self.pos += end + 1;
            IndexKey::Str(out)
        } else {
            let rest = self.rest();
            let len = rest
                .char_indices()
                .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
                .map_or(rest.len(), |(i, _)| i);
            let n: i64 = rest[..len]
                .parse()
                .map_err(|_| "an index must be a whole number or a quoted string".to_string())?;
            self.pos += len;
            IndexKey::Int(n)
        };
        if !self.eat(']') {
            return Err("expected \"]\"".into());
        }
        Ok(Some(key))
    }
}

/// A UUID v4 string (the state lineage, lock ids).
pub fn new_uuid_v4() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

// ------------------------------------------------------------ cty types

/// A type as cty's JSON: `"string"`, `["list","string"]`,
/// `["object",{"a":"number"}]` (with a third element listing optional
/// attributes), `"dynamic"` for `any`.
pub fn cty_type_json(ty: &Type) -> serde_json::Value {
    use serde_json::{Value as J, json};
    match ty {
        Type::Any => J::from("dynamic"),
        Type::Bool => J::from("bool"),
        Type::Number => J::from("number"),
        Type::String => J::from("string"),
        Type::List(t) => json!(["list", cty_type_json(t)]),
        Type::Set(t) => json!(["set", cty_type_json(t)]),
        Type::Map(t) => json!(["map", cty_type_json(t)]),
        Type::Tuple(ts) => json!(["tuple", ts.iter().map(cty_type_json).collect::<Vec<_>>()]),
        Type::Object { attrs, optional } => {
            let a: serde_json::Map<String, J> = attrs
                .iter()
                .map(|(k, t)| (k.clone(), cty_type_json(t)))
                .collect();
            if optional.is_empty() {
                json!(["object", a])
            } else {
                json!(["object", a, optional.keys().collect::<Vec<_>>()])
            }
        }
    }
}

/// Reads cty's type JSON (see [`cty_type_json`]).
pub fn cty_type_from_json(j: &serde_json::Value) -> Result<Type, StateError> {
    use serde_json::Value as J;
    let bad = || StateError::Parse(format!("invalid type {j}"));
    match j {
        J::String(s) => match s.as_str() {
            "dynamic" => Ok(Type::Any),
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            _ => Err(bad()),
        },
        J::Array(items) => {
            let kind = items.first().and_then(J::as_str).ok_or_else(bad)?;
            let arg = items.get(1).ok_or_else(bad)?;
            match kind {
                "list" if items.len() == 2 => Ok(Type::list(cty_type_from_json(arg)?)),
                "set" if items.len() == 2 => Ok(Type::set(cty_type_from_json(arg)?)),
                "map" if items.len() == 2 => Ok(Type::map(cty_type_from_json(arg)?)),
                "tuple" if items.len() == 2 => Ok(Type::Tuple(
                    arg.as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(cty_type_from_json)
                        .collect::<Result<_, _>>()?,
                )),
                "object" if items.len() == 2 || items.len() == 3 => {
                    let attrs = arg
                        .as_object()
                        .ok_or_else(bad)?
                        .iter()
                        .map(|(k, t)| Ok((k.clone(), cty_type_from_json(t)?)))
                        .collect::<Result<BTreeMap<_, _>, StateError>>()?;
                    let mut optional = BTreeMap::new();
                    if let Some(opt) = items.get(2) {
                        for name in opt.as_array().ok_or_else(bad)? {
                            let name = name.as_str().ok_or_else(bad)?;
                            if !attrs.contains_key(name) {
                                return Err(bad());
                            }
                            optional.insert(name.to_string(), None);
                        }
                    }
                    Ok(Type::Object { attrs, optional })
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

// ------------------------------------------------------------ values and marks

/// `Value::sensitive_paths()` steps as `sensitive_attributes` JSON.
pub fn paths_to_json(paths: &[Vec<PathStep>]) -> Vec<Vec<PathStepJson>> {
    paths
        .iter()
        .map(|path| {
            path.iter()
                .map(|step| match step {
                    PathStep::Attr(a) => PathStepJson::GetAttr(a.clone()),
                    PathStep::Key(k) => PathStepJson::Index(IndexValue {
                        value: serde_json::Value::from(k.clone()),
                        type_: serde_json::Value::from("string"),
                    }),
                    PathStep::Index(i) => PathStepJson::Index(IndexValue {
                        value: serde_json::Value::from(*i),
                        type_: serde_json::Value::from("number"),
                    }),
                })
                .collect()
        })
        .collect()
}

/// `sensitive_attributes` JSON as path steps. An index step with a string
/// key becomes [`PathStep::Key`], a number [`PathStep::Index`].
pub fn paths_from_json(paths: &[Vec<PathStepJson>]) -> Result<Vec<Vec<PathStep>>, StateError> {
    paths
        .iter()
        .map(|path| {
            path.iter()
                .map(|step| match step {
                    PathStepJson::GetAttr(a) => Ok(PathStep::Attr(a.clone())),
                    PathStepJson::Index(iv) => match (&iv.value, iv.type_.as_str()) {
                        (serde_json::Value::String(s), _) => Ok(PathStep::Key(s.clone())),
                        (serde_json::Value::Number(n), _) => {
                            n.as_i64().map(PathStep::Index).ok_or_else(|| {
                                StateError::Parse(format!(
                                    "sensitive_attributes: index {n} is not a whole number"
                                ))
                            })
                        }
                        (other, _) => Err(StateError::Parse(format!(
                            "sensitive_attributes: unsupported index key {other}"
                        ))),
                    },
                })
                .collect()
        })
        .collect()
}

/// Marks the values at `paths` inside `v` sensitive. Paths that do not
/// lead anywhere (the value changed shape) are ignored.
pub fn mark_paths(v: Value, paths: &[Vec<PathStep>]) -> Value {
    paths.iter().fold(v, |v, p| mark_path(v, p))
}

fn mark_path(v: Value, path: &[PathStep]) -> Value {
    let Some((step, rest)) = path.split_first() else {
        return if v.is_sensitive() { v } else { v.mark() };
    };
    match (v, step) {
        (Value::Sensitive(inner), _) => Value::Sensitive(Box::new(mark_path(*inner, path))),
        (Value::Object(m), PathStep::Attr(k) | PathStep::Key(k)) => {
            Value::Object(mark_entry(m, k, rest))
        }
        (Value::Map(m), PathStep::Attr(k) | PathStep::Key(k)) => Value::Map(mark_entry(m, k, rest)),
        (Value::List(xs), PathStep::Index(i)) => Value::List(mark_element(xs, *i, rest)),
        (Value::Tuple(xs), PathStep::Index(i)) => Value::Tuple(mark_element(xs, *i, rest)),
        (Value::Set(xs), PathStep::Index(i)) => Value::Set(mark_element(xs, *i, rest)),
        (other, _) => other,
    }
}

fn mark_entry(
    mut m: BTreeMap<String, Value>,
    k: &str,
    rest: &[PathStep],
) -> BTreeMap<String, Value> {
    if let Some(x) = m.remove(k) {
        m.insert(k.to_string(), mark_path(x, rest));
    }
    m
}

fn mark_element(mut xs: Vec<Value>, i: i64, rest: &[PathStep]) -> Vec<Value> {
    if let Some(slot) = usize::try_from(i).ok().and_then(|i| xs.get_mut(i)) {
        let x = std::mem::replace(slot, Value::Null);
        *slot = mark_path(x, rest);
    }
    xs
}

impl InstanceState {
    /// A fresh current object with these attributes and no marks.
    pub fn new(schema_version: u64, attributes: serde_json::Value) -> InstanceState {
        InstanceState {
            index_key: None,
            status: None,
            deposed: None,
            schema_version,
            attributes,
            sensitive_attributes: Vec::new(),
            private: None,
            dependencies: Vec::new(),
            create_before_destroy: false,
        }
    }

    /// The attributes as a value, shaped by `ty` when given (the resource
    /// type's schema), with `sensitive_attributes` marked.
    pub fn value(&self, ty: Option<&Type>) -> Result<Value, StateError> {
        let raw = match ty {
            Some(t) => Value::from_json_typed(&self.attributes, t).map_err(|e| {
                StateError::Parse(format!("attributes do not match the schema: {e}"))
            })?,
            None => Value::from_json(&self.attributes),
        };
        Ok(mark_paths(
            raw,
            &paths_from_json(&self.sensitive_attributes)?,
        ))
    }

    /// Sets the attributes and `sensitive_attributes` from a value.
    pub fn set_value(&mut self, v: &Value) {
        self.attributes = v.to_json();
        self.sensitive_attributes = paths_to_json(&v.sensitive_paths());
    }

    pub fn is_tainted(&self) -> bool {
        self.status == Some(InstanceStatus::Tainted)
    }
}

impl OutputState {
    /// An output from its value: the type from the value, `sensitive` when
    /// it or anything inside is marked.
    pub fn from_value(v: &Value, sensitive: bool) -> OutputState {
        OutputState {
            value: v.to_json(),
            type_: cty_type_json(&v.type_of()),
            sensitive: sensitive || v.contains_sensitive(),
        }
    }

    /// The value, converted to its recorded type, marked when sensitive.
    pub fn to_value(&self) -> Result<Value, StateError> {
        let ty = cty_type_from_json(&self.type_)?;
        let v = Value::from_json_typed(&self.value, &ty)
            .map_err(|e| StateError::Parse(format!("output value does not match its type: {e}")))?;
        Ok(v.mark_if(self.sensitive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cty_types_round_trip() {
        let cases = [
            (Type::String, r#""string""#),
            (Type::Any, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (Type::map(Type::Bool), r#"["map","bool"]"#),
            (
                Type::Tuple(vec![Type::String, Type::Number]),
                r#"["tuple",["string","number"]]"#,
            ),
            (
                Type::object(BTreeMap::from([
                    ("a".to_string(), Type::Number),
                    ("b".to_string(), Type::list(Type::String)),
                ])),
                r#"["object",{"a":"number","b":["list","string"]}]"#,
            ),
        ];
        for (ty, json) in cases {
            let j = cty_type_json(&ty);
            assert_eq!(j.to_string(), json);
            assert_eq!(cty_type_from_json(&j).unwrap(), ty);
        }
        for bad in [
            r#""strin""#,
            r#"["list"]"#,
            r#"["object",{"a":"number"},["b"]]"#,
            "3",
        ] {
            let j: serde_json::Value = serde_json::from_str(bad).unwrap();
            assert!(cty_type_from_json(&j).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_parse_and_print() {
        let cases = [
            ("random_id.x", "", Mode::Managed, None),
            ("data.local_file.f", "", Mode::Data, None),
            (
                "aws_instance.web[0]",
                "",
                Mode::Managed,
                Some(IndexKey::Int(0)),
            ),
            (
                r#"module.a["k"].module.b.null_resource.n["x y"]"#,
                r#"module.a["k"].module.b"#,
                Mode::Managed,
                Some(IndexKey::Str("x y".into())),
            ),
            ("module.m[2].data.x.y", "module.m[2]", Mode::Data, None),
        ];
        for (text, module, mode, key) in cases {
            let a: InstanceAddr = text.parse().unwrap();
            assert_eq!(a.module, module, "{text}");
            assert_eq!(a.mode, mode, "{text}");
            assert_eq!(a.key, key, "{text}");
            assert_eq!(a.to_string(), text);
        }
        for bad in [
            "", "x", "x.", "x.y[", "x.y[1", "x.y[a]", "module.a", "x.y z", "data.x",
        ] {
            assert!(bad.parse::<InstanceAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sensitive_paths_round_trip_and_mark() {
        let v = Value::Object(BTreeMap::from([
            ("id".to_string(), Value::string("i")),
            ("password".to_string(), Value::string("p").mark()),
            (
                "tags".to_string(),
                Value::Map(BTreeMap::from([(
                    "secret".to_string(),
                    Value::string("s").mark(),
                )])),
            ),
            (
                "list".to_string(),
                Value::List(vec![Value::string("a"), Value::string("b").mark()]),
            ),
        ]));
        let mut inst = InstanceState::new(0, serde_json::Value::Null);
        inst.set_value(&v);
        let json = serde_json::to_string(&inst.sensitive_attributes).unwrap();
        assert_eq!(
            json,
            r#"[[{"type":"get_attr","value":"list"},{"type":"index","value":{"value":1,"type":"number"}}],[{"type":"get_attr","value":"password"}],[{"type":"get_attr","value":"tags"},{"type":"index","value":{"value":"secret","type":"string"}}]]"#
        );
        let back = inst.value(None).unwrap();
        assert_eq!(back.get_attr("id"), Some(Value::string("i")));
        assert!(back.get_attr("password").unwrap().is_sensitive());
        assert!(back.get_attr("tags").unwrap().contains_sensitive());
        let list = back.get_attr("list").unwrap();
        let items = list.as_seq().unwrap();
        assert!(!items[0].is_sensitive());
        assert!(items[1].is_sensitive());
        // The same paths come out again.
        assert_eq!(back.sensitive_paths().len(), 3);
    }
}
