"""Permission matrix, end to end through the fake Discord.

Every slash command the bot syncs is classified in `MATRIX` (a new command that is not classified
fails `test_every_synced_command_is_classified`). For every command that changes data and is not
open to everyone, a member without the right role runs it with valid options against real data:

* `MOD` — moderators only: a plain member is refused;
* `OWNER` — the owner / host / submitter, or a moderator: a plain member who is not the owner is refused;
* `MANAGE` — Manage Server: a moderator without Manage Server is refused (and a plain member too);
  `MANAGE_READ` the same for a command that writes nothing itself (`/setup` opens a form).

Each refusal must be an ephemeral message that says who may do it, and the whole database must be
unchanged: every table's row count and a checksum of every row (the `audit` and `jobs` bookkeeping
included) are compared before and after. The moderator's review buttons on a practice's review
card are pressed by a plain member too.

Rights are server-wide: every refused run is also made by two members who hold Manage Messages in
the channel where they run it, and only there (`CHANNEL_ONLY`: one by a member overwrite, one by a
role overwrite). Discord puts that permission in the interaction's `member.permissions`; it must
not make them moderators, owners' stand-ins or managers anywhere.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from discord import app_commands

from bot.sandbox.emulation import Channel, InteractionResult, Member, Perm
from tests.e2e import World, practice_service

JsonDict = dict[str, Any]

# -- classification --------------------------------------------------------------------------
READ = "read"  # changes nothing (some are moderator-only reads: refused too, but nothing to protect)
ANYONE = "anyone"  # changes data, open to every member (their own data, or a new record they own)
MOD = "moderator"
MOD_READ = "moderator read"  # changes nothing, but only moderators may see it (exports, queue, audit)
OWNER = "owner"
OWNER_READ = "owner read"  # changes nothing, but only the owner / host or moderators may see it (attendees)
MANAGE = "manage"
MANAGE_READ = "manage read"  # changes nothing itself, but only Manage Server may open it (/setup)


@dataclass(frozen=True)
class Case:
    kind: str
    options: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # ctx -> options for the refusal run


def _o(**kw: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Options; a str value starting with '$' is looked up in the context (ids made in setup)."""
    return lambda ctx: {
        k: (ctx[v[1:]] if isinstance(v, str) and v.startswith("$") else v) for k, v in kw.items()
    }


