-- The counts /practice stats shows (its text, chart and map), kept per server as they change instead of
-- counted over the whole library on each ask (a scan of 100,000 practices took about a second). One row
-- per (server, dimension, item) with the number of practices or adoptions in it:
--   status  — every practice by status (the approved total; the open queue is pending + changes_requested)
--   topics  — approved practices by topic set (topics_mask), as the stats grouped them
--   sdgs    — approved practices by SDG set (sdgs_mask)
--   country — approved practices by country ('' when unknown)
--   city    — approved practices by directory city (city_id; practices without one are not counted here)
--   adopted — adoptions of approved practices by the adopting directory city (city_id)
-- Kept by triggers, so every writer keeps them exact (the bot, the CLI import, forget-me, a purge).
-- Additions upsert; removals only decrement an existing row (a purge, which deletes this table's rows
-- too, leaves none behind whatever the order); readers skip rows at zero.
CREATE TABLE practice_library_counts (
    guild_id INTEGER NOT NULL,
    dim      TEXT NOT NULL,
    item     NOT NULL,   -- no declared type: a status or country stays text, a mask or city id an integer
    n        INTEGER NOT NULL,
    PRIMARY KEY (guild_id, dim, item)
) WITHOUT ROWID;

INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT guild_id, 'status', status, COUNT(*) FROM practices GROUP BY guild_id, status;
INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT guild_id, 'topics', topics_mask, COUNT(*) FROM practices WHERE status = 'approved'
GROUP BY guild_id, topics_mask;
INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT guild_id, 'sdgs', sdgs_mask, COUNT(*) FROM practices WHERE status = 'approved'
GROUP BY guild_id, sdgs_mask;
INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT guild_id, 'country', COALESCE(country, ''), COUNT(*) FROM practices WHERE status = 'approved'
GROUP BY guild_id, COALESCE(country, '');
INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT guild_id, 'city', city_id, COUNT(*) FROM practices WHERE status = 'approved' AND city_id IS NOT NULL
GROUP BY guild_id, city_id;
INSERT INTO practice_library_counts (guild_id, dim, item, n)
SELECT a.guild_id, 'adopted', a.city_id, COUNT(*) FROM practice_adoptions a JOIN practices p ON p.id = a.practice_id
WHERE p.status = 'approved' AND a.city_id IS NOT NULL GROUP BY a.guild_id, a.city_id;

-- A practice's own contributions. (Trigger names start practice_counts_, each END at the end of a line.)
CREATE TRIGGER practice_counts_practice_added AFTER INSERT ON practices BEGIN
    INSERT INTO practice_library_counts (guild_id, dim, item, n)
    SELECT NEW.guild_id, d, i, 1 FROM (
        SELECT 'status' AS d, NEW.status AS i
        UNION ALL SELECT 'topics', NEW.topics_mask WHERE NEW.status = 'approved'
        UNION ALL SELECT 'sdgs', NEW.sdgs_mask WHERE NEW.status = 'approved'
        UNION ALL SELECT 'country', COALESCE(NEW.country, '') WHERE NEW.status = 'approved'
        UNION ALL SELECT 'city', NEW.city_id WHERE NEW.status = 'approved' AND NEW.city_id IS NOT NULL)
    WHERE true ON CONFLICT (guild_id, dim, item) DO UPDATE SET n = n + excluded.n; END;

CREATE TRIGGER practice_counts_practice_removed AFTER DELETE ON practices BEGIN
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'status' AND item = OLD.status;
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'topics' AND item = OLD.topics_mask AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'sdgs' AND item = OLD.sdgs_mask AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1 WHERE guild_id = OLD.guild_id AND dim = 'country'
    AND item = COALESCE(OLD.country, '') AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'city' AND item = OLD.city_id AND OLD.status = 'approved'; END;

CREATE TRIGGER practice_counts_practice_changed
AFTER UPDATE OF guild_id, status, topics_mask, sdgs_mask, country, city_id ON practices
WHEN OLD.guild_id IS NOT NEW.guild_id OR OLD.status IS NOT NEW.status OR OLD.topics_mask IS NOT NEW.topics_mask
    OR OLD.sdgs_mask IS NOT NEW.sdgs_mask OR OLD.country IS NOT NEW.country OR OLD.city_id IS NOT NEW.city_id
BEGIN
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'status' AND item = OLD.status;
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'topics' AND item = OLD.topics_mask AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'sdgs' AND item = OLD.sdgs_mask AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1 WHERE guild_id = OLD.guild_id AND dim = 'country'
    AND item = COALESCE(OLD.country, '') AND OLD.status = 'approved';
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'city' AND item = OLD.city_id AND OLD.status = 'approved';
    INSERT INTO practice_library_counts (guild_id, dim, item, n)
    SELECT NEW.guild_id, d, i, 1 FROM (
        SELECT 'status' AS d, NEW.status AS i
        UNION ALL SELECT 'topics', NEW.topics_mask WHERE NEW.status = 'approved'
        UNION ALL SELECT 'sdgs', NEW.sdgs_mask WHERE NEW.status = 'approved'
        UNION ALL SELECT 'country', COALESCE(NEW.country, '') WHERE NEW.status = 'approved'
        UNION ALL SELECT 'city', NEW.city_id WHERE NEW.status = 'approved' AND NEW.city_id IS NOT NULL)
    WHERE true ON CONFLICT (guild_id, dim, item) DO UPDATE SET n = n + excluded.n; END;

