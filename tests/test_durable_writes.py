"""Durable, ordered writes.

* Acknowledge first: every command, button and form that writes answers Discord (a deferral or a
  reply) before its first write, so a slow moment never leaves a saved change on screen as
  "interaction failed". The fake Discord calls a hook when it accepts an interaction callback; the
  hook snapshots the database (a second connection: only what is committed) at that instant. Every
  writing command of the permission matrix (`MATRIX`, kinds ANYONE, MOD, OWNER, MANAGE) is run with valid
  options by a member allowed to: the snapshot at its acknowledgement must equal the one before,
  and the one after must differ (it did write). A writing command missing here fails the test.
* Notices that follow a committed decision (a practice's decision DM and announcement, a roundtable
  edit/cancel notice, a place that opened up) are jobs enqueued in the decision's transaction: the
  bot is stopped right after the commit (or after sending, before recording it) and restarted on the
  same database; each is delivered exactly once, every send of one job with its own nonce.
* MOU re-planning (after a settings change, at start-up, after the digest) reads and writes in one
  transaction: a `/mou update` that lands meanwhile is never overwritten with stale dates.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.db import Database
from bot.interactions import ACK_EXTRA
from bot.sandbox.emulation import FakeDiscord, InteractionResult, Member
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from cogs.mous.service import SETTING_SPECS, Actor, MouService
from tests.e2e import (
    MovableClock,
    World,
    configure,
    make_config,
    mou_service,
    populate,
    practice_service,
    start_world,
)
from tests.test_permission_matrix import (
    ANYONE,
    MANAGE,
    MANAGE_READ,
    MATRIX,
    MOD,
    MOD_READ,
    OWNER,
    OWNER_READ,
    READ,
    add_mou,
    custom_ids,
    db_path,
    db_snapshot,
    schedule_rt,
    share_practice,
    snapshot_diff,
)

G = 1001
MOU_OWNER = Actor(501)


# -- MOU re-planning vs a concurrent update ---------------------------------------------------------
@pytest.fixture
async def mou_svc(db: Database) -> AsyncIterator[MouService]:
    settings = SettingsService(db, default_timezone="UTC")
    for spec in SETTING_SPECS:
        settings.register(spec)
    await settings.set(G, "announcements_channel_id", 777, actor_id=None)
    yield MouService(db, Scheduler(db, clock=lambda: datetime(2026, 1, 15, 12, 0, tzinfo=UTC)), settings)


async def _reminders(svc: MouService, agreement_id: int) -> dict[str, datetime]:
    return {j.dedupe_key: j.original_due_at for j in await svc.scheduler.pending(G, f"mou:{agreement_id}:")}


@pytest.mark.parametrize("which", ["replan_guild", "replan"])
async def test_replan_never_overwrites_a_concurrent_update(mou_svc: MouService, which: str) -> None:
    svc = mou_svc
    a = await svc.create(
        G,
        MOU_OWNER,
        kind="sister-city",
        title="Seoul–Paris",
        parties=["Seoul, KR", "Paris, FR"],
        signed="2025-06-01",
        expires="2026-12-31",
        notice_days=90,
        owner_ids=[MOU_OWNER.id],
    )
    before = await _reminders(svc, a.id)
    assert before and all(d.year == 2026 for k, d in before.items() if ":exp:" in k)

    # A pause between the re-plan's reads and its writes, long enough for an update to land in
    # between if nothing stops it (the old code read outside its transaction).
    original = svc._pending_map
    reached = asyncio.Event()

    async def paused(guild_id: int, prefix: str) -> dict[str, Any]:
        if not reached.is_set():
            reached.set()
            await asyncio.sleep(0.3)
        return await original(guild_id, prefix)

    svc._pending_map = paused  # type: ignore[method-assign]
    updated: list[str] = []

    async def update() -> None:
        await reached.wait()
        await svc.update(G, MOU_OWNER, a.id, expires="2031-06-30")
        updated.append("done")

    # force: plan even though the inputs look unchanged (the re-plan must read, pause, then write)
    replan = (svc.replan_guild(G, reconcile=False, force=True) if which == "replan_guild"
              else svc.replan(G, a.id))
    writer = asyncio.create_task(update())  # created outside the re-plan's transaction
    await asyncio.gather(replan, writer)
    svc._pending_map = original  # type: ignore[method-assign]
    assert updated == ["done"]

    after = await _reminders(svc, a.id)
    expiry = {k: d for k, d in after.items() if ":exp:" in k}
    assert expiry, after
    stale = sorted(k for k, d in expiry.items() if d.year < 2031)
    assert not stale, f"reminders planned from the old expiry overwrote the update's: {stale}"
    # and the stored plan is exactly what the stored agreement asks for: a fresh re-plan changes nothing
    stats = await svc.replan(G, a.id)
    assert (stats.scheduled, stats.cancelled) == (0, 0)


# -- acknowledge first ----------------------------------------------------------------------------
Snapshot = dict[str, tuple[int, str]]
# The permission matrix's kinds of command that change data; READ and MOD_READ change nothing.
WRITING_KINDS = {ANYONE, MOD, OWNER, MANAGE}
# Commands that open a form: they can't defer; the form's submission acknowledges before writing.
OPENS_MODAL = {"practice share", "practice edit", "mou add"}
# Commands that ask first (a Confirm prompt): the confirming press acknowledges before writing.
ASKS_FIRST = {"privacy forget-me"}
WAITS_FOR_EDIT = {f"/{name} confirmed" for name in ASKS_FIRST}
# A silent deferred update whose result is an edit of the pressed message, not a followup.
UPDATES_IN_PLACE = {"setup view channel", "setup view role", "setup view zone", "setup zone form"}
MODAL_VALUES: dict[str, Callable[[str], dict[str, str]]] = {
    "practice share": lambda t: {
        "title": f"{t} acknowledged",
        "summary": "A summary long enough to be valid here.",
        "approach": "An approach described in enough words for the library.",
        "results": "",
        "lessons": "",
    },
    "practice edit": lambda t: {
        "title": "Pending permeable pavements, edited",
        "summary": "Edited summary text.",
        "approach": "Edited approach, described in enough words.",
        "results": "",
        "lessons": "",
    },
    "mou add": lambda t: {"mou_add_summary": "Acknowledged before it was saved"},
}


@dataclass(frozen=True)
class Run:
    actor: str  # attribute of World
    options: Callable[[dict[str, Any]], dict[str, Any]]
    clock_at: str | None = None  # move the bot's clock to ctx[clock_at] first


def _o(**kw: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda ctx: {
        k: (ctx[v[1:]] if isinstance(v, str) and v.startswith("$") else v) for k, v in kw.items()
    }


# In this order, each with valid options by a member allowed to (the owner, a moderator or an admin).
ACK_RUNS: dict[str, Run] = {
    "profile set": Run("alice", _o(city="Lyon", title="Adviser")),
    "profile clear": Run("alice", _o()),
    "profile verify": Run("mod", _o(member="$bob")),
    "city add": Run("mod", _o(name="Acktown Heights", country="US", timezone="America/Denver")),
    "network add": Run("mod", _o(name="Acknowledged Ports Network", acronym="APN")),
    "network add-member": Run("mod", _o(network="PMX", city="Lima")),
    "network remove-member": Run("mod", _o(network="PMX", city="Tijuana")),
    "network import": Run("mod", _o(file="$import_file")),
    "directory verified-role": Run("admin", _o(role="$reps_role")),
    "mou add": Run(
        "alice",
        _o(
            kind="sister-city",
            title="Ack agreement",
            city_a="Seoul, KR",
            city_b="Paris, FR",
            signed="2020-05-01",
            expires="2034-05-01",
        ),
    ),
    "mou party add": Run("bob", _o(id="$mou", city="Berlin, DE")),
    "mou party set": Run("bob", _o(id="$mou", party="1", ours=True)),
    "mou milestone add": Run("bob", _o(id="$mou", date="2031-01-15", description="Ack milestone")),
    "mou milestone done": Run("mod", _o(id="$mou", milestone="$milestone")),
    "mou owner add": Run("bob", _o(id="$mou", member="$carol")),
    "mou owner remove": Run("mod", _o(id="$mou", member="$carol")),
    "mou update": Run("bob", _o(id="$mou", title="Updated title")),
    "mou renew": Run("bob", _o(id="$mou", new_expiry="2036-01-01")),
    "mou log": Run("bob", _o(id="$mou", text="A visit")),
    "mou remind": Run("bob", _o(id="$mou", offsets="60,10")),
    "mou terminate": Run("mod", _o(id="$mou", reason="ended")),
    "mou settings": Run("mod", _o(reminder_hour=7)),
    "practice share": Run("carol", _o(city="Lyon, FR", topic="water")),
    "practice edit": Run("alice", _o(id="$pending", city="Berlin, DE")),
    "practice approve": Run("mod", _o(id="$p_approve")),
    "practice reject": Run("mod", _o(id="$p_reject", reason="not a practice")),
    "practice request-changes": Run("mod", _o(id="$p_changes", reason="add numbers")),
    "practice duplicate": Run("mod", _o(id="$p_duplicate", of="$approved")),
    "practice archive": Run("mod", _o(id="$approved2")),
    "roundtable schedule": Run(
        "bob", lambda ctx: {"title": "Ack roundtable", "when": ctx["when"], "timezone": "UTC"}
    ),
    "roundtable rsvp": Run("alice", _o(id="$rt", response="going")),
    "roundtable edit": Run("bob", _o(id="$rt", title="Edited roundtable")),
    "roundtable notes": Run("bob", _o(id="$rt_notes", text="What we said"), clock_at="rt_notes_started"),
    "roundtable reminders": Run("carol", _o(state="on")),
    "roundtable reminder-times": Run("admin", _o(times="2d, 1h")),
    "roundtable cancel": Run("mod", _o(id="$rt")),
    "settings review-channel": Run("admin", _o(channel="$general")),
    "settings announcements-channel": Run("admin", _o(channel="$general")),
    "settings timezone": Run("admin", _o(zone="Asia/Tokyo")),
    "settings creation-limit": Run("admin", _o(kind="roundtable", per_hour=50)),
    "settings event-slots": Run("admin", _o(count=20)),
    "settings language": Run("admin", _o(language="es")),
    "settings moderator-role": Run("admin", _o(role="$other_role")),
    "calendar subscribe": Run("carol", _o(all_roundtables=True, deadlines="all")),
    "calendar reset": Run("carol", _o()),
    "privacy forget-me": Run("dave", _o()),  # last: it deletes the member's data
}


def _writing() -> set[str]:
    unknown = {case.kind for case in MATRIX.values()} - WRITING_KINDS - {READ, MOD_READ, OWNER_READ,
                                                                          MANAGE_READ}
    assert not unknown, f"a new kind of command in MATRIX: say whether it writes (WRITING_KINDS): {unknown}"
    return {name for name, case in MATRIX.items() if case.kind in WRITING_KINDS}


def test_every_writing_command_is_covered() -> None:
    writing = _writing()
    assert set(ACK_RUNS) == writing, (
        f"add to ACK_RUNS: {sorted(writing - set(ACK_RUNS))}; stale: {sorted(set(ACK_RUNS) - writing)}")


class AckObserver:
    """The fake's callback hook: the database as committed when each interaction was acknowledged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.at_ack: dict[int, Snapshot] = {}
        self.types: dict[int, int] = {}

    def __call__(self, res: InteractionResult, body: dict[str, Any]) -> None:
        self.at_ack[res.id] = _snap(self.path)
        self.types[res.id] = int(body.get("type") or 0)


