-- The library across languages (issue 13): each practice indexed in its own language.
--
-- practices.ix_title … ix_lessons hold the text as the index receives it: one token per word, folded
-- (lower case, no accents) and stemmed with the Snowball stemmer of the practice's language
-- (cogs/practices/stemming.py; written by the service with the text, and by the step below for the
-- practices already there). NULL means "not stemmed": the text itself is indexed, as before.
-- practices_fts, practices_head and practices_rank index those columns: the external-content view
-- returns them, so FTS5's own checks ('integrity-check', 'rebuild') agree with the index; the
-- highlights are computed from the original text by the search code, not by snippet().
-- The suggestion vocabulary (practice_terms, migration 007) stays the original words, folded: what
-- "did you mean" proposes is a word, and the search stems it like a typed one.
--
-- practices_rank's tags gain l<language>g<guild> for the catalog languages (en, fr, es): the
-- language filter of a search is one more doclist. practices_search (the covering index of a
-- search's hits) gains the language, which each hit shows.
--
-- language itself is normalised by the step ("Français", "French", "fr-CA" → fr; see
-- stemming.language_code); other languages stay as typed and are indexed unstemmed.

ALTER TABLE practices ADD COLUMN ix_title TEXT;
ALTER TABLE practices ADD COLUMN ix_summary TEXT;
ALTER TABLE practices ADD COLUMN ix_approach TEXT;
ALTER TABLE practices ADD COLUMN ix_results TEXT;
ALTER TABLE practices ADD COLUMN ix_lessons TEXT;

DROP TRIGGER practices_fts_insert;
DROP TRIGGER practices_fts_update;
DROP TRIGGER practices_fts_delete;
DROP TRIGGER practices_rank_insert;
DROP TRIGGER practices_rank_update;
DROP TRIGGER practices_rank_delete;

-- Emptied while the old view still describes what they hold; filled again below from the new columns.
INSERT INTO practices_fts (practices_fts) VALUES ('delete-all');
INSERT INTO practices_head (practices_head) VALUES ('delete-all');
INSERT INTO practices_rank (practices_rank) VALUES ('delete-all');

DROP VIEW practices_fts_content;
CREATE VIEW practices_fts_content AS
    SELECT id, coalesce(ix_title, title) AS title, coalesce(ix_summary, summary) AS summary,
        coalesce(ix_approach, approach) AS approach, coalesce(ix_results, results) AS results,
        coalesce(ix_lessons, lessons) AS lessons, 'g' || guild_id AS tags
    FROM practices;

-- Every practice's language normalised and its text stemmed, in batches, with progress logged.
-- python: cogs.practices.reindex:reindex

CREATE TRIGGER practices_fts_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
    VALUES (NEW.id, coalesce(NEW.ix_title, NEW.title), coalesce(NEW.ix_summary, NEW.summary), coalesce(NEW.ix_approach, NEW.approach), coalesce(NEW.ix_results, NEW.results), coalesce(NEW.ix_lessons, NEW.lessons), 'g' || NEW.guild_id);
    INSERT INTO practices_head (rowid, title, summary, tags) VALUES (NEW.id, coalesce(NEW.ix_title, NEW.title), coalesce(NEW.ix_summary, NEW.summary), 'g' || NEW.guild_id);
    INSERT INTO practices_fts_stage (rowid, title, summary) VALUES (NEW.id, NEW.title, NEW.summary);
    INSERT INTO practice_terms (guild_id, term, docs) SELECT NEW.guild_id, term, 1 FROM practices_fts_stage_vocab
        WHERE true ON CONFLICT (guild_id, term) DO UPDATE SET docs = docs + 1;
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;
-- One trigger for updates, so the old entries are always removed before the new ones are added.
CREATE TRIGGER practices_fts_update AFTER UPDATE OF guild_id, title, summary, approach, results, lessons, status,
    ix_title, ix_summary, ix_approach, ix_results, ix_lessons
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons, tags)
    SELECT 'delete', OLD.id, coalesce(OLD.ix_title, OLD.title), coalesce(OLD.ix_summary, OLD.summary), coalesce(OLD.ix_approach, OLD.approach), coalesce(OLD.ix_results, OLD.results), coalesce(OLD.ix_lessons, OLD.lessons), 'g' || OLD.guild_id
    WHERE OLD.status = 'approved';
    INSERT INTO practices_head (practices_head, rowid, title, summary, tags)
    SELECT 'delete', OLD.id, coalesce(OLD.ix_title, OLD.title), coalesce(OLD.ix_summary, OLD.summary), 'g' || OLD.guild_id WHERE OLD.status = 'approved';
    INSERT INTO practices_fts_stage (rowid, title, summary)
    SELECT OLD.id, OLD.title, OLD.summary WHERE OLD.status = 'approved';
    UPDATE practice_terms SET docs = docs - 1
    WHERE guild_id = OLD.guild_id AND term IN (SELECT term FROM practices_fts_stage_vocab);
    DELETE FROM practice_terms
    WHERE guild_id = OLD.guild_id AND docs <= 0 AND term IN (SELECT term FROM practices_fts_stage_vocab);
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all');
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
    SELECT NEW.id, coalesce(NEW.ix_title, NEW.title), coalesce(NEW.ix_summary, NEW.summary), coalesce(NEW.ix_approach, NEW.approach), coalesce(NEW.ix_results, NEW.results), coalesce(NEW.ix_lessons, NEW.lessons), 'g' || NEW.guild_id
    WHERE NEW.status = 'approved';
    INSERT INTO practices_head (rowid, title, summary, tags)
    SELECT NEW.id, coalesce(NEW.ix_title, NEW.title), coalesce(NEW.ix_summary, NEW.summary), 'g' || NEW.guild_id WHERE NEW.status = 'approved';
    INSERT INTO practices_fts_stage (rowid, title, summary)
    SELECT NEW.id, NEW.title, NEW.summary WHERE NEW.status = 'approved';
    INSERT INTO practice_terms (guild_id, term, docs) SELECT NEW.guild_id, term, 1 FROM practices_fts_stage_vocab
        WHERE true ON CONFLICT (guild_id, term) DO UPDATE SET docs = docs + 1;
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;
CREATE TRIGGER practices_fts_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons, tags)
    VALUES ('delete', OLD.id, coalesce(OLD.ix_title, OLD.title), coalesce(OLD.ix_summary, OLD.summary), coalesce(OLD.ix_approach, OLD.approach), coalesce(OLD.ix_results, OLD.results), coalesce(OLD.ix_lessons, OLD.lessons), 'g' || OLD.guild_id);
    INSERT INTO practices_head (practices_head, rowid, title, summary, tags)
    VALUES ('delete', OLD.id, coalesce(OLD.ix_title, OLD.title), coalesce(OLD.ix_summary, OLD.summary), 'g' || OLD.guild_id);
    INSERT INTO practices_fts_stage (rowid, title, summary) VALUES (OLD.id, OLD.title, OLD.summary);
    UPDATE practice_terms SET docs = docs - 1
    WHERE guild_id = OLD.guild_id AND term IN (SELECT term FROM practices_fts_stage_vocab);
    DELETE FROM practice_terms
    WHERE guild_id = OLD.guild_id AND docs <= 0 AND term IN (SELECT term FROM practices_fts_stage_vocab);
    INSERT INTO practices_fts_stage (practices_fts_stage) VALUES ('delete-all'); END;

