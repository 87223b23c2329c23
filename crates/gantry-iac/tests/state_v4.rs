//! State v4: reading Terraform's format, writing it back byte for byte.

use gantry_iac::state::{
    EachMode, IndexKey, InstanceAddr, InstanceState, OutputState, State, StateError,
};
use gantry_iac::syntax::Mode;
use gantry_iac::value::{Type, Value};

/// A state as Terraform writes it: modules, count and for_each instances,
/// a data source, a tainted instance, sensitive attributes, outputs of
/// several types, dependencies and private data.
const TERRAFORM_STATE: &str = r#"{
  "version": 4,
  "terraform_version": "1.9.8",
  "serial": 12,
  "lineage": "3f0a6b1e-5d3c-4c1a-9b7e-2f8d1c0e4a55",
  "outputs": {
    "ids": {
      "value": [
        "a",
        "b"
      ],
      "type": [
        "list",
        "string"
      ]
    },
    "name": {
      "value": "web",
      "type": "string"
    },
    "obj": {
      "value": {
        "n": 1,
        "s": "x"
      },
      "type": [
        "object",
        {
          "n": "number",
          "s": "string"
        }
      ]
    },
    "secret": {
      "value": "hunter2",
      "type": "string",
      "sensitive": true
    }
  },
  "resources": [
    {
      "mode": "data",
      "type": "local_file",
      "name": "cfg",
      "provider": "provider[\"registry.terraform.io/hashicorp/local\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "content": "hello",
            "filename": "cfg.txt",
            "id": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "mode": "managed",
      "type": "random_password",
      "name": "db",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        {
          "schema_version": 3,
          "attributes": {
            "id": "none",
            "keepers": {
              "token": "t"
            },
            "length": 16,
            "result": "s3cr3t"
          },
          "sensitive_attributes": [
            [
              {
                "type": "get_attr",
                "value": "result"
              }
            ],
            [
              {
                "type": "get_attr",
                "value": "keepers"
              },
              {
                "type": "index",
                "value": {
                  "value": "token",
                  "type": "string"
                }
              }
            ]
          ],
          "create_before_destroy": true
        }
      ]
    },
    {
      "module": "module.app[\"blue\"]",
      "mode": "managed",
      "type": "null_resource",
      "name": "n",
      "each": "list",
      "provider": "provider[\"registry.terraform.io/hashicorp/null\"].west",
      "instances": [
        {
          "index_key": 0,
          "schema_version": 0,
          "attributes": {
            "id": "100",
            "triggers": null
          },
          "sensitive_attributes": [],
          "private": "bnVsbA==",
          "dependencies": [
            "random_password.db"
          ]
        },
        {
          "index_key": 1,
          "status": "tainted",
          "schema_version": 0,
          "attributes": {
            "id": "101",
            "triggers": null
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "module": "module.app[\"blue\"]",
      "mode": "managed",
      "type": "random_id",
      "name": "k",
      "each": "map",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        {
          "index_key": "a",
          "schema_version": 0,
          "attributes": {
            "b64_std": "AQI=",
            "byte_length": 2,
            "list": [
              "x",
              "y"
            ]
          },
          "sensitive_attributes": [
            [
              {
                "type": "get_attr",
                "value": "list"
              },
              {
                "type": "index",
                "value": {
                  "value": 1,
                  "type": "number"
                }
              }
            ]
          ]
        },
        {
          "index_key": "b",
          "schema_version": 0,
          "attributes": {
            "b64_std": "AwQ=",
            "byte_length": 2,
            "list": []
          },
          "sensitive_attributes": []
        }
      ]
    }
  ],
  "check_results": null
}
"#;