def _snap(path: Path) -> Snapshot:
    # `jobs` is left out: the scheduler claims and finishes earlier jobs in the background. Every
    # member write also writes an audit row, which is compared.
    return {t: v for t, v in db_snapshot(path, full=False).items() if t != "jobs"}


async def _idle(w: World) -> None:
    await w.bot.get_cog("Roundtables").wait_idle()  # type: ignore[union-attr]
    await asyncio.sleep(0.05)


async def _wrote_after_ack(w: World, obs: AckObserver, what: str, act: Callable[[], Any],
                           failures: list[str]) -> InteractionResult:
    await _idle(w)
    before = _snap(obs.path)
    res: InteractionResult = await act()
    if res.callback_type == 5:
        await res.wait_for_message()
    elif res.callback_type == 6 and what in UPDATES_IN_PLACE:  # the pressed message is edited
        await res.wait_for_edit()
    elif res.callback_type == 6:  # a silent deferred update: the answer is the followup
        await res.wait_for_followup()
    elif res.callback_type == 7 and what in WAITS_FOR_EDIT:  # "working on it" in place, then the result
        await res.wait_for_edit()
    after = _snap(obs.path)
    at_ack = obs.at_ack.get(res.id)
    if at_ack is None:
        failures.append(f"{what}: never acknowledged")
    elif snapshot_diff(before, at_ack):
        failures.append(f"{what}: wrote before acknowledging (callback type {obs.types[res.id]}): "
                        f"{snapshot_diff(before, at_ack)}")
    if not snapshot_diff(before, after):
        failures.append(f"{what}: wrote nothing (so this run proves nothing): {res.text!r}")
    return res


