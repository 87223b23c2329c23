//! Type conversion functions and the sensitive-value functions.

use super::{Def, FuncError, FuncHost, Pt, RAW_MARKS, RAW_UNKNOWN, pn, r_bool, r_first};
use crate::value::{Type, Value, unify_all};

const ALL_RAW: u8 = RAW_UNKNOWN | RAW_MARKS;

pub(super) const DEFS: &[Def] = &[
    Def::new(
        "ephemeralasnull",
        &[pn("value", Pt::Any)],
        r_first,
        ephemeralasnull,
    )
    .flags(ALL_RAW),
    Def::new("issensitive", &[pn("value", Pt::Any)], r_bool, issensitive).flags(ALL_RAW),
    Def::new(
        "nonsensitive",
        &[pn("value", Pt::Any)],
        r_first,
        nonsensitive,
    )
    .flags(ALL_RAW),
    Def::new("sensitive", &[pn("value", Pt::Any)], r_first, sensitive).flags(ALL_RAW),
    Def::new("tobool", &[pn("v", Pt::Any)], r_first, tobool).flags(ALL_RAW),
    Def::new("tolist", &[pn("v", Pt::Any)], r_first, tolist).flags(ALL_RAW),
    Def::new("tomap", &[pn("v", Pt::Any)], r_first, tomap).flags(ALL_RAW),
    Def::new("tonumber", &[pn("v", Pt::Any)], r_first, tonumber).flags(ALL_RAW),
    Def::new("toset", &[pn("v", Pt::Any)], r_first, toset).flags(ALL_RAW),
    Def::new("tostring", &[pn("v", Pt::Any)], r_first, tostring).flags(ALL_RAW),
];

/// Values are never ephemeral in this engine, so the value is returned
/// unchanged.
fn ephemeralasnull(mut args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(args.swap_remove(0))
}

fn issensitive(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::Bool(args[0].is_sensitive()))
}

/// Removes the top-level mark. Current Terraform accepts values that are
/// not sensitive and returns them unchanged.
fn nonsensitive(mut args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (v, _) = args.swap_remove(0).unmark();
    Ok(v)
}

fn sensitive(mut args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(args.swap_remove(0).mark())
}

/// False when the elements of a tuple or object have no common type.
fn elements_unify(v: &Value) -> bool {
    let items: Vec<&Value> = match v.unmarked() {
        Value::Tuple(xs) | Value::List(xs) | Value::Set(xs) => xs.iter().collect(),
        Value::Object(m) | Value::Map(m) => m.values().collect(),
        _ => return true,
    };
    let mut acc = Type::Any;
    for x in items.iter().filter(|x| !(x.is_known() && x.is_null())) {
        match crate::value::unify(&acc, &x.type_of()) {
            Some(t) => acc = t,
            None => return false,
        }
    }
    true
}

/// The element type an unknown value of type `t` will have once known.
fn element_of(t: &Type) -> Type {
    match t {
        Type::List(e) | Type::Set(e) | Type::Map(e) => (**e).clone(),
        Type::Tuple(ts) => unify_all(ts.iter().cloned()),
        Type::Object { attrs, .. } => unify_all(attrs.values().cloned()),
        _ => Type::Any,
    }
}

/// Whether a value of type `from` can convert to `to` (unknowns are
/// checked by type, as Terraform does before the value is known).
fn type_converts(from: &Type, to: &Type) -> bool {
    match (to, from) {
        (_, Type::Any) => true,
        (t, f) if t.is_primitive() => f.is_primitive(),
        (Type::Map(_), Type::Map(_) | Type::Object { .. }) => true,
        (Type::List(_) | Type::Set(_), Type::List(_) | Type::Set(_) | Type::Tuple(_)) => true,
        _ => false,
    }
}

fn to(v: &Value, ty: &Type, what: &str) -> Result<Value, FuncError> {
    if let Value::Unknown(t) = v.unmarked() {
        if !type_converts(t, ty) {
            return Err(FuncError::arg(
                0,
                "v",
                format!("cannot convert {t} to {what}"),
            ));
        }
        let out = match ty {
            Type::List(_) => Type::list(element_of(t)),
            Type::Set(_) => Type::set(element_of(t)),
            Type::Map(_) => Type::map(element_of(t)),
            other => other.clone(),
        };
        return Ok(Value::Unknown(out).mark_if(v.is_sensitive()));
    }
    if !ty.is_primitive() && !elements_unify(v) {
        return Err(FuncError::arg(
            0,
            "v",
            format!(
                "cannot convert {} to {what} of any single type",
                v.kind_name()
            ),
        ));
    }
    v.convert(ty).map_err(|e| {
        let msg = if e.path.is_empty() {
            format!("cannot convert {} to {what}", v.kind_name())
        } else {
            format!("cannot convert {} to {what}: {e}", v.kind_name())
        };
        FuncError::arg(0, "v", msg)
    })
}

fn tobool(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if let Some(s) = args[0].as_str()
        && s != "true"
        && s != "false"
    {
        return Err(FuncError::arg(
            0,
            "v",
            format!(
                "cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed"
            ),
        ));
    }
    to(&args[0], &Type::Bool, "bool")
}

fn tonumber(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if let Some(s) = args[0].as_str()
        && crate::value::parse_number(s).is_none()
    {
        return Err(FuncError::arg(
            0,
            "v",
            format!(
                "cannot convert {s:?} to number; given string must be a decimal representation of a number"
            ),
        ));
    }
    to(&args[0], &Type::Number, "number")
}

fn tostring(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    to(&args[0], &Type::String, "string")
}

fn tolist(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    to(&args[0], &Type::list(Type::Any), "list")
}

fn toset(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    to(&args[0], &Type::set(Type::Any), "set")
}

fn tomap(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    to(&args[0], &Type::map(Type::Any), "map")
}
