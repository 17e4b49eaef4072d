-- Issue 16 (scale): MOU planning near the floor, and combined reminder posts.

-- What each agreement's jobs were last planned from: a fingerprint of the plan inputs (the plan rules'
-- version, the server's zone, reminder hour, default offsets and channel, the agreement's dated fields
-- and its open milestones). A re-plan skips every agreement whose fingerprint is unchanged, so a start
-- with unchanged data re-plans nothing. Written in the same transaction as the jobs it describes.
CREATE TABLE mou_plan_state (
    agreement_id INTEGER PRIMARY KEY REFERENCES mou_agreements (id) ON DELETE CASCADE,
    guild_id     INTEGER NOT NULL,
    fingerprint  TEXT NOT NULL,
    planned_ms   INTEGER NOT NULL
);
CREATE INDEX mou_plan_state_guild ON mou_plan_state (guild_id);

-- Combined deliveries (bot/fanout.py): one row per item already delivered to one destination (a
-- channel post or a member's DM that carried it), keyed by that item's nonce for that destination
-- (Job.nonce_for). Written right after each send, so a combined delivery that fails part-way, or a
-- restart, never sends an item to a destination twice. Rows older than a few days are pruned.
CREATE TABLE job_sends (
    nonce    TEXT PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    sent_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX job_sends_guild_sent ON job_sends (guild_id, sent_ms);
