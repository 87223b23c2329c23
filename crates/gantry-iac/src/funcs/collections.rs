//! Collection functions: length, concat, lookup, merge, flatten, sets…

use std::collections::BTreeMap;

use super::{
    Def, El, FuncError, FuncHost, Pt, RAW_MARKS, RAW_UNKNOWN, SHALLOW_MARKS, int, n, p, pn, r_any,
    r_bool, r_first, r_list_string, r_number, s, seq,
};
use crate::value::{Type, Value, unify_all};

pub(super) const DEFS: &[Def] = &[
    Def::new("alltrue", &[p("list", Pt::List(El::Bool))], r_bool, alltrue).flags(RAW_UNKNOWN),
    Def::new("anytrue", &[p("list", Pt::List(El::Bool))], r_bool, anytrue).flags(RAW_UNKNOWN),
    Def::new(
        "chunklist",
        &[p("list", Pt::List(El::Any)), p("size", Pt::Number)],
        r_chunklist,
        chunklist,
    ),
    Def::new("coalesce", &[], r_coalesce, coalesce)
        .var(pn("vals", Pt::Any))
        .flags(RAW_UNKNOWN),
    Def::new("coalescelist", &[], r_any, coalescelist)
        .var(pn("vals", Pt::Seq))
        .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new(
        "compact",
        &[p("list", Pt::List(El::String))],
        r_list_string,
        compact,
    ),
    Def::new("concat", &[], r_concat, concat)
        .var(p("seqs", Pt::Seq))
        .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new(
        "contains",
        &[p("list", Pt::Seq), p("value", Pt::Any)],
        r_bool,
        contains,
    )
    .flags(RAW_UNKNOWN),
    Def::new(
        "distinct",
        &[p("list", Pt::List(El::Any))],
        r_first,
        distinct,
    ),
    Def::new(
        "element",
        &[p("list", Pt::Seq), p("index", Pt::Number)],
        r_element,
        element,
    )
    .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new("flatten", &[p("list", Pt::Seq)], r_any, flatten),
    Def::new(
        "index",
        &[p("list", Pt::Seq), p("value", Pt::Any)],
        r_number,
        index,
    )
    .flags(RAW_UNKNOWN),
    Def::new("keys", &[p("inputMap", Pt::Mapping)], r_keys, keys)
        .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new("length", &[p("value", Pt::Any)], r_number, length).flags(RAW_UNKNOWN | RAW_MARKS),
    Def::new(
        "lookup",
        &[p("inputMap", Pt::Mapping), p("key", Pt::String)],
        r_lookup,
        lookup,
    )
    .var(pn("default", Pt::Any))
    .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new(
        "matchkeys",
        &[
            p("values", Pt::List(El::Any)),
            p("keys", Pt::List(El::Any)),
            p("searchset", Pt::List(El::Any)),
        ],
        r_first,
        matchkeys,
    ),
    Def::new("merge", &[], r_any, merge)
        .var(pn("maps", Pt::Mapping))
        .flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new("one", &[p("list", Pt::Seq)], r_one, one).flags(RAW_UNKNOWN | SHALLOW_MARKS),
    Def::new("range", &[], r_range, range).var(p("params", Pt::Number)),
    Def::new("reverse", &[p("list", Pt::Seq)], r_reverse, reverse).flags(SHALLOW_MARKS),
    Def::new(
        "setintersection",
        &[p("first_set", Pt::Set(El::Any))],
        r_first,
        setintersection,
    )
    .var(p("other_sets", Pt::Set(El::Any))),
    Def::new("setproduct", &[], r_any, setproduct).var(p("sets", Pt::Seq)),
    Def::new(
        "setsubtract",
        &[p("a", Pt::Set(El::Any)), p("b", Pt::Set(El::Any))],
        r_first,
        setsubtract,
    ),
    Def::new(
        "setunion",
        &[p("first_set", Pt::Set(El::Any))],
        r_first,
        setunion,
    )
    .var(p("other_sets", Pt::Set(El::Any))),
    Def::new(
        "slice",
        &[
            p("list", Pt::Seq),
            p("start_index", Pt::Number),
            p("end_index", Pt::Number),
        ],
        r_slice,
        slice,
    )
    .flags(SHALLOW_MARKS),
    Def::new(
        "sort",
        &[p("list", Pt::List(El::String))],
        r_list_string,
        sort,
    ),
    Def::new("sum", &[p("list", Pt::Seq)], r_number, sum),
    Def::new(
        "transpose",
        &[p("values", Pt::Map(El::Any))],
        r_transpose,
        transpose,
    ),
    Def::new("values", &[p("mapping", Pt::Mapping)], r_values, values).flags(SHALLOW_MARKS),
    Def::new(
        "zipmap",
        &[p("keys", Pt::List(El::String)), p("values", Pt::Seq)],
        r_zipmap,
        zipmap,
    ),
];