async def _setup(w: World) -> dict[str, Any]:
    fake, g = w.fake, w.guild
    ctx: dict[str, Any] = {"other_role": g.add_role("Other role", permissions=0), "general": w.general,
                           "bob": w.bob, "carol": w.carol,
                           "reps_role": g.add_role("City representatives", permissions=0, position=1)}
    ctx["pending"] = await share_practice(w, w.alice, "Pending permeable pavements")
    for key, title in (
        ("p_approve", "Approve me: rain gardens"),
        ("p_reject", "Reject me: fog catchers"),
        ("p_changes", "Change me: bike lanes"),
        ("p_duplicate", "Duplicate of heat shelters"),
        ("p_button", "Approve by button: tree canopy"),
        ("p_form", "Reject by form: noise maps"),
        ("approved", "Approved heat shelters"),
        ("approved2", "Archive me: solar benches"),
    ):
        ctx[key] = await share_practice(
            w, w.alice, title, city="Porto, PT" if key != "approved" else "Lyon, FR"
        )
    for key in ("approved", "approved2"):
        res = await fake.invoke(g, w.mod, "practice approve", {"id": ctx[key]})
        assert "approved" in res.text.lower(), res.text
    ctx["rt"] = await schedule_rt(w, w.bob, "Ack roundtable of bob")
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    res = await fake.invoke(g, w.bob, "roundtable schedule", {"title": "Ack notes", "timezone": "UTC",
                                                             "when": start.strftime("%Y-%m-%d %H:%M"),
                                                             "duration": "12h"})
    ctx["rt_notes"] = int(await w.bot.db.fetchval(
        "SELECT id FROM roundtables WHERE guild_id = ? AND title = 'Ack notes'", (g.id,)))
    ctx["rt_notes_started"] = start + timedelta(hours=1)
    ctx["when"] = (datetime.now(UTC) + timedelta(days=300)).strftime("%Y-%m-%d 10:00")
    ctx["mou"] = await add_mou(w, w.bob, "Ack agreement of bob")
    res = await fake.invoke(g, w.bob, "mou milestone add", {"id": ctx["mou"], "date": "2031-06-01",
                                                            "description": "Joint festival"})
    ctx["milestone"] = int(await w.bot.db.fetchval(
        "SELECT id FROM mou_milestones WHERE guild_id = ? AND agreement_id = ?", (g.id, ctx["mou"])))
    res = await fake.invoke(g, w.mod, "network add", {"name": "Permission Matrix Network", "acronym": "PMX"})
    assert "Added" in res.text, res.text
    res = await fake.invoke(g, w.mod, "network add-member", {"network": "PMX", "city": "Tijuana"})
    assert "Recorded" in res.text, res.text
    res = await fake.invoke(
        g, w.bob, "profile set", {"city": "Lima", "title": "Head of international affairs"}
    )
    assert res.ephemeral, res.text
    ctx["import_file"] = ("members.csv", b"city,country_iso2,network_slug,since_year\nLima,PE,pmx,2019\n")
    return ctx


