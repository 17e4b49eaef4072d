-- MOU tracker (issue 6): agreements between cities, their terms, parties, owners,
-- milestones and activity log. Dates are calendar dates as ISO 'YYYY-MM-DD' text;
-- instants are UTC milliseconds. History of changes lives in the core `audit` table
-- (entity = 'agreement', entity_id = agreement id).

CREATE TABLE mou_agreements (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    kind             TEXT NOT NULL
                     CHECK (kind IN ('mou', 'sister-city', 'friendship-city', 'cooperation-agreement', 'other')),
    title            TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 150),
    summary          TEXT NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
    focus_areas      TEXT NOT NULL DEFAULT '',
    links            TEXT NOT NULL DEFAULT '[]',          -- JSON list of URLs
    signed_on        TEXT,
    effective_on     TEXT,
    expires_on       TEXT,                                -- NULL: open-ended
    notice_on        TEXT,                                -- expires_on - notice_days (denormalised for indexing)
    auto_renew       INTEGER NOT NULL DEFAULT 0,
    notice_days      INTEGER NOT NULL DEFAULT 90 CHECK (notice_days BETWEEN 0 AND 3650),
    status           TEXT NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'negotiating', 'signed', 'active', 'expiring', 'expired',
                                       'renewed', 'terminated')),
    signature_mode   TEXT NOT NULL DEFAULT 'wet-ink' CHECK (signature_mode IN ('wet-ink', 'e-signature', 'both')),
    remind_offsets   TEXT,                                -- JSON list of days before expiry; NULL = server default
    term             INTEGER NOT NULL DEFAULT 1,
    last_activity_on TEXT,
    terminated_reason TEXT,
    created_ms       INTEGER NOT NULL,
    created_by       INTEGER,
    updated_ms       INTEGER NOT NULL
);
CREATE INDEX mou_agreements_guild_expiry ON mou_agreements (guild_id, expires_on);
CREATE INDEX mou_agreements_guild_notice ON mou_agreements (guild_id, notice_on);
CREATE INDEX mou_agreements_guild_status ON mou_agreements (guild_id, status);

-- One row per term; a renewal closes the current term and opens the next, linked to it.
CREATE TABLE mou_terms (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    agreement_id     INTEGER NOT NULL REFERENCES mou_agreements (id) ON DELETE CASCADE,
    term             INTEGER NOT NULL,
    previous_term_id INTEGER REFERENCES mou_terms (id) ON DELETE SET NULL,
    starts_on        TEXT,
    expires_on       TEXT,
    outcome          TEXT CHECK (outcome IS NULL OR outcome IN ('renewed', 'expired', 'terminated')),
    created_ms       INTEGER NOT NULL,
    created_by       INTEGER,
    UNIQUE (agreement_id, term)
);

CREATE TABLE mou_parties (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    agreement_id INTEGER NOT NULL REFERENCES mou_agreements (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    city_id      INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    city_name    TEXT NOT NULL,
    country      TEXT,
    is_ours      INTEGER NOT NULL DEFAULT 0,
    esign_status TEXT NOT NULL DEFAULT 'n/a'
                 CHECK (esign_status IN ('n/a', 'pending', 'sent', 'signed', 'declined')),
    UNIQUE (agreement_id, position)
);
CREATE INDEX mou_parties_agreement ON mou_parties (agreement_id);
CREATE INDEX mou_parties_city ON mou_parties (guild_id, city_id);
CREATE INDEX mou_parties_name ON mou_parties (guild_id, city_name COLLATE NOCASE);

CREATE TABLE mou_owners (
    guild_id     INTEGER NOT NULL,
    agreement_id INTEGER NOT NULL REFERENCES mou_agreements (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    added_ms     INTEGER NOT NULL,
    added_by     INTEGER,
    PRIMARY KEY (agreement_id, user_id)
) WITHOUT ROWID;
CREATE INDEX mou_owners_user ON mou_owners (guild_id, user_id);

CREATE TABLE mou_milestones (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    agreement_id INTEGER NOT NULL REFERENCES mou_agreements (id) ON DELETE CASCADE,
    due_on       TEXT NOT NULL,
    description  TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 300),
    done_ms      INTEGER,
    done_by      INTEGER,
    created_ms   INTEGER NOT NULL,
    created_by   INTEGER
);
CREATE INDEX mou_milestones_agreement ON mou_milestones (agreement_id, due_on);
CREATE INDEX mou_milestones_open_due ON mou_milestones (guild_id, due_on) WHERE done_ms IS NULL;

CREATE TABLE mou_activity (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    agreement_id INTEGER NOT NULL REFERENCES mou_agreements (id) ON DELETE CASCADE,
    happened_on  TEXT NOT NULL,
    text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
    author_id    INTEGER,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX mou_activity_agreement ON mou_activity (agreement_id, happened_on DESC, id DESC);
