//! Addresses: `module.net["a"].aws_subnet.this[0]`, `data.x.y`.

use std::fmt;

use crate::syntax::Mode;
use crate::value::{Value, format_number};

/// The key of one instance made by `count` (Int) or `for_each` (Str).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    None,
    Int(i64),
    Str(String),
}

impl Key {
    pub fn to_value(&self) -> Value {
        match self {
            Key::None => Value::Null,
            Key::Int(i) => Value::Number(*i as f64),
            Key::Str(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::None => Ok(()),
            Key::Int(i) => write!(f, "[{i}]"),
            Key::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// One step of a module instance path: `module.NAME[KEY]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: Key,
}

/// A module instance: empty for the root.
pub type ModulePath = Vec<ModuleStep>;

pub fn module_path_string(path: &[ModuleStep]) -> String {
    let mut s = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str("module.");
        s.push_str(&step.name);
        s.push_str(&step.key.to_string());
    }
    s
}

/// A resource (all its instances) in a module instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    pub module: ModulePath,
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn instance(&self, key: Key) -> InstanceAddr {
        InstanceAddr {
            resource: self.clone(),
            key,
        }
    }

    /// `TYPE.NAME` or `data.TYPE.NAME` without the module.
    pub fn local(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.type_name, self.name),
            Mode::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_empty() {
            write!(f, "{}.", module_path_string(&self.module))?;
        }
        f.write_str(&self.local())
    }
}

/// One resource instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceAddr {
    pub resource: ResourceAddr,
    pub key: Key,
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource, self.key)
    }
}

/// What an address given on the command line (`-target`, `state mv`,
/// `import`) selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A module instance and everything in it.
    Module(ModulePath),
    /// A resource: all its instances.
    Resource(ResourceAddr),
    Instance(InstanceAddr),
}

impl Target {
    /// True when `addr` is selected.
    pub fn matches(&self, addr: &InstanceAddr) -> bool {
        match self {
            Target::Module(m) => module_prefix(m, &addr.resource.module),
            Target::Resource(r) => {
                r.module.len() == addr.resource.module.len()
                    && module_prefix(&r.module, &addr.resource.module)
                    && r.mode == addr.resource.mode
                    && r.type_name == addr.resource.type_name
                    && r.name == addr.resource.name
            }
            Target::Instance(i) => i == addr,
        }
    }

    /// True when anything in module instance `m`... is selected, or when
    /// the target lies inside it.
    pub fn touches_module(&self, m: &[ModuleStep]) -> bool {
        let tm: &[ModuleStep] = match self {
            Target::Module(p) => p,
            Target::Resource(r) => &r.module,
            Target::Instance(i) => &i.resource.module,
        };
        module_prefix(tm, m) || module_prefix(m, tm)
    }
}

/// True when `prefix` selects the start of `path`; a step without a key
/// selects every instance of that module call.
fn module_prefix(prefix: &[ModuleStep], path: &[ModuleStep]) -> bool {
    prefix.len() <= path.len()
        && prefix
            .iter()
            .zip(path)
            .all(|(t, p)| t.name == p.name && (t.key == Key::None || t.key == p.key))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(m) => f.write_str(&module_path_string(m)),
            Target::Resource(r) => write!(f, "{r}"),
            Target::Instance(i) => write!(f, "{i}"),
        }
    }
}

/// Parses an address: `module.a["x"].module.b`, `aws_vpc.main`,
/// `data.aws_ami.ubuntu`, `random_id.x[3]`, `random_id.y["k"]`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut p = Parser {
        s: s.trim(),
        pos: 0,
    };
    let mut module: ModulePath = Vec::new();
    loop {
        if p.eof() {
            return if module.is_empty() {
                Err("an address is required".into())
            } else {
                Ok(Target::Module(module))
            };
        }
        let word = p.ident()?;
        if word == "module" {
            p.expect('.')?;
            let name = p.ident()?;
            let key = p.key()?;
            module.push(ModuleStep { name, key });
            if p.eof() {
                return Ok(Target::Module(module));
            }
            p.expect('.')?;
            continue;
        }
        let (mode, type_name) = if word == "data" {
            p.expect('.')?;
            (Mode::Data, p.ident()?)
        } else {
            (Mode::Managed, word)
        };
        p.expect('.')?;
        let name = p.ident()?;
        let key = p.key()?;
        if !p.eof() {
            return Err(format!(
                "invalid address {s:?}: unexpected {:?} after the resource",
                &p.s[p.pos..]
            ));
        }
        let resource = ResourceAddr {
            module,
            mode,
            type_name,
            name,
        };
        return Ok(if key == Key::None {
            Target::Resource(resource)
        } else {
            Target::Instance(resource.instance(key))
        });
    }
}