CREATE TRIGGER practices_rank_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_rank (rowid, title, tags) VALUES ((min(255, length(NEW.title) - length(replace(NEW.title, ' ', '')) + 1) << 40) | (1099511627775 - NEW.id), coalesce(NEW.ix_title, NEW.title),
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || NEW.guild_id AS tok
            UNION ALL SELECT 'l' || NEW.language || 'g' || NEW.guild_id WHERE NEW.language IN ('en', 'fr', 'es')
            UNION ALL SELECT 't' || t.key || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE NEW.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || NEW.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.topics_mask & t.value AND NEW.sdgs_mask & s.value))); END;
CREATE TRIGGER practices_rank_update AFTER UPDATE OF guild_id, status, title, topics_mask, sdgs_mask, language,
    ix_title ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_rank (practices_rank, rowid, title, tags) SELECT 'delete', (min(255, length(OLD.title) - length(replace(OLD.title, ' ', '')) + 1) << 40) | (1099511627775 - OLD.id), coalesce(OLD.ix_title, OLD.title),
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || OLD.guild_id AS tok
            UNION ALL SELECT 'l' || OLD.language || 'g' || OLD.guild_id WHERE OLD.language IN ('en', 'fr', 'es')
            UNION ALL SELECT 't' || t.key || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE OLD.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || OLD.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.topics_mask & t.value AND OLD.sdgs_mask & s.value))
    WHERE OLD.status = 'approved';
    INSERT INTO practices_rank (rowid, title, tags) SELECT (min(255, length(NEW.title) - length(replace(NEW.title, ' ', '')) + 1) << 40) | (1099511627775 - NEW.id), coalesce(NEW.ix_title, NEW.title),
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || NEW.guild_id AS tok
            UNION ALL SELECT 'l' || NEW.language || 'g' || NEW.guild_id WHERE NEW.language IN ('en', 'fr', 'es')
            UNION ALL SELECT 't' || t.key || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE NEW.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || NEW.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.topics_mask & t.value AND NEW.sdgs_mask & s.value))
    WHERE NEW.status = 'approved'; END;
