-- Core tables: process metadata, per-guild settings, audit log, durable job queue.

-- Global key/value metadata of this installation (command-tree hash, seed state). Not server content.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Per-guild settings as typed key/value pairs (value is JSON).
CREATE TABLE guild_settings (
    guild_id   INTEGER NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    updated_by INTEGER,
    PRIMARY KEY (guild_id, key)
) WITHOUT ROWID;

-- Every write a member or moderator makes, recorded in the same transaction as the write.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    guild_id  INTEGER NOT NULL,
    actor_id  INTEGER,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    at_ms     INTEGER NOT NULL,
    changes   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_guild_time ON audit (guild_id, id DESC);
CREATE INDEX audit_guild_actor ON audit (guild_id, actor_id, id DESC);
CREATE INDEX audit_guild_entity ON audit (guild_id, entity, id DESC);

-- Durable scheduled jobs (reminders, digests). Times are UTC milliseconds since the epoch.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    due_ms          INTEGER NOT NULL,
    original_due_ms INTEGER NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    target          TEXT,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    resumed         INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    finished_ms     INTEGER,
    UNIQUE (guild_id, dedupe_key)
);
CREATE INDEX jobs_pending_due ON jobs (due_ms) WHERE status = 'pending';
CREATE INDEX jobs_running ON jobs (id) WHERE status = 'running';
CREATE INDEX jobs_guild_status ON jobs (guild_id, status, finished_ms);