/// Parses an instance address (a resource address without a key means the
/// instance with no key).
pub fn parse_instance(s: &str) -> Result<InstanceAddr, String> {
    match parse_target(s)? {
        Target::Instance(i) => Ok(i),
        Target::Resource(r) => Ok(r.instance(Key::None)),
        Target::Module(_) => Err(format!(
            "{s:?} is a module address; a resource instance address is required"
        )),
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(format!(
                "invalid address {:?}: expected {c:?} at column {}",
                self.s,
                self.pos + 1
            ))
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        if end == 0 || rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(format!(
                "invalid address {:?}: expected a name at column {}",
                self.s,
                self.pos + 1
            ));
        }
        let word = rest[..end].to_owned();
        self.pos += end;
        Ok(word)
    }

    fn key(&mut self) -> Result<Key, String> {
        if !self.rest().starts_with('[') {
            return Ok(Key::None);
        }
        self.pos += 1;
        let rest = self.rest();
        let key = if rest.starts_with('"') {
            // A JSON-style string literal up to the closing quote.
            let mut end = None;
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(i);
                    break;
                }
            }
            let end = end
                .ok_or_else(|| format!("invalid address {:?}: unterminated string key", self.s))?;
            let lit = &rest[..=end];
            let s: String = serde_json::from_str(lit)
                .map_err(|_| format!("invalid address {:?}: bad string key {lit}", self.s))?;
            self.pos += end + 1;
            Key::Str(s)
        } else {
            let end = rest
                .find(']')
                .ok_or_else(|| format!("invalid address {:?}: missing ']'", self.s))?;
            let n: i64 = rest[..end].trim().parse().map_err(|_| {
                format!(
                    "invalid address {:?}: index must be a number or a quoted string",
                    self.s
                )
            })?;
            self.pos += end;
            Key::Int(n)
        };
        self.expect(']')?;
        Ok(key)
    }
}

/// Formats a for_each key or count index as it appears in an address.
pub fn key_from_value(v: &Value) -> Option<Key> {
    match v.unmarked() {
        Value::String(s) => Some(Key::Str(s.clone())),
        Value::Number(n) if n.fract() == 0.0 => Some(Key::Int(*n as i64)),
        Value::Number(n) => Some(Key::Str(format_number(*n))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for s in [
            "random_id.x",
            "random_id.x[3]",
            "random_id.x[\"a b\"]",
            "data.local_file.f",
            "module.net.null_resource.n",
            "module.net[\"eu\"].module.sub[0].random_pet.p[\"k\"]",
            "module.net",
            "module.a[1]",
        ] {
            let t = parse_target(s).unwrap();
            assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn bad_addresses_are_errors() {
        for s in [
            "",
            "random_id",
            "random_id.",
            "x.y[",
            "x.y[abc]",
            "x.y.z",
            "module.",
            "1x.y",
        ] {
            assert!(parse_target(s).is_err(), "{s}");
        }
    }

    #[test]
    fn targets_select_instances() {
        let i = parse_instance("module.a[\"x\"].random_id.r[2]").unwrap();
        assert!(parse_target("module.a").unwrap().matches(&i));
        assert!(!parse_target("module.a[\"y\"]").unwrap().matches(&i));
        assert!(parse_target("module.a.random_id.r").unwrap().matches(&i));
        assert!(parse_target("module.a[\"x\"]").unwrap().matches(&i));
        assert!(
            parse_target("module.a[\"x\"].random_id.r")
                .unwrap()
                .matches(&i)
        );
        assert!(
            !parse_target("module.a[\"x\"].random_id.r[1]")
                .unwrap()
                .matches(&i)
        );
    }
}
