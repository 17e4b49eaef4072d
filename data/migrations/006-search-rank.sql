-- Search, second version (issue 3: whole-path latency at 100,000 practices).
--
-- practices_rank replaces practices_title and practices_fts_tags. One contentless row per approved
-- practice: the title's words, and the practice's search tags. Its rowid is not the practice id but a
-- ranking key,
--     (words in the title << 40) | (2^40 - 1 - practice id),
-- so reading a title match in rowid order lists the shortest titles first and, among titles of the
-- same length, the newest practice first. For a title that contains each query word once (bm25's term
-- frequency 1) that is exactly bm25's order: the words' idf is the same for every match and the score
-- only falls as the title gets longer. So the title tier of a search is a doclist walk that stops
-- after the rows it shows: no ranking function, no candidate cap, however common the word. (Ascending,
-- because FTS5 reads doclists forwards several times faster than backwards.)
-- The practice id is 2^40 - 1 - (rowid & (2^40 - 1)) (ids stay far below 2^40).
--
-- Tags (one token each, in the `tags` column, never matched against member text):
--   g<guild>                  every approved practice of the guild
--   t<i>g<guild>              topic bit i (TOPICS order in cogs/practices/service.py)
--   s<n>g<guild>              SDG n
--   t<i>s<n>g<guild>          topic i and SDG n together, so a topic+SDG filter is one short doclist
-- detail=column keeps the column of each token (column filters) but no positions; columnsize=0: no
-- bm25 is ever asked of this table. Being contentless, a row is removed by a 'delete' carrying the same
-- title and tags, which the triggers recompute from the OLD row with the same expressions.

DROP TRIGGER practices_fts_insert;
DROP TRIGGER practices_fts_update;
DROP TRIGGER practices_fts_delete;
DROP TRIGGER practices_fts_tags_insert;
DROP TRIGGER practices_fts_tags_update;
DROP TRIGGER practices_fts_tags_delete;
DROP TABLE practices_title;
DROP TABLE practices_fts_tags;

CREATE VIRTUAL TABLE practices_rank USING fts5 (
    title, tags,
    content = '', detail = column, columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER practices_fts_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons)
    VALUES (NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons);
    INSERT INTO practices_head (rowid, title, summary) VALUES (NEW.id, NEW.title, NEW.summary); END;
CREATE TRIGGER practices_fts_update AFTER UPDATE OF title, summary, approach, results, lessons, status
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons
    WHERE OLD.status = 'approved';
    INSERT INTO practices_head (practices_head, rowid, title, summary)
    SELECT 'delete', OLD.id, OLD.title, OLD.summary WHERE OLD.status = 'approved';
    INSERT INTO practices_fts (rowid, title, summary, approach, results, lessons)
    SELECT NEW.id, NEW.title, NEW.summary, NEW.approach, NEW.results, NEW.lessons
    WHERE NEW.status = 'approved';
    INSERT INTO practices_head (rowid, title, summary)
    SELECT NEW.id, NEW.title, NEW.summary WHERE NEW.status = 'approved'; END;
CREATE TRIGGER practices_fts_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_fts (practices_fts, rowid, title, summary, approach, results, lessons)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary, OLD.approach, OLD.results, OLD.lessons);
    INSERT INTO practices_head (practices_head, rowid, title, summary)
    VALUES ('delete', OLD.id, OLD.title, OLD.summary); END;

CREATE TRIGGER practices_rank_insert AFTER INSERT ON practices WHEN NEW.status = 'approved' BEGIN
    INSERT INTO practices_rank (rowid, title, tags) VALUES (
        (min(255, length(NEW.title) - length(replace(NEW.title, ' ', '')) + 1) << 40) | (1099511627775 - NEW.id), NEW.title,
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || NEW.guild_id AS tok
            UNION ALL SELECT 't' || t.key || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE NEW.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || NEW.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.topics_mask & t.value AND NEW.sdgs_mask & s.value))); END;
CREATE TRIGGER practices_rank_update AFTER UPDATE OF guild_id, status, title, topics_mask, sdgs_mask
    ON practices WHEN OLD.status = 'approved' OR NEW.status = 'approved' BEGIN
    INSERT INTO practices_rank (practices_rank, rowid, title, tags) SELECT 'delete',
        (min(255, length(OLD.title) - length(replace(OLD.title, ' ', '')) + 1) << 40) | (1099511627775 - OLD.id), OLD.title,
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || OLD.guild_id AS tok
            UNION ALL SELECT 't' || t.key || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE OLD.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || OLD.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.topics_mask & t.value AND OLD.sdgs_mask & s.value))
    WHERE OLD.status = 'approved';
    INSERT INTO practices_rank (rowid, title, tags) SELECT
        (min(255, length(NEW.title) - length(replace(NEW.title, ' ', '')) + 1) << 40) | (1099511627775 - NEW.id), NEW.title,
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || NEW.guild_id AS tok
            UNION ALL SELECT 't' || t.key || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE NEW.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || NEW.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || NEW.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE NEW.topics_mask & t.value AND NEW.sdgs_mask & s.value))
    WHERE NEW.status = 'approved'; END;
CREATE TRIGGER practices_rank_delete AFTER DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    INSERT INTO practices_rank (practices_rank, rowid, title, tags) VALUES ('delete',
        (min(255, length(OLD.title) - length(replace(OLD.title, ' ', '')) + 1) << 40) | (1099511627775 - OLD.id), OLD.title,
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || OLD.guild_id AS tok
            UNION ALL SELECT 't' || t.key || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE OLD.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || OLD.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || OLD.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE OLD.topics_mask & t.value AND OLD.sdgs_mask & s.value))); END;

INSERT INTO practices_rank (rowid, title, tags)
SELECT (min(255, length(p.title) - length(replace(p.title, ' ', '')) + 1) << 40) | (1099511627775 - p.id), p.title,
        (SELECT group_concat(tok, ' ') FROM (
            SELECT 'g' || p.guild_id AS tok
            UNION ALL SELECT 't' || t.key || 'g' || p.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t
                WHERE p.topics_mask & t.value
            UNION ALL SELECT 's' || (s.key + 1) || 'g' || p.guild_id FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE p.sdgs_mask & s.value
            UNION ALL SELECT 't' || t.key || 's' || (s.key + 1) || 'g' || p.guild_id
                FROM json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768]') AS t, json_each('[1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536]') AS s
                WHERE p.topics_mask & t.value AND p.sdgs_mask & s.value))
FROM practices AS p WHERE p.status = 'approved';

-- A search's hits (title, city, country, topics of up to 50 ranked ids) come from this index alone:
-- no read of the practice rows, whose long texts spread them over several pages.
DROP INDEX practices_search;
CREATE INDEX practices_search ON practices
    (id, guild_id, status, topics_mask, sdgs_mask, city_id, network_id, city_name, network_name, country, title)
    WHERE status = 'approved';
