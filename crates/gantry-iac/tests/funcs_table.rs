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
    pub plan_time: Option<String>,
}

impl FuncHost for TestHost {
    fn base_dir(&self) -> &Path {
        &self.dir
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn plan_timestamp(&self) -> Option<String> {
        self.plan_time.clone()
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
        plan_time: None,
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
fn funcs_literal_parser_reads_every_form() {
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
fn funcs_calls_check_argument_count_type_and_null() {
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
fn funcs_collection_functions() {
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
            (
                "concat",
                r#"["a", ""], ["b", "c"]"#,
                r#"["a", "", "b", "c"]"#,
            ),
            ("concat", r#"list["a"], list["b"]"#, r#"list["a", "b"]"#),
            ("concat", r#"list["a"], list[1]"#, r#"list["a", "1"]"#),
            ("concat", r#"list["a"], [1, true]"#, r#"["a", 1, true]"#),
            (
                "concat",
                r#"list["a"], unknown(list(string))"#,
                "unknown(list(string))",
            ),
            ("concat", r#"[], unknown(list(string))"#, "unknown(any)"),
            (
                "concat",
                r#""a""#,
                "err@0: a list, set, or tuple is required",
            ),
            (
                "concat",
                r#"list[sensitive("a")], list["b"]"#,
                r#"list[sensitive("a"), "b"]"#,
            ),
            // lookup
            (
                "lookup",
                r#"{a = "ay", b = "bee"}, "a", "what?""#,
                r#""ay""#,
            ),
            (
                "lookup",
                r#"{a = "ay", b = "bee"}, "c", "what?""#,
                r#""what?""#,
            ),
            ("lookup", r#"map{a = "ay"}, "c", 1"#, r#""1""#),
            (
                "lookup",
                r#"{a = "ay"}, "c""#,
                "err: lookup failed to find key",
            ),
            ("lookup", r#"{a = "ay"}, "a""#, r#""ay""#),
            (
                "lookup",
                r#"unknown(map(string)), "a", "x""#,
                "unknown(string)",
            ),
            (
                "lookup",
                r#"{a = 1}, unknown(string), 2"#,
                "unknown(number)",
            ),
            (
                "lookup",
                r#"[1], "a""#,
                "err@0: a map or object is required",
            ),
            ("lookup", r#"{a = 1}, "a", 1, 2"#, "err: at most 3"),
            // compact
            (
                "compact",
                r#"["a", "", "b", null, "c"]"#,
                r#"list["a", "b", "c"]"#,
            ),
            ("compact", "[]", "list[]"),
            (
                "compact",
                r#"["a", unknown(string)]"#,
                "unknown(list(string))",
            ),
            // coalesce
            ("coalesce", r#""a", "b""#, r#""a""#),
            ("coalesce", r#""", "b""#, r#""b""#),
            ("coalesce", "1, 2", "1"),
            ("coalesce", r#"null, "x""#, r#""x""#),
            ("coalesce", r#"1, "x""#, r#""1""#),
            ("coalesce", r#""a", unknown(string)"#, r#""a""#),
            ("coalesce", r#"unknown(string), "a""#, "unknown(string)"),
            (
                "coalesce",
                r#"null, """#,
                "err: no non-null, non-empty-string arguments",
            ),
            ("coalesce", r#"[], "a""#, "err: same type"),
            // coalescelist
            ("coalescelist", r#"["a", "b"], ["c", "d"]"#, r#"["a", "b"]"#),
            ("coalescelist", r#"[], ["c", "d"]"#, r#"["c", "d"]"#),
            ("coalescelist", r#"null, ["c"]"#, r#"["c"]"#),
            ("coalescelist", "[], []", "err: no non-null arguments"),
            (
                "coalescelist",
                r#"unknown(list(string)), ["c"]"#,
                "unknown(any)",
            ),
            // distinct
            (
                "distinct",
                r#"["a", "b", "a", "c", "d", "b"]"#,
                r#"list["a", "b", "c", "d"]"#,
            ),
            ("distinct", "[]", "list[]"),
            ("distinct", r#"[1, "1"]"#, r#"list["1"]"#),
            // sort
            (
                "sort",
                r#"["e", "d", "a", "x"]"#,
                r#"list["a", "d", "e", "x"]"#,
            ),
            ("sort", "[10, 9, 1]", r#"list["1", "10", "9"]"#),
            (
                "sort",
                r#"["b", null]"#,
                "err@0: null string cannot be sorted",
            ),
            ("sort", r#"["b", unknown(string)]"#, "unknown(list(string))"),
            // merge
            (
                "merge",
                r#"{a = "b", c = "d"}, {e = "f", c = "z"}"#,
                r#"{a = "b", c = "z", e = "f"}"#,
            ),
            (
                "merge",
                r#"map{a = "b"}, map{e = "f"}"#,
                r#"map{a = "b", e = "f"}"#,
            ),
            (
                "merge",
                r#"map{a = "b"}, map{e = 1}"#,
                r#"map{a = "b", e = "1"}"#,
            ),
            (
                "merge",
                r#"{a = "b"}, {a = [1, 2], c = "z"}, {d = 3}"#,
                r#"{a = [1, 2], c = "z", d = 3}"#,
            ),
            ("merge", r#"null, {a = 1}"#, "{a = 1}"),
            ("merge", "", "{}"),
            ("merge", r#"{a = 1}, unknown(map(number))"#, "unknown(any)"),
            (
                "merge",
                r#"{a = 1}, [1]"#,
                "err@1: a map or object is required",
            ),
            // element
            ("element", r#"["a", "b", "c"], 1"#, r#""b""#),
            ("element", r#"["a", "b", "c"], 3"#, r#""a""#),
            ("element", r#"["a", "b", "c"], -1"#, "err@1: negative index"),
            ("element", "[], 0", "err@0: empty list"),
            ("element", r#"set["a"], 0"#, "err@0: set"),
            (
                "element",
                r#"list["a"], unknown(number)"#,
                "unknown(string)",
            ),
            ("element", r#"["a"], 1.5"#, "err@1: whole number"),
            // slice
            ("slice", r#"["a", "b", "c", "d"], 1, 3"#, r#"["b", "c"]"#),
            (
                "slice",
                r#"list["a", "b", "c", "d"], 1, 3"#,
                r#"list["b", "c"]"#,
            ),
            ("slice", r#"["a"], 0, 0"#, "[]"),
            ("slice", r#"["a"], 0, 2"#, "err@2: end index"),
            ("slice", r#"["a"], -1, 1"#, "err@1: start index"),
            (
                "slice",
                r#"["a", "b"], 2, 1"#,
                "err@1: greater than end index",
            ),
            ("slice", r#"set["a"], 0, 1"#, "err@0: cannot slice a set"),
            // flatten
            (
                "flatten",
                r#"[["a", "b"], [], ["c"]]"#,
                r#"["a", "b", "c"]"#,
            ),
            (
                "flatten",
                r#"[[["a", "b"], []], ["c"]]"#,
                r#"["a", "b", "c"]"#,
            ),
            ("flatten", r#"[set["b", "a"], "c"]"#, r#"["a", "b", "c"]"#),
            ("flatten", "[]", "[]"),
            (
                "flatten",
                r#"[unknown(list(string)), ["a"]]"#,
                "unknown(any)",
            ),
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
            (
                "zipmap",
                r#"["a", "b"], [1]"#,
                "err: number of keys (2) does not match number of values (1)",
            ),
            ("zipmap", "[], []", "{}"),
            ("zipmap", r#"["a", "a"], list[1, 2]"#, "map{a = 2}"),
            // contains
            ("contains", r#"["a", "b", "c"], "a""#, "true"),
            ("contains", r#"["a", "b", "c"], "d""#, "false"),
            ("contains", r#"[1, 2], 2"#, "true"),
            ("contains", r#"["a", unknown(string)], "a""#, "true"),
            (
                "contains",
                r#"["a", unknown(string)], "b""#,
                "unknown(bool)",
            ),
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
            (
                "one",
                r#"["hello", "goodbye"]"#,
                "err@0: either zero or one elements",
            ),
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
            (
                "setunion",
                r#"["a", "b"], ["b", "c"], ["d"]"#,
                r#"set["a", "b", "c", "d"]"#,
            ),
            ("setunion", r#"["a"], [1]"#, r#"set["1", "a"]"#),
            (
                "setintersection",
                r#"["a", "b"], ["b", "c"], ["b", "d"]"#,
                r#"set["b"]"#,
            ),
            ("setintersection", r#"["a"], []"#, "set[]"),
            (
                "setsubtract",
                r#"["a", "b", "c"], ["a", "c"]"#,
                r#"set["b"]"#,
            ),
            (
                "setsubtract",
                r#"["a", "b", "c"], []"#,
                r#"set["a", "b", "c"]"#,
            ),
            (
                "setproduct",
                r#"["development", "staging"], ["app1", "app2"]"#,
                r#"list[["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"]]"#,
            ),
            (
                "setproduct",
                r#"set["a"], set["x", "y"]"#,
                r#"set[["a", "x"], ["a", "y"]]"#,
            ),
            ("setproduct", r#"["a"], []"#, "list[]"),
            ("setproduct", r#"["a"]"#, "err: at least two arguments"),
            (
                "setunion",
                r#"["a"], unknown(set(string))"#,
                "unknown(set(string))",
            ),
            // toset/tolist/tomap
            ("toset", r#"["a", "b", "c"]"#, r#"set["a", "b", "c"]"#),
            ("toset", r#"["a", "b", "a"]"#, r#"set["a", "b"]"#),
            ("toset", r#"["a", 1]"#, r#"set["1", "a"]"#),
            ("tolist", r#"["a", "b", "c"]"#, r#"list["a", "b", "c"]"#),
            ("tolist", r#"["a", 1]"#, r#"list["a", "1"]"#),
            ("tolist", r#"set["b", "a"]"#, r#"list["a", "b"]"#),
            (
                "tolist",
                r#"["a", {}]"#,
                "err@0: cannot convert tuple to list of any single type",
            ),
            ("tolist", "null", "null"),
            ("tolist", "unknown(any)", "unknown(list(any))"),
            ("tolist", r#""a""#, "err@0: cannot convert string to list"),
            ("tomap", r#"{a = 1, b = 2}"#, "map{a = 1, b = 2}"),
            (
                "tomap",
                r#"{a = "foo", b = true}"#,
                r#"map{a = "foo", b = "true"}"#,
            ),
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
            (
                "chunklist",
                r#"["a", "b", "c", "d", "e"], 2"#,
                r#"list[list["a", "b"], list["c", "d"], list["e"]]"#,
            ),
            ("chunklist", r#"["a"], -1"#, "err@1: must be positive"),
            (
                "matchkeys",
                r#"["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"]"#,
                r#"list["i-abc", "i-def"]"#,
            ),
            ("matchkeys", r#"["a"], [], []"#, "err: should be equal"),
            (
                "transpose",
                r#"{a = ["1", "2"], b = ["2", "3"]}"#,
                r#"map{"1" = list["a"], "2" = list["a", "b"], "3" = list["b"]}"#,
            ),
        ],
    );
}

#[test]
fn funcs_string_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("chomp", r#""hello\n""#, r#""hello""#),
            ("chomp", r#""hello\r\n""#, r#""hello""#),
            ("chomp", r#""hello\n\n""#, r#""hello""#),
            ("chomp", r#""hel\nlo""#, r#""hel\nlo""#),
            ("startswith", r#""hello world", "hello""#, "true"),
            ("startswith", r#""hello world", "world""#, "false"),
            ("endswith", r#""hello world", "world""#, "true"),
            ("endswith", r#""hello world", "hello""#, "false"),
            ("strcontains", r#""hello world", "wor""#, "true"),
            ("strcontains", r#""hello world", "wod""#, "false"),
            (
                "indent",
                r#"2, "[\n  foo,\n  bar,\n]\n""#,
                r#""[\n    foo,\n    bar,\n  ]\n  ""#,
            ),
            ("indent", r#"0, "a\nb""#, r#""a\nb""#),
            (
                "join",
                r#"", ", ["foo", "bar", "baz"]"#,
                r#""foo, bar, baz""#,
            ),
            ("join", r#"", ", ["foo"]"#, r#""foo""#),
            ("join", r#"", ", ["a"], ["b", "c"]"#, r#""a, b, c""#),
            ("join", r#"",", []"#, r#""""#),
            ("join", r#"",""#, "err: at least one list is required"),
            ("join", r#"",", ["a", null]"#, "err@1: null"),
            ("join", r#"",", [1, true]"#, r#""1,true""#),
            ("join", r#"",", ["a", unknown(string)]"#, "unknown(string)"),
            ("lower", r#""HELLO""#, r#""hello""#),
            ("lower", r#""АЛЛО!""#, r#""алло!""#),
            ("upper", r#""hello""#, r#""HELLO""#),
            ("upper", r#""алло!""#, r#""АЛЛО!""#),
            ("title", r#""hello world""#, r#""Hello World""#),
            (
                "title",
                r#""hello-world_foo bar.baz""#,
                r#""Hello-World_foo Bar.Baz""#,
            ),
            ("title", r#""""#, r#""""#),
            ("trimspace", r#""  hello\n\n""#, r#""hello""#),
            ("trim", r#""?!hello?!", "!?""#, r#""hello""#),
            ("trim", r#""foobar", "far""#, r#""oob""#),
            (
                "trim",
                r#""   hello! world.!  ", "! ""#,
                r#""hello! world.""#,
            ),
            ("trimprefix", r#""helloworld", "hello""#, r#""world""#),
            ("trimprefix", r#""helloworld", "cat""#, r#""helloworld""#),
            ("trimsuffix", r#""helloworld", "world""#, r#""hello""#),
            ("trimsuffix", r#""helloworld", "cat""#, r#""helloworld""#),
            (
                "split",
                r#"",", "foo,bar,baz""#,
                r#"list["foo", "bar", "baz"]"#,
            ),
            ("split", r#"",", "foo""#, r#"list["foo"]"#),
            ("split", r#"",", """#, r#"list[""]"#),
            ("split", r#""", "abc""#, r#"list["a", "b", "c"]"#),
            ("replace", r#""1 + 2 + 3", "+", "-""#, r#""1 - 2 - 3""#),
            (
                "replace",
                r#""hello world", "/w.*d/", "everybody""#,
                r#""hello everybody""#,
            ),
            (
                "replace",
                r#""hello world", "/(h)(e)/", "$2$1""#,
                r#""ehllo world""#,
            ),
            (
                "replace",
                r#""abc", "/[/", "x""#,
                "err@1: invalid regular expression",
            ),
            ("replace", r#""a/b", "/", "-""#, r#""a-b""#),
            ("replace", r#""ab", "", "-""#, r#""-a-b-""#),
            ("substr", r#""hello world", 1, 4"#, r#""ello""#),
            ("substr", r#""🤔🤷", 0, 1"#, r#""🤔""#),
            ("substr", r#""hello world", -5, -1"#, r#""world""#),
            ("substr", r#""hello world", 6, 10"#, r#""world""#),
            ("substr", r#""hello", 10, 1"#, r#""""#),
            ("substr", r#""hello", -10, 2"#, r#""he""#),
            ("substr", r#""hello", 1, 0"#, r#""""#),
            ("substr", r#""hello", 1.5, 1"#, "err@1: whole number"),
            ("strrev", r#""hello""#, r#""olleh""#),
            ("strrev", r#""a☃""#, r#""☃a""#),
            ("strrev", "\"e\\u0301x\"", "\"xe\\u0301\""),
            ("strrev", r#""""#, r#""""#),
            (
                "regex",
                r#""[a-z]+", "53453453.345345aaabbbccc23454""#,
                r#""aaabbbccc""#,
            ),
            (
                "regex",
                r#""(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01""#,
                r#"list["2019", "02", "01"]"#,
            ),
            (
                "regex",
                r#""^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/""#,
                r#"{authority = "terraform.io", scheme = "https"}"#,
            ),
            ("regex", r#""[a-z]+", "12345""#, "err: did not match"),
            ("regex", r#""(a)|(b)", "b""#, r#"list[null, "b"]"#),
            ("regex", r#""(", "b""#, "err@0: error parsing pattern"),
            ("regex", r#""(?P<x>a)(b)", "ab""#, "err@0: cannot mix"),
            (
                "regex",
                r#""(a)", unknown(string)"#,
                "unknown(list(string))",
            ),
            ("regex", r#"unknown(string), "a""#, "unknown(any)"),
            (
                "regexall",
                r#""[a-z]+", "1234abcd5678efgh9""#,
                r#"list["abcd", "efgh"]"#,
            ),
            ("regexall", r#""[a-z]+", "123""#, "list[]"),
            (
                "regexall",
                r#""(\\d)([a-z])", "1a2b""#,
                r#"list[list["1", "a"], list["2", "b"]]"#,
            ),
        ],
    );
}

#[test]
fn funcs_format_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("format", r#""Hello, %s!", "Ander""#, r#""Hello, Ander!""#),
            (
                "format",
                r#""There are %d lights", 4"#,
                r#""There are 4 lights""#,
            ),
            ("format", r#""%%""#, r#""%""#),
            (
                "format",
                r#""%v %v %v %v", "a", 1.5, true, null"#,
                r#""a 1.5 true null""#,
            ),
            ("format", r#""%v", [1, "a"]"#, r#""[1,\"a\"]""#),
            ("format", r#""%#v", "a""#, r#""\"a\"""#),
            ("format", r#""%#v", {a = 1}"#, r#""{\"a\":1}""#),
            ("format", r#""%t", true"#, r#""true""#),
            ("format", r#""%t", 1"#, "err@1: bool required"),
            ("format", r#""%b", 5"#, r#""101""#),
            ("format", r#""%o", 8"#, r#""10""#),
            ("format", r#""%x %X", 255, 255"#, r#""ff FF""#),
            ("format", r#""%#x", 255"#, r#""0xff""#),
            ("format", r#""%d", -42"#, r#""-42""#),
            ("format", r#""%+d", 42"#, r#""+42""#),
            (
                "format",
                r#""%5d|%-5d|%05d", 42, 42, -42"#,
                r#""   42|42   |-0042""#,
            ),
            ("format", r#""%d", 1.5"#, "err@1: whole number"),
            ("format", r#""%d", "12""#, r#""12""#),
            ("format", r#""%d", "x""#, "err@1: not a number"),
            ("format", r#""%e", 150"#, r#""1.500000e+02""#),
            ("format", r#""%.2E", 0.00015"#, r#""1.50E-04""#),
            ("format", r#""%f", 3.14159"#, r#""3.141590""#),
            ("format", r#""%.2f", 3.14159"#, r#""3.14""#),
            ("format", r#""%8.3f|", -3.14159"#, r#""  -3.142|""#),
            ("format", r#""%g", 100"#, r#""100""#),
            ("format", r#""%g", 1000000"#, r#""1e+06""#),
            ("format", r#""%g", 0.00001"#, r#""1e-05""#),
            ("format", r#""%g", 1.5"#, r#""1.5""#),
            ("format", r#""%.3g", 3.14159"#, r#""3.14""#),
            ("format", r#""%G", 1e-7"#, r#""1E-07""#),
            ("format", r#""%s", 12"#, r#""12""#),
            ("format", r#""%.3s", "abcdef""#, r#""abc""#),
            ("format", r#""%-4s|%4s", "a", "b""#, r#""a   |   b""#),
            ("format", r#""%s", [1]"#, "err@1: string required"),
            (
                "format",
                r#""%s", null"#,
                "err@1: null value cannot be formatted",
            ),
            ("format", r#""%q", "a\"b\n""#, r#""\"a\\\"b\\n\"""#),
            ("format", r#""%[2]s %[1]s", "a", "b""#, r#""b a""#),
            ("format", r#""%[2]s %s", "a", "b", "c""#, r#""b c""#),
            (
                "format",
                r#""%s %s", "a""#,
                "err: not enough arguments for \"%s\" at 3: need index 2 but have 1 total",
            ),
            ("format", r#""%s", "a", "b""#, "err: too many arguments"),
            (
                "format",
                r#""%z", "a""#,
                "err: unrecognized format character",
            ),
            ("format", r#""%s", unknown(string)"#, "unknown(string)"),
            ("format", r#""%s", sensitive("x")"#, r#"sensitive("x")"#),
            ("format", r#""no verbs""#, r#""no verbs""#),
            (
                "formatlist",
                r#""Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"]"#,
                r#"list["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"]"#,
            ),
            (
                "formatlist",
                r#""%s, %s!", "Salutations", ["Valentina", "Ander"]"#,
                r#"list["Salutations, Valentina!", "Salutations, Ander!"]"#,
            ),
            (
                "formatlist",
                r#""%s=%s", ["a", "b"], ["1", "2"]"#,
                r#"list["a=1", "b=2"]"#,
            ),
            (
                "formatlist",
                r#""%s=%s", ["a", "b"], ["1"]"#,
                "err@2: inconsistent",
            ),
            ("formatlist", r#""%s", "x""#, r#"list["x"]"#),
            ("formatlist", r#""%s", []"#, "list[]"),
            (
                "formatlist",
                r#""%s", unknown(list(string))"#,
                "unknown(list(string))",
            ),
        ],
    );
}

#[test]
fn funcs_encoding_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("base64encode", r#""Hello World""#, r#""SGVsbG8gV29ybGQ=""#),
            ("base64encode", r#""""#, r#""""#),
            ("base64decode", r#""SGVsbG8gV29ybGQ=""#, r#""Hello World""#),
            (
                "base64decode",
                r#""SGVsbG8gV29ybGQ""#,
                "err@0: failed to decode base64 data",
            ),
            ("base64decode", r#""/w==""#, "err@0: not valid UTF-8"),
            (
                "base64decode",
                r#""SGVsbG8g\nV29ybGQ=\r\n""#,
                r#""Hello World""#,
            ),
            (
                "md5",
                r#""hello world""#,
                r#""5eb63bbbe01eeed093cb22bb8f5acdc3""#,
            ),
            (
                "sha1",
                r#""hello world""#,
                r#""2aae6c35c94fcfb415dbe95f408b9ce91ee846ed""#,
            ),
            (
                "sha256",
                r#""hello world""#,
                r#""b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9""#,
            ),
            (
                "sha512",
                r#""hello world""#,
                r#""309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f""#,
            ),
            (
                "base64sha256",
                r#""hello world""#,
                r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#,
            ),
            (
                "base64sha512",
                r#""hello world""#,
                r#""MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==""#,
            ),
            (
                "md5",
                r#"sensitive("hello world")"#,
                r#"sensitive("5eb63bbbe01eeed093cb22bb8f5acdc3")"#,
            ),
            ("urlencode", r#""Hello World!""#, r#""Hello+World%21""#),
            ("urlencode", r#""☃""#, r#""%E2%98%83""#),
            (
                "urlencode",
                r#""foo:bar@localhost?foo=bar&bar=baz""#,
                r#""foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz""#,
            ),
            ("urlencode", r#""a-b_c.d~e""#, r#""a-b_c.d~e""#),
            (
                "uuidv5",
                r#""dns", "www.terraform.io""#,
                r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#,
            ),
            (
                "uuidv5",
                r#""url", "https://www.terraform.io/""#,
                r#""9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5""#,
            ),
            (
                "uuidv5",
                r#""oid", "1.3.6.1.4""#,
                r#""af9d40a5-7a36-5c07-b23a-851cd99fbfa5""#,
            ),
            (
                "uuidv5",
                r#""x500", "CN=Example,C=GB""#,
                r#""84e09961-4aa4-57f8-95b7-03edb1073253""#,
            ),
            (
                "uuidv5",
                r#""6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io""#,
                r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#,
            ),
            (
                "uuidv5",
                r#""nope", "x""#,
                "err@0: doesn't support namespace",
            ),
            // jsonencode
            (
                "jsonencode",
                r#"{hello = "world"}"#,
                r#""{\"hello\":\"world\"}""#,
            ),
            (
                "jsonencode",
                r#"[1, 1.5, true, null, "a"]"#,
                r#""[1,1.5,true,null,\"a\"]""#,
            ),
            (
                "jsonencode",
                r#""<a> & b""#,
                r#""\"\\u003ca\\u003e \\u0026 b\"""#,
            ),
            (
                "jsonencode",
                r#""line\nquote\"""#,
                r#""\"line\\nquote\\\"\"""#,
            ),
            ("jsonencode", "null", r#""null""#),
            ("jsonencode", "10000000", r#""10000000""#),
            ("jsonencode", "list[]", r#""[]""#),
            ("jsonencode", r#"set["b", "a"]"#, r#""[\"a\",\"b\"]""#),
            ("jsonencode", r#"{a = unknown(string)}"#, "unknown(string)"),
            (
                "jsonencode",
                r#"{a = sensitive("x")}"#,
                r#"sensitive("{\"a\":\"x\"}")"#,
            ),
            // jsondecode
            (
                "jsondecode",
                r#""{\"hello\": \"world\"}""#,
                r#"{hello = "world"}"#,
            ),
            ("jsondecode", r#""true""#, "true"),
            (
                "jsondecode",
                r#""[1, \"a\", null, {\"b\": [2.5]}]""#,
                r#"[1, "a", null, {b = [2.5]}]"#,
            ),
            ("jsondecode", r#""{\"a\": 1""#, "err@0: invalid JSON"),
            ("jsondecode", r#""""#, "err@0: invalid JSON"),
            // yamlencode
            (
                "yamlencode",
                r#"{a = "b", c = "d"}"#,
                r#""\"a\": \"b\"\n\"c\": \"d\"\n""#,
            ),
            (
                "yamlencode",
                r#"{foo = [1, 2, 3], bar = "baz"}"#,
                r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n""#,
            ),
            (
                "yamlencode",
                r#"{foo = [1, {a = "b", c = "d"}, 3], bar = "baz"}"#,
                r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n""#,
            ),
            (
                "yamlencode",
                r#"{a = {b = {c = true}}}"#,
                r#""\"a\":\n  \"b\":\n    \"c\": true\n""#,
            ),
            (
                "yamlencode",
                r#"[[1, 2], [], {}]"#,
                r#""- - 1\n  - 2\n- []\n- {}\n""#,
            ),
            ("yamlencode", r#""hello""#, r#""\"hello\"\n""#),
            ("yamlencode", "null", r#""null\n""#),
            ("yamlencode", "1.5", r#""1.5\n""#),
            ("yamlencode", "{}", r#""{}\n""#),
            (
                "yamlencode",
                r#"{a = "x\ny\n"}"#,
                r#""\"a\": |\n  x\n  y\n""#,
            ),
            (
                "yamlencode",
                r#"{a = "x\ny"}"#,
                r#""\"a\": |-\n  x\n  y\n""#,
            ),
            // yamldecode
            ("yamldecode", r#""hello: world""#, r#"{hello = "world"}"#),
            ("yamldecode", r#""true""#, "true"),
            (
                "yamldecode",
                r#""{a: [1, 2.5, null, x]}""#,
                r#"{a = [1, 2.5, null, "x"]}"#,
            ),
            ("yamldecode", r#""- a\n- b: c\n""#, r#"["a", {b = "c"}]"#),
            ("yamldecode", r#""""#, "null"),
            (
                "yamldecode",
                r#""a: 1\n---\nb: 2\n""#,
                "err@0: multiple documents",
            ),
            (
                "yamldecode",
                r#""a: [1""#,
                "err@0: on line 1, column 4: unclosed bracket",
            ),
            (
                "yamldecode",
                r#""1: a\ntrue: b""#,
                r#"{"1" = "a", "true" = "b"}"#,
            ),
            ("yamldecode", r#""a: &x 1\nb: *x""#, "{a = 1, b = 1}"),
            // csvdecode
            (
                "csvdecode",
                r#""a,b,c\n1,2,3\n4,5,6""#,
                r#"list[{a = "1", b = "2", c = "3"}, {a = "4", b = "5", c = "6"}]"#,
            ),
            (
                "csvdecode",
                r#""a,b\n\"x,y\",\"say \"\"hi\"\"\"\n""#,
                r#"list[{a = "x,y", b = "say \"hi\""}]"#,
            ),
            ("csvdecode", r#""a,b\n1""#, "err@0: wrong number of fields"),
            ("csvdecode", r#""a,b""#, "list[]"),
        ],
    );
}

#[test]
fn funcs_uuid_and_timestamp_depend_on_phase() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host_in(dir.path());
    h.phase = Phase::Plan;
    assert_eq!(
        funcs::call("uuid", vec![], &h),
        Ok(Value::Unknown(Type::String))
    );
    assert_eq!(
        funcs::call("timestamp", vec![], &h),
        Ok(Value::Unknown(Type::String))
    );
    h.plan_time = Some("2024-05-01T10:00:00Z".into());
    assert_eq!(
        funcs::call("plantimestamp", vec![], &h),
        Ok(Value::from("2024-05-01T10:00:00Z"))
    );
    h.phase = Phase::Apply;
    let u = funcs::call("uuid", vec![], &h).unwrap();
    let u = u.as_str().unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4", "version 4: {u}");
    assert_ne!(funcs::call("uuid", vec![], &h).unwrap().as_str(), Some(u));
    let t = funcs::call("timestamp", vec![], &h).unwrap();
    let t = t.as_str().unwrap().to_owned();
    assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    // The timestamp reads back through the other time functions.
    assert_eq!(
        funcs::call(
            "timecmp",
            vec![Value::from(t.as_str()), Value::from(t.as_str())],
            &h
        ),
        Ok(Value::Number(0.0))
    );
}

#[test]
fn funcs_numeric_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("abs", "23", "23"),
            ("abs", "0", "0"),
            ("abs", "-12.4", "12.4"),
            ("ceil", "5", "5"),
            ("ceil", "5.1", "6"),
            ("ceil", "-5.1", "-5"),
            ("floor", "5", "5"),
            ("floor", "4.9", "4"),
            ("floor", "-4.1", "-5"),
            ("log", "50, 10", "1.6989700043360185"),
            ("log", "16, 2", "4"),
            ("log", "-1, 2", "err: not a number"),
            ("pow", "3, 2", "9"),
            ("pow", "4, 0", "1"),
            ("pow", "2, -1", "0.5"),
            ("pow", "10, 400", "err: too large"),
            ("log", "0, 10", "err: too large"),
            ("signum", "-13", "-1"),
            ("signum", "0", "0"),
            ("signum", "344", "1"),
            ("min", "12, 54, 3", "3"),
            ("max", "12, 54, 3", "54"),
            ("max", "-1", "-1"),
            ("min", r#""5", 7"#, "5"),
            ("min", "1, unknown(number)", "unknown(number)"),
            ("parseint", r#""100", 10"#, "100"),
            ("parseint", r#""FF", 16"#, "255"),
            ("parseint", r#""ff", 16"#, "255"),
            ("parseint", r#""-10", 16"#, "-16"),
            ("parseint", r#""1011111011101111", 2"#, "48879"),
            ("parseint", r#""aA", 62"#, "656"),
            (
                "parseint",
                r#""12", 2"#,
                "err@0: cannot parse \"12\" as a base 2 integer",
            ),
            ("parseint", r#""", 10"#, "err@0: cannot parse"),
            ("parseint", r#""1", 1"#, "err@1: between 2 and 62"),
            ("parseint", r#""1", 63"#, "err@1: between 2 and 62"),
            ("abs", r#""-3""#, "3"),
            ("abs", r#""x""#, "err@0: not a number"),
            ("abs", "sensitive(-3)", "sensitive(3)"),
        ],
    );
}

#[test]
fn funcs_network_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("cidrhost", r#""10.12.112.0/20", 16"#, r#""10.12.112.16""#),
            ("cidrhost", r#""10.12.112.0/20", 268"#, r#""10.12.113.12""#),
            ("cidrhost", r#""10.12.112.0/20", -1"#, r#""10.12.127.255""#),
            (
                "cidrhost",
                r#""10.12.112.0/20", 4096"#,
                "err@1: cannot accommodate a host numbered 4096",
            ),
            (
                "cidrhost",
                r#""10.12.112.0/20", -4097"#,
                "err@1: cannot accommodate",
            ),
            (
                "cidrhost",
                r#""fd00:fd12:3456:7890:00a2::/72", 34"#,
                r#""fd00:fd12:3456:7890::22""#,
            ),
            ("cidrhost", r#""10.0.0.5/8", 1"#, r#""10.0.0.1""#),
            (
                "cidrhost",
                r#""10.0.0.0", 1"#,
                "err@0: invalid CIDR expression",
            ),
            (
                "cidrhost",
                r#""10.0.0.0/33", 1"#,
                "err@0: invalid CIDR expression",
            ),
            ("cidrnetmask", r#""172.16.0.0/12""#, r#""255.240.0.0""#),
            ("cidrnetmask", r#""10.0.0.0/32""#, r#""255.255.255.255""#),
            ("cidrnetmask", r#""0.0.0.0/0""#, r#""0.0.0.0""#),
            (
                "cidrnetmask",
                r#""fd00::/8""#,
                "err@0: IPv6 addresses cannot have a netmask",
            ),
            (
                "cidrsubnet",
                r#""172.16.0.0/12", 4, 2"#,
                r#""172.18.0.0/16""#,
            ),
            (
                "cidrsubnet",
                r#""10.1.2.0/24", 4, 15"#,
                r#""10.1.2.240/28""#,
            ),
            (
                "cidrsubnet",
                r#""fd00:fd12:3456:7890::/56", 16, 162"#,
                r#""fd00:fd12:3456:7800:a200::/72""#,
            ),
            ("cidrsubnet", r#""10.1.2.0/24", 0, 0"#, r#""10.1.2.0/24""#),
            (
                "cidrsubnet",
                r#""10.1.2.0/24", 9, 0"#,
                "err@1: insufficient address space to extend prefix of 24 by 9",
            ),
            (
                "cidrsubnet",
                r#""10.1.2.0/24", 4, 16"#,
                "err@2: prefix extension of 4 does not accommodate a subnet numbered 16",
            ),
            (
                "cidrsubnet",
                r#""10.1.2.0/24", 4, -1"#,
                "err@2: does not accommodate",
            ),
            (
                "cidrsubnets",
                r#""10.1.0.0/16", 4, 4, 8, 4"#,
                r#"list["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]"#,
            ),
            (
                "cidrsubnets",
                r#""fd00:fd12:3456:7890::/56", 16, 16, 16, 32"#,
                r#"list["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88"]"#,
            ),
            ("cidrsubnets", r#""10.0.0.0/8""#, "list[]"),
            (
                "cidrsubnets",
                r#""10.0.0.0/30", 1, 1"#,
                r#"list["10.0.0.0/31", "10.0.0.2/31"]"#,
            ),
            (
                "cidrsubnets",
                r#""10.0.0.0/30", 1, 1, 1"#,
                "err@3: not enough remaining address space",
            ),
            (
                "cidrsubnets",
                r#""10.0.0.0/30", 3"#,
                "err@1: would extend prefix to 33 bits, which is too long for an IPv4 address",
            ),
            (
                "cidrsubnets",
                r#""10.0.0.0/8", 0"#,
                "err@1: at least one bit",
            ),
            (
                "cidrsubnets",
                r#""0.0.0.0/0", 1, 1"#,
                r#"list["0.0.0.0/1", "128.0.0.0/1"]"#,
            ),
        ],
    );
}

#[test]
fn funcs_time_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "10m""#,
                r#""2017-11-22T00:10:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "-10m""#,
                r#""2017-11-21T23:50:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "1h30m""#,
                r#""2017-11-22T01:30:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "1.5h""#,
                r#""2017-11-22T01:30:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "8760h""#,
                r#""2018-11-22T00:00:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00+05:00", "30s""#,
                r#""2017-11-22T00:00:30+05:00""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "0""#,
                r#""2017-11-22T00:00:00Z""#,
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "10""#,
                "err@1: missing unit",
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00Z", "10d""#,
                "err@1: unknown unit",
            ),
            (
                "timeadd",
                r#""2017-11-22", "10m""#,
                "err@0: not a valid RFC3339 timestamp: missing required time introducer 'T'",
            ),
            (
                "timeadd",
                r#""2017-11-22T00:00:00", "10m""#,
                "err@0: missing required timezone offset",
            ),
            (
                "timeadd",
                r#""nope", "10m""#,
                "err@0: not a valid RFC3339 timestamp",
            ),
            (
                "timecmp",
                r#""2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z""#,
                "0",
            ),
            (
                "timecmp",
                r#""2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z""#,
                "-1",
            ),
            (
                "timecmp",
                r#""2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z""#,
                "1",
            ),
            (
                "timecmp",
                r#""2017-11-22T01:00:00Z", "2017-11-22T00:00:00-01:00""#,
                "0",
            ),
            (
                "timecmp",
                r#""2017-11-22T01:00:00Z", "x""#,
                "err@1: not a valid RFC3339",
            ),
            (
                "formatdate",
                r#""DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z""#,
                r#""02 Jan 2018 23:12 UTC""#,
            ),
            (
                "formatdate",
                r#""EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z""#,
                r#""Tuesday, 02-Jan-18 23:12:01 UTC""#,
            ),
            (
                "formatdate",
                r#""EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00""#,
                r#""Tue, 02 Jan 2018 23:12:01 -0800""#,
            ),
            (
                "formatdate",
                r#""MMM DD, YYYY", "2018-01-02T23:12:01Z""#,
                r#""Jan 02, 2018""#,
            ),
            (
                "formatdate",
                r#""HH:mmaa", "2018-01-02T23:12:01Z""#,
                r#""11:12pm""#,
            ),
            (
                "formatdate",
                r#""H AA", "2018-01-02T00:05:01Z""#,
                r#""12 AM""#,
            ),
            (
                "formatdate",
                r#""MMMM M D h m s", "2018-03-04T05:06:07Z""#,
                r#""March 3 4 5 6 7""#,
            ),
            (
                "formatdate",
                r#""Z ZZZZ ZZZZZ", "2018-01-02T23:12:01+05:30""#,
                r#""+05:30 +0530 +05:30""#,
            ),
            (
                "formatdate",
                r#""Z ZZZZZ", "2018-01-02T23:12:01Z""#,
                r#""Z +00:00""#,
            ),
            (
                "formatdate",
                r#""'Date:' YYYY 'o''clock' ''", "2018-01-02T23:12:01Z""#,
                r#""Date: 2018 o'clock '""#,
            ),
            (
                "formatdate",
                r#""YYYY", "2018-01-02T23:12:01Z""#,
                r#""2018""#,
            ),
            (
                "formatdate",
                r#""YYY", "2018-01-02T23:12:01Z""#,
                "err@0: invalid date format verb \"YYY\"",
            ),
            (
                "formatdate",
                r#""YYYY Q", "2018-01-02T23:12:01Z""#,
                "err@0: literal letters must be quoted",
            ),
            (
                "formatdate",
                r#""'open", "2018-01-02T23:12:01Z""#,
                "err@0: unterminated literal",
            ),
            (
                "formatdate",
                r#""YYYY", "2018-01-02""#,
                "err@1: not a valid RFC3339 timestamp",
            ),
        ],
    );
}

#[test]
fn funcs_conversion_and_sensitive_functions() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("tostring", r#""hello""#, r#""hello""#),
            ("tostring", "1", r#""1""#),
            ("tostring", "1.5", r#""1.5""#),
            ("tostring", "true", r#""true""#),
            ("tostring", "null", "null"),
            ("tostring", "[]", "err@0: cannot convert tuple to string"),
            ("tostring", "unknown(number)", "unknown(string)"),
            ("tostring", "sensitive(1)", r#"sensitive("1")"#),
            ("tonumber", "1", "1"),
            ("tonumber", r#""1""#, "1"),
            ("tonumber", r#""1.5e2""#, "150"),
            ("tonumber", "null", "null"),
            (
                "tonumber",
                r#""no""#,
                "err@0: cannot convert \"no\" to number",
            ),
            ("tonumber", "true", "err@0: cannot convert bool to number"),
            ("tobool", "true", "true"),
            ("tobool", r#""true""#, "true"),
            ("tobool", r#""false""#, "false"),
            ("tobool", "null", "null"),
            ("tobool", r#""no""#, "err@0: cannot convert \"no\" to bool"),
            ("tobool", "1", "err@0: cannot convert number to bool"),
            ("sensitive", "1", "sensitive(1)"),
            ("sensitive", r#""hello""#, r#"sensitive("hello")"#),
            ("sensitive", "[]", "sensitive([])"),
            ("sensitive", "null", "sensitive(null)"),
            ("sensitive", "unknown(string)", "sensitive(unknown(string))"),
            ("nonsensitive", "sensitive(1)", "1"),
            ("nonsensitive", "1", "1"),
            (
                "nonsensitive",
                r#"sensitive(unknown(string))"#,
                "unknown(string)",
            ),
            ("issensitive", r#"sensitive("secret")"#, "true"),
            ("issensitive", r#""hello""#, "false"),
            ("issensitive", r#"unknown(string)"#, "false"),
        ],
    );
}

#[test]
fn funcs_ipv4_octets_with_leading_zeros_read_as_decimal() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("cidrhost", r#""010.001.0.0/16", 1"#, r#""10.1.0.1""#),
            ("cidrnetmask", r#""010.0.0.0/8""#, r#""255.0.0.0""#),
            (
                "cidrhost",
                r#""256.0.0.0/8", 1"#,
                "err@0: invalid CIDR expression",
            ),
        ],
    );
}

/// A module directory with a few files for the file functions.
fn file_host() -> (tempfile::TempDir, TestHost) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("hello.txt"), "hello world").unwrap();
    std::fs::write(root.join("bad.bin"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::write(root.join("greet.tpl"), "Hello, ${name}!").unwrap();
    std::fs::create_dir_all(root.join("files/sub/deep")).unwrap();
    std::fs::create_dir_all(root.join("files/empty")).unwrap();
    for f in [
        "files/a.txt",
        "files/b.txt",
        "files/c.md",
        "files/sub/d.txt",
        "files/sub/deep/e.txt",
        "files/sub/deep/f.json",
        "files/x1.txt",
        "files/x2.txt",
    ] {
        std::fs::write(root.join(f), f).unwrap();
    }
    let host = host_in(root);
    (dir, host)
}

#[test]
fn funcs_file_functions() {
    let (dir, h) = file_host();
    let abs = dir.path().join("hello.txt");
    let abs = serde_json::to_string(abs.to_str().unwrap()).unwrap();
    run(
        &h,
        &[
            ("file", r#""hello.txt""#, r#""hello world""#),
            ("file", &abs, r#""hello world""#),
            ("file", r#""./files/../hello.txt""#, r#""hello world""#),
            (
                "file",
                r#""missing.txt""#,
                "err@0: no file exists at \"missing.txt\"",
            ),
            ("file", r#""files""#, "err@0: is a directory"),
            (
                "file",
                r#""bad.bin""#,
                "err@0: are not valid UTF-8; use the filebase64 function",
            ),
            ("file", "unknown(string)", "unknown(string)"),
            (
                "file",
                r#"sensitive("hello.txt")"#,
                r#"sensitive("hello world")"#,
            ),
            ("filebase64", r#""bad.bin""#, r#""//4A""#),
            ("filebase64", r#""hello.txt""#, r#""aGVsbG8gd29ybGQ=""#),
            (
                "filemd5",
                r#""hello.txt""#,
                r#""5eb63bbbe01eeed093cb22bb8f5acdc3""#,
            ),
            (
                "filesha1",
                r#""hello.txt""#,
                r#""2aae6c35c94fcfb415dbe95f408b9ce91ee846ed""#,
            ),
            (
                "filesha256",
                r#""hello.txt""#,
                r#""b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9""#,
            ),
            (
                "filesha512",
                r#""hello.txt""#,
                r#""309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f""#,
            ),
            (
                "filebase64sha256",
                r#""hello.txt""#,
                r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#,
            ),
            (
                "filebase64sha512",
                r#""hello.txt""#,
                r#""MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==""#,
            ),
            ("filemd5", r#""missing""#, "err@0: no file exists"),
            ("fileexists", r#""hello.txt""#, "true"),
            ("fileexists", r#""nope.txt""#, "false"),
            (
                "fileexists",
                r#""files""#,
                "err@0: is not a regular file, but \"directory\"",
            ),
            // fileset
            (
                "fileset",
                r#""files", "*.txt""#,
                r#"set["a.txt", "b.txt", "x1.txt", "x2.txt"]"#,
            ),
            (
                "fileset",
                r#""files", "**""#,
                r#"set["a.txt", "b.txt", "c.md", "sub/d.txt", "sub/deep/e.txt", "sub/deep/f.json", "x1.txt", "x2.txt"]"#,
            ),
            (
                "fileset",
                r#""files", "**/*.txt""#,
                r#"set["a.txt", "b.txt", "sub/d.txt", "sub/deep/e.txt", "x1.txt", "x2.txt"]"#,
            ),
            (
                "fileset",
                r#""files", "sub/**/*.json""#,
                r#"set["sub/deep/f.json"]"#,
            ),
            (
                "fileset",
                r#""files", "x?.txt""#,
                r#"set["x1.txt", "x2.txt"]"#,
            ),
            (
                "fileset",
                r#""files", "[ab].txt""#,
                r#"set["a.txt", "b.txt"]"#,
            ),
            ("fileset", r#""files", "[!ab].*""#, r#"set["c.md"]"#),
            ("fileset", r#""files", "x[0-1].txt""#, r#"set["x1.txt"]"#),
            (
                "fileset",
                r#""files", "{a,c}.*""#,
                r#"set["a.txt", "c.md"]"#,
            ),
            ("fileset", r#""files", "*/*.txt""#, r#"set["sub/d.txt"]"#),
            ("fileset", r#""files", "sub""#, "set[]"),
            ("fileset", r#""files", "empty/*""#, "set[]"),
            ("fileset", r#""nope", "*""#, "set[]"),
            ("fileset", r#""files", "./sub/*""#, r#"set["sub/d.txt"]"#),
            (
                "fileset",
                r#"".", "files/sub/**/*.json""#,
                r#"set["files/sub/deep/f.json"]"#,
            ),
            (
                "fileset",
                r#""files", "[a""#,
                "err@1: failed to glob pattern",
            ),
            (
                "fileset",
                r#""files", "{a""#,
                "err@1: failed to glob pattern",
            ),
            // templatefile
            (
                "templatefile",
                r#""greet.tpl", {name = "Ana"}"#,
                r#""Hello, Ana!""#,
            ),
            (
                "templatefile",
                r#""greet.tpl", map{name = "Ana"}"#,
                r#""Hello, Ana!""#,
            ),
            (
                "templatefile",
                r#""greet.tpl", {}"#,
                "err: vars map does not contain",
            ),
            (
                "templatefile",
                r#""greet.tpl", ["Ana"]"#,
                "err@1: invalid vars value: must be a map",
            ),
            (
                "templatefile",
                r#""greet.tpl", "x""#,
                "err@1: must be a map",
            ),
            (
                "templatefile",
                r#""missing.tpl", {}"#,
                "err@0: no file exists",
            ),
            (
                "templatefile",
                r#""greet.tpl", {name = unknown(string)}"#,
                "unknown(string)",
            ),
            (
                "templatefile",
                r#""greet.tpl", {name = sensitive("Ana")}"#,
                r#"sensitive("Hello, Ana!")"#,
            ),
            ("templatefile", r#"unknown(string), {}"#, "unknown(any)"),
            (
                "templatefile",
                r#""greet.tpl", null"#,
                "err@1: must not be null",
            ),
            (
                "templatestring",
                r#""Hi ${name}", {name = "Bo"}"#,
                r#""Hi Bo""#,
            ),
            (
                "templatestring",
                r#""Hi ${name}", [1]"#,
                "err@1: must be a map",
            ),
            (
                "templatestring",
                r#""Hi ${name}", unknown(map(string))"#,
                "unknown(any)",
            ),
            ("plantimestamp", "", "unknown(string)"),
            // path functions
            ("basename", r#""foo/bar/baz.txt""#, r#""baz.txt""#),
            ("basename", r#""foo/bar/""#, r#""bar""#),
            ("basename", r#""/""#, r#""/""#),
            ("basename", r#""""#, r#"".""#),
            ("dirname", r#""foo/bar/baz.txt""#, r#""foo/bar""#),
            ("dirname", r#""baz.txt""#, r#"".""#),
            ("dirname", r#""/foo""#, r#""/""#),
            ("dirname", r#""/""#, r#""/""#),
            ("dirname", r#""foo//bar/../x/y""#, r#""foo/x""#),
            ("abspath", r#""/a/b/../c""#, r#""/a/c""#),
            ("pathexpand", r#""/etc/x""#, r#""/etc/x""#),
            ("pathexpand", r#""a~/b""#, r#""a~/b""#),
        ],
    );
    let home = std::env::var("HOME").unwrap_or_default();
    if !home.is_empty() {
        assert_eq!(
            funcs::call("pathexpand", vec![Value::from("~/.ssh/id_rsa")], &h),
            Ok(Value::String(format!("{home}/.ssh/id_rsa")))
        );
    }
    let rel = funcs::call("abspath", vec![Value::from("x/y")], &h).unwrap();
    let rel = rel.as_str().unwrap();
    assert!(rel.starts_with('/') && rel.ends_with("/x/y"), "{rel}");
}

#[test]
fn funcs_structural_functions_keep_element_marks_in_place() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            ("lookup", r#"{a = "x", b = sensitive("y")}, "a""#, r#""x""#),
            (
                "lookup",
                r#"{a = "x", b = sensitive("y")}, "b""#,
                r#"sensitive("y")"#,
            ),
            (
                "lookup",
                r#"sensitive({a = "x"}), "a""#,
                r#"sensitive("x")"#,
            ),
            (
                "lookup",
                r#"{a = "x"}, sensitive("a")"#,
                r#"sensitive("x")"#,
            ),
            ("keys", r#"{a = sensitive(1)}"#, r#"["a"]"#),
            ("keys", r#"sensitive({a = 1})"#, r#"sensitive(["a"])"#),
            (
                "values",
                r#"{a = sensitive(1), b = 2}"#,
                "[sensitive(1), 2]",
            ),
            ("element", r#"["a", sensitive("b")], 0"#, r#""a""#),
            ("element", r#"sensitive(["a"]), 0"#, r#"sensitive("a")"#),
            (
                "concat",
                r#"[sensitive("a")], ["b"]"#,
                r#"[sensitive("a"), "b"]"#,
            ),
            (
                "merge",
                r#"{a = sensitive(1)}, {b = 2}"#,
                "{a = sensitive(1), b = 2}",
            ),
            ("slice", r#"["a", sensitive("b")], 0, 1"#, r#"["a"]"#),
            (
                "reverse",
                r#"["a", sensitive("b")]"#,
                r#"[sensitive("b"), "a"]"#,
            ),
            ("one", r#"[sensitive("a")]"#, r#"sensitive("a")"#),
            // Functions that read the elements mark the whole result.
            (
                "join",
                r#"",", ["a", sensitive("b")]"#,
                r#"sensitive("a,b")"#,
            ),
            (
                "sort",
                r#"["b", sensitive("a")]"#,
                r#"sensitive(list["a", "b"])"#,
            ),
            ("jsonencode", r#"[sensitive(1)]"#, r#"sensitive("[1]")"#),
        ],
    );
}

#[test]
fn funcs_text_encodings() {
    let (_d, h) = tmp_host();
    run(
        &h,
        &[
            (
                "textencodebase64",
                r#""Hello World", "UTF-16LE""#,
                r#""SABlAGwAbABvACAAVwBvAHIAbABkAA==""#,
            ),
            ("textencodebase64", r#""Hello", "UTF-8""#, r#""SGVsbG8=""#),
            ("textencodebase64", r#""é", "ISO-8859-1""#, r#""6Q==""#),
            (
                "textencodebase64",
                r#""☃", "ISO-8859-1""#,
                "err@0: cannot be represented in ISO-8859-1",
            ),
            (
                "textencodebase64",
                r#""a", "EBCDIC-nope""#,
                "err@1: not a supported IANA encoding",
            ),
            (
                "textdecodebase64",
                r#""SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE""#,
                r#""Hello World""#,
            ),
            ("textdecodebase64", r#""6Q==", "latin1""#, r#""é""#),
            ("textdecodebase64", r#""SGVsbG8=", "utf-8""#, r#""Hello""#),
            (
                "textdecodebase64",
                r#""!!", "UTF-8""#,
                "err@0: invalid base64",
            ),
            ("ephemeralasnull", r#""x""#, r#""x""#),
        ],
    );
}

#[test]
fn funcs_every_documented_function_exists() {
    let wanted = "can concat lookup compact coalesce coalescelist distinct sort merge length element \
        slice flatten keys values zipmap contains index one range reverse setunion setintersection \
        setsubtract setproduct toset tolist tomap tostring tonumber tobool format formatlist join \
        split replace lower upper title trimspace trim trimprefix trimsuffix startswith endswith \
        substr strrev chomp indent regex regexall jsonencode jsondecode yamlencode yamldecode \
        base64encode base64decode urlencode md5 sha1 sha256 sha512 filebase64sha256 filemd5 \
        filesha1 filesha256 file filebase64 fileexists fileset templatefile basename dirname \
        abspath pathexpand cidrsubnet cidrsubnets cidrhost cidrnetmask timestamp timeadd timecmp \
        formatdate uuid min max abs ceil floor log pow signum parseint sum alltrue anytrue \
        nonsensitive sensitive issensitive try strcontains chunklist matchkeys transpose csvdecode \
        uuidv5 base64sha256 base64sha512 filesha512 filebase64sha512 textencodebase64 \
        textdecodebase64";
    let missing: Vec<&str> = wanted
        .split_whitespace()
        .filter(|n| !funcs::exists(n))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    let names = funcs::names();
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    assert!(names.contains(&"try") && names.contains(&"can"));
}

#[test]
fn funcs_unknown_arguments_give_unknown_results_of_the_right_type() {
    let (_d, h) = file_host();
    run(
        &h,
        &[
            (
                "keys",
                "unknown(object({a = string, b = number}))",
                r#"["a", "b"]"#,
            ),
            (
                "values",
                "unknown(object({a = string}))",
                "unknown(tuple([string]))",
            ),
            ("values", "unknown(map(number))", "unknown(list(number))"),
            ("format", r#""%s", unknown(any)"#, "unknown(string)"),
            ("tostring", "unknown(any)", "unknown(string)"),
            ("tonumber", "unknown(string)", "unknown(number)"),
            ("toset", "unknown(list(string))", "unknown(set(string))"),
            (
                "tomap",
                "unknown(object({a = number}))",
                "unknown(map(number))",
            ),
            (
                "tolist",
                "unknown(number)",
                "err@0: cannot convert number to list",
            ),
            (
                "tostring",
                "unknown(list(string))",
                "err@0: cannot convert list(string) to string",
            ),
            (
                "tolist",
                "sensitive(unknown(tuple([string, number])))",
                "sensitive(unknown(list(string)))",
            ),
            ("cidrsubnet", r#"unknown(string), 4, 1"#, "unknown(string)"),
            (
                "cidrsubnets",
                r#""10.0.0.0/8", unknown(number)"#,
                "unknown(list(string))",
            ),
            ("timeadd", r#"unknown(string), "1h""#, "unknown(string)"),
            ("jsondecode", "unknown(string)", "unknown(any)"),
            (
                "regexall",
                r#""a", unknown(string)"#,
                "unknown(list(string))",
            ),
            (
                "regex",
                r#""(?P<x>a)", unknown(string)"#,
                "unknown(object({x = string}))",
            ),
            (
                "zipmap",
                r#"["a"], unknown(list(number))"#,
                "unknown(map(number))",
            ),
            (
                "slice",
                "unknown(list(string)), 0, 1",
                "unknown(list(string))",
            ),
            (
                "reverse",
                "unknown(tuple([string, number]))",
                "unknown(tuple([number, string]))",
            ),
            ("element", "unknown(list(string)), 0", "unknown(string)"),
            (
                "element",
                "unknown(list(string)), -1",
                "err@1: negative index",
            ),
            (
                "element",
                r#"unknown(list(string)), "x""#,
                "err@1: not a number",
            ),
            ("one", "[unknown(string)]", "unknown(string)"),
            ("flatten", "unknown(list(list(string)))", "unknown(any)"),
            (
                "distinct",
                r#"["a", unknown(string)]"#,
                "unknown(list(string))",
            ),
            ("lookup", r#"{a = unknown(string)}, "a""#, "unknown(string)"),
            ("length", "unknown(object({a = string}))", "1"),
            ("length", "unknown(string)", "unknown(number)"),
            ("contains", r#"["a"], unknown(string)"#, "unknown(bool)"),
            ("index", r#"["a"], unknown(string)"#, "unknown(number)"),
            ("yamlencode", "[unknown(string)]", "unknown(string)"),
            (
                "fileset",
                r#""files", unknown(string)"#,
                "unknown(set(string))",
            ),
            ("abs", "unknown(number)", "unknown(number)"),
            ("range", "unknown(number)", "unknown(list(number))"),
            (
                "formatdate",
                r#""YYYY", unknown(string)"#,
                "unknown(string)",
            ),
            (
                "replace",
                r#"unknown(string), null, "x""#,
                "err@1: must not be null",
            ),
            (
                "upper",
                "sensitive(unknown(string))",
                "sensitive(unknown(string))",
            ),
            (
                "sort",
                r#"sensitive(unknown(list(string)))"#,
                "sensitive(unknown(list(string)))",
            ),
            ("coalesce", "unknown(number), 1", "unknown(number)"),
            ("merge", "unknown(map(string))", "unknown(any)"),
            (
                "setproduct",
                r#"["a"], unknown(list(string))"#,
                "unknown(any)",
            ),
            (
                "transpose",
                r#"{a = [unknown(string)]}"#,
                "unknown(map(list(string)))",
            ),
        ],
    );
}
