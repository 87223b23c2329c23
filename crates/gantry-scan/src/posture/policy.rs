//! Reading an S3 bucket policy for statements that make the bucket public.

use serde_json::Value;

/// The statements of `doc` that allow everyone: `Effect: Allow` with a
/// principal of `"*"` (or `{"AWS": "*"}`, or a list holding `"*"`), or a
/// `NotPrincipal` (which allows everyone not listed), and no `Condition`.
/// Each is described as `Sid` (or `statement N`, 1-based) with its
/// actions. An error names what is malformed.
pub fn public_statements(doc: &str) -> Result<Vec<String>, String> {
    let v: Value =
        serde_json::from_str(doc).map_err(|e| format!("the bucket policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match v.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        Some(_) => {
            return Err("the bucket policy's Statement is neither an object nor a list".into());
        }
        None => return Err("the bucket policy has no Statement".into()),
    };
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        if !s.is_object() {
            return Err(format!("statement {} is not an object", i + 1));
        }
        let allow = s
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        if !allow {
            continue;
        }
        let everyone =
            s.get("Principal").is_some_and(is_everyone) || s.get("NotPrincipal").is_some();
        let conditioned = match s.get("Condition") {
            None | Some(Value::Null) => false,
            Some(Value::Object(m)) => !m.is_empty(),
            Some(_) => true,
        };
        if !everyone || conditioned {
            continue;
        }
        let name = match s
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
        {
            Some(sid) => format!("statement {sid:?}"),
            None => format!("statement {}", i + 1),
        };
        let actions = match s.get("Action").or_else(|| s.get("NotAction")) {
            Some(Value::String(a)) => a.clone(),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "no action".to_owned(),
        };
        out.push(format!("{name} ({actions})"));
    }
    Ok(out)
}

fn is_everyone(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(m) => m.get("AWS").is_some_and(is_everyone_list),
        _ => false,
    }
}

fn is_everyone_list(v: &Value) -> bool {
    match v {
        Value::String(s) => s == "*",
        Value::Array(list) => list.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_unconditioned_public_statements() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":["s3:PutObject","s3:GetObject"],"Resource":"*"},
            {"Sid":"Vpce","Effect":"Allow","Principal":"*","Action":"s3:*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}},
            {"Sid":"Deny","Effect":"Deny","Principal":"*","Action":"s3:*"},
            {"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*"}
        ]}"#;
        let found = public_statements(doc).unwrap();
        assert_eq!(
            found,
            vec![
                "statement \"Pub\" (s3:GetObject)".to_owned(),
                "statement 2 (s3:PutObject, s3:GetObject)".to_owned(),
            ]
        );
    }

    #[test]
    fn single_statement_object_and_not_principal() {
        let doc = r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject"}}"#;
        assert_eq!(public_statements(doc).unwrap().len(), 1);
        let doc = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject"}}"#;
        assert!(public_statements(doc).unwrap().is_empty());
    }

    #[test]
    fn malformed_policies_are_errors() {
        assert!(public_statements("{").unwrap_err().contains("not JSON"));
        assert!(
            public_statements("{}")
                .unwrap_err()
                .contains("no Statement")
        );
        assert!(public_statements(r#"{"Statement":3}"#).is_err());
        assert!(
            public_statements(r#"{"Statement":[1]}"#)
                .unwrap_err()
                .contains("statement 1")
        );
    }

    proptest! {
        #[test]
        fn no_panic_on_arbitrary_input(s in ".{0,300}") {
            let _ = public_statements(&s);
        }

        #[test]
        fn no_panic_on_arbitrary_json(v in arb_json()) {
            let _ = public_statements(&v.to_string());
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just("*"),
                Just("Allow"),
                Just("Statement"),
                Just("AWS"),
                Just("x")
            ]
            .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("Statement"),
                            Just("Effect"),
                            Just("Principal"),
                            Just("NotPrincipal"),
                            Just("AWS"),
                            Just("Condition"),
                            Just("Action"),
                            Just("Sid"),
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }
}