fn elem_type(t: &Type) -> Type {
    match t {
        Type::List(e) | Type::Set(e) | Type::Map(e) => (**e).clone(),
        Type::Tuple(ts) => unify_all(ts.iter().cloned()),
        Type::Object { attrs, .. } => unify_all(attrs.values().cloned()),
        _ => Type::Any,
    }
}

/// Converts every value to the unified type of all of them (falling back
/// to the values as they are when they do not unify).
fn unify_values(items: Vec<Value>) -> Vec<Value> {
    let ty = unify_all(items.iter().map(Value::type_of));
    if ty == Type::Any {
        return items;
    }
    items
        .iter()
        .map(|v| v.convert(&ty))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or(items)
}

fn alltrue(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let Some(items) = args[0].as_seq() else {
        return Ok(Value::Unknown(Type::Bool));
    };
    let mut unknown = false;
    for v in items {
        match v {
            Value::Bool(false) | Value::Null => return Ok(Value::Bool(false)),
            Value::Unknown(_) => unknown = true,
            _ => {}
        }
    }
    Ok(if unknown {
        Value::Unknown(Type::Bool)
    } else {
        Value::Bool(true)
    })
}

fn anytrue(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let Some(items) = args[0].as_seq() else {
        return Ok(Value::Unknown(Type::Bool));
    };
    let mut unknown = false;
    for v in items {
        match v {
            Value::Bool(true) => return Ok(Value::Bool(true)),
            Value::Unknown(_) => unknown = true,
            _ => {}
        }
    }
    Ok(if unknown {
        Value::Unknown(Type::Bool)
    } else {
        Value::Bool(false)
    })
}

fn r_chunklist(args: &[Value]) -> Type {
    Type::list(args.first().map_or(Type::Any, Value::type_of))
}

fn chunklist(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let size = int(&args[1], 1, "size")?;
    if size < 0 {
        return Err(FuncError::arg(
            1,
            "size",
            "the size argument must be positive",
        ));
    }
    let items = seq(&args[0]);
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size as usize)
            .map(|c| Value::List(c.to_vec()))
            .collect(),
    ))
}

fn r_coalesce(args: &[Value]) -> Type {
    unify_all(args.iter().filter(|v| !v.is_null()).map(Value::type_of))
}

fn coalesce(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let types: Vec<Type> = args
        .iter()
        .filter(|v| !(v.is_known() && v.is_null()))
        .map(Value::type_of)
        .collect();
    let mut ty = Type::Any;
    for t in &types {
        ty = match crate::value::unify(&ty, t) {
            Some(u) => u,
            None => {
                return Err(FuncError::call("all arguments must have the same type"));
            }
        };
    }
    for v in args {
        if !v.is_known() {
            return Ok(Value::Unknown(ty));
        }
        if v.is_null() || v.as_str() == Some("") {
            continue;
        }
        return v.convert(&ty).map_err(|e| FuncError::call(e.to_string()));
    }
    Err(FuncError::call("no non-null, non-empty-string arguments"))
}

fn coalescelist(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    for v in args {
        if !v.is_known() {
            return Ok(Value::Unknown(Type::Any));
        }
        if v.is_null() {
            continue;
        }
        if v.as_seq().is_some_and(|xs| !xs.is_empty()) {
            return Ok(v);
        }
    }
    Err(FuncError::call("no non-null arguments"))
}

