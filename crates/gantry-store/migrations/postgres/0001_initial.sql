-- Gantry's PostgreSQL schema, shared by every server replica.

-- kind uses the "C" collation so the prefix range used for `pipeline.*`
-- filters (kind >= 'pipeline.' AND kind < 'pipeline/') compares bytes.
CREATE TABLE events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      UUID        NOT NULL UNIQUE,
    time    TIMESTAMPTZ NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    subject TEXT        NOT NULL,
    actor   TEXT        NOT NULL,
    data    JSONB       NOT NULL
);
CREATE INDEX events_kind_seq ON events (kind, seq);
CREATE INDEX events_subject_seq ON events (subject, seq);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value JSONB NOT NULL
);

CREATE TABLE users (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'operator', 'admin')),
    created_at TIMESTAMPTZ NOT NULL
);

-- ord: insertion order, for listing oldest first.
CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    ord          BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'operator', 'admin')),
    user_id      UUID REFERENCES users (id),
    hash         BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- A released lease keeps its row (expires_at set to now()) so the fencing
-- token keeps increasing across holders.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
