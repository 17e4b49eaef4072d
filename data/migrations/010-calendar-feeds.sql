-- Live calendar feeds (/calendar subscribe): one secret feed per member and server. Only the SHA-256 of
-- the feed's token is stored; the URL is shown once, to the member. `content_hash` and `modified_ms` are
-- what the feed served last (its ETag and Last-Modified): they change only when the calendar does.
CREATE TABLE calendar_feeds (
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    token_hash      TEXT NOT NULL,
    all_roundtables INTEGER NOT NULL DEFAULT 0 CHECK (all_roundtables IN (0, 1)),
    deadlines       TEXT NOT NULL DEFAULT 'mine' CHECK (deadlines IN ('mine', 'all', 'none')),
    created_ms      INTEGER NOT NULL,
    content_hash    TEXT,
    modified_ms     INTEGER,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX calendar_feeds_token ON calendar_feeds (guild_id, token_hash);
