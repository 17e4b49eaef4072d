-- Servers the bot was removed from (GUILD_DELETE without `unavailable`; an outage is not a departure).
-- While a row exists nothing more is posted for that server, DMs included; the scheduler refuses its
-- jobs. After the grace period (`[retention] departed_guild_days`) a daily job deletes every row of
-- the server; `attache db purge-guild ID` does it at once. Re-adding the bot deletes the row.
CREATE TABLE guild_departures (
    guild_id INTEGER PRIMARY KEY,
    left_ms  INTEGER NOT NULL
);
