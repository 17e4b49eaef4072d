-- Roundtables: meetings across time zones, one-off or recurring, with RSVPs per occurrence.
-- Times are UTC Unix seconds. An occurrence is keyed by its ORIGINAL start (occ_s), even when moved.

CREATE TABLE roundtables (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    agenda        TEXT CHECK (agenda IS NULL OR length(agenda) <= 2000),
    host_id       INTEGER NOT NULL,
    start_s       INTEGER NOT NULL,              -- first occurrence (DTSTART), UTC
    tz            TEXT NOT NULL,                 -- IANA zone it was planned in
    duration_min  INTEGER NOT NULL CHECK (duration_min BETWEEN 5 AND 720),
    format        TEXT NOT NULL DEFAULT 'virtual' CHECK (format IN ('virtual', 'in-person', 'hybrid')),
    link          TEXT,                          -- meeting URL (shown to Going unless link_public)
    place         TEXT,                          -- physical place / free text
    link_public   INTEGER NOT NULL DEFAULT 0,
    capacity      INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    repeat        TEXT NOT NULL DEFAULT 'none'
                  CHECK (repeat IN ('none', 'weekly', 'biweekly', 'monthly', 'monthly-last', 'rrule')),
    rrule         TEXT,                          -- RFC 5545 RRULE value (no DTSTART); UNTIL in UTC
    status        TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled', 'done')),
    next_occ_s    INTEGER,                       -- key of the current/next occurrence (NULL when none)
    next_start_s  INTEGER,                       -- its effective start (after a move)
    last_start_s  INTEGER,                       -- effective start of the latest occurrence that began
    channel_id    INTEGER,                       -- announcement message
    message_id    INTEGER,
    event_id      INTEGER,                       -- Discord guild scheduled event mirroring next_occ_s
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX roundtables_upcoming ON roundtables (guild_id, status, next_start_s, id);
CREATE INDEX roundtables_past ON roundtables (guild_id, COALESCE(last_start_s, start_s) DESC, id DESC)
    WHERE last_start_s IS NOT NULL OR status != 'scheduled';
CREATE INDEX roundtables_host ON roundtables (guild_id, host_id, next_start_s);

-- One occurrence skipped or moved without touching the series.
CREATE TABLE roundtable_overrides (
    guild_id      INTEGER NOT NULL,
    roundtable_id INTEGER NOT NULL REFERENCES roundtables (id) ON DELETE CASCADE,
    occ_s         INTEGER NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('skip', 'move')),
    new_start_s   INTEGER,
    created_ms    INTEGER NOT NULL,
    PRIMARY KEY (roundtable_id, occ_s),
    CHECK (action = 'skip' OR new_start_s IS NOT NULL)
) WITHOUT ROWID;

-- RSVPs per occurrence. seq is a per-occurrence press counter: waitlist order, never a timestamp.
CREATE TABLE roundtable_rsvps (
    guild_id      INTEGER NOT NULL,
    roundtable_id INTEGER NOT NULL REFERENCES roundtables (id) ON DELETE CASCADE,
    occ_s         INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'maybe', 'declined')),
    seq           INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (roundtable_id, occ_s, user_id)
) WITHOUT ROWID;
CREATE INDEX roundtable_rsvps_status ON roundtable_rsvps (roundtable_id, occ_s, status, seq);
CREATE INDEX roundtable_rsvps_user ON roundtable_rsvps (guild_id, user_id, status, roundtable_id);

-- Meeting notes (one per occurrence).
CREATE TABLE roundtable_notes (
    guild_id      INTEGER NOT NULL,
    roundtable_id INTEGER NOT NULL REFERENCES roundtables (id) ON DELETE CASCADE,
    occ_s         INTEGER NOT NULL,
    text          TEXT NOT NULL CHECK (length(text) <= 4000),
    author_id     INTEGER NOT NULL,
    at_ms         INTEGER NOT NULL,
    PRIMARY KEY (roundtable_id, occ_s)
) WITHOUT ROWID;

-- Members who asked for reminder DMs (/roundtable reminders on|off).
CREATE TABLE roundtable_reminder_prefs (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    dm         INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- Per-guild state of the Events-tab mirror (off when Discord refused: no Manage Events).
CREATE TABLE roundtable_guild_state (
    guild_id          INTEGER PRIMARY KEY,
    mirror_off_reason TEXT,
    mirror_off_ms     INTEGER
);
