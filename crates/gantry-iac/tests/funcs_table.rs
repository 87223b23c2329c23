//! Table tests of the built-in functions. Each row is
//! `(function, arguments, expected)`: arguments and expected results are
//! written in a small literal syntax (see `Parser`), and an expected error
//! is `err: TEXT` (call error containing TEXT) or `err@N: TEXT` (error
//! about argument N).

use std::path::{Path, PathBuf};

use gantry_iac::funcs::{self, FuncError, FuncHost, Phase};
use gantry_iac::value::{Type, Value};

pub struct TestHost {
    pub dir: PathBuf,
    pub phase: Phase,
}

impl FuncHost for TestHost {
    fn base_dir(&self) -> &Path {
        &self.dir
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    /// Replaces `${name}` with the variable's string form.
    fn render_template(&self, _path: &Path, text: &str, vars: &Value) -> Result<Value, String> {
        let mut out = text.to_owned();
        for (k, v) in vars.as_map().into_iter().flatten() {
            if !v.is_known() {
                return Ok(Value::Unknown(Type::String));
            }
            let s = v
                .to_template_string()
                .ok_or_else(|| format!("variable {k:?} is not a string"))?;
            out = out.replace(&format!("${{{k}}}"), &s);
        }
        if out.contains("${") {
            return Err("vars map does not contain a key referenced in the template".into());
        }
        Ok(Value::String(out))
    }
}

/// Literal syntax: `"s"` (JSON escapes), numbers, `true`, `false`,
/// `null`, `[a, b]` tuple, `{a = 1, "b" = 2}` object, `list[...]`,
/// `set[...]`, `map{...}`, `unknown(TYPE)`, `sensitive(x)`. Types:
/// `string`, `number`, `bool`, `any`, `list(T)`, `set(T)`, `map(T)`,
/// `tuple([T, ...])`, `object({a = T})`.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser {
            s: s.as_bytes(),
            i: 0,
        }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) {
        assert!(
            self.eat(c),
            "expected {:?} at {} in {:?}",
            c as char,
            self.i,
            String::from_utf8_lossy(self.s)
        );
    }

    fn ident(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn string(&mut self) -> String {
        self.ws();
        let start = self.i;
        self.i += 1;
        while self.s[self.i] != b'"' {
            if self.s[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i += 1;
        let raw = std::str::from_utf8(&self.s[start..self.i]).unwrap();
        serde_json::from_str(raw).unwrap()
    }

    fn items(&mut self, close: u8) -> Vec<Value> {
        let mut out = Vec::new();
        while !self.eat(close) {
            out.push(self.value());
            self.eat(b',');
        }
        out
    }

    fn attrs(&mut self) -> std::collections::BTreeMap<String, Value> {
        let mut out = std::collections::BTreeMap::new();
        while !self.eat(b'}') {
            let k = if self.peek() == Some(b'"') {
                self.string()
            } else {
                self.ident()
            };
            if !self.eat(b'=') {
                self.expect(b':');
            }
            out.insert(k, self.value());
            self.eat(b',');
        }
        out
    }

    fn ty(&mut self) -> Type {
        let name = self.ident();
        match name.as_str() {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "any" => Type::Any,
            "list" | "set" | "map" => {
                self.expect(b'(');
                let t = self.ty();
                self.expect(b')');
                match name.as_str() {
                    "list" => Type::list(t),
                    "set" => Type::set(t),
                    _ => Type::map(t),
                }
            }
            "tuple" => {
                self.expect(b'(');
                self.expect(b'[');
                let mut ts = Vec::new();
                while !self.eat(b']') {
                    ts.push(self.ty());
                    self.eat(b',');
                }
                self.expect(b')');
                Type::Tuple(ts)
            }
            "object" => {
                self.expect(b'(');
                self.expect(b'{');
                let mut attrs = std::collections::BTreeMap::new();
                while !self.eat(b'}') {
                    let k = self.ident();
                    self.expect(b'=');
                    attrs.insert(k, self.ty());
                    self.eat(b',');
                }
                self.expect(b')');
                Type::object(attrs)
            }
            other => panic!("unknown type {other}"),
        }
    }

    fn value(&mut self) -> Value {
        match self.peek() {
            Some(b'"') => Value::String(self.string()),
            Some(b'[') => {
                self.i += 1;
                Value::Tuple(self.items(b']'))
            }
            Some(b'{') => {
                self.i += 1;
                Value::Object(self.attrs())
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || b".eE+-".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Value::Number(t.parse().unwrap())
            }
            _ => {
                let word = self.ident();
                match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    "list" => {
                        self.expect(b'[');
                        Value::List(self.items(b']'))
                    }
                    "set" => {
                        self.expect(b'[');
                        Value::set_from(self.items(b']'))
                    }
                    "map" => {
                        self.expect(b'{');
                        Value::Map(self.attrs())
                    }
                    "unknown" => {
                        self.expect(b'(');
                        let t = self.ty();
                        self.expect(b')');
                        Value::Unknown(t)
                    }
                    "sensitive" => {
                        self.expect(b'(');
                        let v = self.value();
                        self.expect(b')');
                        v.mark()
                    }
                    other => panic!("unknown literal {other:?}"),
                }
            }
        }
    }
}

pub fn lit(s: &str) -> Value {
    let mut p = Parser::new(s);
    let v = p.value();
    assert_eq!(p.peek(), None, "trailing text in {s:?}");
    v
}

pub fn args(s: &str) -> Vec<Value> {
    let mut p = Parser::new(s);
    let mut out = Vec::new();
    while p.peek().is_some() {
        out.push(p.value());
        p.eat(b',');
    }
    out
}

pub fn host_in(dir: &Path) -> TestHost {
    TestHost {
        dir: dir.to_path_buf(),
        phase: Phase::Apply,
    }
}

/// Runs every row; collects all failures so one run shows them all.
pub fn run(host: &dyn FuncHost, rows: &[(&str, &str, &str)]) {
    let mut failures = Vec::new();
    for (name, a, expected) in rows {
        let got = funcs::call(name, args(a), host);
        let ok = check(&got, expected);
        if !ok {
            failures.push(format!("{name}({a}): expected {expected}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn check(got: &Result<Value, FuncError>, expected: &str) -> bool {
    if let Some(rest) = expected.strip_prefix("err") {
        let Err(e) = got else {
            return false;
        };
        let (param, text) = match rest.strip_prefix('@') {
            Some(r) => {
                let (n, t) = r.split_once(':').unwrap();
                (Some(n.trim().parse::<usize>().unwrap()), t.trim())
            }
            None => (None, rest.trim_start_matches(':').trim()),
        };
        return e.param.map(|p| p.0) == param && e.message.contains(text);
    }
    matches!(got, Ok(v) if *v == lit(expected))
}

#[test]
fn literal_parser_reads_every_form() {
    assert_eq!(
        lit(r#"{a = [1, "x"], "b c" = list[true], d = map{k = null}}"#),
        Value::Object(
            [
                (
                    "a".to_string(),
                    Value::Tuple(vec![Value::Number(1.0), Value::from("x")])
                ),
                ("b c".to_string(), Value::List(vec![Value::Bool(true)])),
                (
                    "d".to_string(),
                    Value::Map([("k".to_string(), Value::Null)].into())
                ),
            ]
            .into()
        )
    );
    assert_eq!(
        lit("unknown(list(string))"),
        Value::Unknown(Type::list(Type::String))
    );
    assert_eq!(lit("sensitive(-1.5)"), Value::Number(-1.5).mark());
    assert_eq!(lit("set[\"b\", \"a\", \"b\"]"), lit("set[\"a\", \"b\"]"));
}

fn tmp_host() -> (tempfile::TempDir, TestHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path());
    (dir, host)
}

#[test]
fn calls_check_argument_count_type_and_null() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("upper", "", "err: not enough function arguments"),
            ("upper", r#""a", "b""#, "err: expects only 1 argument(s)"),
            ("upper", "1", r#""1""#),
            ("upper", "true", r#""TRUE""#),
            ("upper", "[]", "err@0: string required"),
            ("upper", "null", "err@0: must not be null"),
            ("upper", "unknown(string)", "unknown(string)"),
            ("upper", "unknown(any)", "unknown(string)"),
            ("upper", r#"sensitive("a")"#, r#"sensitive("A")"#),
            ("nosuchfunc", "", "err: there is no function named"),
            ("try", "1", "err: evaluated lazily"),
            ("can", "1", "err: evaluated lazily"),
            ("max", "", "err: at least one number"),
            ("max", r#"1, "x""#, "err@1: not a number"),
        ],
    );
}

#[test]
fn collection_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            // length
            ("length", "[]", "0"),
            ("length", r#"["a", "b"]"#, "2"),
            ("length", r#"{a = "b"}"#, "1"),
            ("length", r#""hello""#, "5"),
            ("length", "\"e\\u0301x\"", "2"),
            ("length", r#"list[unknown(string), "a"]"#, "2"),
            ("length", "unknown(list(string))", "unknown(number)"),
            ("length", "unknown(tuple([string, number]))", "2"),
            ("length", r#"sensitive(["a"])"#, "sensitive(1)"),
            ("length", r#"[sensitive("a")]"#, "1"),
            ("length", "5", "err@0: collection type"),
            ("length", "null", "err@0: must not be null"),
            // concat
            ("concat", r#"["a", ""], ["b", "c"]"#, r#"["a", "", "b", "c"]"#),
            ("concat", r#"list["a"], list["b"]"#, r#"list["a", "b"]"#),
            ("concat", r#"list["a"], list[1]"#, r#"list["a", "1"]"#),
            ("concat", r#"list["a"], [1, true]"#, r#"["a", 1, true]"#),
            ("concat", r#"list["a"], unknown(list(string))"#, "unknown(list(string))"),
            ("concat", r#"[], unknown(list(string))"#, "unknown(any)"),
            ("concat", r#""a""#, "err@0: a list, set, or tuple is required"),
            ("concat", r#"list[sensitive("a")], list["b"]"#, r#"sensitive(list["a", "b"])"#),
            // lookup
            ("lookup", r#"{a = "ay", b = "bee"}, "a", "what?""#, r#""ay""#),
            ("lookup", r#"{a = "ay", b = "bee"}, "c", "what?""#, r#""what?""#),
            ("lookup", r#"map{a = "ay"}, "c", 1"#, r#""1""#),
            ("lookup", r#"{a = "ay"}, "c""#, "err: lookup failed to find key"),
            ("lookup", r#"{a = "ay"}, "a""#, r#""ay""#),
            ("lookup", r#"unknown(map(string)), "a", "x""#, "unknown(string)"),
            ("lookup", r#"{a = 1}, unknown(string), 2"#, "unknown(number)"),
            ("lookup", r#"[1], "a""#, "err@0: a map or object is required"),
            ("lookup", r#"{a = 1}, "a", 1, 2"#, "err: at most 3"),
            // compact
            ("compact", r#"["a", "", "b", null, "c"]"#, r#"list["a", "b", "c"]"#),
            ("compact", "[]", "list[]"),
            ("compact", r#"["a", unknown(string)]"#, "unknown(list(string))"),
            // coalesce
            ("coalesce", r#""a", "b""#, r#""a""#),
            ("coalesce", r#""", "b""#, r#""b""#),
            ("coalesce", "1, 2", "1"),
            ("coalesce", r#"null, "x""#, r#""x""#),
            ("coalesce", r#"1, "x""#, r#""1""#),
            ("coalesce", r#""a", unknown(string)"#, r#""a""#),
            ("coalesce", r#"unknown(string), "a""#, "unknown(string)"),
            ("coalesce", r#"null, """#, "err: no non-null, non-empty-string arguments"),
            ("coalesce", r#"[], "a""#, "err: same type"),
            // coalescelist
            ("coalescelist", r#"["a", "b"], ["c", "d"]"#, r#"["a", "b"]"#),
            ("coalescelist", r#"[], ["c", "d"]"#, r#"["c", "d"]"#),
            ("coalescelist", r#"null, ["c"]"#, r#"["c"]"#),
            ("coalescelist", "[], []", "err: no non-null arguments"),
            ("coalescelist", r#"unknown(list(string)), ["c"]"#, "unknown(any)"),
            // distinct
            ("distinct", r#"["a", "b", "a", "c", "d", "b"]"#, r#"list["a", "b", "c", "d"]"#),
            ("distinct", "[]", "list[]"),
            ("distinct", r#"[1, "1"]"#, r#"list["1"]"#),
            // sort
            ("sort", r#"["e", "d", "a", "x"]"#, r#"list["a", "d", "e", "x"]"#),
            ("sort", "[10, 9, 1]", r#"list["1", "10", "9"]"#),
            ("sort", r#"["b", null]"#, "err@0: null string cannot be sorted"),
            ("sort", r#"["b", unknown(string)]"#, "unknown(list(string))"),
            // merge
            ("merge", r#"{a = "b", c = "d"}, {e = "f", c = "z"}"#, r#"{a = "b", c = "z", e = "f"}"#),
            ("merge", r#"map{a = "b"}, map{e = "f"}"#, r#"map{a = "b", e = "f"}"#),
            ("merge", r#"map{a = "b"}, map{e = 1}"#, r#"map{a = "b", e = "1"}"#),
            ("merge", r#"{a = "b"}, {a = [1, 2], c = "z"}, {d = 3}"#, r#"{a = [1, 2], c = "z", d = 3}"#),
            ("merge", r#"null, {a = 1}"#, "{a = 1}"),
            ("merge", "", "{}"),
            ("merge", r#"{a = 1}, unknown(map(number))"#, "unknown(any)"),
            ("merge", r#"{a = 1}, [1]"#, "err@1: a map or object is required"),
            // element
            ("element", r#"["a", "b", "c"], 1"#, r#""b""#),
            ("element", r#"["a", "b", "c"], 3"#, r#""a""#),
            ("element", r#"["a", "b", "c"], -1"#, "err@1: negative index"),
            ("element", "[], 0", "err@0: empty list"),
            ("element", r#"set["a"], 0"#, "err@0: set"),
            ("element", r#"list["a"], unknown(number)"#, "unknown(string)"),
            ("element", r#"["a"], 1.5"#, "err@1: whole number"),
            // slice
            ("slice", r#"["a", "b", "c", "d"], 1, 3"#, r#"["b", "c"]"#),
            ("slice", r#"list["a", "b", "c", "d"], 1, 3"#, r#"list["b", "c"]"#),
            ("slice", r#"["a"], 0, 0"#, "[]"),
            ("slice", r#"["a"], 0, 2"#, "err@2: end index"),
            ("slice", r#"["a"], -1, 1"#, "err@1: start index"),
            ("slice", r#"["a", "b"], 2, 1"#, "err@1: greater than end index"),
            ("slice", r#"set["a"], 0, 1"#, "err@0: cannot slice a set"),
            // flatten
            ("flatten", r#"[["a", "b"], [], ["c"]]"#, r#"["a", "b", "c"]"#),
            ("flatten", r#"[[["a", "b"], []], ["c"]]"#, r#"["a", "b", "c"]"#),
            ("flatten", r#"[set["b", "a"], "c"]"#, r#"["a", "b", "c"]"#),
            ("flatten", "[]", "[]"),
            ("flatten", r#"[unknown(list(string)), ["a"]]"#, "unknown(any)"),
            // keys / values
            ("keys", r#"{a = 1, c = 2, d = 3}"#, r#"["a", "c", "d"]"#),
            ("keys", r#"map{b = 1, a = 2}"#, r#"list["a", "b"]"#),
            ("keys", "unknown(map(string))", "unknown(list(string))"),
            ("keys", "unknown(object({x = string}))", r#"["x"]"#),
            ("keys", "[]", "err@0: a map or object is required"),
            ("values", r#"{a = 3, c = 2, d = 1}"#, "[3, 2, 1]"),
            ("values", r#"map{a = 3, c = 2}"#, "list[3, 2]"),
            ("values", "unknown(map(string))", "unknown(list(string))"),
            // zipmap
            ("zipmap", r#"["a", "b"], [1, 2]"#, "{a = 1, b = 2}"),
            ("zipmap", r#"["a", "b"], list[1, 2]"#, "map{a = 1, b = 2}"),
            ("zipmap", r#"["a", "b"], [1]"#, "err: number of keys (2) does not match number of values (1)"),
            ("zipmap", "[], []", "{}"),
            ("zipmap", r#"["a", "a"], list[1, 2]"#, "map{a = 2}"),
            // contains
            ("contains", r#"["a", "b", "c"], "a""#, "true"),
            ("contains", r#"["a", "b", "c"], "d""#, "false"),
            ("contains", r#"[1, 2], 2"#, "true"),
            ("contains", r#"["a", unknown(string)], "a""#, "true"),
            ("contains", r#"["a", unknown(string)], "b""#, "unknown(bool)"),
            ("contains", r#"unknown(list(string)), "b""#, "unknown(bool)"),
            // index
            ("index", r#"["a", "b", "c"], "b""#, "1"),
            ("index", r#"["a", "b", "c"], "z""#, "err: item not found"),
            ("index", r#"[], "z""#, "err@0: empty list"),
            ("index", r#"[unknown(string), "b"], "b""#, "unknown(number)"),
            // one
            ("one", "[]", "null"),
            ("one", r#"["hello"]"#, r#""hello""#),
            ("one", r#"set["hello"]"#, r#""hello""#),
            ("one", r#"["hello", "goodbye"]"#, "err@0: either zero or one elements"),
            ("one", "unknown(list(string))", "unknown(string)"),
            // range
            ("range", "3", "list[0, 1, 2]"),
            ("range", "1, 4", "list[1, 2, 3]"),
            ("range", "1, 8, 2", "list[1, 3, 5, 7]"),
            ("range", "1, 4, 0.5", "list[1, 1.5, 2, 2.5, 3, 3.5]"),
            ("range", "4, 1", "list[4, 3, 2]"),
            ("range", "10, 5, -2", "list[10, 8, 6]"),
            ("range", "-3", "list[0, -1, -2]"),
            ("range", "0", "list[]"),
            ("range", "1, 4, -1", "err@2: step must be positive"),
            ("range", "4, 1, 1", "err@2: step must be negative"),
            ("range", "1, 4, 0", "err@2: step must not be zero"),
            ("range", "", "err: one, two, or three"),
            ("range", "1, 2, 3, 4", "err: one, two, or three"),
            ("range", "2000", "err: more than 1024 values"),
            // reverse
            ("reverse", "[1, 2, 3]", "[3, 2, 1]"),
            ("reverse", "list[1, 2]", "list[2, 1]"),
            ("reverse", r#"set["b", "a"]"#, r#"list["b", "a"]"#),
            ("reverse", "[]", "[]"),
            // sets
            ("setunion", r#"["a", "b"], ["b", "c"], ["d"]"#, r#"set["a", "b", "c", "d"]"#),
            ("setunion", r#"["a"], [1]"#, r#"set["1", "a"]"#),
            ("setintersection", r#"["a", "b"], ["b", "c"], ["b", "d"]"#, r#"set["b"]"#),
            ("setintersection", r#"["a"], []"#, "set[]"),
            ("setsubtract", r#"["a", "b", "c"], ["a", "c"]"#, r#"set["b"]"#),
            ("setsubtract", r#"["a", "b", "c"], []"#, r#"set["a", "b", "c"]"#),
            ("setproduct", r#"["development", "staging"], ["app1", "app2"]"#,
             r#"list[["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"]]"#),
            ("setproduct", r#"set["a"], set["x", "y"]"#, r#"set[["a", "x"], ["a", "y"]]"#),
            ("setproduct", r#"["a"], []"#, "list[]"),
            ("setproduct", r#"["a"]"#, "err: at least two arguments"),
            ("setunion", r#"["a"], unknown(set(string))"#, "unknown(set(string))"),
            // toset/tolist/tomap
            ("toset", r#"["a", "b", "c"]"#, r#"set["a", "b", "c"]"#),
            ("toset", r#"["a", "b", "a"]"#, r#"set["a", "b"]"#),
            ("toset", r#"["a", 1]"#, r#"set["1", "a"]"#),
            ("tolist", r#"["a", "b", "c"]"#, r#"list["a", "b", "c"]"#),
            ("tolist", r#"["a", 1]"#, r#"list["a", "1"]"#),
            ("tolist", r#"set["b", "a"]"#, r#"list["a", "b"]"#),
            ("tolist", r#"["a", {}]"#, "err@0: cannot convert tuple to list of any single type"),
            ("tolist", "null", "null"),
            ("tolist", "unknown(any)", "unknown(list(any))"),
            ("tolist", r#""a""#, "err@0: cannot convert string to list"),
            ("tomap", r#"{a = 1, b = 2}"#, "map{a = 1, b = 2}"),
            ("tomap", r#"{a = "foo", b = true}"#, r#"map{a = "foo", b = "true"}"#),
            ("tomap", "[1]", "err@0: cannot convert tuple to map"),
            ("tolist", r#"sensitive(["a"])"#, r#"sensitive(list["a"])"#),
            // sum, alltrue, anytrue
            ("sum", "[10, 13, 6, 4.5]", "33.5"),
            ("sum", r#"set[1, 2]"#, "3"),
            ("sum", "[]", "err@0: cannot sum an empty list"),
            ("sum", r#"["a"]"#, "err@0: number values"),
            ("sum", r#"["1", 2]"#, "3"),
            ("sum", "[1, unknown(number)]", "unknown(number)"),
            ("alltrue", r#"["true", true]"#, "true"),
            ("alltrue", "[true, false]", "false"),
            ("alltrue", "[]", "true"),
            ("alltrue", "[true, unknown(bool)]", "unknown(bool)"),
            ("alltrue", "[false, unknown(bool)]", "false"),
            ("anytrue", r#"["true"]"#, "true"),
            ("anytrue", "[true, false]", "true"),
            ("anytrue", "[]", "false"),
            ("anytrue", "[false, unknown(bool)]", "unknown(bool)"),
            ("anytrue", "[true, unknown(bool)]", "true"),
            // chunklist, matchkeys, transpose
            ("chunklist", r#"["a", "b", "c", "d", "e"], 2"#, r#"list[list["a", "b"], list["c", "d"], list["e"]]"#),
            ("chunklist", r#"["a"], -1"#, "err@1: must be positive"),
            ("matchkeys", r#"["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"]"#,
             r#"list["i-abc", "i-def"]"#),
            ("matchkeys", r#"["a"], [], []"#, "err: should be equal"),
            ("transpose", r#"{a = ["1", "2"], b = ["2", "3"]}"#,
             r#"map{"1" = list["a"], "2" = list["a", "b"], "3" = list["b"]}"#),
        ],
    );
}
