//! The built-in `null` and `terraform` providers, and the factories of
//! every built-in provider.

mod providers_support;

use gantry_iac::provider::{Registry, builtin};
use gantry_iac::value::{Type, Value};
use providers_support::{Harness, attr_path, get, harness, s, smap};

async fn null() -> Harness {
    harness("null").await
}

async fn terraform() -> Harness {
    harness("terraform").await
}

#[tokio::test]
async fn factories_name_sources_and_types() {
    let cases = [
        (
            "random",
            "registry.terraform.io/hashicorp/random",
            &[
                "random_id",
                "random_integer",
                "random_password",
                "random_pet",
                "random_shuffle",
                "random_string",
                "random_uuid",
            ][..],
            &[][..],
        ),
        (
            "null",
            "registry.terraform.io/hashicorp/null",
            &["null_resource"][..],
            &["null_data_source"][..],
        ),
        (
            "local",
            "registry.terraform.io/hashicorp/local",
            &["local_file", "local_sensitive_file"][..],
            &["local_file", "local_sensitive_file"][..],
        ),
        (
            "terraform",
            "terraform.io/builtin/terraform",
            &["terraform_data"][..],
            &[][..],
        ),
    ];
    let all = builtin::factories();
    assert_eq!(all.len(), cases.len());
    for (name, source, resources, data) in cases {
        let f = all
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(f.source(), source);
        let schema = f.schema();
        assert!(schema.provider.attributes.is_empty());
        assert_eq!(
            schema.resources.keys().collect::<Vec<_>>(),
            resources.iter().collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(
            schema.data_sources.keys().collect::<Vec<_>>(),
            data.iter().collect::<Vec<_>>(),
            "{name}"
        );
        // The schema is built once.
        assert!(std::ptr::eq(f.schema(), schema));
        // Every resource has a computed id.
        for (ty, rs) in &schema.resources {
            let id = &rs.attributes["id"];
            assert!(id.computed && !id.optional, "{ty}.id");
        }
    }
    let reg = Registry::builtin();
    assert_eq!(
        reg.names().collect::<Vec<_>>(),
        ["local", "null", "random", "terraform"]
    );
}

#[tokio::test]
async fn configure_accepts_an_empty_block_only() {
    for f in builtin::factories() {
        assert!(f.configure(&Value::Null).await.is_ok(), "{}", f.name());
        assert!(
            f.configure(&Value::Object(Default::default()))
                .await
                .is_ok(),
            "{}",
            f.name()
        );
        let all_null = Value::Object([("alias".to_owned(), Value::Null)].into());
        assert!(f.configure(&all_null).await.is_ok(), "{}", f.name());
        let e = f
            .configure(&Value::Object(
                [("region".to_owned(), Value::string("x"))].into(),
            ))
            .await
            .err()
            .expect("an unexpected argument is an error");
        assert_eq!(e.attribute, Some(attr_path("region")));
        assert!(
            f.configure(&Value::string("x")).await.is_err(),
            "{}",
            f.name()
        );
    }
}

#[tokio::test]
async fn null_resource_lifecycle() {
    let h = null().await;
    let cfg = h.config("null_resource", &[("triggers", smap(&[("v", "1")]))]);
    let plan = h.plan("null_resource", None, &cfg).await.unwrap();
    assert!(!get(&plan.planned, "id").is_known());
    assert_eq!(get(&plan.planned, "triggers"), smap(&[("v", "1")]));
    let st = h.create("null_resource", &cfg).await;
    let id = s(&st, "id");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert!(id.parse::<u64>().unwrap() <= i64::MAX as u64);
    // Same triggers: no change.
    let plan = h.plan("null_resource", Some(&st), &cfg).await.unwrap();
    assert_eq!(plan.planned, st);
    // New triggers: a new id.
    let cfg2 = h.config("null_resource", &[("triggers", smap(&[("v", "2")]))]);
    let plan = h.plan("null_resource", Some(&st), &cfg2).await.unwrap();
    assert!(!get(&plan.planned, "id").is_known());
    let st2 = h
        .apply("null_resource", None, Some(&plan.planned), &cfg2)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(s(&st2, "id"), id);
    assert!(h.resource_schema("null_resource").attributes["triggers"].force_new);
    // Unknown triggers are a change.
    let cfg3 = h.config(
        "null_resource",
        &[("triggers", Value::Unknown(Type::map(Type::String)))],
    );
    let plan = h.plan("null_resource", Some(&st), &cfg3).await.unwrap();
    assert!(!get(&plan.planned, "id").is_known());
    // Read and delete.
    assert_eq!(
        h.provider.read("null_resource", &st).await.unwrap(),
        Some(st.clone())
    );
    assert_eq!(
        h.apply("null_resource", Some(&st), None, &cfg)
            .await
            .unwrap(),
        None
    );
    assert!(h.provider.import("null_resource", "1").await.is_err());
}

#[tokio::test]
async fn null_data_source_echoes_inputs() {
    let h = null().await;
    let inputs = smap(&[("a", "1"), ("b", "two")]);
    let cfg = h.data_config("null_data_source", &[("inputs", inputs.clone())]);
    let out = h
        .provider
        .read_data("null_data_source", &cfg)
        .await
        .unwrap();
    assert_eq!(get(&out, "outputs"), inputs);
    assert_eq!(get(&out, "inputs"), inputs);
    assert_eq!(s(&out, "has_computed_default"), "default");
    assert_eq!(s(&out, "id"), "static");
    let r = s(&out, "random");
    assert!(r.bytes().all(|b| b.is_ascii_digit()) && !r.is_empty());

    let cfg = h.data_config(
        "null_data_source",
        &[("has_computed_default", Value::string("mine"))],
    );
    let out = h
        .provider
        .read_data("null_data_source", &cfg)
        .await
        .unwrap();
    assert_eq!(s(&out, "has_computed_default"), "mine");
    assert_eq!(get(&out, "outputs"), Value::Null);
    assert!(h.provider.read_data("null_other", &cfg).await.is_err());
}

fn complex_input() -> Value {
    Value::Object(
        [
            ("name".to_owned(), Value::string("web")),
            (
                "ports".to_owned(),
                Value::Tuple(vec![Value::Number(80.0), Value::Number(443.0)]),
            ),
        ]
        .into(),
    )
}

#[tokio::test]
async fn terraform_data_plans_output_like_terraform() {
    let h = terraform().await;
    // Create with an input: id unknown, output unknown of input's type.
    let cfg = h.config("terraform_data", &[("input", complex_input())]);
    let plan = h.plan("terraform_data", None, &cfg).await.unwrap();
    assert_eq!(get(&plan.planned, "id"), Value::Unknown(Type::String));
    assert_eq!(
        get(&plan.planned, "output"),
        Value::Unknown(complex_input().type_of())
    );
    // Create without an input: output stays null.
    let cfg = h.config("terraform_data", &[]);
    let plan = h.plan("terraform_data", None, &cfg).await.unwrap();
    assert_eq!(get(&plan.planned, "output"), Value::Null);
    assert!(!get(&plan.planned, "id").is_known());
}

#[tokio::test]
async fn terraform_data_apply_reflects_input() {
    let h = terraform().await;
    let cfg = h.config(
        "terraform_data",
        &[
            ("input", complex_input()),
            ("triggers_replace", Value::Number(1.0)),
        ],
    );
    let st = h.create("terraform_data", &cfg).await;
    assert_eq!(get(&st, "output"), complex_input());
    let id = s(&st, "id");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    // Same config: no change.
    let plan = h.plan("terraform_data", Some(&st), &cfg).await.unwrap();
    assert_eq!(plan.planned, st);
    assert!(plan.requires_replace.is_empty());

    // New input: update in place, output unknown until apply.
    let cfg2 = h.config(
        "terraform_data",
        &[
            ("input", Value::string("v2")),
            ("triggers_replace", Value::Number(1.0)),
        ],
    );
    let plan = h.plan("terraform_data", Some(&st), &cfg2).await.unwrap();
    assert!(plan.requires_replace.is_empty());
    assert_eq!(get(&plan.planned, "id"), Value::string(id.clone()));
    assert_eq!(get(&plan.planned, "output"), Value::Unknown(Type::String));
    let st2 = h
        .apply("terraform_data", Some(&st), Some(&plan.planned), &cfg2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s(&st2, "id"), id);
    assert_eq!(get(&st2, "output"), Value::string("v2"));

    // New triggers: replacement with a new id.
    let cfg3 = h.config(
        "terraform_data",
        &[
            ("input", Value::string("v2")),
            ("triggers_replace", Value::Number(2.0)),
        ],
    );
    let plan = h.plan("terraform_data", Some(&st2), &cfg3).await.unwrap();
    assert_eq!(plan.requires_replace, vec![attr_path("triggers_replace")]);
    assert!(!get(&plan.planned, "id").is_known());
    assert_eq!(get(&plan.planned, "output"), Value::Unknown(Type::String));
    let st3 = h
        .apply("terraform_data", None, Some(&plan.planned), &cfg3)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(s(&st3, "id"), id);
    assert!(h.resource_schema("terraform_data").attributes["triggers_replace"].force_new);

    // Removing the input: output becomes null at apply.
    let cfg4 = h.config(
        "terraform_data",
        &[("triggers_replace", Value::Number(2.0))],
    );
    let plan = h.plan("terraform_data", Some(&st3), &cfg4).await.unwrap();
    assert_eq!(get(&plan.planned, "output"), Value::Null);
    let st4 = h
        .apply("terraform_data", Some(&st3), Some(&plan.planned), &cfg4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(get(&st4, "output"), Value::Null);
    assert_eq!(s(&st4, "id"), s(&st3, "id"));
}

#[tokio::test]
async fn terraform_data_read_import_delete() {
    let h = terraform().await;
    let st = h
        .create(
            "terraform_data",
            &h.config("terraform_data", &[("input", Value::Bool(true))]),
        )
        .await;
    assert_eq!(
        h.provider.read("terraform_data", &st).await.unwrap(),
        Some(st.clone())
    );
    let imported = h
        .provider
        .import("terraform_data", "existing-id")
        .await
        .unwrap();
    assert_eq!(s(&imported, "id"), "existing-id");
    for a in ["input", "output", "triggers_replace"] {
        assert_eq!(get(&imported, a), Value::Null, "{a}");
    }
    assert!(h.provider.import("terraform_data", "").await.is_err());
    let cfg = h.config("terraform_data", &[]);
    assert_eq!(
        h.apply("terraform_data", Some(&st), None, &cfg)
            .await
            .unwrap(),
        None
    );
    assert!(h.provider.read("terraform_other", &st).await.is_err());
}