MATRIX: dict[str, Case] = {
    # core
    "help": Case(READ),
    "setup": Case(MANAGE_READ, _o()),
    "audit": Case(MOD_READ, _o()),
    "settings show": Case(MOD_READ, _o()),
    "settings moderator-role": Case(MANAGE, _o(role="$other_role")),
    "settings review-channel": Case(MANAGE, _o(channel="$general")),
    "settings announcements-channel": Case(MANAGE, _o(channel="$general")),
    "settings timezone": Case(MANAGE, _o(zone="Asia/Tokyo")),
    "settings creation-limit": Case(MANAGE, _o(kind="roundtable", per_hour=5)),
    "settings event-slots": Case(MANAGE, _o(count=20)),
    # directory
    "profile set": Case(ANYONE),
    "profile show": Case(READ),
    "profile clear": Case(ANYONE),
    "privacy forget-me": Case(ANYONE),
    "calendar subscribe": Case(ANYONE),  # the member's own feed
    "calendar reset": Case(ANYONE),
    "profile verify": Case(MOD, _o(member="$bob")),
    "city show": Case(READ),
    "city add": Case(MOD, _o(name="Permtown Heights", country="US", timezone="America/Denver")),
    "network list": Case(READ),
    "network show": Case(READ),
    "network members": Case(READ),
    "network shared": Case(READ),
    "network overlap": Case(READ),
    "network add": Case(MOD, _o(name="Refused Ports Network", acronym="RPN")),
    "network add-member": Case(MOD, _o(network="PMX", city="Lima")),
    "network remove-member": Case(MOD, _o(network="PMX", city="Tijuana")),
    "network import": Case(MOD, _o(file="$import_file")),
    "network export": Case(MOD_READ, _o()),
    "directory gaps": Case(MOD_READ, _o()),
    "directory verified-role": Case(MANAGE, _o(role="$other_role")),
    "whois": Case(READ),
    # MOUs
    "mou add": Case(ANYONE),
    "mou party add": Case(OWNER, _o(id="$mou", city="Berlin, DE")),
    "mou party set": Case(OWNER, _o(id="$mou", party="1", ours=True)),
    "mou milestone add": Case(OWNER, _o(id="$mou", date="2031-01-15", description="Refused milestone")),
    "mou milestone done": Case(OWNER, _o(id="$mou", milestone="$milestone")),
    "mou owner add": Case(OWNER, _o(id="$mou", member="$carol")),
    "mou owner remove": Case(OWNER, _o(id="$mou", member="$bob")),
    "mou list": Case(READ),
    "mou show": Case(READ),
    "mou update": Case(OWNER, _o(id="$mou", title="Hijacked title")),
    "mou renew": Case(OWNER, _o(id="$mou", new_expiry="2036-01-01")),
    "mou terminate": Case(OWNER, _o(id="$mou", reason="refused")),
    "mou log": Case(OWNER, _o(id="$mou", text="A refused visit")),
    "mou remind": Case(OWNER, _o(id="$mou", offsets="60,10")),
    "mou upcoming": Case(READ),
    "mou export": Case(MOD_READ, _o(format="csv")),
    "mou ics": Case(READ),
    "mou settings": Case(MOD, _o(reminder_hour=7, dormant_months=3)),
    # practices
    "practice share": Case(ANYONE),
    "practice edit": Case(OWNER, _o(id="$pending", city="Berlin, DE")),
    "practice queue": Case(MOD_READ, _o()),
    "practice approve": Case(MOD, _o(id="$pending")),
    "practice reject": Case(MOD, _o(id="$pending", reason="refused")),
    "practice request-changes": Case(MOD, _o(id="$pending", reason="refused")),
    "practice duplicate": Case(MOD, _o(id="$pending", of="$approved")),
    "practice archive": Case(MOD, _o(id="$approved")),
    "practice export": Case(MOD_READ, _o()),
    "practice search": Case(READ),
    "practice show": Case(READ),
    "practice mine": Case(READ),
    "practice stats": Case(READ),
    # roundtables
    "roundtable schedule": Case(ANYONE),
    "roundtable list": Case(READ),
    "roundtable show": Case(READ),
    "roundtable rsvp": Case(ANYONE),
    "roundtable edit": Case(OWNER, _o(id="$rt", title="Hijacked roundtable")),
    "roundtable cancel": Case(OWNER, _o(id="$rt")),
    "roundtable notes": Case(OWNER, _o(id="$rt", text="Refused notes")),
    "roundtable ics": Case(READ),
    "roundtable attendees": Case(OWNER_READ, _o(id="$rt")),
    "roundtable findtime": Case(READ),
    "roundtable reminders": Case(ANYONE),
    "roundtable reminder-times": Case(MANAGE, _o(times="2d, 1h")),
}

REFUSAL = {
    MOD: re.compile(r"only moderators|moderator", re.I),
    MOD_READ: re.compile(r"only moderators|moderator", re.I),
    OWNER: re.compile(r"only the (owners|host|submitter)", re.I),
    OWNER_READ: re.compile(r"only the (owners|host|submitter)", re.I),
    MANAGE: re.compile(r"manage server", re.I),
    MANAGE_READ: re.compile(r"manage server", re.I),
}


# -- helpers shared with the other hardening tests -------------------------------------------
def leaf_commands(commands: list[JsonDict]) -> list[str]:
    """Every invocable slash command path ("cmd", "cmd sub", "cmd group sub") of a synced tree."""
    out: list[str] = []

    def walk(prefix: str, options: list[JsonDict]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]
        if not subs:
            out.append(prefix)
        for s in subs:
            walk(f"{prefix} {s['name']}", s.get("options") or [])

    for c in commands:
        if c.get("type", 1) == 1:
            walk(c["name"], c.get("options") or [])
    return out


BIG_TABLE = 20_000  # the gazetteer (cities, city_names): hashed in full only when full=True


