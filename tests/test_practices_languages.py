"""The library across languages (issue 13): practices indexed in their own language (Snowball
stemming after folding accents), queries stemmed in every catalog language, the cross-language
glossary ranked below direct matches, the language filter, and the upgrade of an existing library
(the search-languages migration and its Python step)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.db import Database, list_migrations, split_statements
from bot.errors import InvalidInput
from cogs.practices import stemming
from cogs.practices.glossary import Glossary, load_default
from cogs.practices.service import PracticeService, SearchFilters
from tests.test_practices_service import G1, G2, Clock, approved


def ids(result: object) -> list[int]:
    return [h.id for h in result.hits]  # type: ignore[attr-defined]


# -- pure parts -----------------------------------------------------------------------------------
def test_language_codes_and_client_locales() -> None:
    assert [stemming.locale_language(x) for x in ("fr", "es-ES", "es-419", "en-US", "de", "pt-BR", None)] == [
        "fr",
        "es",
        "es",
        "en",
        "en",
        "en",
        "en",
    ]
    assert [
        stemming.language_code(x)
        for x in ("Français", "french", "fr-CA", "ES", "Español", "English", "", None)
    ] == ["fr", "fr", "fr", "es", "es", "en", "en", "en"]
    assert (
        stemming.language_code("  Português  do Brasil ") == "Português do Brasil"
    )  # other languages as typed
    assert len(stemming.language_code("x" * 80)) == stemming.LANGUAGE_MAX


def test_index_forms_are_accent_insensitive_and_per_language() -> None:
    # the same word with or without accents, capitals or ligatures gives the same index form
    assert stemming.index_text("Résilience URBAINE", "fr") == stemming.index_text("resilience urbaine", "fr")
    assert stemming.index_text("Presupuestos participativos", "es") == stemming.index_text(
        "presupuesto participativo", "es"
    )
    assert stemming.index_text("inondations", "fr") == stemming.index_text("inondation", "fr")
    assert stemming.index_text("flooding floods", "en") == "flood flood"
    assert stemming.index_text("housing", "de") == "housing"  # outside the catalog: folded only
    # one token per word, so the stemmed columns line up with the text
    text = "L'inondation d'octobre: 3 quartiers, 1 200 foyers…"
    assert len(stemming.index_text(text, "fr").split()) == len(list(stemming.tokens(text)))
    # every catalog language's stem of a query word is among its forms
    forms = stemming.query_forms("inondations")
    assert stemming.stem("inondations", "fr") in forms and "inondations" in forms


def test_highlights_mark_the_original_words() -> None:
    forms = stemming.match_forms('("presupuesto" OR "presupuest") AND "particip"')
    snip = stemming.highlight_snippet(
        ["Presupuestos participativos", "Una parte del presupuesto municipal."], "es", forms
    )
    assert snip == "\x02Presupuestos\x03 \x02participativos\x03"
    long = " ".join(["palabra"] * 40 + ["presupuesto"] + ["otra"] * 40)
    snip = stemming.highlight_snippet(["", long], "es", forms)
    assert snip.startswith("…") and snip.endswith("…") and "\x02presupuesto\x03" in snip
    assert stemming.highlight_snippet(["nothing here"], "en", forms) == ""
    assert stemming.match_forms('"resil"*').matches("resili")


def test_glossary_is_large_enough_and_expands_multi_word_terms() -> None:
    g = load_default()
    assert len(g) >= 300
    langs = {lang for c in g.concepts for lang, _ in c.terms}
    assert langs == {"en", "fr", "es"}
    spans = g.spans(["participatory", "budgeting", "schools"])
    assert spans and (spans[0].start, spans[0].end) == (0, 2)
    assert "participatory_budgeting" in [c.key for c in spans[0].concepts]
    expr = g.expand(["housing"], prefix_last=False)
    assert expr is not None and '"viviend"' in expr and '"log"' in expr
    assert g.expand(["zzzz"], prefix_last=False) is None
    custom = Glossary.parse(
        "concept,en,fr,es,source\nx,green roof,toit végétalisé,techo verde,IATE\nlonely,only english,,,IATE\n"
    )
    assert len(custom) == 1  # a concept needs at least two languages


def test_split_statements_keeps_triggers_whole() -> None:
    sql = (
        "-- a; comment\nCREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = ';'; DELETE FROM a WHERE x = 2; END;\n-- trailing\n"
    )
    got = split_statements(sql)
    assert len(got) == 2 and got[1].endswith("END;")


# -- the service ---------------------------------------------------------------------------------
@pytest.fixture
def svc(db: Database) -> PracticeService:
    return PracticeService(db, clock=Clock())


async def test_accents_and_stemming_in_each_language(svc: PracticeService) -> None:
    fr = await approved(
        svc,
        "Résilience urbaine face aux inondations",
        language="fr",
        summary="Les quartiers inondés chaque automne.",
    )
    es = await approved(
        svc,
        "Presupuestos participativos en los barrios",
        language="es",
        summary="Los vecinos deciden las obras.",
    )
    en = await approved(svc, "Flooding maps for every street", language="en", summary="Floods, mapped.")
    assert ids(await svc.search(G1, "resilience")) == [fr]  # no accent typed
    assert ids(await svc.search(G1, "RÉSILIENCE")) == [fr]
    assert ids(await svc.search(G1, "presupuesto participativo")) == [es]  # singular, stemmed
    assert ids(await svc.search(G1, "inondation")) == [fr, en]  # the English one through the glossary, after
    assert ids(await svc.search(G1, "floods")) == [en, fr]
    # the hits carry their language, and the highlight falls on the original words
    res = await svc.search(G1, "presupuesto participativo")
    assert res.hits[0].language == "es" and "\x02Presupuestos\x03" in res.hits[0].snippet


async def test_glossary_finds_other_languages_ranked_below_direct_matches(svc: PracticeService) -> None:
    es = await approved(svc, "Vivienda asequible para jóvenes", language="es", summary="Alquiler social.")
    fr = await approved(svc, "Logement abordable et rénovation", language="fr", summary="Des logements.")
    en = await approved(svc, "Affordable housing trust", language="en", summary="A fund for homes.")
    await approved(svc, "Bicycle lanes", language="en", summary="Cycling to school.")
    res = await svc.search(G1, "housing")
    assert ids(res)[0] == en and set(ids(res)) == {en, fr, es}  # the direct match first
    res = await svc.search(G1, "vivienda")
    assert ids(res)[0] == es and set(ids(res)) == {en, fr, es}
    # a multi-word term: both words must be there in the other language
    pb = await approved(
        svc, "Budget participatif des quartiers", language="fr", summary="Les habitants votent."
    )
    assert ids(await svc.search(G1, "participatory budgeting")) == [pb]
    # the snippet of a glossary hit highlights the other language's word
    res = await svc.search(G1, "housing")
    by_id = {h.id: h for h in res.hits}
    assert "\x02Vivienda\x03" in by_id[es].snippet


async def test_language_filter_and_guild_isolation(svc: PracticeService) -> None:
    es = await approved(svc, "Huertos urbanos comunitarios", language="es")
    fr = await approved(svc, "Jardins partagés en ville", language="fr")
    other = await approved(svc, "Huertos urbanos en la escuela", guild=G2, language="es")
    assert set(ids(await svc.search(G1, "community gardens"))) == {es, fr}
    assert ids(await svc.search(G1, "community gardens", SearchFilters(language="es"))) == [es]
    assert ids(await svc.search(G1, "community gardens", SearchFilters(language="fr"))) == [fr]
    assert ids(await svc.search(G1, None, SearchFilters(language="fr"))) == [fr]  # browsing
    assert ids(await svc.search(G1, "huertos", SearchFilters(language="es", topic="climate"))) == [es]
    assert ids(await svc.search(G2, "community gardens")) == [other]
    with pytest.raises(InvalidInput):
        await svc.search(G1, "huertos", SearchFilters(language='x" OR "g2002'))
    res = await svc.search(G1, "huertos", SearchFilters(language="es"))
    assert ("language", "es") in res.filters and other not in ids(res)
    # the suggestion vocabulary stays per guild: G2's word is never proposed in G1
    assert (await svc.search(G1, "escuelaa")).corrected is None


async def test_edit_reindexes_in_the_new_language(svc: PracticeService) -> None:
    pid = await approved(svc, "Inondations", language="fr")
    assert ids(await svc.search(G1, "inondation")) == [pid]
    p = await svc.get(G1, pid)
    from dataclasses import replace as dc_replace

    from cogs.practices.service import Draft, Meta

    await svc.edit(
        G1,
        pid,
        actor_id=90,
        is_moderator=True,
        draft=Draft("Inundaciones", p.summary, p.approach),
        meta=dc_replace(Meta(city_name=p.city_name, topics=p.topics, country=p.country), language="es"),
    )
    got = await svc.get(G1, pid)
    assert got.language == "es"
    assert ids(await svc.search(G1, "inundacion")) == [pid]
    assert ids(await svc.search(G1, "inondations", SearchFilters(language="fr"))) == []
    for table in ("practices_fts", "practices_head"):
        await svc.db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


# -- the upgrade -----------------------------------------------------------------------------------
async def test_upgrade_stems_the_practices_already_there(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A library from before the search-languages migration: its languages are normalised, its text
    stemmed by the migration's Python step (in batches, progress logged), and searched as new."""
    migs = list_migrations()
    step = next(i for i, m in enumerate(migs) if m.name.endswith("search-languages"))
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for mig in migs[:step]:
        conn.executescript(f"BEGIN;{mig.sql()};PRAGMA user_version={mig.version};COMMIT;")
    rows = [  # id, guild, status, language, title, summary
        (1, G1, "approved", "Français", "Inondations et résilience", "Les quartiers inondés."),
        (2, G1, "approved", "Spanish", "Presupuestos participativos", "Los vecinos votan."),
        (3, G1, "pending", "es", "Viviendas vacías", "Pendiente."),
        (4, G2, "approved", "en", "Affordable housing", "Homes."),
        (5, G1, "approved", "Deutsch", "Wohnungsbau", "Wohnungen."),
    ]
    conn.executemany(
        "INSERT INTO practices (id, guild_id, status, topics_mask, sdgs_mask, city_name, submitter_id, "
        "created_ms, updated_ms, approved_ms, language, title, summary, approach) "
        "VALUES (?, ?, ?, 8192, 32, 'Lyon', 1, 0, 0, 0, ?, ?, ?, 'Sensors.')",
        rows,
    )
    conn.commit()
    conn.close()
    d = Database(path)
    await d.connect()
    try:
        with caplog.at_level(logging.INFO):
            before, after = await d.migrate()
        assert before == step and after == migs[-1].version
        assert "5/5 practices stemmed" in caplog.text
        langs = dict(await d.fetchall("SELECT id, language FROM practices"))
        assert langs == {1: "fr", 2: "es", 3: "es", 4: "en", 5: "Deutsch"}
        svc = PracticeService(d, clock=Clock())
        assert ids(await svc.search(G1, "inondation")) == [1]
        assert ids(await svc.search(G1, "presupuesto participativo")) == [2]
        assert ids(await svc.search(G1, "participatory budgeting")) == [2]  # the glossary
        assert not ids(await svc.search(G1, "viviendas"))  # pending: not in the library
        assert ids(await svc.search(G2, "housing")) == [4] and not ids(await svc.search(G1, "housing"))
        assert ids(await svc.search(G1, "wohnungsbau")) == [5]  # unstemmed, still found
        assert ids(await svc.search(G1, "resilience", SearchFilters(language="fr"))) == [1]
        for table in ("practices_fts", "practices_head"):
            await d.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        # the triggers keep it from now on
        await svc.decide(G1, 3, actor_id=90, action="approve")
        assert ids(await svc.search(G1, "vivienda")) == [3]
    finally:
        await d.close()


