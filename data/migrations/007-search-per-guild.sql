-- Search, per server (issue 11: servers don't see each other).
--
-- The title+summary and all-columns tiers ranked a capped number of the newest matches of the
-- whole index, and counted matches of every server against that cap: another server's thousands
-- of newer practices could push this server's matches out of its results. And "did you mean" drew
-- on the vocabulary of every server.
--
-- practices_head and practices_fts get a `tags` column holding one token, g<guild id>, so a search
-- ANDs the guild into the FTS query itself: counts, caps and floors see only this server's
-- matches, with no read of the practice rows. (The members' words are matched against the text
-- columns only, never `tags`; bm25 gives `tags` weight 0.) Their external content is the view
-- practices_fts_content, which adds the tag to the practice row.
--
-- practice_terms is the suggestion vocabulary per guild: (guild, term, number of approved practices
-- whose title or summary holds it), kept by the same triggers. A trigger tokenizes a practice's
-- title and summary with the index's own tokenizer by writing them to practices_fts_stage (an
-- empty contentless table), reading the terms back through practices_fts_stage_vocab, and emptying
-- the stage again ('delete-all'), so the vocabulary's terms are exactly the index's.

DROP TRIGGER practices_fts_insert;
DROP TRIGGER practices_fts_update;
DROP TRIGGER practices_fts_delete;
DROP TABLE practices_vocab;
DROP TABLE practices_fts;
DROP TABLE practices_head;

CREATE VIEW practices_fts_content AS
    SELECT id, title, summary, approach, results, lessons, 'g' || guild_id AS tags FROM practices;

CREATE VIRTUAL TABLE practices_fts USING fts5 (
    title, summary, approach, results, lessons, tags,
    content = 'practices_fts_content', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE practices_head USING fts5 (
    title, summary, tags,
    content = 'practices_fts_content', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE practices_fts_stage USING fts5 (
    title, summary, content = '', detail = none, columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE practices_fts_stage_vocab USING fts5vocab (practices_fts_stage, 'row');

CREATE TABLE practice_terms (
    guild_id INTEGER NOT NULL,
    term     TEXT NOT NULL,
    docs     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, term)
) WITHOUT ROWID;

CREATE TRIGGER practices_fts_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
    VALUES (NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons, 'g' || NEW.guild_id);
    INSERT INTO practices_head (rowid, title, summary, tags) VALUES (NEW.id, NEW.title, NEW.summary, 'g' || NEW.guild_id);
    INSERT INTO practices_fts_stage (rowid, title, summary) VALUES (NEW.id, NEW.title, NEW.summary);
    INSERT INTO practice_terms (guild_id, term, docs) SELECT NEW.guild_id, term, 1 FROM practices_fts_stage_vocab
        WHERE true ON CONFLICT (guild_id, term) DO UPDATE SET docs = docs + 1;
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;
-- One trigger for updates, so the old entries are always removed before the new ones are added.
CREATE TRIGGER practices_fts_update AFTER UPDATE OF guild_id, title, summary, approach, results, lessons, status
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons, tags)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons, 'g' || OLD.guild_id
    WHERE OLD.status = 'approved';
    INSERT INTO practices_head (practices_head, rowid, title, summary, tags)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary, 'g' || OLD.guild_id WHERE OLD.status = 'approved';
    INSERT INTO practices_fts_stage (rowid, title, summary)
    SELECT OLD.id, OLD.title, OLD.summary WHERE OLD.status = 'approved';
    UPDATE practice_terms SET docs = docs - 1
    WHERE guild_id = OLD.guild_id AND term IN (SELECT term FROM practices_fts_stage_vocab);
    DELETE FROM practice_terms
    WHERE guild_id = OLD.guild_id AND docs <= 0 AND term IN (SELECT term FROM practices_fts_stage_vocab);
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all');
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
    SELECT NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons, 'g' || NEW.guild_id
    WHERE NEW.status = 'approved';
    INSERT INTO practices_head (rowid, title, summary, tags)
    SELECT NEW.id, NEW.title, NEW.summary, 'g' || NEW.guild_id WHERE NEW.status = 'approved';
    INSERT INTO practices_fts_stage (rowid, title, summary)
    SELECT NEW.id, NEW.title, NEW.summary WHERE NEW.status = 'approved';
    INSERT INTO practice_terms (guild_id, term, docs) SELECT NEW.guild_id, term, 1 FROM practices_fts_stage_vocab
        WHERE true ON CONFLICT (guild_id, term) DO UPDATE SET docs = docs + 1;
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;
CREATE TRIGGER practices_fts_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons, tags)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons, 'g' || OLD.guild_id);
    INSERT INTO practices_head (practices_head, rowid, title, summary, tags)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary, 'g' || OLD.guild_id);
    INSERT INTO practices_fts_stage (rowid, title, summary) VALUES (OLD.id, OLD.title, OLD.summary);
    UPDATE practice_terms SET docs = docs - 1
    WHERE guild_id = OLD.guild_id AND term IN (SELECT term FROM practices_fts_stage_vocab);
    DELETE FROM practice_terms
    WHERE guild_id = OLD.guild_id AND docs <= 0 AND term IN (SELECT term FROM practices_fts_stage_vocab);
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;

-- The practices approved before this migration.
INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
SELECT id, title, summary, approach, results, lessons, 'g' || guild_id FROM practices WHERE status = 'approved';
INSERT INTO practices_head (rowid, title, summary, tags)
SELECT id, title, summary, 'g' || guild_id FROM practices WHERE status = 'approved';
CREATE VIRTUAL TABLE temp.practices_head_instances USING fts5vocab (main, practices_head, 'instance');
INSERT INTO practice_terms (guild_id, term, docs)
SELECT p.guild_id, v.term, count(DISTINCT v.doc) FROM temp.practices_head_instances AS v
    CROSS JOIN practices AS p ON p.id = v.doc
    WHERE v.col IN ('title', 'summary') GROUP BY p.guild_id, v.term;
DROP TABLE temp.practices_head_instances;