async def test_every_writing_command_acknowledges_before_it_writes(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    clock = MovableClock()
    web = {"listen": "127.0.0.1:0", "public_url": "https://attache.example"}  # /calendar writes only with it
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock, config_overrides={"web": web}) as w:
        await _acknowledged_first(w, clock)


async def _acknowledged_first(w: World, clock: MovableClock) -> None:
    fake = w.fake
    ctx = await _setup(w)
    obs = AckObserver(db_path(w))
    fake.on_interaction_callback = obs
    failures: list[str] = []
    try:
        for name, run in ACK_RUNS.items():
            actor: Member = getattr(w, run.actor)
            if run.clock_at is not None:
                clock.jump_to(ctx[run.clock_at])
            opts = run.options(ctx)
            attachments = {k: opts.pop(k) for k in [k for k, v in opts.items() if isinstance(v, tuple)]}
            if name in OPENS_MODAL:
                res = await fake.invoke(w.guild, actor, name, opts)
                if res.modal is None:
                    failures.append(f"/{name}: expected a form, got {res.text!r}")
                    continue
                assert snapshot_diff(_snap(obs.path), obs.at_ack[res.id]) == [], name  # opening wrote nothing
                form = res
                await _wrote_after_ack(
                    w,
                    obs,
                    f"/{name} form",
                    lambda form=form, name=name, actor=actor: fake.submit_modal(
                        w.guild, actor, form, MODAL_VALUES[name](name)
                    ),
                    failures,
                )
                continue
            if name in ASKS_FIRST:
                res = await fake.invoke(w.guild, actor, name, opts)
                if not res.custom_ids:
                    failures.append(f"/{name}: expected a confirmation prompt, got {res.text!r}")
                    continue
                assert snapshot_diff(_snap(obs.path), obs.at_ack[res.id]) == [], name  # asking wrote nothing
                await _wrote_after_ack(w, obs, f"/{name} confirmed", lambda res=res, actor=actor:
                                       fake.click(w.guild, actor, res, res.custom_ids[0]), failures)
                continue
            await _wrote_after_ack(
                w,
                obs,
                f"/{name}",
                lambda name=name, actor=actor, opts=opts, att=attachments: fake.invoke(
                    w.guild, actor, name, opts, attachments=att or None
                ),
                failures,
            )

        # buttons and forms on the bot's posts
        card = await fake.wait_for_message(w.reviews, lambda m: any(f"pr:rv:{ctx['p_button']}:" in c
                                                                    for c in custom_ids(m)))
        approve = next(c for c in custom_ids(card) if c.endswith(":ap"))
        await _wrote_after_ack(
            w, obs, "review card Approve", lambda: fake.click(w.guild, w.admin, card, approve), failures
        )
        card = await fake.wait_for_message(w.reviews, lambda m: any(f"pr:rv:{ctx['p_form']}:" in c
                                                                    for c in custom_ids(m)))
        reject = next(c for c in custom_ids(card) if c.endswith(":rj"))
        form = await fake.click(w.guild, w.admin, card, reject)
        assert form.modal is not None, form.text
        await _wrote_after_ack(w, obs, "review card Reject form", lambda: fake.submit_modal(
            w.guild, w.admin, form, {"answer": "Out of scope"}), failures)
        shown = await fake.invoke(w.guild, w.carol, "practice show", {"id": ctx["approved"]})
        useful = next(c for c in shown.custom_ids if c.endswith(":useful"))
        await _wrote_after_ack(w, obs, "Useful button", lambda: fake.click(w.guild, w.carol, shown, useful),
                               failures)
        adopt = next(c for c in shown.custom_ids if c.endswith(":adopt"))
        await _wrote_after_ack(w, obs, "Adopted button (city from the profile)",
                               lambda: fake.click(w.guild, w.bob, shown, adopt), failures)
        rt2 = await schedule_rt(w, w.bob, "Ack roundtable by button", announcements=w.general)
        msg = await fake.wait_for_message(
            w.general, lambda m: any(f"rt:rsvp:{rt2}:" in c for c in custom_ids(m))
        )
        going = next(c for c in custom_ids(msg) if c.endswith(":going"))
        await _wrote_after_ack(w, obs, "RSVP Going button", lambda: fake.click(w.guild, w.carol, msg, going),
                               failures)
        # the setup view (/setup): every choice is saved after the silent acknowledgement
        view = await fake.invoke(w.guild, w.admin, "setup")
        await _wrote_after_ack(w, obs, "setup view channel", lambda: fake.select(
            w.guild, w.admin, view, "onb:ann", [w.announcements]), failures)
        await _wrote_after_ack(w, obs, "setup view role", lambda: fake.select(
            w.guild, w.admin, view, "onb:mod", [ctx["reps_role"]]), failures)
        await _wrote_after_ack(w, obs, "setup view zone", lambda: fake.select(
            w.guild, w.admin, view, "onb:tz", ["Europe/Paris"]), failures)
        form = await fake.select(w.guild, w.admin, view, "onb:tz", ["other"])
        assert form.modal is not None, form.text
        await _wrote_after_ack(w, obs, "setup zone form", lambda: fake.submit_modal(
            w.guild, w.admin, form, {"onb:zone": "Africa/Nairobi"}), failures)
    finally:
        fake.on_interaction_callback = None
    assert not failures, "\n".join(failures)
    assert fake.violations == [] and fake.unhandled == []