def db_snapshot(path: Path, *, full: bool = True) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of every row)} over every real table (FTS shadow tables included),
    read from a second connection (WAL: it sees exactly what is committed): `SELECT * ... ORDER BY
    rowid`; WITHOUT ROWID tables come in primary-key order.

    With full=False a table of more than BIG_TABLE rows (only the read-only gazetteer) is summarised
    by its row count, its rowid/column totals and a hash of its server-added rows (guild_id set),
    which keeps a per-command snapshot fast (~50 ms instead of ~2 s); take a full one around a run."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
            )
        ]
        out: dict[str, tuple[int, str]] = {}
        for t in tables:
            quoted = '"' + t.replace('"', '""') + '"'  # table names come from sqlite_master
            count = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            h = hashlib.sha256()
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({quoted})")]
            if not full and count > BIG_TABLE and "guild_id" in cols:
                h.update(repr(tuple(conn.execute(
                    f"SELECT count(*), total(length(key)) FROM {quoted}").fetchone())).encode())
                rows = conn.execute(f"SELECT * FROM {quoted} WHERE guild_id IS NOT NULL").fetchall()
            else:
                try:
                    rows = conn.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()
                except sqlite3.OperationalError:  # WITHOUT ROWID
                    rows = conn.execute(f"SELECT * FROM {quoted}").fetchall()
            for row in rows:
                h.update(repr(tuple(row)).encode())
            out[t] = (count, h.hexdigest())
        return out
    finally:
        conn.close()


