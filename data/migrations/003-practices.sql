-- Best-practice library (issue 3): practices, their revision history, endorsements,
-- adoptions, and an FTS5 index over APPROVED practices only, kept in sync by triggers.
-- Instants are UTC milliseconds. Topics and SDGs are bit masks (topic i -> bit i of the
-- fixed list in cogs/practices/service.py TOPICS; SDG n -> bit n-1).

-- Small, filterable columns first and long text last: search reads guild/status/masks of every
-- hit without walking the text's overflow pages.
CREATE TABLE practices (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'changes_requested', 'approved', 'rejected', 'archived')),
    topics_mask      INTEGER NOT NULL CHECK (topics_mask > 0),
    sdgs_mask        INTEGER NOT NULL DEFAULT 0,
    city_id          INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    network_id       INTEGER REFERENCES networks (id) ON DELETE SET NULL,
    city_name        TEXT NOT NULL CHECK (length(city_name) BETWEEN 1 AND 100),  -- denormalised / free text
    country          TEXT,                    -- ISO 3166-1 alpha-2 when known
    network_name     TEXT,
    version          INTEGER NOT NULL DEFAULT 1,  -- bumped on every change; stale buttons/modals conflict
    submitter_id     INTEGER NOT NULL,
    contact_user_id  INTEGER,                 -- a member, or
    contact_text     TEXT CHECK (contact_text IS NULL OR length(contact_text) <= 200),  -- "name, role"
    year_started     INTEGER CHECK (year_started IS NULL OR year_started BETWEEN 1800 AND 2200),
    links            TEXT NOT NULL DEFAULT '[]',  -- JSON list of http(s) URLs (<= 5)
    language         TEXT NOT NULL DEFAULT 'en',
    decided_by       INTEGER,
    decided_ms       INTEGER,
    reason           TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    duplicate_of     INTEGER REFERENCES practices (id) ON DELETE SET NULL,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    approved_ms      INTEGER,
    review_channel_id   INTEGER,
    review_message_id   INTEGER,
    announce_channel_id INTEGER,
    announce_message_id INTEGER,
    thread_id           INTEGER,
    title            TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 150),
    summary          TEXT NOT NULL CHECK (length(summary) BETWEEN 1 AND 1000),
    approach         TEXT NOT NULL CHECK (length(approach) BETWEEN 1 AND 4000),
    results          TEXT NOT NULL DEFAULT '' CHECK (length(results) <= 1500),
    lessons          TEXT NOT NULL DEFAULT '' CHECK (length(lessons) <= 1500)
);
CREATE INDEX practices_guild_status ON practices (guild_id, status, approved_ms DESC, id);
CREATE INDEX practices_guild_queue ON practices (guild_id, status, created_ms, id)
    WHERE status IN ('pending', 'changes_requested');
CREATE INDEX practices_submitter ON practices (guild_id, submitter_id, id DESC);
CREATE INDEX practices_city ON practices (guild_id, city_id) WHERE city_id IS NOT NULL;
CREATE INDEX practices_city_name ON practices (guild_id, city_name COLLATE NOCASE);
-- Covering index for search: each FTS hit's guild and filter columns without touching the wide row.
CREATE INDEX practices_search ON practices
    (id, guild_id, status, topics_mask, sdgs_mask, city_id, network_id, city_name, network_name)
    WHERE status = 'approved';

