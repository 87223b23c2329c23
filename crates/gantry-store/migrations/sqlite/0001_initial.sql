-- Gantry's SQLite schema. Times are integer unix microseconds (UTC); ids are
-- hyphenated UUID text; roles are their lowercase names.

-- AUTOINCREMENT: a seq is never reused, even after the newest rows are gone.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT    NOT NULL UNIQUE,
    time    INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    data    TEXT    NOT NULL
);
CREATE INDEX events_kind_seq ON events (kind, seq);
CREATE INDEX events_subject_seq ON events (subject, seq);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'operator', 'admin')),
    created_at INTEGER NOT NULL
);

-- ord: insertion order, for listing oldest first.
CREATE TABLE api_tokens (
    ord          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'operator', 'admin')),
    user_id      TEXT REFERENCES users (id),
    hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- A released lease keeps its row (expires_at in the past) so the fencing
-- token keeps increasing across holders.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
