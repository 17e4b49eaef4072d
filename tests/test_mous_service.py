"""MOU tracker: status machine, calendar arithmetic, reminder planning/re-planning, service rules."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.db import Database
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import Msg, render
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from cogs.mous import planning as P
from cogs.mous.ics import build_ics
from cogs.mous.service import SETTING_SPECS, Actor, MouService

G = 1001
OWNER = Actor(501)
OTHER = Actor(502)
MOD = Actor(503, moderator=True)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
async def svc(db: Database, clock: Clock) -> AsyncIterator[MouService]:
    settings = SettingsService(db, default_timezone="UTC")
    for spec in SETTING_SPECS:
        settings.register(spec)
    await settings.set(G, "timezone", "Asia/Seoul", actor_id=None)
    await settings.set(G, "announcements_channel_id", 777, actor_id=None)
    yield MouService(db, Scheduler(db, clock=clock), settings)


async def pending_keys(svc: MouService, prefix: str = "mou:") -> dict[str, datetime]:
    return {j.dedupe_key: j.due_at for j in await svc.scheduler.pending(G, prefix)
            if not j.dedupe_key.startswith("mou:digest:")}


# -- status machine --------------------------------------------------------------------------

def test_transitions_allowed_and_refused() -> None:
    assert P.can_transition("draft", "negotiating")
    assert P.can_transition("negotiating", "signed")
    assert P.can_transition("expiring", "renewed")
    assert not P.can_transition("draft", "active")
    assert not P.can_transition("terminated", "active")
    msg = P.transition_error("draft", "expired")
    assert msg is not None and "`negotiating`, `signed`, or `terminated`, not `expired`" in str(msg)
    assert render("es", msg) == (
        "Un acuerdo en estado **borrador** puede pasar a `en negociación`, `firmada` o `rescindido`, "
        "no a `vencido`.")
    assert "can no longer change" in str(P.transition_error("terminated", "draft"))
    # every allowed target is a known status, and terminated is reachable from every live status
    for s, targets in P.TRANSITIONS.items():
        assert set(targets) <= set(P.STATUSES)
        if s != "terminated":
            assert "terminated" in targets


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        ("signed", date(2026, 1, 1), "signed"),       # before effective date
        ("signed", date(2026, 2, 1), "active"),       # effective date reached
        ("active", date(2026, 10, 2), "expiring"),    # notice window (90 d before 2026-12-31) opens 10-02
        ("active", date(2026, 10, 1), "active"),
        ("expiring", date(2026, 12, 31), "expiring"),  # last day in force
        ("expiring", date(2027, 1, 1), "expired"),
        ("renewed", date(2026, 5, 1), "renewed"),
        ("draft", date(2027, 6, 1), "draft"),          # never moved automatically
        ("terminated", date(2027, 6, 1), "terminated"),
        ("expired", date(2026, 5, 1), "active"),       # expiry moved later
    ],
)
def test_desired_status(status: str, today: date, expected: str) -> None:
    got = P.desired_status(status, effective=date(2026, 2, 1), expires=date(2026, 12, 31), notice_days=90,
                           today=today)
    assert got == expected


# -- date arithmetic ---------------------------------------------------------------------------

def test_month_ends_and_leap_years() -> None:
    assert P.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert P.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert P.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert P.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert P.add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert P.notice_deadline(date(2028, 3, 1), 1) == date(2028, 2, 29)
    assert P.parse_day_fallback("in 6 months", date(2026, 8, 31)) == date(2027, 2, 28)
    assert P.parse_day_fallback("2028-02-29", date(2026, 1, 1)) == date(2028, 2, 29)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        P.parse_day_fallback("2027-02-30", date(2026, 1, 1))
    assert P.renewal_expiry(date(2024, 3, 1), date(2029, 2, 28)) == date(2034, 2, 28)


def test_local_hour_in_server_zone_to_utc() -> None:
    # 09:00 in Seoul (UTC+9, no DST) is 00:00 UTC the same day
    assert P.local_instant(date(2026, 3, 8), 9, "Asia/Seoul") == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    # New York: 09:00 EST (UTC-5) before the DST switch, EDT (UTC-4) on the switch day
    assert P.local_instant(date(2026, 3, 7), 9, "America/New_York") == datetime(2026, 3, 7, 14, tzinfo=UTC)
    assert P.local_instant(date(2026, 3, 8), 9, "America/New_York") == datetime(2026, 3, 8, 13, tzinfo=UTC)
    # 02:00 does not exist on 2026-03-08 in New York: resolves forward to 03:00 EDT
    assert P.local_instant(date(2026, 3, 8), 2, "America/New_York") == datetime(2026, 3, 8, 7, tzinfo=UTC)
    # "today" depends on the server zone
    now = datetime(2026, 1, 15, 20, 0, tzinfo=UTC)
    assert P.local_today(now, "Asia/Seoul") == date(2026, 1, 16)
    assert P.local_today(now, "America/Los_Angeles") == date(2026, 1, 15)


def test_parse_offsets() -> None:
    assert P.parse_offsets("7, 30,180 90") == (180, 90, 30, 7)
    assert P.parse_offsets("30d,30") == (30,)
    for bad in ("", "x", "0", "9999"):
        with pytest.raises(ValueError):
            P.parse_offsets(bad)


def test_next_digest() -> None:
    # Monday 09:00 Seoul = Monday 00:00 UTC. 2026-01-15 is a Thursday.
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert P.next_digest(now, zone="Asia/Seoul", weekday=0, hour=9) == datetime(2026, 1, 19, 0, tzinfo=UTC)
    at = datetime(2026, 1, 19, 0, tzinfo=UTC)
    assert P.next_digest(at, zone="Asia/Seoul", weekday=0, hour=9) == datetime(2026, 1, 26, 0, tzinfo=UTC)


# -- planning ------------------------------------------------------------------------------------

def _plan(a: P.PlanAgreement, ms: list[P.PlanMilestone] | None = None, now: datetime | None = None):
    return P.plan_agreement(a, ms or [], zone="Asia/Seoul", hour=9, default_offsets=(180, 90, 30, 7),
                            now=now or datetime(2026, 1, 1, tzinfo=UTC))


def test_plan_agreement_keys_and_times() -> None:
    a = P.PlanAgreement(7, 1, "active", date(2025, 1, 1), date(2026, 12, 31), 60, None)
    plan = _plan(a, [P.PlanMilestone(3, date(2026, 5, 1), False), P.PlanMilestone(4, date(2026, 6, 1), True)])
    assert set(plan) == {
        "mou:7:t1:exp:180d", "mou:7:t1:exp:90d", "mou:7:t1:exp:30d", "mou:7:t1:exp:7d", "mou:7:t1:notice",
        "mou:7:t1:status:expiring", "mou:7:t1:status:expired", "mou:7:t1:ms:3",
    }
    assert plan["mou:7:t1:exp:30d"].due == datetime(2026, 12, 1, 0, tzinfo=UTC)   # 09:00 KST
    assert plan["mou:7:t1:notice"].due == datetime(2026, 11, 1, 0, tzinfo=UTC)    # 2026-11-01 09:00 KST
    assert plan["mou:7:t1:status:expiring"].due == datetime(2026, 10, 31, 15, tzinfo=UTC)  # 00:00 KST 11-01
    assert plan["mou:7:t1:status:expired"].due == datetime(
        2026, 12, 31, 15, tzinfo=UTC
    )  # 00:00 KST 2027-01-01
    assert plan["mou:7:t1:ms:3"].payload_dict()["milestone_id"] == 3
    # per-agreement offsets override the default
    custom = _plan(P.PlanAgreement(7, 1, "active", None, date(2026, 12, 31), 0, (10,)))
    assert {k for k in custom if ":exp:" in k} == {"mou:7:t1:exp:10d"}
    assert "mou:7:t1:notice" not in custom
    # open-ended: milestones only; terminated / expired: nothing
    assert set(_plan(P.PlanAgreement(7, 1, "active", None, None, 90, None),
                     [P.PlanMilestone(3, date(2026, 5, 1), False)])) == {"mou:7:t1:ms:3"}
    assert _plan(P.PlanAgreement(7, 1, "terminated", None, date(2026, 12, 31), 90, None),
                 [P.PlanMilestone(3, date(2026, 5, 1), False)]) == {}
    # a signed agreement gets its activation job
    assert "mou:7:t1:status:active" in _plan(
        P.PlanAgreement(7, 1, "signed", date(2026, 3, 1), None, 90, None)
    )


def test_plan_bodies_are_the_payloads_as_json() -> None:
    """plan_agreement writes each job's JSON itself (it makes 131,000 in a big plan): every body must be
    what json.dumps makes of the payload, for every kind of job, auto-renew or not."""
    import json

    plans = [
        _plan(P.PlanAgreement(7, 2, "active", date(2025, 1, 1), date(2026, 12, 31), 60, None, True),
              [P.PlanMilestone(3, date(2026, 5, 1), False)]),
        _plan(P.PlanAgreement(8, 1, "expiring", date(2025, 1, 1), date(2026, 12, 31), 60, (10, 1))),
        _plan(P.PlanAgreement(9, 1, "signed", date(2026, 3, 1), None, 90, None)),
    ]
    jobs = [job for plan in plans for job in plan.values()]
    assert {j.key.split(":", 3)[3].split(":")[0] for j in jobs} >= {"exp", "notice", "status", "ms"}
    for job in jobs:
        assert job.body == json.dumps(job.payload_dict(), separators=(",", ":"), ensure_ascii=False), job
        assert job.body == P.encode_payload(job.payload)
    renew = json.loads(plans[0]["mou:7:t2:status:expired"].body)
    assert renew == {"to": "renew", "agreement_id": 7, "term": 2}


def test_plan_drops_items_more_than_a_day_old() -> None:
    a = P.PlanAgreement(7, 1, "active", None, date(2026, 12, 31), 90, None)
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # 30d reminder (12-01 00:00 UTC) is 36 h old
    plan = _plan(a, now=now)
    assert "mou:7:t1:exp:30d" not in plan and "mou:7:t1:exp:7d" in plan
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)  # 12 h old: kept (the stale rule decides when it runs)
    assert "mou:7:t1:exp:30d" in _plan(a, now=now)


def test_diff_plan_exactly_the_affected_jobs() -> None:
    a = P.PlanAgreement(7, 1, "active", None, date(2026, 12, 31), 90, None)
    old = _plan(a, [P.PlanMilestone(3, date(2026, 5, 1), False)])
    pending = {k: (j.due, j.payload_dict()) for k, j in old.items()}
    assert P.diff_plan(old, pending) == P.PlanDiff((), ())
    # expiry moved: every expiry-derived job changes, the milestone does not
    new = _plan(P.PlanAgreement(7, 1, "active", None, date(2027, 3, 31), 90, None),
                [P.PlanMilestone(3, date(2026, 5, 1), False)])
    d = P.diff_plan(new, pending)
    assert d.cancel == ()
    assert {j.key for j in d.schedule} == {k for k in new if ":ms:" not in k}
    # offsets reduced and milestone done: removed keys are cancelled, nothing rescheduled
    fewer = _plan(P.PlanAgreement(7, 1, "active", None, date(2026, 12, 31), 90, (90, 30)))
    d = P.diff_plan(fewer, pending)
    assert set(d.cancel) == {"mou:7:t1:exp:180d", "mou:7:t1:exp:7d", "mou:7:t1:ms:3"}
    assert d.schedule == ()


# -- service -------------------------------------------------------------------------------------

async def _add(svc: MouService, **kw: object):
    args: dict[str, object] = {
        "kind": "sister-city", "title": "Seoul–Paris", "parties": ["Seoul, KR", "Paris, FR"],
        "signed": "2025-06-01", "expires": "2026-12-31", "notice_days": 90, "owner_ids": [OWNER.id],
    }
    args.update(kw)
    return await svc.create(G, OWNER, **args)  # type: ignore[arg-type]


async def test_create_plans_reminders_and_audits(svc: MouService, db: Database) -> None:
    a = await _add(svc)
    assert a.status == "active" and a.notice_on == date(2026, 10, 2) and a.term == 1
    keys = await pending_keys(svc)
    assert set(keys) == {
        f"mou:{a.id}:t1:{k}"
        for k in ("exp:180d", "exp:90d", "exp:30d", "exp:7d", "notice", "status:expiring", "status:expired")
    }
    assert keys[f"mou:{a.id}:t1:exp:7d"] == datetime(2026, 12, 24, 0, tzinfo=UTC)
    parties = await svc.parties(G, a.id)
    assert [(p.city_name, p.country) for p in parties] == [("Seoul", "KR"), ("Paris", "FR")]
    n = await db.fetchval("SELECT COUNT(*) FROM audit WHERE guild_id = ? AND action = 'mou.add'", (G,))
    assert n == 1


async def test_bad_input_is_refused_and_nothing_saved(svc: MouService, db: Database) -> None:
    with pytest.raises(InvalidInput, match="two different"):
        await _add(svc, parties=["Seoul", "seoul"])
    with pytest.raises(InvalidInput, match="after the start"):
        await _add(svc, expires="2025-01-01")
    with pytest.raises(InvalidInput):
        await _add(svc, expires="the thirty-second of never")
    with pytest.raises(InvalidInput, match="web link"):
        await _add(svc, links="not a link")
    assert await db.fetchval("SELECT COUNT(*) FROM mou_agreements") == 0
    assert await svc.scheduler.pending(G, "mou:") == []


async def test_update_reschedules_exactly_affected_jobs(svc: MouService, db: Database) -> None:
    a = await _add(svc)
    m = await svc.add_milestone(G, OWNER, a.id, "2026-05-01", "Youth exchange")
    before = {j.dedupe_key: (j.id, j.due_at) for j in await svc.scheduler.pending(G, f"mou:{a.id}:")}
    assert f"mou:{a.id}:t1:ms:{m.id}" in before
    a2, changes = await svc.update(G, OWNER, a.id, notice_days=30)
    assert "notice_days" in changes and a2.notice_on == date(2026, 12, 1)
    after = {j.dedupe_key: (j.id, j.due_at) for j in await svc.scheduler.pending(G, f"mou:{a.id}:")}
    assert set(after) == set(before)
    moved = {k for k in after if after[k][1] != before[k][1]}
    assert moved == {f"mou:{a.id}:t1:notice", f"mou:{a.id}:t1:status:expiring"}
    # an update with no new values changes nothing
    _, none = await svc.update(G, OWNER, a.id, notice_days=30)
    assert none == {}
    # open-ended: expiry reminders cancelled, the milestone stays
    await svc.update(G, OWNER, a.id, expires="none")
    assert set(await pending_keys(svc)) == {f"mou:{a.id}:t1:ms:{m.id}"}


async def test_status_machine_enforced_by_update(svc: MouService) -> None:
    a = await _add(svc, signed=None, expires=None)
    assert a.status == "draft"
    with pytest.raises(InvalidInput, match="`negotiating`, `signed`, or `terminated`"):
        await svc.update(G, OWNER, a.id, status="expired")
    a2, _ = await svc.update(G, OWNER, a.id, status="negotiating")
    assert a2.status == "negotiating"
    a3, _ = await svc.update(G, OWNER, a.id, status="signed")
    # signing without a date records today (Seoul) and activates
    assert a3.signed_on == date(2026, 1, 15) and a3.status == "active"


async def test_permissions(svc: MouService) -> None:
    a = await _add(svc)
    with pytest.raises(PermissionDenied, match="Only the owners"):
        await svc.update(G, OTHER, a.id, title="Hijack")
    await svc.update(G, MOD, a.id, title="Moderated")
    await svc.add_owner(G, OWNER, a.id, OTHER.id)
    await svc.update(G, OTHER, a.id, title="Co-owned")
    with pytest.raises(InvalidInput, match="at least one owner"):
        await svc.remove_owner(G, OWNER, a.id, OTHER.id) and await svc.remove_owner(G, MOD, a.id, OWNER.id)
    with pytest.raises(NotFound):
        await svc.get(G + 1, a.id)  # other guilds never see it


async def test_renew_cancels_old_term_and_plans_new(svc: MouService, db: Database) -> None:
    a = await _add(svc)
    old = await pending_keys(svc, f"mou:{a.id}:t1:")
    assert old
    r = await svc.renew(G, OWNER, a.id, "2031-12-31")
    assert r.term == 2 and r.status == "renewed" and r.expires_on == date(2031, 12, 31)
    assert await pending_keys(svc, f"mou:{a.id}:t1:") == {}
    new = await pending_keys(svc, f"mou:{a.id}:t2:")
    assert f"mou:{a.id}:t2:exp:180d" in new
    for k in old:
        assert await svc.scheduler.job_status(G, k) == "cancelled"
    terms = await db.fetchall(
        "SELECT term, previous_term_id, outcome, starts_on FROM mou_terms ORDER BY term"
    )
    assert [(t["term"], t["outcome"]) for t in terms] == [(1, "renewed"), (2, None)]
    assert terms[1]["previous_term_id"] is not None and terms[1]["starts_on"] == "2027-01-01"
    with pytest.raises(InvalidInput, match="must be after"):
        await svc.renew(G, OWNER, a.id, "2030-01-01")


async def test_terminate_cancels_everything(svc: MouService) -> None:
    a = await _add(svc)
    await svc.add_milestone(G, OWNER, a.id, "2026-05-01", "Report")
    t = await svc.terminate(G, OWNER, a.id, "Partner withdrew")
    assert t.status == "terminated"
    assert await pending_keys(svc) == {}
    with pytest.raises(InvalidInput, match="can no longer change"):
        await svc.terminate(G, OWNER, a.id, "again")


async def test_status_jobs_and_startup_reconcile(svc: MouService, clock: Clock) -> None:
    a = await _add(svc)
    clock.now = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)  # 2026-10-02 00:00 KST: notice window opens
    assert await svc.apply_status_job(G, {"agreement_id": a.id, "term": 1}) == "expiring"
    assert (await svc.get(G, a.id)).status == "expiring"
    # stale term payload does nothing
    assert await svc.apply_status_job(G, {"agreement_id": a.id, "term": 9}) is None
    # the bot was down over the expiry: start-up corrects the status
    clock.now = datetime(2027, 2, 1, tzinfo=UTC)
    stats = await svc.replan_guild(G)
    assert stats.status_changes == 1
    assert (await svc.get(G, a.id)).status == "expired"
    assert {k for k in await pending_keys(svc) if not k.startswith("mou:digest:")} == set()


async def test_auto_renew_at_expiry(svc: MouService, clock: Clock) -> None:
    a = await _add(svc, signed="2024-01-01", expires="2026-12-31", auto_renew=True)
    clock.now = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)  # 2027-01-01 00:00 KST
    await svc.apply_status_job(G, {"agreement_id": a.id, "term": 1})
    r = await svc.get(G, a.id)
    assert r.term == 2 and r.expires_on == date(2029, 12, 31) and r.status == "renewed"


async def test_reminder_context_skips(svc: MouService) -> None:
    a = await _add(svc)
    m = await svc.add_milestone(G, OWNER, a.id, "2026-05-01", "Report")
    ctx = await svc.reminder_context(G, {"agreement_id": a.id, "term": 1, "what": "milestone",
                                         "milestone_id": m.id, "on": "2026-05-01"})
    assert not isinstance(ctx, Msg) and ctx.owners == (OWNER.id,)
    await svc.done_milestone(G, OWNER, a.id, m.id)
    assert (
        await svc.reminder_context(
            G,
            {"agreement_id": a.id, "term": 1, "what": "milestone", "milestone_id": m.id, "on": "2026-05-01"},
        )
        == Msg("milestone already done")
    )
    assert "term" in str(await svc.reminder_context(G, {"agreement_id": a.id, "term": 0, "what": "expiry",
                                                        "on": "2026-07-04", "offset": 180}))


async def test_upcoming_digest_and_dormant(svc: MouService, clock: Clock) -> None:
    soon = await _add(svc, title="Soon", expires="2026-03-01")           # expires in 45 days
    later = await _add(svc, title="Later", expires="2027-06-30")         # not within 90 days
    draft = await _add(svc, title="Draft", signed=None, expires=None)
    await svc.add_milestone(G, OWNER, later.id, "2026-02-01", "Exchange")   # due in 17 days
    await svc.add_milestone(G, OWNER, later.id, "2026-03-01", "Far")        # 45 days: not in digest
    await svc.add_milestone(G, OWNER, draft.id, "2026-01-20", "Negotiation round")
    await svc.log_activity(G, OWNER, later.id, "Delegation visit", "2026-01-10")
    clock.now = datetime(2026, 1, 20, 1, tzinfo=UTC)  # 2026-01-20 10:00 KST
    over = await svc.add_milestone(G, OWNER, soon.id, "2026-01-05", "Overdue report")
    dg = await svc.digest(G)
    assert dg.today == date(2026, 1, 20)
    assert [i.agreement_id for i in dg.expiring] == [soon.id]
    assert [i.detail for i in dg.milestones] == ["Negotiation round", "Exchange"]
    assert [i.milestone_id for i in dg.overdue] == [over.id]
    assert dg.dormant == ()
    items, total = await svc.upcoming(G, 45)
    assert total == 4
    assert (await svc.upcoming(G, 45, limit=2))[0] == items[:2]
    assert (await svc.upcoming(G, 45, limit=2))[1] == 4
    assert [(i.what, i.agreement_id) for i in items] == [
        ("milestone", draft.id), ("milestone", later.id), ("expiry", soon.id), ("milestone", later.id)]
    # six months on, with no activity logged, both in-force agreements are dormant
    clock.now = datetime(2026, 7, 20, 1, tzinfo=UTC)
    dg = await svc.digest(G)
    assert [d[0] for d in dg.dormant] == [later.id, soon.id]  # oldest activity first
    # the expired one is no longer in force after reconcile
    await svc.replan_guild(G)
    dg = await svc.digest(G)
    assert [d[0] for d in dg.dormant] == [later.id]
    assert (await svc.detail(G, later.id)).dormant


async def test_city_lines_export_and_ics(svc: MouService) -> None:
    a = await _add(svc)
    await svc.add_party(G, OWNER, a.id, "Lyon, FR", ours=True)
    lines = await svc.city_agreements(G, None, "Paris")
    assert len(lines) == 1 and "Seoul" in lines[0].partners and "Lyon" in lines[0].partners
    assert lines[0].expires_on is not None and lines[0].zone  # the card shows it as a Discord date
    assert await svc.city_agreements(G + 1, None, "Paris") == []
    name, data = await svc.export(G, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert (
        name == "agreements.csv"
        and rows[0]["title"] == "Seoul–Paris"
        and "Lyon, FR (ours)" in rows[0]["parties"]
    )
    name, data = await svc.export(G, "json")
    rec = json.loads(data)[0]
    assert rec["owners"] == [str(OWNER.id)] and len(rec["parties"]) == 3
    items = await svc.deadlines(G)
    cal = Calendar.from_ical(build_ics(G, items, now=svc.now()))
    events = [c for c in cal.walk("VEVENT")]
    assert {str(e.get("dtstart").dt) for e in events} == {"2026-12-31", "2026-10-02"}
    assert {str(e.get("summary")).split(": ", 1)[1] for e in events} == {"expires", "renewal-notice deadline"}
    spanish = Calendar.from_ical(build_ics(G, items, now=svc.now(), guild_name="Red", lang="es"))
    assert str(spanish.get("X-WR-CALNAME")) == "Acuerdos — Red"
    assert {str(e.get("summary")).split(": ", 1)[1] for e in spanish.walk("VEVENT")} == {
        "vence", "fecha límite del aviso de renovación"}


async def test_digest_job_is_scheduled_once(svc: MouService) -> None:
    await _add(svc)
    await svc.replan_guild(G)
    await svc.replan_guild(G)
    digests = await svc.scheduler.pending(G, "mou:digest:")
    assert [j.dedupe_key for j in digests] == ["mou:digest:2026-01-19"]
    assert digests[0].due_at == datetime(2026, 1, 19, 0, tzinfo=UTC)
    assert digests[0].due_at - svc.now() < timedelta(days=7)


def test_find_party_with_non_ascii_digits_is_not_found_not_a_crash() -> None:
    """'²'.isdigit() is true but int('²') raises: a party typed as a superscript digit is simply unknown."""
    import pytest as _pytest

    from bot.errors import NotFound
    from cogs.mous.service import MouService, Party

    parties = [Party(**{f: None for f in Party.__dataclass_fields__} | {"id": 1, "position": 1, "city_id": 2,
                                                                         "city_name": "Tijuana"})]
    with _pytest.raises(NotFound):
        MouService._find_party(parties, "²")
    with _pytest.raises(NotFound):  # longer than Python's int-from-text limit
        MouService._find_party(parties, "9" * 4301)
    assert MouService._find_party(parties, "1").city_name == "Tijuana"


# -- the timeline picture's data -------------------------------------------------------------

async def test_timeline_rows_soonest_first_capped_and_per_guild(svc: MouService) -> None:
    today = date(2026, 1, 15)
    later = await svc.create(G, OWNER, kind="mou", title="Later", parties=["Lyon", "Turin"],
                             signed="2024-01-01", expires=(today + timedelta(days=80)).isoformat(),
                             notice_days=30)
    sooner = await svc.create(G, OWNER, kind="mou", title="Sooner", parties=["Lyon", "Kyoto"],
                              signed="2024-01-01", expires=(today + timedelta(days=400)).isoformat())
    await svc.add_milestone(G, OWNER, sooner.id, (today + timedelta(days=5)).isoformat(), "Visit")
    await svc.create(G, OWNER, kind="mou", title="Far", parties=["Lyon", "Oslo"], signed="2024-01-01",
                     expires=(today + timedelta(days=900)).isoformat())
    await svc.create(G + 1, OWNER, kind="mou", title="Elsewhere", parties=["Lyon", "Oslo"],
                     signed="2024-01-01", expires=(today + timedelta(days=10)).isoformat())
    tl = await svc.timeline(G, 90, today=today)
    assert [r.title for r in tl.rows] == ["Sooner", "Later"] and tl.total == 2
    assert tl.rows[0].milestones == (today + timedelta(days=5),) and tl.rows[0].expires_on is not None
    assert tl.rows[1].notice_on == today + timedelta(days=50)
    assert tl.rows[1].expires_on == today + timedelta(days=80)
    capped = await svc.timeline(G, 90, today=today, limit=1)
    assert [r.agreement_id for r in capped.rows] == [sooner.id] and capped.total == 2
    assert later.id not in [r.agreement_id for r in capped.rows]


# -- plan fingerprints (issue 16) ----------------------------------------------------------------

async def test_replan_skips_unchanged_agreements_and_replans_changed_ones(
    svc: MouService, db: Database
) -> None:
    a = await _add(svc)
    b = await _add(svc, title="Lyon–Turin", expires="2027-06-30")
    await svc.add_milestone(G, OWNER, b.id, "2026-05-01", "Report")
    first = await svc.replan_guild(G)
    assert first.extra["skipped"] == 2 and first.extra.get("replanned", 0) == 0  # the writes planned them
    before = await pending_keys(svc)
    # a write that bypasses the service (or a crash before its re-plan) is still caught: its inputs changed
    await db.execute("UPDATE mou_agreements SET expires_on = '2027-03-31' WHERE id = ?", (a.id,))
    stats = await svc.replan_guild(G)
    assert stats.extra["replanned"] == 1 and stats.extra["skipped"] == 1
    after = await pending_keys(svc)
    assert after[f"mou:{a.id}:t1:exp:30d"] != before[f"mou:{a.id}:t1:exp:30d"]
    assert {k: v for k, v in after.items() if k.startswith(f"mou:{b.id}:")} == \
        {k: v for k, v in before.items() if k.startswith(f"mou:{b.id}:")}
    # a milestone done elsewhere: re-planned, its reminder cancelled
    await db.execute("UPDATE mou_milestones SET done_ms = 1 WHERE agreement_id = ?", (b.id,))
    stats = await svc.replan_guild(G)
    assert stats.extra["replanned"] == 1 and stats.cancelled == 1
    # the server's reminder hour changes every plan
    await svc.settings.set(G, "mou_reminder_hour", 10, actor_id=None)
    stats = await svc.replan_guild(G, reconcile=False)
    assert stats.extra["replanned"] == 2
    # the plan revision triggers (migration 016): a milestone added, re-dated or deleted behind the
    # service's back re-plans its agreement only; a change to anything the plan does not read re-plans none
    await db.execute("UPDATE mou_agreements SET title = 'Renamed', summary = 'x' WHERE id = ?", (a.id,))
    assert (await svc.replan_guild(G)).extra.get("replanned", 0) == 0
    await db.execute(
        "INSERT INTO mou_milestones (guild_id, agreement_id, due_on, description, created_ms) "
        "VALUES (?, ?, '2026-09-01', 'Added', 0)", (G, a.id))
    stats = await svc.replan_guild(G)
    keys = await pending_keys(svc)
    assert stats.extra["replanned"] == 1 and any(k.startswith(f"mou:{a.id}:t1:ms:") for k in keys)
    await db.execute("UPDATE mou_milestones SET due_on = '2026-09-02' WHERE agreement_id = ?", (a.id,))
    assert (await svc.replan_guild(G)).extra["replanned"] == 1
    await db.execute("DELETE FROM mou_milestones WHERE agreement_id = ?", (a.id,))
    stats = await svc.replan_guild(G)
    assert stats.extra["replanned"] == 1 and stats.cancelled == 1
    assert not any(k.startswith(f"mou:{a.id}:t1:ms:") for k in await pending_keys(svc))
    assert (await svc.replan_guild(G)).extra.get("replanned", 0) == 0


async def test_plan_version_change_replans_everything_once(
    svc: MouService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add(svc)
    await _add(svc, title="Lyon–Turin")
    assert (await svc.replan_all()).extra.get("replanned", 0) == 0
    monkeypatch.setattr(P, "PLAN_VERSION", P.PLAN_VERSION + 1)
    assert (await svc.replan_all()).extra["replanned"] == 2
    assert (await svc.replan_all()).extra.get("replanned", 0) == 0


async def test_start_with_unchanged_data_replans_nothing(svc: MouService, db: Database) -> None:
    for i in range(5):
        a = await _add(svc, title=f"Agreement {i}")
        await svc.add_milestone(G, OWNER, a.id, "2026-06-01", f"Report {i}")
    await svc.replan_all()
    jobs_before = await db.fetchall("SELECT id, updated_ms, status FROM jobs ORDER BY id")
    # a new process on the same database: a fresh scheduler and service
    fresh = MouService(db, Scheduler(db, clock=svc.scheduler.clock), svc.settings)
    stats = await fresh.replan_all()
    assert stats.extra.get("replanned", 0) == 0 and stats.extra["skipped"] == 5
    assert stats.scheduled == 0 and stats.cancelled == 0 and stats.status_changes == 0
    assert await db.fetchall("SELECT id, updated_ms, status FROM jobs ORDER BY id") == jobs_before


async def test_guild_return_replans_even_unchanged_agreements(svc: MouService) -> None:
    a = await _add(svc)
    await svc.scheduler.guild_left(G)
    assert await pending_keys(svc) == {}
    await svc.scheduler.guild_returned(G)
    await svc.guild_returned(G)
    assert f"mou:{a.id}:t1:exp:30d" in await pending_keys(svc)
