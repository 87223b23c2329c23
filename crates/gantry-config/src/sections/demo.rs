//! `demo:` — the name and description of the demo workspace.

use crate::check::Field;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoConfig {
    pub name: Option<String>,
    pub description: Option<String>,
}

pub(crate) const FIELDS: &[Field<DemoConfig>] = &[
    ("name", |ck, node, path, out| {
        out.name = ck.string(node, path)
    }),
    ("description", |ck, node, path, out| {
        out.description = ck.string(node, path);
    }),
];