async def test_a_failing_step_rolls_the_whole_migration_back(tmp_path: Path) -> None:
    mdir = tmp_path / "migrations"
    mdir.mkdir()
    (mdir / "001-a.sql").write_text("CREATE TABLE a (x INTEGER);\n", encoding="utf-8")
    (mdir / "002-b.sql").write_text(
        "CREATE TABLE b (x INTEGER);\n-- python: tests.test_practices_languages:no_such_step\n"
        "CREATE TABLE c (x INTEGER);\n",
        encoding="utf-8",
    )
    d = Database(tmp_path / "x.db")
    await d.connect()
    try:
        from bot.db import DatabaseError

        with pytest.raises(DatabaseError, match="rolled back"):
            await d.migrate(mdir)
        assert await d.user_version() == 1
        names = {r[0] for r in await d.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "a" in names and "b" not in names and "c" not in names
        (mdir / "002-b.sql").write_text(
            "CREATE TABLE b (x INTEGER);\n-- python: tests.test_practices_languages:fill_b\n"
            "CREATE TABLE c (x INTEGER);\n",
            encoding="utf-8",
        )
        assert (await d.migrate(mdir))[1] == 2
        assert await d.fetchval("SELECT count(*) FROM b") == 3
    finally:
        await d.close()


async def fill_b(conn: object) -> None:
    """A migration step used by the test above."""
    await conn.executemany("INSERT INTO b (x) VALUES (?)", [(1,), (2,), (3,)])  # type: ignore[attr-defined]
