-- Terraform-language state kept in the store (the `gantry` backend): the
-- current state of each stack's workspace, every version written, and the
-- workspace locks. Times are microseconds since the Unix epoch.

CREATE TABLE iac_states (
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    serial     INTEGER NOT NULL,
    lineage    TEXT NOT NULL,
    body       BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (stack, workspace)
) WITHOUT ROWID;

CREATE TABLE iac_state_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    serial     INTEGER NOT NULL,
    lineage    TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX iac_state_history_ws ON iac_state_history (stack, workspace, id);

-- One row per held lock: the primary key makes a second holder fail.
CREATE TABLE iac_state_locks (
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    lock_id    TEXT NOT NULL,
    info       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stack, workspace)
) WITHOUT ROWID;