def snapshot_diff(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return [f"{t}: {before.get(t)} -> {after.get(t)}" for t in sorted(set(before) | set(after))
            if before.get(t) != after.get(t)]


def db_path(w: World) -> Path:
    return Path(w.config.database_path)


async def share_practice(w: World, member: Member, title: str, *, city: str = "Lyon, FR",
                         topic: str = "water", guild: Any = None) -> int:
    g = guild or w.guild
    res = await w.fake.invoke(g, member, "practice share", {"city": city, "topic": topic})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(g, member, res, {
        "title": title, "summary": f"{title}: the summary of what the city did and why it mattered.",
        "approach": "We did the work in three phases with the residents and the utility company.",
        "results": "Measurable improvement within two years, documented in the annual report.",
        "lessons": "Start small, publish the numbers, involve the neighbourhoods early."})
    await done.wait_for_message()
    m = re.search(r"Practice \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    return int(m.group(1))


async def add_mou(
    w: World,
    member: Member,
    title: str,
    *,
    city_a: str = "Seoul, KR",
    city_b: str = "Paris, FR",
    guild: Any = None,
    summary: str = "",
) -> int:
    g = guild or w.guild
    res = await w.fake.invoke(g, member, "mou add", {
        "kind": "sister-city", "title": title, "city_a": city_a, "city_b": city_b,
        "signed": "2020-05-01", "expires": "2034-05-01"})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(g, member, res, {"mou_add_summary": summary or f"{title} summary"})
    m = re.search(r"#(\d+)\*\* recorded", done.content)
    assert m, done.text
    return int(m.group(1))


async def schedule_rt(w: World, member: Member, title: str, *, guild: Any = None, announcements: Any = None,
                      **extra: Any) -> int:
    g = guild or w.guild
    start = (datetime.now(UTC) + timedelta(days=200)).replace(hour=10, minute=0, second=0, microsecond=0)
    mark = w.fake.mark()
    res = await w.fake.invoke(g, member, "roundtable schedule", {
        "title": title, "when": start.strftime("%Y-%m-%d %H:%M"), "timezone": "UTC", **extra})
    assert "Scheduled" in res.text, res.text
    msg = await w.fake.wait_for_message(announcements or w.announcements,
                                        lambda m: bool(m.get("components")), after=mark)
    cid = msg["components"][0]["components"][0]["custom_id"]
    return int(cid.split(":")[2])


def custom_ids(message: JsonDict) -> list[str]:
    out: list[str] = []

    def walk(items: list[JsonDict]) -> None:
        for item in items:
            if item.get("custom_id"):
                out.append(item["custom_id"])
            walk(item.get("components") or [])

    walk(message.get("components") or [])
    return out


# -- tests -----------------------------------------------------------------------------------
async def test_every_synced_command_is_classified(started_bot: World) -> None:
    synced = set(leaf_commands(started_bot.fake.commands_for(None)))
    missing = sorted(synced - set(MATRIX))
    assert not missing, f"classify these commands in tests/test_permission_matrix.py MATRIX: {missing}"
    stale = sorted(set(MATRIX) - synced)
    assert not stale, f"MATRIX lists commands that are no longer synced: {stale}"


CHANNEL_ONLY = ("chanmod", "chanhelper")  # w.extra keys: Manage Messages in one channel only


def add_channel_only_moderators(w: World, channel: Channel) -> list[Member]:
    """Two members with Manage Messages in `channel` only: one by a member overwrite, one by the
    overwrite of a role that carries no permission itself. Stored in `w.extra` (CHANNEL_ONLY)."""
    g = w.guild
    if all(k in w.extra for k in CHANNEL_ONLY):
        members: list[Member] = [w.extra[k] for k in CHANNEL_ONLY]
    else:
        helpers = g.add_role("Channel helpers", permissions=0)
        members = [g.add_member(name="chanmod"), g.add_member(name="chanhelper", roles=[helpers])]
        w.extra.update(zip(CHANNEL_ONLY, members, strict=True))
        w.extra["channel_helpers_role"] = helpers
    g.set_overwrite(channel, members[0], allow=Perm.MANAGE_MESSAGES | Perm.MANAGE_CHANNELS)
    g.set_overwrite(channel, w.extra["channel_helpers_role"], allow=Perm.MANAGE_MESSAGES)
    return members


def _channel_perms(res: InteractionResult) -> int:
    return int(res.payload["member"]["permissions"])


# The runtime checks of bot.checks, by the name of their predicate, and the kinds that test them.
CHECK_KINDS = {"moderator_only": (MOD, MOD_READ), "manage_guild_only": (MANAGE, MANAGE_READ)}


def _runtime_checks(command: Any) -> set[str]:
    names = set()
    for check in getattr(command, "checks", []):
        qual = getattr(check, "__qualname__", "")
        names.update(name for name in CHECK_KINDS if qual.startswith(f"{name}.<locals>."))
    return names


async def test_every_checked_command_is_refusal_tested(started_bot: World) -> None:
    """A command with moderator_only() / manage_guild_only() is classified so the refusal runs
    (by plain and channel-only members): a new moderator command can't be left out as READ."""
    wrong: list[str] = []
    for command in started_bot.bot.tree.walk_commands():
        if isinstance(command, app_commands.Group):
            continue
        for check in _runtime_checks(command):
            case = MATRIX.get(command.qualified_name)
            if case is None or case.kind not in CHECK_KINDS[check]:
                wrong.append(f"/{command.qualified_name} has {check}() but is {case and case.kind!r}")
    assert not wrong, "\n".join(wrong)


async def _setup(w: World) -> dict[str, Any]:
    fake, g = w.fake, w.guild
    add_channel_only_moderators(w, w.general)  # the refused commands run in #general
    other_role = g.add_role("Other role", permissions=0)
    ctx: dict[str, Any] = {"other_role": other_role, "general": w.general, "bob": w.bob, "carol": w.carol}
    # practices: one pending (alice's) and one approved
    ctx["pending"] = await share_practice(w, w.alice, "Pending permeable pavements")
    ctx["approved"] = await share_practice(w, w.alice, "Approved heat shelters", topic="climate")
    res = await fake.invoke(g, w.mod, "practice approve", {"id": ctx["approved"]})
    assert "Approved" in res.text or "approved" in res.text, res.text
    # a roundtable hosted by bob; bob's agreement with a milestone
    ctx["rt"] = await schedule_rt(w, w.bob, "Matrix roundtable")
    ctx["mou"] = await add_mou(w, w.bob, "Matrix agreement")
    res = await fake.invoke(g, w.bob, "mou milestone add", {"id": ctx["mou"], "date": "2031-06-01",
                                                            "description": "Joint festival"})
    assert res.ephemeral, res.text
    ctx["milestone"] = int(await w.bot.db.fetchval(
        "SELECT id FROM mou_milestones WHERE guild_id = ? AND agreement_id = ?", (g.id, ctx["mou"])))
    # a guild network with one member city; bob's profile
    res = await fake.invoke(g, w.mod, "network add", {"name": "Permission Matrix Network", "acronym": "PMX"})
    assert "Added" in res.text, res.text
    res = await fake.invoke(g, w.mod, "network add-member", {"network": "PMX", "city": "Tijuana"})
    assert "Recorded" in res.text, res.text
    res = await fake.invoke(
        g, w.bob, "profile set", {"city": "Lima", "title": "Head of international affairs"}
    )
    assert res.ephemeral, res.text
    ctx["import_file"] = ("members.csv", b"city,country_iso2,network_slug,since_year\nLima,PE,pmx,2020\n")
    return ctx


def _actors(w: World, kind: str) -> list[Member]:
    """Who must be refused: per kind, plus (for every kind) the channel-only moderators."""
    channel_only = [w.extra[k] for k in CHANNEL_ONLY]
    if kind in (MOD, MOD_READ):
        return [w.alice, *channel_only]
    if kind in (OWNER, OWNER_READ):
        return [w.carol, *channel_only]  # plain members who are not the owner / host / submitter
    if kind in (MANAGE, MANAGE_READ):
        return [w.mod, w.alice, *channel_only]  # a moderator without Manage Server; plain members
    return []


async def test_refused_actions_change_nothing(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    ctx = await _setup(w)
    path = db_path(w)
    failures: list[str] = []
    refused = channel_only_refused = 0
    start = db_snapshot(path)
    before = db_snapshot(path, full=False)
    for name, case in MATRIX.items():
        if case.kind not in REFUSAL:
            continue
        assert case.options is not None, name
        for actor in _actors(w, case.kind):
            opts = case.options(ctx)
            attachments = {k: opts.pop(k) for k in [k for k, v in opts.items() if isinstance(v, tuple)]}
            res = await fake.invoke(
                w.guild, actor, name, opts, attachments=attachments or None, channel=w.general
            )
            after = db_snapshot(path, full=False)
            who = f"/{name} by {actor.name}"
            if res.modal is not None:
                failures.append(f"{who}: opened a modal instead of refusing")
            elif not res.ephemeral:
                failures.append(f"{who}: the refusal is not ephemeral: {res.text!r}")
            elif not REFUSAL[case.kind].search(res.text):
                failures.append(f"{who}: not a clear refusal: {res.text!r}")
            diff = snapshot_diff(before, after)
            if diff:
                failures.append(f"{who}: the database changed: {diff}")
            if actor.name in CHANNEL_ONLY and not _channel_perms(res) & Perm.MANAGE_MESSAGES:
                failures.append(f"{who}: the interaction did not carry the channel's Manage Messages")
            before = after
            refused += 1
            channel_only_refused += actor.name in CHANNEL_ONLY
    assert not failures, "\n".join(failures)
    assert snapshot_diff(start, db_snapshot(path)) == []  # every row of every table, gazetteer included
    assert refused >= 30
    assert channel_only_refused >= 2 * sum(case.kind in REFUSAL for case in MATRIX.values())
    assert fake.violations == [] and fake.unhandled == []


async def test_plain_member_cannot_press_review_buttons(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    pid = await share_practice(w, w.alice, "Buttons are for moderators")
    card = await fake.wait_for_message(w.reviews, lambda m: any(f"pr:rv:{pid}:" in c for c in custom_ids(m)))
    review = [c for c in custom_ids(card) if c.startswith(f"pr:rv:{pid}:")]
    assert len(review) >= 3, review
    channel_only = add_channel_only_moderators(w, w.reviews)  # Manage Messages in #reviews only
    path = db_path(w)
    start = db_snapshot(path)
    for cid in review:
        for actor in (w.alice, w.bob, *channel_only):  # the submitter, another plain member, channel-only
            before = db_snapshot(path, full=False)
            res: InteractionResult = await fake.click(w.guild, actor, card, cid)
            after = db_snapshot(path, full=False)
            assert res.modal is None, f"{cid} by {actor.name} opened a modal"
            assert res.ephemeral and REFUSAL[MOD].search(res.text), (cid, actor.name, res.text)
            if actor in channel_only:  # Discord computed Manage Messages in #reviews for them
                assert _channel_perms(res) & Perm.MANAGE_MESSAGES, actor.name
            assert snapshot_diff(before, after) == [], (cid, actor.name)
    assert snapshot_diff(start, db_snapshot(path)) == []
    assert (await practice_service(w.bot).get(w.guild.id, pid)).status == "pending"
    assert fake.violations == [] and fake.unhandled == []
