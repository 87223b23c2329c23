//! One module per top-level section of gantry.yml: its typed model and the
//! schema (`FIELDS`) that reads it. A new section adds a module here and a
//! line in `config::FIELDS`.

pub(crate) mod demo;
pub(crate) mod events;
pub(crate) mod monitoring;
pub(crate) mod monitors;
pub(crate) mod server;
pub(crate) mod stacks;