-- Who changed what, when (one row per edit or decision; changes = JSON {field: [old, new]}).
CREATE TABLE practice_revisions (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    practice_id INTEGER NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX practice_revisions_practice ON practice_revisions (practice_id, id);

-- "Useful": once per member.
CREATE TABLE practice_endorsements (
    guild_id    INTEGER NOT NULL,
    practice_id INTEGER NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (practice_id, user_id)
) WITHOUT ROWID;

-- "My city adopted this": once per member, with the adopting city.
CREATE TABLE practice_adoptions (
    guild_id    INTEGER NOT NULL,
    practice_id INTEGER NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    city_id     INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    city_name   TEXT NOT NULL,
    country     TEXT,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (practice_id, user_id)
) WITHOUT ROWID;
CREATE INDEX practice_adoptions_city ON practice_adoptions (guild_id, city_id);

-- Full-text indexes of approved practices (external content: the text lives once, in practices).
-- Search runs in tiers so that bm25 never has to rank the whole library for a common word:
--   1. practices_title  (title)            — a title match ranks first;
--   2. practices_head   (title, summary)   — then a summary match;
--   3. practices_fts    (all five columns) — then the rest,
-- each tier only when the earlier ones found fewer results than the search shows, and each
-- ranking at most a capped number of the newest matches (see cogs/practices/service.py).
-- Column order matters for bm25 weights: title, summary, approach, results, lessons.
CREATE VIRTUAL TABLE practices_fts USING fts5 (
    title, summary, approach, results, lessons,
    content = 'practices', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE practices_head USING fts5 (
    title, summary,
    content = 'practices', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE practices_title USING fts5 (
    title,
    content = 'practices', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- The title and summary vocabulary (one row per term), for "did you mean" suggestions: small
-- enough that listing the terms near a misspelt word stays cheap at 100,000 practices.
CREATE VIRTUAL TABLE practices_vocab USING fts5vocab (practices_head, 'row');

CREATE TRIGGER practices_fts_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons)
    VALUES (NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons);
    INSERT INTO practices_head (rowid, title, summary) VALUES (NEW.id, NEW.title, NEW.summary);
    INSERT INTO practices_title (rowid, title) VALUES (NEW.id, NEW.title); END;
-- (Each trigger's END sits at the end of a line: the migration runner refuses lines starting with END.)
-- One trigger for updates, so the old entries are always removed before the new ones are added.
CREATE TRIGGER practices_fts_update AFTER UPDATE OF title, summary, approach, results, lessons, status
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons
    WHERE OLD.status = 'approved';
    INSERT INTO practices_head (practices_head, rowid, title, summary)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary WHERE OLD.status = 'approved';
    INSERT INTO practices_title (practices_title, rowid, title)
    SELECT 'delete', OLD.id, OLD.title WHERE OLD.status = 'approved';
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons)
    SELECT NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons
    WHERE NEW.status = 'approved';
    INSERT INTO practices_head (rowid, title, summary)
    SELECT NEW.id, NEW.title, NEW.summary WHERE NEW.status = 'approved';
    INSERT INTO practices_title (rowid, title)
    SELECT NEW.id, NEW.title WHERE NEW.status = 'approved'; END;
CREATE TRIGGER practices_fts_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons);
    INSERT INTO practices_head (practices_head, rowid, title, summary)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary);
    INSERT INTO practices_title (practices_title, rowid, title) VALUES ('delete', OLD.id, OLD.title); END;

-- Search filters as tokens, for filtered searches: one contentless row per approved practice,
-- 't<i>g<guild id>' per topic bit i (TOPICS order) and 's<n>g<guild id>' per SDG, so a filtered search
-- finds its practices by intersecting two or three doclists instead of reading each match's row.
-- The tokens are computed by the triggers (the same expression on insert and on delete).
CREATE VIRTUAL TABLE practices_fts_tags USING fts5 (tags, content = '', detail = none, columnsize = 0);

CREATE TRIGGER practices_fts_tags_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts_tags (rowid, tags) VALUES (NEW.id,
    CASE WHEN NEW.topics_mask & 1 THEN ' t0g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 2 THEN ' t1g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 4 THEN ' t2g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 8 THEN ' t3g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 16 THEN ' t4g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 32 THEN ' t5g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 64 THEN ' t6g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 128 THEN ' t7g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 256 THEN ' t8g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 512 THEN ' t9g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 1024 THEN ' t10g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 2048 THEN ' t11g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 4096 THEN ' t12g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 8192 THEN ' t13g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 16384 THEN ' t14g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 32768 THEN ' t15g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 1 THEN ' s1g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 2 THEN ' s2g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 4 THEN ' s3g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 8 THEN ' s4g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 16 THEN ' s5g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 32 THEN ' s6g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 64 THEN ' s7g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 128 THEN ' s8g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 256 THEN ' s9g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 512 THEN ' s10g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 1024 THEN ' s11g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 2048 THEN ' s12g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 4096 THEN ' s13g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 8192 THEN ' s14g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 16384 THEN ' s15g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 32768 THEN ' s16g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 65536 THEN ' s17g' || NEW.guild_id ELSE '' END); END;
CREATE TRIGGER practices_fts_tags_update AFTER UPDATE OF guild_id, status, topics_mask, sdgs_mask
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts_tags (practices_fts_tags, rowid, tags) SELECT 'delete', OLD.id,
    CASE WHEN OLD.topics_mask & 1 THEN ' t0g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 2 THEN ' t1g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 4 THEN ' t2g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 8 THEN ' t3g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 16 THEN ' t4g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 32 THEN ' t5g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 64 THEN ' t6g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 128 THEN ' t7g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 256 THEN ' t8g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 512 THEN ' t9g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 1024 THEN ' t10g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 2048 THEN ' t11g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 4096 THEN ' t12g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 8192 THEN ' t13g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 16384 THEN ' t14g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 32768 THEN ' t15g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 1 THEN ' s1g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 2 THEN ' s2g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 4 THEN ' s3g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 8 THEN ' s4g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 16 THEN ' s5g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 32 THEN ' s6g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 64 THEN ' s7g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 128 THEN ' s8g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 256 THEN ' s9g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 512 THEN ' s10g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 1024 THEN ' s11g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 2048 THEN ' s12g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 4096 THEN ' s13g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 8192 THEN ' s14g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 16384 THEN ' s15g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 32768 THEN ' s16g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 65536 THEN ' s17g' || OLD.guild_id ELSE '' END
    WHERE OLD.status = 'approved';
    INSERT INTO practices_fts_tags (rowid, tags) SELECT NEW.id,
    CASE WHEN NEW.topics_mask & 1 THEN ' t0g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 2 THEN ' t1g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 4 THEN ' t2g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 8 THEN ' t3g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 16 THEN ' t4g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 32 THEN ' t5g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 64 THEN ' t6g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 128 THEN ' t7g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 256 THEN ' t8g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 512 THEN ' t9g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 1024 THEN ' t10g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 2048 THEN ' t11g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 4096 THEN ' t12g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 8192 THEN ' t13g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 16384 THEN ' t14g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.topics_mask & 32768 THEN ' t15g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 1 THEN ' s1g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 2 THEN ' s2g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 4 THEN ' s3g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 8 THEN ' s4g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 16 THEN ' s5g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 32 THEN ' s6g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 64 THEN ' s7g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 128 THEN ' s8g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 256 THEN ' s9g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 512 THEN ' s10g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 1024 THEN ' s11g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 2048 THEN ' s12g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 4096 THEN ' s13g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 8192 THEN ' s14g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 16384 THEN ' s15g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 32768 THEN ' s16g' || NEW.guild_id ELSE '' END ||
        CASE WHEN NEW.sdgs_mask & 65536 THEN ' s17g' || NEW.guild_id ELSE '' END
    WHERE NEW.status = 'approved'; END;
CREATE TRIGGER practices_fts_tags_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_fts_tags (practices_fts_tags, rowid, tags) VALUES ('delete', OLD.id,
    CASE WHEN OLD.topics_mask & 1 THEN ' t0g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 2 THEN ' t1g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 4 THEN ' t2g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 8 THEN ' t3g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 16 THEN ' t4g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 32 THEN ' t5g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 64 THEN ' t6g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 128 THEN ' t7g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 256 THEN ' t8g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 512 THEN ' t9g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 1024 THEN ' t10g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 2048 THEN ' t11g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 4096 THEN ' t12g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 8192 THEN ' t13g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 16384 THEN ' t14g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.topics_mask & 32768 THEN ' t15g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 1 THEN ' s1g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 2 THEN ' s2g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 4 THEN ' s3g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 8 THEN ' s4g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 16 THEN ' s5g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 32 THEN ' s6g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 64 THEN ' s7g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 128 THEN ' s8g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 256 THEN ' s9g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 512 THEN ' s10g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 1024 THEN ' s11g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 2048 THEN ' s12g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 4096 THEN ' s13g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 8192 THEN ' s14g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 16384 THEN ' s15g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 32768 THEN ' s16g' || OLD.guild_id ELSE '' END ||
        CASE WHEN OLD.sdgs_mask & 65536 THEN ' s17g' || OLD.guild_id ELSE '' END); END;
