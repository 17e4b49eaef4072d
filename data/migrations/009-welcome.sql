-- The welcome message the bot posts when it joins a server (cogs/onboarding): claimed once per server,
-- in the same transaction as the job that posts it, so neither a restart nor a quick re-join posts it
-- twice. The row goes with the server's other rows when they are purged after the bot left it.
CREATE TABLE guild_welcomes (
    guild_id   INTEGER PRIMARY KEY,
    claimed_ms INTEGER NOT NULL,
    channel_id INTEGER,
    message_id INTEGER
);
