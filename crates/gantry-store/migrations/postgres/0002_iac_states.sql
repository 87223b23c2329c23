-- Terraform-language state kept in the store (the `gantry` backend): the
-- current state of each stack's workspace, every version written, and the
-- workspace locks (a row each, so they hold across replicas).

CREATE TABLE iac_states (
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    serial     BIGINT NOT NULL,
    lineage    TEXT NOT NULL,
    body       BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stack, workspace)
);

CREATE TABLE iac_state_history (
    id         BIGSERIAL PRIMARY KEY,
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    serial     BIGINT NOT NULL,
    lineage    TEXT NOT NULL,
    body       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX iac_state_history_ws ON iac_state_history (stack, workspace, id);

CREATE TABLE iac_state_locks (
    stack      TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    lock_id    TEXT NOT NULL,
    info       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stack, workspace)
);
