-- The language of each member's last interaction in a server (bot/i18n.py `Languages`): DMs to them
-- follow it; a member never seen falls back to the server's language. A member's own row: deleted by
-- /privacy forget-me, purged with the server.
CREATE TABLE member_languages (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    language   TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
