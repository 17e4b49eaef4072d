-- Directory: cities (gazetteer + guild additions), networks, memberships, profiles, seed reference data.
-- Global reference rows (gazetteer, seed) have guild_id NULL; rows added in a server carry its guild_id.

-- Cities. Gazetteer rows use their GeoNames id; cities added by moderators get ids from 1,000,000,000 up.
CREATE TABLE cities (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER,                 -- NULL = gazetteer (global); else added in that guild
    name         TEXT NOT NULL,
    key          TEXT NOT NULL,           -- normalised name: casefold, accents stripped, punctuation to spaces
    country      TEXT NOT NULL,           -- ISO 3166-1 alpha-2
    admin1       TEXT,                    -- region name (US states) or GeoNames admin1 code
    admin1_code  TEXT,
    timezone     TEXT NOT NULL,           -- IANA
    population   INTEGER NOT NULL DEFAULT 0,
    latitude     REAL,
    longitude    REAL,
    homonyms     INTEGER NOT NULL DEFAULT 1,  -- gazetteer cities sharing this key (for labels)
    homonyms_cc  INTEGER NOT NULL DEFAULT 1,  -- ... within the same country
    created_by   INTEGER,
    created_ms   INTEGER
);
CREATE INDEX cities_key ON cities (key, population DESC);
CREATE INDEX cities_population ON cities (population DESC);
-- One- and two-letter autocomplete prefixes read these in population order without sorting.
CREATE INDEX cities_prefix1 ON cities (substr(key, 1, 1), population DESC);
CREATE INDEX cities_prefix2 ON cities (substr(key, 1, 2), population DESC);
CREATE INDEX cities_guild ON cities (guild_id) WHERE guild_id IS NOT NULL;

-- Every searchable spelling of a city (primary name and alternates), normalised; prefix search runs here.
CREATE TABLE city_names (
    key        TEXT NOT NULL,
    city_id    INTEGER NOT NULL REFERENCES cities (id) ON DELETE CASCADE,
    population INTEGER NOT NULL DEFAULT 0,
    guild_id   INTEGER,
    is_primary INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, city_id)
) WITHOUT ROWID;

-- Transnational municipal networks. Seed rows: guild_id NULL, seed_key = slug.
CREATE TABLE networks (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER,
    seed_key          TEXT UNIQUE,
    slug              TEXT NOT NULL,
    name              TEXT NOT NULL,
    acronym           TEXT,
    founded_year      INTEGER,
    hq_city           TEXT,
    hq_country        TEXT,
    hq_city_id        INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    focus             TEXT NOT NULL DEFAULT '',   -- ';climate;resilience;' (leading/trailing ; for LIKE)
    scope             TEXT,
    website           TEXT,
    member_count      INTEGER,
    member_count_year INTEGER,
    source            TEXT,
    notes             TEXT,
    origin            TEXT NOT NULL DEFAULT 'guild' CHECK (origin IN ('seed', 'guild')),
    created_by        INTEGER,
    updated_ms        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX networks_scope_slug ON networks (COALESCE(guild_id, 0), slug);
CREATE INDEX networks_guild ON networks (guild_id);

-- City (or, for a few seed rows, state) membership of a network.
CREATE TABLE memberships (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER,                  -- NULL = seed (shared); else that guild's addition
    seed_key    TEXT UNIQUE,
    network_id  INTEGER NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    city_id     INTEGER REFERENCES cities (id) ON DELETE CASCADE,  -- NULL for states/regions
    member_name TEXT NOT NULL,
    country     TEXT NOT NULL,
    member_kind TEXT NOT NULL DEFAULT 'city' CHECK (member_kind IN ('city', 'state')),
    category    TEXT NOT NULL DEFAULT 'member',
    joined_year INTEGER,
    left_year   INTEGER,
    status      TEXT NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'former', 'unverified')),
    source      TEXT,
    as_of       TEXT,                     -- date (or year) the source describes
    notes       TEXT,
    origin      TEXT NOT NULL DEFAULT 'guild' CHECK (origin IN ('seed', 'guild')),
    created_by  INTEGER,
    created_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX memberships_city ON memberships (city_id, network_id);
CREATE INDEX memberships_network ON memberships (network_id, country);
CREATE UNIQUE INDEX memberships_guild_pair ON memberships (guild_id, network_id, city_id)
    WHERE guild_id IS NOT NULL;

-- Member profiles (guild-scoped).
CREATE TABLE profiles (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    city_id     INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    title       TEXT,
    office      TEXT,
    languages   TEXT,
    expertise   TEXT,
    timezone    TEXT,                     -- explicit zone; NULL = the city's
    dm_ok       INTEGER NOT NULL DEFAULT 1,
    verified    INTEGER NOT NULL DEFAULT 0,
    verified_by INTEGER,
    verified_ms INTEGER,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX profiles_city ON profiles (guild_id, city_id);

-- Documented city-to-city agreements from the seed (global reference data).
CREATE TABLE seed_agreements (
    id          INTEGER PRIMARY KEY,
    seed_key    TEXT NOT NULL UNIQUE,
    city_a      TEXT NOT NULL,
    country_a   TEXT NOT NULL,
    city_a_id   INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    city_b      TEXT NOT NULL,
    country_b   TEXT NOT NULL,
    city_b_id   INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,
    signed_year INTEGER,
    topic       TEXT,
    source      TEXT,
    notes       TEXT
);
CREATE INDEX seed_agreements_a ON seed_agreements (city_a_id);
CREATE INDEX seed_agreements_b ON seed_agreements (city_b_id);

-- The 17 UN Sustainable Development Goals (global reference data).
CREATE TABLE sdgs (
    number         INTEGER PRIMARY KEY,
    short_name     TEXT NOT NULL,
    official_title TEXT NOT NULL,
    source         TEXT
);