-- A practice entering or leaving the approved library takes its adoptions along on the map.
CREATE TRIGGER practice_counts_practice_adoptions
AFTER UPDATE OF status ON practices WHEN (OLD.status = 'approved') <> (NEW.status = 'approved') BEGIN
    UPDATE practice_library_counts SET n = n - (
        SELECT COUNT(*) FROM practice_adoptions a WHERE a.practice_id = OLD.id
        AND a.guild_id = practice_library_counts.guild_id AND a.city_id = practice_library_counts.item)
    WHERE OLD.status = 'approved' AND dim = 'adopted' AND (guild_id, item) IN (
        SELECT guild_id, city_id FROM practice_adoptions WHERE practice_id = OLD.id AND city_id IS NOT NULL);
    INSERT INTO practice_library_counts (guild_id, dim, item, n)
    SELECT guild_id, 'adopted', city_id, COUNT(*) FROM practice_adoptions
    WHERE NEW.status = 'approved' AND practice_id = NEW.id AND city_id IS NOT NULL GROUP BY guild_id, city_id
    ON CONFLICT (guild_id, dim, item) DO UPDATE SET n = n + excluded.n; END;

-- Deleting an approved practice deletes its adoptions (ON DELETE CASCADE) after the practice row is gone,
-- when the adoption trigger below no longer sees an approved practice: take them off the map first.
CREATE TRIGGER practice_counts_practice_adoptions_removed
BEFORE DELETE ON practices WHEN OLD.status = 'approved' BEGIN
    UPDATE practice_library_counts SET n = n - (
        SELECT COUNT(*) FROM practice_adoptions a WHERE a.practice_id = OLD.id
        AND a.guild_id = practice_library_counts.guild_id AND a.city_id = practice_library_counts.item)
    WHERE dim = 'adopted' AND (guild_id, item) IN (
        SELECT guild_id, city_id FROM practice_adoptions WHERE practice_id = OLD.id AND city_id IS NOT NULL); END;

-- Adoptions of approved practices, by adopting city.
CREATE TRIGGER practice_counts_adoption_added AFTER INSERT ON practice_adoptions
WHEN NEW.city_id IS NOT NULL AND EXISTS (SELECT 1 FROM practices WHERE id = NEW.practice_id AND status = 'approved')
BEGIN
    INSERT INTO practice_library_counts (guild_id, dim, item, n) VALUES (NEW.guild_id, 'adopted', NEW.city_id, 1)
    ON CONFLICT (guild_id, dim, item) DO UPDATE SET n = n + excluded.n; END;

CREATE TRIGGER practice_counts_adoption_removed AFTER DELETE ON practice_adoptions
WHEN OLD.city_id IS NOT NULL AND EXISTS (SELECT 1 FROM practices WHERE id = OLD.practice_id AND status = 'approved')
BEGIN
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'adopted' AND item = OLD.city_id; END;

CREATE TRIGGER practice_counts_adoption_changed AFTER UPDATE OF guild_id, practice_id, city_id ON practice_adoptions
WHEN OLD.guild_id IS NOT NEW.guild_id OR OLD.practice_id IS NOT NEW.practice_id OR OLD.city_id IS NOT NEW.city_id
BEGIN
    UPDATE practice_library_counts SET n = n - 1
    WHERE guild_id = OLD.guild_id AND dim = 'adopted' AND item = OLD.city_id
    AND EXISTS (SELECT 1 FROM practices WHERE id = OLD.practice_id AND status = 'approved');
    INSERT INTO practice_library_counts (guild_id, dim, item, n)
    SELECT NEW.guild_id, 'adopted', NEW.city_id, 1
    WHERE NEW.city_id IS NOT NULL AND EXISTS (SELECT 1 FROM practices WHERE id = NEW.practice_id AND status = 'approved')
    ON CONFLICT (guild_id, dim, item) DO UPDATE SET n = n + excluded.n; END;

-- Migration 013's version triggers, with the same effect, created again with an upsert: an INSERT OR IGNORE
-- in a trigger takes the conflict policy of the statement that fired it, and a foreign-key action (a
-- directory city deleted: its practices' and adoptions' city_id set to NULL) fires it with ABORT, so
-- deleting a city that a practice named failed on the version row already there.
DROP TRIGGER practices_library_insert;
DROP TRIGGER practices_library_update;
DROP TRIGGER practice_adoptions_library_insert;
DROP TRIGGER practice_adoptions_library_update;

CREATE TRIGGER practices_library_insert AFTER INSERT ON practices BEGIN
    INSERT INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1; END;

CREATE TRIGGER practices_library_update
AFTER UPDATE OF guild_id, status, topics_mask, sdgs_mask, country, city_id ON practices BEGIN
    INSERT INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0)
    ON CONFLICT (guild_id) DO NOTHING;
    UPDATE practice_library_versions SET version = version + 1
    WHERE guild_id IN (NEW.guild_id, OLD.guild_id); END;

CREATE TRIGGER practice_adoptions_library_insert AFTER INSERT ON practice_adoptions BEGIN
    INSERT INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 1)
    ON CONFLICT (guild_id) DO UPDATE SET version = version + 1; END;

CREATE TRIGGER practice_adoptions_library_update AFTER UPDATE ON practice_adoptions BEGIN
    INSERT INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0)
    ON CONFLICT (guild_id) DO NOTHING;
    UPDATE practice_library_versions SET version = version + 1
    WHERE guild_id IN (NEW.guild_id, OLD.guild_id); END;
