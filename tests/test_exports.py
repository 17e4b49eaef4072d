"""Every file the bot exports, end to end: formula cells neutralised, Discord ids as text with names.

`EXPORTS` is the registry of every export the bot offers (a slash command that answers with a CSV
or JSON attachment). `test_every_export_neutralises_formulas_and_keeps_ids_as_text` fills a server
with member text that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+1``, ``-2``,
``@SUM(A1)``, tab and carriage return first) in every field a member types, lets one member leave,
runs each export through the fake Discord as a moderator, downloads the attachment the fake
received and parses it. Every cell must be safe (bot.export's rule), every Discord id text (never a
bare 15+ digit number, which a spreadsheet rounds), with the member's display name beside it
("unknown member" for the one who left), and the file UTF-8 with a BOM.

A new export can't skip this: `test_every_csv_is_written_by_the_shared_writer` fails when a
module other than bot/export.py writes CSV itself, and when a function calling `write_csv` is not
covered by an entry of `EXPORTS` (its `writers`).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.export import (
    FORMULA_TRIGGERS,
    UNKNOWN_MEMBER,
    Column,
    id_cell,
    neutralise,
    parse_id,
    read_csv,
    unneutralise,
    write_csv,
)
from bot.sandbox.emulation import InteractionResult, Perm, StoredFile
from cogs.mous.service import Actor
from cogs.practices.service import Draft, Meta
from tests.e2e import World, directory_service, mou_service, practice_service, roundtable_service
from tests.test_practices_e2e import eventually

ROOT = Path(__file__).resolve().parents[1]
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
SNOWFLAKE = re.compile(r"^\d{15,}$")
ID_CELL = re.compile(r"^(id:\d+( id:\d+)*)?$")


# -- the registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Export:
    command: str
    options: dict[str, Any]
    fmt: str  # "csv" or "json"
    writers: tuple[str, ...]  # "path.py:function" of the code writing this file (write_csv call sites)
    text_columns: tuple[str, ...] = ()  # columns holding the member text planted by `plant`
    member_columns: tuple[str, ...] = ()  # member-id columns (a `<x>_name` column follows each)
    rows_at_least: int = 1


EXPORTS: list[Export] = [
    Export(
        "practice export",
        {"format": "csv"},
        "csv",
        ("cogs/practices/cog.py:export_bytes",),
        ("title", "summary", "approach", "results", "lessons", "contact"),
        ("contact_user_id", "submitter_id"),
        rows_at_least=len(FORMULAS),
    ),
    Export("practice export", {"format": "json"}, "json", ()),
    Export(
        "mou export",
        {"format": "csv"},
        "csv",
        ("cogs/mous/exports.py:ExportsMixin.export",),
        ("title", "summary", "focus_areas"),
        ("owner_ids",),
        rows_at_least=len(FORMULAS),
    ),
    Export("mou export", {"format": "json"}, "json", ()),
    Export(
        "network export",
        {"what": "networks"},
        "csv",
        ("cogs/directory/imports.py:_write_csv",),
        ("name", "notes", "source"),
    ),
    Export("network export", {"what": "memberships"}, "csv", (), ("notes",)),
    Export(
        "roundtable attendees",
        {"id": "$rt"},
        "csv",
        ("cogs/roundtables/service.py:RoundtableService.attendee_export",),
        ("roundtable", "title", "office"),
        ("member_id",),
        rows_at_least=2,
    ),
    Export("audit", {"file": True}, "csv", ("bot/audit.py:export_csv",), (), ("actor_id",), rows_at_least=10),
]


# -- planting hostile text -----------------------------------------------------------------------
async def plant(w: World) -> dict[str, Any]:
    """Member text starting with a formula in every field of every kind of record; bob then leaves."""
    bot: Any = w.bot
    gid = w.guild.id
    ctx: dict[str, Any] = {}
    for f in FORMULAS:
        p = await practice_service(bot).submit(
            gid, w.alice.id, Draft(title=f, summary=f, approach=f, results=f, lessons=f),
            Meta(city_name=f"{f} city", topics=("water",), contact_user_id=w.bob.id, contact_text=f))
        await practice_service(bot).decide(gid, p.id, actor_id=w.mod.id, action="approve")
        a = await mou_service(bot).create(
            gid,
            Actor(w.alice.id),
            kind="mou",
            title=f,
            parties=["Paris, FR", "Seoul, KR"],
            owner_ids=[w.alice.id, w.bob.id],
            summary=f,
            focus_areas=f,
        )
        await mou_service(bot).add_milestone(gid, Actor(w.alice.id), a.id, "2031-01-15", f)
    for i, f in enumerate(FORMULAS):
        await directory_service(bot).add_network(
            gid, w.mod.id, name=f"{f} network", acronym=f"FX{i}", notes=f, source=f
        )
    memberships = "city,country_iso2,network_slug,notes\n" + "".join(
        f'{c},{cc},fx0,"{n.replace(chr(34), chr(34) * 2)}"\n'
        for (c, cc), n in zip(
            (("Lima", "PE"), ("Quito", "EC"), ("Bogota", "CO")), ("-2 caveat", "@SUM(A1)", "+1"), strict=True
        )
    )
    await directory_service(bot).import_memberships(memberships.encode(), guild_id=gid, actor_id=w.mod.id)
    await directory_service(bot).set_profile(gid, w.alice.id, title=FORMULAS[0], office=FORMULAS[3])
    await directory_service(bot).set_profile(gid, w.bob.id, title=FORMULAS[1], office=FORMULAS[2])
    rt = await roundtable_service(bot).create(
        gid,
        w.alice.id,
        title=FORMULAS[0],
        start=datetime.now(UTC) + timedelta(days=3),
        tz="UTC",
        agenda=FORMULAS[3],
    )
    await roundtable_service(bot).rsvp(gid, rt.id, w.alice.id, "going")
    await roundtable_service(bot).rsvp(gid, rt.id, w.bob.id, "maybe")
    ctx["rt"] = rt.id
    w.guild.remove_member(w.bob)  # bob left: his ids stay, with "unknown member" beside them
    return ctx


async def download(w: World, export: Export, ctx: dict[str, Any]) -> StoredFile:
    options = {
        k: (ctx[v[1:]] if isinstance(v, str) and v.startswith("$") else v) for k, v in export.options.items()
    }
    res: InteractionResult = await w.fake.invoke(w.guild, w.mod, export.command, options=options)
    await res.wait_for_message()
    assert res.ephemeral, export
    assert len(res.files) == 1, (export, res.text)
    return res.files[0]


def snowflakes_in_json(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value] if value >= 10**15 else []
    if isinstance(value, dict):
        return [x for v in value.values() for x in snowflakes_in_json(v)]
    if isinstance(value, list):
        return [x for v in value for x in snowflakes_in_json(v)]
    return []


def stored(text: str) -> str:
    """What the services keep of a planted text (outer whitespace and CR normalised away)."""
    return text.strip()


# -- the end-to-end test -------------------------------------------------------------------------
async def test_every_export_neutralises_formulas_and_keeps_ids_as_text(started_bot: World) -> None:
    w = started_bot
    ctx = await plant(w)
    names = {w.alice.id: "alice", w.bob.id: UNKNOWN_MEMBER, w.mod.id: "mod", w.admin.id: "admin"}
    planted = {stored(f) for f in FORMULAS}
    for export in EXPORTS:
        f = await download(w, export, ctx)
        if export.fmt == "json":
            data = json.loads(f.data.decode("utf-8"))
            assert snowflakes_in_json(data) == [], f"{export.command}: Discord ids must be strings in JSON"
            assert str(w.alice.id) in f.text, export
            continue
        assert f.filename.endswith(".csv"), export
        assert f.data.startswith(b"\xef\xbb\xbf"), f"{export.command}: UTF-8 with a BOM, for Excel"
        raw = list(csv.reader(io.StringIO(f.data.decode("utf-8-sig"), newline="")))
        header, body = raw[0], raw[1:]
        assert len(body) >= export.rows_at_least, (export, len(body))
        for row in body:
            for col, cell in zip(header, row, strict=True):
                assert cell[:1] not in FORMULA_TRIGGERS and cell.lstrip()[:1] not in FORMULA_TRIGGERS, \
                    f"{export.command} {export.options}: cell {col}={cell!r} would run as a formula"
                assert not SNOWFLAKE.match(cell.strip()), \
                    f"{export.command}: {col}={cell!r} is a bare Discord id; a spreadsheet rounds it"
        rows = read_csv(f.data)
        for col in export.text_columns:
            cells = [b[header.index(col)] for b in body]
            assert any(c[:1] == "'" and unneutralise(c) != c for c in cells), \
                f"{export.command} {export.options}: no cell of {col} was neutralised: {cells[:4]}"
            assert any(r[col].startswith(p) for r in rows for p in planted), (export.command, col)
        seen: dict[int, str] = {}
        for col in export.member_columns:
            i = header.index(col)
            want = col[:-4] + "_names" if col.endswith("_ids") else col.removesuffix("_id") + "_name"
            assert header[i + 1] == want, (export, header)
            for r in rows:
                assert ID_CELL.match(r[col]), (export.command, col, r[col])
                ids = [int(x) for x in re.findall(r"\d+", r[col])]
                got = [n.strip() for n in r[header[i + 1]].split(";")] if ids else []
                assert len(got) == len(ids), (export.command, r)
                seen.update(zip(ids, got, strict=True))
        for uid, name in seen.items():
            if uid in names:
                assert name == names[uid], (export.command, uid, name)
        if export.member_columns:
            assert seen.get(w.bob.id) == UNKNOWN_MEMBER and seen.get(w.alice.id) == "alice", (
                export.command,
                seen,
            )
    w.fake.assert_clean()


async def test_exports_stay_in_their_server_and_need_the_right(started_bot: World) -> None:
    w = started_bot
    ctx = await plant(w)
    # the new exports: a plain member (not the host) is refused, privately, with no file
    for command, options, who in (("roundtable attendees", {"id": ctx["rt"]}, w.carol),
                                  ("audit", {"file": True}, w.carol)):
        res = await w.fake.invoke(w.guild, who, command, options=options)
        await res.wait_for_message()
        assert res.ephemeral and not res.files, (command, res.text)
        assert re.search(r"only (the host|moderators)", res.text, re.I), (command, res.text)
    # the host may export her own roundtable's answers
    res = await w.fake.invoke(w.guild, w.alice, "roundtable attendees", options={"id": ctx["rt"]})
    await res.wait_for_message()
    assert res.files and "2 answers" in res.text
    # a second server's moderator sees none of it
    g2 = w.fake.add_guild(name="Elsewhere")
    mod2 = g2.add_member(name="mod2", roles=[g2.add_role("Mods", permissions=Perm.MANAGE_MESSAGES)])
    await eventually(lambda: w.bot.get_guild(g2.id))
    res = await w.fake.invoke(g2, mod2, "roundtable attendees", options={"id": ctx["rt"]})
    await res.wait_for_message()
    assert not res.files and "alice" not in res.text
    res = await w.fake.invoke(g2, mod2, "audit", options={"file": True})
    await res.wait_for_message()
    assert not res.files and "No audit entries" in res.text
    w.fake.assert_clean()


async def test_directory_import_reads_its_own_export(started_bot: World) -> None:
    """Round trip through the fake: export (neutralised cells) → import into another server → same rows."""
    w = started_bot
    await plant(w)
    res = await w.fake.invoke(w.guild, w.mod, "network export", options={"what": "networks"})
    await res.wait_for_message()
    nets = res.files[0].data
    assert b"'=HYPERLINK" in nets and b"'@SUM" in nets
    res = await w.fake.invoke(w.guild, w.mod, "network export", options={"what": "memberships"})
    await res.wait_for_message()
    members = res.files[0].data
    assert b"'-2 caveat" in members
    # this server's rows (the seed's can't be imported into a server), back in: recognised, not rejected
    for name, data, key in (("networks.csv", nets, "slug"), ("memberships.csv", members, "network_slug")):
        raw = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        mine = [raw[0]] + [r for r in raw[1:] if r[raw[0].index(key)].startswith("fx")]
        assert len(mine) > 3
        buf = io.StringIO()
        csv.writer(buf).writerows(mine)
        res = await w.fake.invoke(w.guild, w.mod, "network import", options={"file": name},
                                  attachments={"file": (name, ("\ufeff" + buf.getvalue()).encode())})
        await res.wait_for_message()
        assert "Import done" in res.text and "0 added" in res.text, res.text
    own = await directory_service(w.bot).resolve_network("fx0", guild_id=w.guild.id)
    assert own.name == '=HYPERLINK("http://evil","x") network' and own.notes == '=HYPERLINK("http://evil","x")'
    rows = {r["city"]: r["notes"] for r in read_csv(members) if r["network_slug"] == "fx0"}
    assert rows == {"Lima": "-2 caveat", "Quito": "@SUM(A1)", "Bogota": "+1"}
    w.fake.assert_clean()


# -- the writer ----------------------------------------------------------------------------------
def test_writer_neutralises_ids_names_bom() -> None:
    cols: list[Column | str] = ["title", Column("owner_ids", "member"), Column("channel_id", "id"), "n"]
    rows = [
        {
            "title": '=HYPERLINK("http://evil","x")',
            "owner_ids": [123456789012345678, 5],
            "channel_id": 98765432109876543,
            "n": -2,
        },
        {"title": "  @SUM(A1)", "owner_ids": [], "channel_id": None, "n": 3},
        {"title": "\t=1", "owner_ids": 5, "channel_id": "", "n": None},
        {"title": "'quoted", "owner_ids": None, "channel_id": None, "n": 0},
        {"title": 'plain, with "quotes"\nand a line', "owner_ids": None, "channel_id": None, "n": 1.5},
    ]
    data = write_csv(cols, rows, names={123456789012345678: "Zoë =x", 5: "-dash"})
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    raw = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert raw[0] == ["title", "owner_ids", "owner_names", "channel_id", "n"]
    assert raw[1] == ["'=HYPERLINK(\"http://evil\",\"x\")", "id:123456789012345678 id:5", "Zoë =x; -dash",
                      "id:98765432109876543", "-2"]
    assert raw[2] == ["'  @SUM(A1)", "", "", "", "3"]
    assert raw[3] == ["'\t=1", "id:5", "'-dash", "", ""]
    assert raw[4][0] == "''quoted"
    assert raw[5][0] == "plain, with \"quotes\"\nand a line" and raw[5][4] == "1.5"
    back = read_csv(data)
    assert [r["title"] for r in back] == [r["title"] for r in rows]
    assert parse_id(back[0]["channel_id"]) == 98765432109876543 and parse_id("") is None
    assert parse_id("123") == 123 and parse_id(" id:7 ") == 7


def test_every_trigger_is_neutralised() -> None:
    for f in FORMULAS + ["=1", "+", "-", "@", "\t", "\r", " =1", "\u00a0@x", "\n\t-1"]:
        assert neutralise(f).startswith("'"), repr(f)
    for f in ["", "1", "a=b", "x-2", "id:123", "é", "'", "  "]:
        assert neutralise(f)[:1] not in FORMULA_TRIGGERS
    assert neutralise("abc") == "abc" and neutralise("'x") == "''x"
    assert id_cell(2**63) == f"id:{2**63}"


@given(st.text())
def test_neutralise_round_trips(text: str) -> None:
    out = neutralise(text)
    assert unneutralise(out) == text
    assert out[:1] not in FORMULA_TRIGGERS and not (out.lstrip()[:1] in FORMULA_TRIGGERS and out[:1] != "'")


# -- a new export can't skip the writer ------------------------------------------------------------
def _sources() -> list[Path]:
    return sorted(p for d in ("bot", "cogs") for p in (ROOT / d).rglob("*.py"))


def write_csv_call_sites() -> set[str]:
    """"path:Class.function" of every function in bot/ and cogs/ that calls write_csv."""
    sites: set[str] = set()
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, scope: list[str], rel: str = rel) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit(child, [*scope, child.name])
                    continue
                if (
                    isinstance(child, ast.Call)
                    and getattr(child.func, "id", getattr(child.func, "attr", "")) == "write_csv"
                    and rel != "bot/export.py"
                ):
                    sites.add(f"{rel}:{'.'.join(scope)}")
                visit(child, scope)

        visit(tree, [])
    return sites


def test_every_csv_is_written_by_the_shared_writer() -> None:
    own = [p.relative_to(ROOT).as_posix() for p in _sources()
           if re.search(r"csv\.(writer|DictWriter)\(", p.read_text(encoding="utf-8"))]
    assert own == ["bot/export.py"], f"write CSV with bot.export.write_csv, not csv.writer: {own}"
    covered = {s for e in EXPORTS for s in e.writers}
    assert write_csv_call_sites() == covered, (
        "every function that writes a CSV export must be listed in EXPORTS (tests/test_exports.py) so the "
        f"end-to-end test runs it: {write_csv_call_sites() ^ covered}")



def test_cli_export_neutralises_and_import_reads_it_back(tmp_path: Path) -> None:
    """The real `attache export` / `attache import` commands: the export's neutralised cells import as
    typed."""
    from tests.test_cli import cli, write_config

    write_config(tmp_path)
    source = ("slug,name,notes,source\r\n"
              'evil-net,"=HYPERLINK(""http://evil"",""x"")",-2 caveat,@SUM(A1)\r\n'
              "plain-net,Plain Network,fine,+1\r\n")
    (tmp_path / "in.csv").write_text(source, encoding="utf-8")
    r = cli(tmp_path, "import", "networks", "in.csv")
    assert r.returncode == 0 and "2 added" in r.stdout, r.stdout + r.stderr
    r = cli(tmp_path, "export", "networks", "out.csv")
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    raw = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    evil = dict(zip(raw[0], next(r for r in raw[1:] if r[0] == "evil-net"), strict=True))
    assert evil["name"] == "'=HYPERLINK(\"http://evil\",\"x\")" and evil["notes"] == "'-2 caveat"
    assert evil["source"] == "'@SUM(A1)"
    r = cli(tmp_path, "import", "networks", "out.csv")
    assert r.returncode == 0 and "0 added, 2 updated" in r.stdout, r.stdout + r.stderr
    r = cli(tmp_path, "export", "networks", "again.csv")
    assert (
        r.returncode == 0 and (tmp_path / "again.csv").read_bytes() == data
    )  # stored as typed: no quote added


# -- the upload: one packing step for every export ---------------------------------------------------
def test_pack_gzips_above_the_limit_and_refuses_what_never_fits() -> None:
    import gzip
    import os

    import pytest

    from bot.export import ExportTooLarge, pack

    small = pack("a.csv", "é,1\r\n")
    assert (small.filename, small.data, small.compressed) == ("a.csv", "é,1\r\n".encode(), False)
    big = ("x" * 5000).encode()
    packed = pack("a.csv", big, limit=1000)
    assert packed.filename == "a.csv.gz" and packed.compressed and gzip.decompress(packed.data) == big
    assert pack("a.csv", big, limit=1000).data == packed.data  # no timestamp inside: same bytes each time
    with pytest.raises(ExportTooLarge, match="even compressed"):
        pack("a.bin", os.urandom(5000), limit=1000)


def test_json_records_write_ids_as_strings_with_names() -> None:
    from bot.export import json_records
    from bot.retention import FORMER_MEMBER, FORMER_MEMBER_LABEL

    cols = ["id", Column("owner_id", "member"), Column("owner_ids", "member"), Column("channel_id", "id")]
    rows = [{"id": 1, "owner_id": 123456789012345678, "owner_ids": [123456789012345678, FORMER_MEMBER],
             "channel_id": 223456789012345678},
            {"id": 2, "owner_id": None, "owner_ids": [], "channel_id": None}]
    out = json_records(cols, rows, names={123456789012345678: "alice"})
    assert out[0] == {
        "id": 1,
        "owner_id": "123456789012345678",
        "owner_name": "alice",
        "owner_ids": ["123456789012345678", None],
        "owner_names": ["alice", FORMER_MEMBER_LABEL],
        "channel_id": "223456789012345678",
    }
    assert out[1] == {"id": 2, "owner_id": None, "owner_name": None, "owner_ids": [], "owner_names": [],
                      "channel_id": None}
    assert snowflakes_in_json(out) == []


async def test_every_export_is_gzipped_above_the_upload_limit(started_bot: World,
                                                              monkeypatch: Any) -> None:
    """Every export command packs its file the same way: gzip above the limit, a clear refusal when
    even that is too big (nothing half-sent)."""
    import gzip

    import bot.export

    w = started_bot
    w.bot.cooldown_scale = 0  # type: ignore[attr-defined]  # each export runs twice here
    ctx = await plant(w)
    for export in EXPORTS:
        plain = await download(w, export, ctx)
        assert not plain.filename.endswith(".gz"), export
        monkeypatch.setattr(bot.export, "UPLOAD_LIMIT", len(plain.data) - 1)
        f = await download(w, export, ctx)
        assert f.filename == plain.filename + ".gz", (export, f.filename)
        assert gzip.decompress(f.data) == plain.data, export
        monkeypatch.undo()
    monkeypatch.setattr(bot.export, "UPLOAD_LIMIT", 50)
    res = await w.fake.invoke(w.guild, w.mod, "practice export", options={"format": "csv"})
    await res.wait_for_message()
    assert res.ephemeral and not res.files and "even compressed" in str(res.embeds), res
    w.fake.assert_clean()


def test_discord_files_are_built_in_one_place() -> None:
    own = [
        p.relative_to(ROOT).as_posix() for p in _sources() if "discord.File(" in p.read_text(encoding="utf-8")
    ]
    assert own == ["bot/ui.py"], f"build an attachment with bot.ui.upload: {own}"