fn compact(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::List(
        seq(&args[0])
            .iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

fn all_lists(args: &[Value]) -> bool {
    args.iter().all(|v| {
        matches!(
            v.unmarked(),
            Value::List(_) | Value::Set(_) | Value::Unknown(Type::List(_) | Type::Set(_))
        )
    })
}

fn r_concat(args: &[Value]) -> Type {
    if all_lists(args) && !args.is_empty() {
        Type::list(unify_all(args.iter().map(|v| elem_type(&v.type_of()))))
    } else {
        Type::Any
    }
}

fn concat(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err(FuncError::call("at least one argument is required"));
    }
    for (i, v) in args.iter().enumerate() {
        if v.is_null() {
            return Err(FuncError::arg(i, "seqs", "argument must not be null"));
        }
    }
    if args.iter().any(|v| !v.is_known()) {
        return Ok(Value::Unknown(r_concat(&args)));
    }
    let lists = all_lists(&args);
    let items: Vec<Value> = args.iter().flat_map(|v| seq(v).iter().cloned()).collect();
    if lists {
        let ty = r_concat(&args);
        if let Ok(Value::List(xs)) = Value::List(items.clone()).convert(&ty) {
            return Ok(Value::List(xs));
        }
        return Err(FuncError::call(
            "all arguments must be lists or tuples of a consistent element type",
        ));
    }
    Ok(Value::Tuple(items))
}

fn contains(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (list, value) = (&args[0], &args[1]);
    if !list.is_known() || !value.is_wholly_known() {
        return Ok(Value::Unknown(Type::Bool));
    }
    let mut unknown = false;
    for x in seq(list) {
        if !x.is_wholly_known() {
            unknown = true;
        } else if x.equals(value) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(if unknown {
        Value::Unknown(Type::Bool)
    } else {
        Value::Bool(false)
    })
}

fn distinct(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut out: Vec<Value> = Vec::new();
    for x in seq(&args[0]) {
        if !out
            .iter()
            .any(|y| y.equals(x) && y.type_of() == x.type_of())
        {
            out.push(x.clone());
        }
    }
    Ok(Value::List(out))
}

fn r_element(args: &[Value]) -> Type {
    match (args.first(), args.get(1)) {
        (Some(Value::Tuple(xs)), Some(Value::Number(i))) if !xs.is_empty() && *i >= 0.0 => {
            xs[(*i as usize) % xs.len()].type_of()
        }
        (Some(v), _) => elem_type(&v.type_of()),
        _ => Type::Any,
    }
}

fn element(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let list = &args[0];
    if matches!(
        list.unmarked(),
        Value::Set(_) | Value::Unknown(Type::Set(_))
    ) {
        return Err(FuncError::arg(
            0,
            "list",
            "cannot read elements from a set; convert it to a list first with tolist",
        ));
    }
    if args[1].is_known() {
        let i = int(&args[1], 1, "index")?;
        if i < 0 {
            return Err(FuncError::arg(
                1,
                "index",
                "cannot use element function with a negative index",
            ));
        }
    }
    if !list.is_known() || !args[1].is_known() {
        return Ok(Value::Unknown(r_element(&args)));
    }
    let items = seq(list);
    if items.is_empty() {
        return Err(FuncError::arg(
            0,
            "list",
            "cannot use element function with an empty list",
        ));
    }
    let i = int(&args[1], 1, "index")? as usize;
    Ok(items[i % items.len()].clone())
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) -> bool {
    for x in items {
        match x {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                if !flatten_into(xs, out) {
                    return false;
                }
            }
            Value::Unknown(Type::List(_) | Type::Set(_) | Type::Tuple(_) | Type::Any) => {
                return false;
            }
            v => out.push(v.clone()),
        }
    }
    true
}

fn flatten(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    if !flatten_into(seq(&args[0]), &mut out) {
        return Ok(Value::Unknown(Type::Any));
    }
    Ok(Value::Tuple(out))
}

fn index(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (list, value) = (&args[0], &args[1]);
    if !list.is_known() || !value.is_wholly_known() {
        return Ok(Value::Unknown(Type::Number));
    }
    let items = seq(list);
    if items.is_empty() {
        return Err(FuncError::arg(0, "list", "cannot search an empty list"));
    }
    for (i, x) in items.iter().enumerate() {
        if !x.is_wholly_known() {
            return Ok(Value::Unknown(Type::Number));
        }
        if x.equals(value) {
            return Ok(Value::Number(i as f64));
        }
    }
    Err(FuncError::call("item not found"))
}

fn r_keys(args: &[Value]) -> Type {
    match args.first().map(Value::type_of) {
        Some(Type::Object { attrs, .. }) => Type::Tuple(vec![Type::String; attrs.len()]),
        _ => Type::list(Type::String),
    }
}

fn keys(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let keys = |m: &BTreeMap<String, Value>| -> Vec<Value> {
        m.keys().map(|k| Value::String(k.clone())).collect()
    };
    Ok(match &args[0] {
        Value::Map(m) => Value::List(keys(m)),
        Value::Object(m) => Value::Tuple(keys(m)),
        Value::Unknown(Type::Object { attrs, .. }) => {
            Value::Tuple(attrs.keys().map(|k| Value::String(k.clone())).collect())
        }
        _ => Value::Unknown(r_keys(&args)),
    })
}

fn length(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let v = &args[0];
    let marked = v.is_sensitive();
    let out = match v.unmarked() {
        Value::Unknown(Type::Tuple(ts)) => Value::Number(ts.len() as f64),
        Value::Unknown(Type::Object { attrs, .. }) => Value::Number(attrs.len() as f64),
        Value::Unknown(_) => Value::Unknown(Type::Number),
        Value::String(t) => Value::Number(super::graphemes(t).len() as f64),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => Value::Number(xs.len() as f64),
        Value::Map(m) | Value::Object(m) => Value::Number(m.len() as f64),
        other => {
            return Err(FuncError::arg(
                0,
                "value",
                format!(
                    "argument must be a string, a collection type, or a structural type, not {}",
                    other.kind_name()
                ),
            ));
        }
    };
    Ok(out.mark_if(marked))
}

fn r_lookup(args: &[Value]) -> Type {
    let mut t = match args.first().map(Value::type_of) {
        Some(Type::Object { attrs, .. }) => match args.get(1).and_then(Value::as_str) {
            Some(k) => attrs.get(k).cloned().unwrap_or(Type::Any),
            None => Type::Any,
        },
        Some(t) => elem_type(&t),
        None => Type::Any,
    };
    if let Some(d) = args.get(2).filter(|d| !d.is_null())
        && let Some(u) = crate::value::unify(&t, &d.type_of())
    {
        t = u;
    }
    t
}

fn lookup(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.len() > 3 {
        return Err(FuncError::call(
            "too many function arguments: function \"lookup\" expects at most 3 argument(s)",
        ));
    }
    let ret = r_lookup(&args);
    if !args[0].is_known() || !args[1].is_known() {
        return Ok(Value::Unknown(ret));
    }
    let key = s(&args[1]);
    let found = args[0].as_map().and_then(|m| m.get(key)).cloned();
    let is_map = matches!(args[0], Value::Map(_));
    match (found, args.get(2)) {
        (Some(v), _) => Ok(if is_map {
            v.convert(&ret).unwrap_or(v)
        } else {
            v
        }),
        (None, Some(d)) => Ok(if is_map {
            d.convert(&ret).unwrap_or_else(|_| d.clone())
        } else {
            d.clone()
        }),
        (None, None) => Err(FuncError::call(format!(
            "lookup failed to find key {key:?}"
        ))),
    }
}

fn matchkeys(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (values, keys, search) = (seq(&args[0]), seq(&args[1]), seq(&args[2]));
    if values.len() != keys.len() {
        return Err(FuncError::call("length of keys and values should be equal"));
    }
    let kt = unify_all(keys.iter().chain(search).map(Value::type_of));
    let conv = |v: &Value| v.convert(&kt).unwrap_or_else(|_| v.clone());
    let search: Vec<Value> = search.iter().map(conv).collect();
    Ok(Value::List(
        values
            .iter()
            .zip(keys)
            .filter(|(_, k)| {
                let k = conv(k);
                search.iter().any(|s| s.equals(&k))
            })
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

fn merge(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.iter().any(|v| !v.is_known()) {
        return Ok(Value::Unknown(Type::Any));
    }
    let all_maps = args.iter().any(|v| matches!(v, Value::Map(_)))
        && args
            .iter()
            .all(|v| v.is_null() || matches!(v, Value::Map(_)));
    let mut out = BTreeMap::new();
    for v in &args {
        if let Some(m) = v.as_map() {
            for (k, x) in m {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    if all_maps {
        let ty = unify_all(out.values().map(Value::type_of));
        if let Ok(v) = Value::Map(out.clone()).convert(&Type::map(ty)) {
            return Ok(v);
        }
    }
    Ok(Value::Object(out))
}

fn r_one(args: &[Value]) -> Type {
    match args.first().map(Value::type_of) {
        Some(Type::Tuple(ts)) => ts.first().cloned().unwrap_or(Type::Any),
        Some(t) => elem_type(&t),
        None => Type::Any,
    }
}

fn one(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if !args[0].is_known() {
        return Ok(Value::Unknown(r_one(&args)));
    }
    match seq(&args[0]) {
        [] => Ok(Value::Null),
        [x] => Ok(x.clone()),
        _ => Err(FuncError::arg(
            0,
            "list",
            "must be a list, set, or tuple value with either zero or one elements",
        )),
    }
}

fn r_range(_: &[Value]) -> Type {
    Type::list(Type::Number)
}

fn range(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (start, limit, step) = match args.as_slice() {
        [l] => {
            let l = n(l);
            (0.0, l, if l >= 0.0 { 1.0 } else { -1.0 })
        }
        [a, b] => {
            let (a, b) = (n(a), n(b));
            (a, b, if b >= a { 1.0 } else { -1.0 })
        }
        [a, b, c] => (n(a), n(b), n(c)),
        _ => {
            return Err(FuncError::call("must have one, two, or three arguments"));
        }
    };
    if step == 0.0 {
        return Err(FuncError::arg(2, "params", "step must not be zero"));
    }
    if step < 0.0 && start < limit {
        return Err(FuncError::arg(
            2,
            "params",
            "step must be positive when start is less than limit",
        ));
    }
    if step > 0.0 && start > limit {
        return Err(FuncError::arg(
            2,
            "params",
            "step must be negative when start is greater than limit",
        ));
    }
    let mut out = Vec::new();
    let mut i = 0.0f64;
    loop {
        let x = start + i * step;
        if (step > 0.0 && x >= limit) || (step < 0.0 && x <= limit) {
            break;
        }
        if out.len() >= 1024 {
            return Err(FuncError::call(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        out.push(Value::Number(x));
        i += 1.0;
    }
    Ok(Value::List(out))
}

fn r_reverse(args: &[Value]) -> Type {
    match args.first().map(Value::type_of) {
        Some(Type::Tuple(mut ts)) => {
            ts.reverse();
            Type::Tuple(ts)
        }
        Some(Type::List(e) | Type::Set(e)) => Type::List(e),
        _ => Type::Any,
    }
}

fn reverse(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut items = seq(&args[0]).to_vec();
    items.reverse();
    Ok(match &args[0] {
        Value::Tuple(_) => Value::Tuple(items),
        _ => Value::List(items),
    })
}

/// The elements of every set argument converted to one element type.
fn unified_sets(args: &[Value]) -> Vec<Vec<Value>> {
    let all: Vec<Value> = args.iter().flat_map(|v| seq(v).iter().cloned()).collect();
    let ty = unify_all(all.iter().map(Value::type_of));
    args.iter()
        .map(|v| {
            seq(v)
                .iter()
                .map(|x| x.convert(&ty).unwrap_or_else(|_| x.clone()))
                .collect()
        })
        .collect()
}

fn setintersection(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let sets = unified_sets(&args);
    let mut out = sets.first().cloned().unwrap_or_default();
    for other in sets.iter().skip(1) {
        out.retain(|x| other.iter().any(|y| y == x));
    }
    Ok(Value::set_from(out))
}

fn setsubtract(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let sets = unified_sets(&args);
    let (a, b) = (&sets[0], &sets[1]);
    Ok(Value::set_from(
        a.iter().filter(|x| !b.contains(x)).cloned().collect(),
    ))
}

fn setunion(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::set_from(
        unified_sets(&args).into_iter().flatten().collect(),
    ))
}

fn setproduct(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.len() < 2 {
        return Err(FuncError::call("at least two arguments are required"));
    }
    let all_sets = args.iter().all(|v| matches!(v, Value::Set(_)));
    let columns: Vec<Vec<Value>> = args.iter().map(|v| unify_values(seq(v).to_vec())).collect();
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for col in &columns {
        let mut next = Vec::with_capacity(rows.len() * col.len());
        for row in &rows {
            for x in col {
                let mut r = row.clone();
                r.push(x.clone());
                next.push(r);
            }
        }
        rows = next;
    }
    let tuples: Vec<Value> = rows.into_iter().map(Value::Tuple).collect();
    Ok(if all_sets {
        Value::set_from(tuples)
    } else {
        Value::List(tuples)
    })
}

fn r_slice(args: &[Value]) -> Type {
    match args.first().map(Value::type_of) {
        Some(Type::Tuple(_)) | None => Type::Any,
        Some(t) => Type::list(elem_type(&t)),
    }
}

fn slice(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if matches!(args[0], Value::Set(_)) {
        return Err(FuncError::arg(
            0,
            "list",
            "cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important",
        ));
    }
    let items = seq(&args[0]);
    let start = int(&args[1], 1, "start_index")?;
    let end = int(&args[2], 2, "end_index")?;
    if start < 0 {
        return Err(FuncError::arg(
            1,
            "start_index",
            "start index must not be less than zero",
        ));
    }
    if end > items.len() as i64 {
        return Err(FuncError::arg(
            2,
            "end_index",
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(FuncError::arg(
            1,
            "start_index",
            "start index must not be greater than end index",
        ));
    }
    let part = items[start as usize..end as usize].to_vec();
    Ok(match &args[0] {
        Value::Tuple(_) => Value::Tuple(part),
        _ => Value::List(part),
    })
}

fn sort(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut items = Vec::new();
    for (i, x) in seq(&args[0]).iter().enumerate() {
        match x {
            Value::String(t) => items.push(t.clone()),
            _ => {
                return Err(FuncError::arg(
                    0,
                    "list",
                    format!("given list element {i} is null; a null string cannot be sorted"),
                ));
            }
        }
    }
    items.sort();
    Ok(Value::List(items.into_iter().map(Value::String).collect()))
}

fn sum(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let items = seq(&args[0]);
    if items.is_empty() {
        return Err(FuncError::arg(0, "list", "cannot sum an empty list"));
    }
    let mut total = 0.0;
    for x in items {
        match x.convert(&Type::Number) {
            Ok(Value::Number(v)) => total += v,
            _ => {
                return Err(FuncError::arg(
                    0,
                    "list",
                    "argument must be list, set, or tuple of number values",
                ));
            }
        }
    }
    if !total.is_finite() {
        return Err(FuncError::call("the sum is not a finite number"));
    }
    Ok(Value::Number(total))
}

fn r_transpose(_: &[Value]) -> Type {
    Type::map(Type::list(Type::String))
}

fn transpose(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in args[0].as_map().into_iter().flatten() {
        let list = v.convert(&Type::list(Type::String)).map_err(|e| {
            FuncError::arg(
                0,
                "values",
                format!("input must be a map of lists of strings: {e}"),
            )
        })?;
        for x in seq(&list) {
            let Some(name) = x.as_str() else {
                return Err(FuncError::arg(
                    0,
                    "values",
                    "input must be a map of lists of strings without null elements",
                ));
            };
            out.entry(name.to_owned())
                .or_default()
                .push(Value::String(k.clone()));
        }
    }
    Ok(Value::Map(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}

fn r_values(args: &[Value]) -> Type {
    match args.first().map(Value::type_of) {
        Some(Type::Object { attrs, .. }) => Type::Tuple(attrs.into_values().collect()),
        Some(t) => Type::list(elem_type(&t)),
        None => Type::Any,
    }
}

fn values(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(match &args[0] {
        Value::Map(m) => Value::List(m.values().cloned().collect()),
        Value::Object(m) => Value::Tuple(m.values().cloned().collect()),
        _ => Value::Unknown(Type::Any),
    })
}

fn r_zipmap(args: &[Value]) -> Type {
    match args.get(1).map(Value::type_of) {
        Some(Type::Tuple(_)) | None => Type::Any,
        Some(t) => Type::map(elem_type(&t)),
    }
}

fn zipmap(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (keys, vals) = (seq(&args[0]), seq(&args[1]));
    if keys.len() != vals.len() {
        return Err(FuncError::call(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (i, (k, v)) in keys.iter().zip(vals).enumerate() {
        let Some(k) = k.as_str() else {
            return Err(FuncError::arg(
                0,
                "keys",
                format!("key at index {i} is null"),
            ));
        };
        out.insert(k.to_owned(), v.clone());
    }
    Ok(match &args[1] {
        Value::Tuple(_) => Value::Object(out),
        _ => Value::Map(out),
    })
}