#[test]
fn reads_terraform_state() {
    let s = State::from_json(TERRAFORM_STATE.as_bytes()).unwrap();
    assert_eq!(s.version, 4);
    assert_eq!(s.serial, 12);
    assert_eq!(s.lineage, "3f0a6b1e-5d3c-4c1a-9b7e-2f8d1c0e4a55");
    assert_eq!(s.resources.len(), 4);

    let data = &s.resources[0];
    assert_eq!((data.mode, data.type_.as_str()), (Mode::Data, "local_file"));
    assert_eq!(data.address(), "data.local_file.cfg");

    let pw: InstanceAddr = "random_password.db".parse().unwrap();
    let inst = s.instance(&pw).unwrap();
    assert_eq!(inst.schema_version, 3);
    assert!(inst.create_before_destroy);
    let v = inst.value(None).unwrap();
    assert!(v.get_attr("result").unwrap().is_sensitive());
    assert!(!v.get_attr("id").unwrap().is_sensitive());
    let keepers = v.get_attr("keepers").unwrap();
    assert!(keepers.get_attr("token").unwrap().is_sensitive());

    let n1: InstanceAddr = r#"module.app["blue"].null_resource.n[1]"#.parse().unwrap();
    let n0: InstanceAddr = r#"module.app["blue"].null_resource.n[0]"#.parse().unwrap();
    assert!(s.instance(&n1).unwrap().is_tainted());
    let i0 = s.instance(&n0).unwrap();
    assert!(!i0.is_tainted());
    assert_eq!(i0.dependencies, ["random_password.db"]);
    assert_eq!(i0.private.as_deref(), Some("bnVsbA=="));
    let n = s
        .resource(r#"module.app["blue"]"#, Mode::Managed, "null_resource", "n")
        .unwrap();
    assert_eq!(n.each, Some(EachMode::List));
    assert!(n.provider.ends_with(".west"));

    let ka: InstanceAddr = r#"module.app["blue"].random_id.k["a"]"#.parse().unwrap();
    let ty = Type::object(
        [
            ("b64_std".to_string(), Type::String),
            ("byte_length".to_string(), Type::Number),
            ("list".to_string(), Type::list(Type::String)),
        ]
        .into(),
    );
    let v = s.instance(&ka).unwrap().value(Some(&ty)).unwrap();
    let list = v.get_attr("list").unwrap();
    let items = list.as_seq().unwrap();
    assert_eq!(items.len(), 2);
    assert!(!items[0].is_sensitive());
    assert!(items[1].is_sensitive());
    assert!(matches!(list, Value::List(_)), "typed as a list: {list:?}");

    // Outputs convert to their recorded types.
    assert_eq!(
        s.outputs["ids"].to_value().unwrap(),
        Value::List(vec![Value::string("a"), Value::string("b")])
    );
    assert_eq!(s.outputs["name"].to_value().unwrap(), Value::string("web"));
    assert!(s.outputs["secret"].to_value().unwrap().is_sensitive());
    let obj = s.outputs["obj"].to_value().unwrap();
    assert_eq!(obj.get_attr("n"), Some(Value::Number(1.0)));
}

#[test]
fn writes_terraform_state_byte_for_byte() {
    let s = State::from_json(TERRAFORM_STATE.as_bytes()).unwrap();
    let out = String::from_utf8(s.to_json_pretty()).unwrap();
    assert_eq!(out, TERRAFORM_STATE);
    // Round trip: parse → write → parse gives the same state.
    assert_eq!(State::from_json(out.as_bytes()).unwrap(), s);
}

#[test]
fn writing_sorts_resources_and_instances() {
    let mut s = State::new();
    let provider = r#"provider["registry.terraform.io/hashicorp/null"]"#;
    for addr in [
        r#"null_resource.b["z"]"#,
        r#"module.m.null_resource.a"#,
        r#"null_resource.b["a"]"#,
        "null_resource.a[10]",
        "null_resource.a[2]",
        "data.null_data_source.x",
    ] {
        let a: InstanceAddr = addr.parse().unwrap();
        s.set_instance(
            &a,
            provider,
            InstanceState::new(0, serde_json::json!({"id": addr})),
        );
    }
    let order: Vec<String> = s.instances().map(|(a, _, _)| a.to_string()).collect();
    assert_eq!(
        order,
        [
            "data.null_data_source.x",
            "null_resource.a[2]",
            "null_resource.a[10]",
            r#"null_resource.b["a"]"#,
            r#"null_resource.b["z"]"#,
            "module.m.null_resource.a",
        ]
    );
    let b = s.resource("", Mode::Managed, "null_resource", "b").unwrap();
    assert_eq!(b.each, Some(EachMode::Map));
    assert_eq!(b.instances[0].index_key, Some(IndexKey::Str("a".into())));

    // Replacing keeps one object per address; removing the last instance
    // removes the resource.
    let a2: InstanceAddr = "null_resource.a[2]".parse().unwrap();
    s.set_instance(
        &a2,
        provider,
        InstanceState::new(1, serde_json::json!({"id": "new"})),
    );
    assert_eq!(s.instance(&a2).unwrap().schema_version, 1);
    assert_eq!(
        s.resource("", Mode::Managed, "null_resource", "a")
            .unwrap()
            .instances
            .len(),
        2
    );
    let m: InstanceAddr = "module.m.null_resource.a".parse().unwrap();
    assert!(s.remove_instance(&m).is_some());
    assert!(s.remove_instance(&m).is_none());
    assert!(
        s.resource("module.m", Mode::Managed, "null_resource", "a")
            .is_none()
    );

    let json = String::from_utf8(s.to_json_pretty()).unwrap();
    assert!(
        json.starts_with("{\n  \"version\": 4,\n  \"terraform_version\": "),
        "{json}"
    );
    assert!(json.contains("\"check_results\": null"));
    // No index_key for an unkeyed instance, no module for the root.
    assert!(!json.contains("\"module\""));
}

#[test]
fn new_states_have_fresh_lineages() {
    let a = State::new();
    let b = State::new();
    assert_ne!(a.lineage, b.lineage);
    assert_eq!(a.serial, 0);
    let id = uuid::Uuid::parse_str(&a.lineage).unwrap();
    assert_eq!(id.get_version_num(), 4);
}

#[test]
fn outputs_from_values_record_types_and_sensitivity() {
    let cases = [
        (
            Value::string("x"),
            false,
            r#"{"value":"x","type":"string"}"#,
        ),
        (
            Value::List(vec![Value::Number(1.0)]),
            false,
            r#"{"value":[1],"type":["list","number"]}"#,
        ),
        (
            Value::Object([("a".to_string(), Value::Bool(true).mark())].into()),
            false,
            r#"{"value":{"a":true},"type":["object",{"a":"bool"}],"sensitive":true}"#,
        ),
        (
            Value::string("s"),
            true,
            r#"{"value":"s","type":"string","sensitive":true}"#,
        ),
    ];
    for (v, sensitive, want) in cases {
        let o = OutputState::from_value(&v, sensitive);
        assert_eq!(serde_json::to_string(&o).unwrap(), want);
    }
}

#[test]
fn bad_state_json_gives_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("{", "EOF while parsing"),
        ("not json", "line 1 column 2"),
        (
            r#"{"version": 3, "serial": 1}"#,
            "unsupported state version 3",
        ),
        (r#"{"version": 5}"#, "unsupported state version 5"),
        (r#"{"serial": 1}"#, "no \"version\""),
        (
            "{\"version\": 4,\n \"terraform_version\": \"1.9.8\",\n \"serial\": \"one\",\n \"lineage\": \"x\"}",
            "line 3",
        ),
        (
            r#"{"version":4,"terraform_version":"1","serial":1,"lineage":"x","resources":[{"mode":"weird","type":"t","name":"n","provider":"p","instances":[]}]}"#,
            "resources[0]: invalid resource mode \"weird\"",
        ),
        (
            "{\"version\":4,\"terraform_version\":\"1\",\"serial\":1,\"lineage\":\"x\",\n\"resources\":[{\"mode\":\"managed\",\"type\":\"t\",\"name\":\"n\",\"provider\":\"p\",\"instances\":[\n{\"schema_version\":\"zero\"}]}]}",
            "resources[0].instances[0]: invalid type: string \"zero\", expected u64 at line 3",
        ),
        (
            r#"{"version":4,"terraform_version":"1","serial":1,"lineage":"x","outputs":{"o":{"value":1}}}"#,
            "outputs.o: missing field `type`",
        ),
        (
            r#"{"version":4,"terraform_version":"1","serial":1,"lineage":""}"#,
            "empty \"lineage\"",
        ),
        (
            r#"{"version":4,"terraform_version":"1","serial":1,"lineage":"x","resources":[{"mode":"managed","type":"t","name":"n","provider":"p","instances":[{"index_key":0,"schema_version":0,"attributes":{}}]}]}"#,
            "no \"each\" mode",
        ),
    ];
    for (input, want) in cases {
        let err = State::from_json(input.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(want), "{input}: {msg}");
        if input.contains("\"version\": 3") {
            assert!(matches!(err, StateError::UnsupportedVersion(3)));
        }
    }
}

#[test]
fn serial_bumps_only_when_content_changes() {
    let prev = State::from_json(TERRAFORM_STATE.as_bytes()).unwrap();
    type Change = Box<dyn Fn(&mut State)>;
    let cases: Vec<(&str, Change, u64)> = vec![
        ("unchanged", Box::new(|_| {}), 12),
        ("unchanged but serial reset", Box::new(|s| s.serial = 0), 12),
        (
            "output added",
            Box::new(|s| {
                s.outputs.insert(
                    "new".into(),
                    OutputState::from_value(&Value::string("x"), false),
                );
            }),
            13,
        ),
        (
            "instance removed",
            Box::new(|s| {
                let a: InstanceAddr = "random_password.db".parse().unwrap();
                s.remove_instance(&a);
            }),
            13,
        ),
        (
            "other lineage keeps its serial",
            Box::new(|s| {
                s.lineage = "other".into();
                s.serial = 3;
            }),
            3,
        ),
    ];
    for (name, change, want) in cases {
        let mut s = prev.clone();
        change(&mut s);
        s.bump_serial(Some(&prev));
        assert_eq!(s.serial, want, "{name}");
    }
    let mut fresh = State::new();
    fresh.bump_serial(None);
    assert_eq!(fresh.serial, 0);
}