CREATE TRIGGER practices_rank_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_rank (practices_rank, rowid, title, tags) VALUES ('delete', (min(255, length(OLD.title) - length(replace(OLD.title, ' ', '')) + 1) << 40) | (1099511627775 - OLD.id), coalesce(OLD.ix_title, OLD.title),
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || OLD.guild_id AS tok
            UNION ALL SELECT 'l' || OLD.language || 'g' || OLD.guild_id WHERE OLD.language IN ('en', 'fr', 'es')
            UNION ALL SELECT 't' || t.key || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE OLD.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || OLD.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.topics_mask & t.value AND OLD.sdgs_mask & s.value))); END;

-- The approved practices, indexed again from the new columns.
INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons, tags)
SELECT p.id, coalesce(p.ix_title, p.title), coalesce(p.ix_summary, p.summary), coalesce(p.ix_approach, p.approach), coalesce(p.ix_results, p.results), coalesce(p.ix_lessons, p.lessons), 'g' || p.guild_id FROM practices AS p WHERE p.status = 'approved';
INSERT INTO practices_head (rowid, title, summary, tags)
SELECT p.id, coalesce(p.ix_title, p.title), coalesce(p.ix_summary, p.summary), 'g' || p.guild_id FROM practices AS p WHERE p.status = 'approved';
INSERT INTO practices_rank (rowid, title, tags)
SELECT (min(255, length(p.title) - length(replace(p.title, ' ', '')) + 1) << 40) | (1099511627775 - p.id), coalesce(p.ix_title, p.title),
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || p.guild_id AS tok
            UNION ALL SELECT 'l' || p.language || 'g' || p.guild_id WHERE p.language IN ('en', 'fr', 'es')
            UNION ALL SELECT 't' || t.key || 'g' || p.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE p.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || p.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE p.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || p.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE p.topics_mask & t.value AND p.sdgs_mask & s.value))
FROM practices AS p WHERE p.status = 'approved';

DROP INDEX practices_search;
CREATE INDEX practices_search ON practices
    (id, guild_id, status, topics_mask, sdgs_mask, city_id, network_id, city_name, network_name, country, title,
     language)
    WHERE status = 'approved';
