-- A per-server counter of changes to what the library's pictures and counts show (/practice stats): the
-- practices (status, topics, SDGs, country, city) and their adoptions. Kept by triggers, so every writer
-- bumps it (the bot, the CLI import, forget-me, a purge); reading one row tells whether the counts and
-- pictures computed earlier are still current. A delete only bumps an existing row (a server's purge
-- leaves none behind).
CREATE TABLE practice_library_versions (
    guild_id INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER practices_library_insert AFTER INSERT ON practices BEGIN
    INSERT OR IGNORE INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0);
    UPDATE practice_library_versions SET version = version + 1 WHERE guild_id = NEW.guild_id;
END;

CREATE TRIGGER practices_library_update
AFTER UPDATE OF guild_id, status, topics_mask, sdgs_mask, country, city_id ON practices BEGIN
    INSERT OR IGNORE INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0);
    UPDATE practice_library_versions SET version = version + 1
    WHERE guild_id IN (NEW.guild_id, OLD.guild_id);
END;

CREATE TRIGGER practices_library_delete AFTER DELETE ON practices BEGIN
    UPDATE practice_library_versions SET version = version + 1 WHERE guild_id = OLD.guild_id;
END;

CREATE TRIGGER practice_adoptions_library_insert AFTER INSERT ON practice_adoptions BEGIN
    INSERT OR IGNORE INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0);
    UPDATE practice_library_versions SET version = version + 1 WHERE guild_id = NEW.guild_id;
END;

CREATE TRIGGER practice_adoptions_library_update AFTER UPDATE ON practice_adoptions BEGIN
    INSERT OR IGNORE INTO practice_library_versions (guild_id, version) VALUES (NEW.guild_id, 0);
    UPDATE practice_library_versions SET version = version + 1
    WHERE guild_id IN (NEW.guild_id, OLD.guild_id);
END;

CREATE TRIGGER practice_adoptions_library_delete AFTER DELETE ON practice_adoptions BEGIN
    UPDATE practice_library_versions SET version = version + 1 WHERE guild_id = OLD.guild_id;
END;