async def test_writing_commands_are_marked(started_bot: World) -> None:
    """The mark `@acknowledge_first()` leaves: on every writing command but those opening a form."""
    commands = {c.qualified_name: c for c in started_bot.bot.tree.walk_commands()
                if isinstance(c, app_commands.Command)}
    writing = _writing()
    unmarked = sorted(n for n in writing - OPENS_MODAL - ASKS_FIRST if ACK_EXTRA not in commands[n].extras)
    assert not unmarked, f"put @acknowledge_first() on: {unmarked}"


# -- notices that follow a committed decision survive a crash, delivered once ---------------------
async def _until(probe: Callable[[], Any], what: str, within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _stall_after_commit(bot: Any) -> list[asyncio.Task[Any]]:
    """The process "dies" right after the commit: the delivery that follows never starts."""
    stalled: list[asyncio.Task[Any]] = []

    async def never(guild_id: int, key: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        stalled.append(task)
        await asyncio.Event().wait()

    bot.scheduler.run_now = never
    return stalled


def _lose_results(bot: Any) -> None:
    """The process dies mid-send: what was sent is never recorded (jobs stay `running`)."""
    async def fail() -> None:
        if bot.scheduler._results:
            raise sqlite3.OperationalError("disk I/O error (simulated crash)")

    bot.scheduler._flush = fail


def _nonces(fake: FakeDiscord, path: str) -> list[str]:
    return [r.json["nonce"] for r in fake.requests
            if r.method == "POST" and r.path == path and isinstance(r.json, dict) and r.json.get("nonce")]


async def _jobs_done(bot: Any, guild_id: int, prefix: str) -> bool:
    rows = await bot.db.fetchall(
        "SELECT status FROM jobs WHERE guild_id = ? AND dedupe_key >= ? AND dedupe_key < ?",
        (guild_id, prefix, prefix + "\U0010ffff"),
    )
    return bool(rows) and all(r["status"] == "done" for r in rows)


@pytest.mark.parametrize("crash", ["after-commit", "mid-send"])
async def test_practice_approval_notices_survive_a_crash(fake_discord: FakeDiscord, tmp_path: Path,
                                                          bot_factory: Any, crash: str) -> None:
    fake = fake_discord
    parts = populate(fake)
    cfg = make_config(tmp_path)
    clock = MovableClock()
    g, alice, announcements = parts["guild"], parts["alice"], parts["announcements"]
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot1:
        await fake.wait_commands_synced()
        await configure(bot1, parts)
        w = World(fake=fake, bot=bot1, config=cfg, **parts)
        pid = await share_practice(w, alice, "Crash-proof cool roofs")
        stalled: list[asyncio.Task[Any]] = []
        if crash == "after-commit":
            stalled = _stall_after_commit(bot1)
        else:
            _lose_results(bot1)

            async def recorded_too_late(*args: Any) -> None:
                raise RuntimeError("the process died before recording the announcement")

            practice_service(bot1).set_announcement = recorded_too_late  # type: ignore[method-assign]
        res = await fake.invoke(g, parts["mod"], "practice approve", {"id": pid}, wait=crash == "mid-send")
        await _until(
            lambda: bot1.db.fetchval("SELECT status = 'approved' FROM practices WHERE id = ?", (pid,)),
            "the approval to commit",
        )
        if crash == "after-commit":
            await _until(lambda: stalled, "the delivery to start")
            assert fake.dms(alice) == [] and not fake.channel_messages(announcements)  # nothing went out
            for task in stalled:
                task.cancel()
        else:
            assert "approved" in res.text.lower(), res.text
            assert len(fake.dms(alice)) == 1 and len(fake.channel_messages(announcements)) == 1
    # restart on the same database
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot2:
        clock.jump_to(datetime.now(UTC) + timedelta(minutes=1))
        bot2.scheduler.wake()
        await _until(lambda: _jobs_done(bot2, g.id, f"pr:{pid}:"), "the notices to be delivered")
        p = await practice_service(bot2).get(g.id, pid)
        assert p.announce_message_id is not None and p.thread_id is not None
    dms = [m for m in fake.dms(alice) if "approved" in m["content"]]
    posts = fake.channel_messages(announcements)
    thread_posts = fake.channel_messages(p.thread_id)
    assert (len(dms), len(posts), len(thread_posts)) == (1, 1, 1), (dms, posts, thread_posts)
    sent = [dms[0]["nonce"], posts[0]["nonce"], thread_posts[0]["nonce"]]
    assert len(set(sent)) == 3, f"each send of the decision has its own nonce: {sent}"
    if crash == "mid-send":  # everything was sent twice; Discord dropped the copies by nonce
        dm_channel = fake.dm_channels[alice.id].id
        assert _nonces(fake, f"/channels/{dm_channel}/messages").count(sent[0]) == 2
        assert _nonces(fake, f"/channels/{announcements.id}/messages").count(sent[1]) == 2
    assert fake.violations == []


async def test_roundtable_change_notice_survives_a_crash(fake_discord: FakeDiscord, tmp_path: Path,
                                                         bot_factory: Any) -> None:
    fake = fake_discord
    parts = populate(fake)
    cfg = make_config(tmp_path)
    clock = MovableClock()
    g, bob, carol, alice = parts["guild"], parts["bob"], parts["carol"], parts["alice"]
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot1:
        await fake.wait_commands_synced()
        await configure(bot1, parts)
        w = World(fake=fake, bot=bot1, config=cfg, **parts)
        rt = await schedule_rt(w, bob, "Crash-proof roundtable")
        for member in (alice, carol):
            await fake.invoke(g, member, "roundtable rsvp", {"id": rt, "response": "going"})
        await fake.invoke(g, carol, "roundtable reminders", {"state": "on"})  # carol takes DMs
        stalled = _stall_after_commit(bot1)
        mark = fake.mark()
        res = await fake.invoke(g, bob, "roundtable edit", {"id": rt, "title": "Moved roundtable"})
        assert "Updated" in res.text, res.text
        await _until(lambda: stalled, "the delivery to start")
        for task in stalled:
            task.cancel()
        assert not [m for m in fake.channel_messages(parts["announcements"]) if int(m["id"]) > mark
                    and "was updated" in m["content"]]
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot2:
        clock.jump_to(datetime.now(UTC) + timedelta(minutes=1))
        bot2.scheduler.wake()
        await _until(lambda: _jobs_done(bot2, g.id, f"rtn:{rt}:"), "the change notice to be delivered")
    posts = [m for m in fake.channel_messages(parts["announcements"]) if "was updated" in m["content"]]
    dms = [m for m in fake.dms(carol) if "was updated" in m["content"]]
    assert len(posts) == 1 and len(dms) == 1, (posts, dms)
    assert f"<@{alice.id}>" in posts[0]["content"] and f"<@{carol.id}>" in posts[0]["content"]
    assert fake.dms(alice) == [] or not [m for m in fake.dms(alice) if "was updated" in m["content"]]
    assert posts[0]["nonce"] != dms[0]["nonce"]


async def test_mou_reminder_sends_have_distinct_nonces_and_resend_once(
    fake_discord: FakeDiscord, tmp_path: Path, bot_factory: Any,
) -> None:
    fake = fake_discord
    parts = populate(fake)
    cfg = make_config(tmp_path)
    clock = MovableClock()
    g, alice, bob, announcements = parts["guild"], parts["alice"], parts["bob"], parts["announcements"]
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot1:
        await fake.wait_commands_synced()
        await configure(bot1, parts)
        svc: MouService = mou_service(bot1)
        today = datetime.now(UTC).date()

        def reminder_dms(member: Any) -> list[dict[str, Any]]:  # bob is also told he was made an owner
            return [m for m in fake.dms(member) if "made you an owner" not in m["content"]]

        a = await svc.create(g.id, Actor(alice.id), kind="mou", title="Two owners", parties=["Lyon", "Oslo"],
                             signed=(today - timedelta(days=365)).isoformat(),
                             expires=(today + timedelta(days=40)).isoformat(), owner_ids=[alice.id, bob.id])
        key = f"mou:{a.id}:t1:exp:30d"
        job = next(j for j in await bot1.scheduler.pending(g.id, key))
        _lose_results(bot1)  # it is sent, then the process dies before recording it
        clock.jump_to(job.due_at + timedelta(minutes=1))
        bot1.scheduler.wake()
        await _until(lambda: len(reminder_dms(bob)) == 1 and len(reminder_dms(alice)) == 1, "the reminder")
        assert await bot1.scheduler.job_status(g.id, key) == "running"
    async with bot_factory(config=cfg, scheduler_clock=clock) as bot2:
        bot2.scheduler.wake()
        await _until(lambda: _jobs_done(bot2, g.id, key), "the resent reminder to be recorded")
    post = [m for m in fake.channel_messages(announcements) if "30 days" in m["content"]]
    dm_a, dm_b = reminder_dms(alice), reminder_dms(bob)
    assert (len(post), len(dm_a), len(dm_b)) == (1, 1, 1)
    nonces = [post[0]["nonce"], dm_a[0]["nonce"], dm_b[0]["nonce"]]
    assert len(set(nonces)) == 3, f"each send of one reminder has its own nonce: {nonces}"
    for channel, nonce in ((announcements.id, nonces[0]), (fake.dm_channels[alice.id].id, nonces[1]),
                           (fake.dm_channels[bob.id].id, nonces[2])):
        # each send was recorded as delivered right after it went out (bot/fanout.py, job_sends), so the
        # restart does not even resend it (were the record lost too, the resend would carry this nonce)
        assert _nonces(fake, f"/channels/{channel}/messages").count(nonce) == 1
