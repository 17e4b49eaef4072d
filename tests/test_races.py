"""Races end to end through discord.py and the fake Discord (hardening issue: "Races").

* 50 members press Going at the same instant on a roundtable with capacity 10.
* Two moderators decide the same practice at once (button vs command, approve vs reject).
* Concurrent `/mou update` calls on one agreement with different fields.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import bot.app as app_module
from bot.sandbox.emulation import FakeDiscord, InteractionResult
from tests.e2e import World, practice_service, start_world


def buttons(message: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id"):
                out[c["custom_id"]] = c["custom_id"]
    return out


def field(message: dict[str, Any], name: str) -> str:
    for e in message.get("embeds") or []:
        for f in e.get("fields") or []:
            if f["name"] == name:
                return str(f["value"])
    return ""


@pytest_asyncio.fixture
async def world(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with start_world(fake_discord, tmp_path) as w:
        yield w


# ---------------------------------------------------------------------------------------------- RSVP


async def test_fifty_members_press_going_at_once_capacity_ten(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exts = ["cogs.settings", "cogs.meta", "cogs.roundtables"]
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(exts))
    async with start_world(fake_discord, tmp_path, extensions=exts) as w:
        fake, bot = w.fake, w.bot
        members = [w.guild.add_member(name=f"member{i:02d}") for i in range(50)]
        start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
        mark = fake.mark()
        res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                                {"title": "Crowded", "when": start.strftime("%Y-%m-%d %H:%M"),
                                 "timezone": "UTC", "capacity": 10})
        assert "Scheduled" in res.text, res.text
        msg = await fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
        going_id = next(c for c in buttons(msg) if c.endswith(":going"))
        rt_id = int(going_id.split(":")[2])

        results: list[InteractionResult] = await asyncio.gather(
            *(fake.click(w.guild, m, msg, going_id, timeout=30) for m in members)
        )
        # all 50 were in flight together: every press was sent before the bot answered the first one
        first_answer = min(r.created_at + (r.callback_delay or 0.0) for r in results)
        assert max(r.created_at for r in results) <= first_answer
        # press order = the order the fake delivered the interactions (snowflake ids grow)
        by_user = {int(r.payload["member"]["user"]["id"]): r for r in results}
        press_order = [uid for uid, _ in sorted(by_user.items(), key=lambda kv: kv[1].id)]
        assert len(press_order) == 50

        rows = await bot.db.fetchall(
            "SELECT user_id, status, seq FROM roundtable_rsvps "
            "WHERE guild_id = ? AND roundtable_id = ? ORDER BY seq",
            (w.guild.id, rt_id),
        )
        users = [r["user_id"] for r in rows]
        assert len(users) == len(set(users)) == 50  # no member twice
        going = [r["user_id"] for r in rows if r["status"] == "going"]
        waitlist = [r["user_id"] for r in rows if r["status"] == "waitlist"]
        assert len(going) == 10 and len(waitlist) == 40
        assert going == press_order[:10]
        assert waitlist == press_order[10:]  # waitlisted in press order (seq order)

        # every presser was told the truth, ephemerally: the first ten going, then positions 1..40
        for pos, uid in enumerate(press_order):
            r = by_user[uid]
            assert r.ephemeral
            if pos < 10:
                assert "You're going" in r.text, r.text
            else:
                assert f"You're **#{pos - 9}** on the waitlist" in r.text, r.text

        cog: Any = bot.get_cog("Roundtables")
        await cog.wait_idle()
        current = fake.get_message(msg["id"])
        assert current is not None
        answers = field(current, "Answers")
        assert "Going **10 / 10**" in answers and "Waitlist **40**" in answers, answers
        fake.assert_clean()


# ------------------------------------------------------------------------------------ practices


PRACTICE = {
    "title": "Rain gardens against street flooding",
    "summary": "Heavy storms flooded the old town twice a year; the sewers could not take the water.",
    "approach": "We replaced parking strips with rain gardens and opened culverted streams.",
    "results": "Street flooding fell by two thirds in three years.",
    "lessons": "Start with the streets that flood first.",
}


def custom_ids(message: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("custom_id"):
                out.append(item["custom_id"])
            walk(item.get("components") or [])

    walk(message.get("components") or [])
    return out


async def share_practice(w: World) -> tuple[int, dict[str, Any]]:
    """alice shares a practice through the command and the modal; returns (id, review card)."""
    res = await w.fake.invoke(w.guild, w.alice, "practice share", {"city": "Lyon, FR", "topic": "water"})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(w.guild, w.alice, res, PRACTICE)
    await done.wait_for_message()
    m = re.search(r"Practice \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    pid = int(m.group(1))
    card = await w.fake.wait_for_message(
        w.reviews, lambda msg: any(f"pr:rv:{pid}:" in c for c in custom_ids(msg))
    )
    return pid, card


def review_button(card: dict[str, Any], act: str) -> str:
    return next(c for c in custom_ids(card) if c.startswith("pr:rv:") and c.endswith(":" + act))


async def approve_by_button(w: World, who: Any, card: dict[str, Any]) -> InteractionResult:
    res = await w.fake.click(w.guild, who, card, review_button(card, "ap"))
    await res.wait_for_message()
    return res


async def reject_by_button(w: World, who: Any, card: dict[str, Any]) -> InteractionResult:
    res = await w.fake.click(w.guild, who, card, review_button(card, "rj"))
    assert res.modal is not None, res.text
    res = await w.fake.submit_modal(w.guild, who, res, {"answer": "Out of scope for this library."})
    await res.wait_for_message()
    return res


async def approve_by_command(w: World, who: Any, pid: int) -> InteractionResult:
    res = await w.fake.invoke(w.guild, who, "practice approve", {"id": pid})
    await res.wait_for_message()
    return res


async def reject_by_command(w: World, who: Any, pid: int) -> InteractionResult:
    res = await w.fake.invoke(
        w.guild, who, "practice reject", {"id": pid, "reason": "Out of scope for this library."}
    )
    await res.wait_for_message()
    return res


@pytest.mark.parametrize("approve_how, reject_how", [("button", "command"), ("command", "button"),
                                                      ("button", "button"), ("command", "command")])
async def test_two_moderators_decide_the_same_practice_at_once(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    approve_how: str,
    reject_how: str,
) -> None:
    exts = ["cogs.settings", "cogs.meta", "cogs.practices"]
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(exts))
    async with start_world(fake_discord, tmp_path, extensions=exts) as w:
        fake = w.fake
        mod2 = w.guild.add_member(name="mod2", roles=[w.moderators])
        pid, card = await share_practice(w)
        announced_before = len(fake.channel_messages(w.announcements))

        if reject_how == "button":
            # the reject button opens a modal first; the race is between its submit and the approval
            opened = await fake.click(w.guild, mod2, card, review_button(card, "rj"))
            assert opened.modal is not None, opened.text

            async def reject() -> InteractionResult:
                res = await fake.submit_modal(
                    w.guild, mod2, opened, {"answer": "Out of scope for this library."}
                )
                await res.wait_for_message()
                return res
        else:
            async def reject() -> InteractionResult:
                return await reject_by_command(w, mod2, pid)

        async def approve() -> InteractionResult:
            if approve_how == "button":
                return await approve_by_button(w, w.mod, card)
            return await approve_by_command(w, w.mod, pid)

        res_ap, res_rj = await asyncio.gather(approve(), reject())
        # both decisions were in flight together (each sent before the bot acknowledged either)
        assert max(r.created_at for r in (res_ap, res_rj)) <= min(
            r.created_at + (r.callback_delay or 0.0) for r in (res_ap, res_rj))
        p = await practice_service(w.bot).get(w.guild.id, pid)
        assert p.status in ("approved", "rejected")
        winner, loser = (res_ap, res_rj) if p.status == "approved" else (res_rj, res_ap)
        winner_mod = w.mod if p.status == "approved" else mod2
        assert winner.ephemeral and loser.ephemeral
        assert (
            f"is now **{'Approved' if p.status == 'approved' else 'Rejected'}**".lower()
            in winner.text.lower()
        ), winner.text
        # the loser is told, naming the earlier decision and who made it
        assert (
            f"was already {p.status}" in loser.text.lower() or f"already {p.status}" in loser.text.lower()
        ), loser.text
        assert f"<@{winner_mod.id}>" in loser.text, loser.text
        assert p.decided_by == winner_mod.id

        # exactly one decision recorded in the audit log
        rows = await w.bot.db.fetchall(
            "SELECT action FROM audit WHERE guild_id = ? AND entity = 'practice' AND entity_id = ? "
            "AND action IN ('practice.approve', 'practice.reject')", (w.guild.id, str(pid)))
        assert [r["action"] for r in rows] == [
            f"practice.{'approve' if p.status == 'approved' else 'reject'}"
        ]

        # one DM to the submitter, at most one announcement (only when the approval won)
        for _ in range(50):
            if fake.dms(w.alice):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        assert len(fake.dms(w.alice)) == 1, fake.dms(w.alice)
        announced = len(fake.channel_messages(w.announcements)) - announced_before
        assert announced == (1 if p.status == "approved" else 0)
        fake.assert_clean()


# ------------------------------------------------------------------------------------------ MOUs


async def add_agreement(w: World, *, signed: str, expires: str, notice_days: int) -> int:
    res = await w.fake.invoke(w.guild, w.alice, "mou add", {
        "kind": "sister-city", "title": "Seoul–Lyon friendship", "city_a": "Seoul, KR", "city_b": "Lyon, FR",
        "signed": signed, "expires": expires, "notice_days": notice_days,
    })
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(w.guild, w.alice, res, {"mou_add_summary": "Youth exchanges."})
    m = re.search(r"#(\d+)\*\* recorded", done.content)
    assert m, done.text
    return int(m.group(1))


async def test_concurrent_mou_updates_lose_no_field(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: last writer wins per field. Updates that touch different fields all land, and the
    fields derived from several of them (notice deadline, status, the term's dates, reminders) are
    computed from the stored row at write time, not from what each writer read before."""
    from cogs.mous import planning as P

    exts = ["cogs.settings", "cogs.meta", "cogs.mous"]
    monkeypatch.setattr(app_module, "discover_extensions", lambda: list(exts))
    async with start_world(fake_discord, tmp_path, extensions=exts) as w:
        fake, bot = w.fake, w.bot
        today = datetime.now(UTC).date()
        signed = today - timedelta(days=400)
        aid = await add_agreement(
            w, signed=signed.isoformat(), expires=(today + timedelta(days=400)).isoformat(), notice_days=30
        )
        await fake.invoke(w.guild, w.alice, "mou owner add", {"id": aid, "member": w.bob.id})
        new_expiry = today + timedelta(days=900)
        new_effective = signed + timedelta(days=10)
        updates = [
            (w.alice, {"title": "Seoul–Lyon sister cities"}),
            (w.bob, {"summary": "Youth, culture and climate exchanges."}),
            (w.mod, {"expires": new_expiry.isoformat()}),
            (w.alice, {"notice_days": 120}),
            (w.bob, {"effective": new_effective.isoformat()}),
            (w.mod, {"focus_areas": "youth; culture"}),
            (w.alice, {"links": "https://example.org/mou.pdf"}),
            (w.bob, {"signature_mode": "both"}),
        ]
        results = await asyncio.gather(
            *(fake.invoke(w.guild, who, "mou update", {"id": aid, **opts}) for who, opts in updates)
        )
        for r in results:
            assert r.ephemeral and f"Agreement #{aid} updated" in r.text, r.text
        row = await bot.db.fetchone(
            "SELECT * FROM mou_agreements WHERE guild_id = ? AND id = ?", (w.guild.id, aid)
        )
        assert row is not None
        assert row["title"] == "Seoul–Lyon sister cities"
        assert row["summary"] == "Youth, culture and climate exchanges."
        assert row["expires_on"] == new_expiry.isoformat()
        assert row["notice_days"] == 120
        assert row["effective_on"] == new_effective.isoformat()
        assert row["focus_areas"] == "youth; culture"
        assert row["links"] == '["https://example.org/mou.pdf"]'
        assert row["signature_mode"] == "both"
        # derived fields agree with the final values of the fields they come from
        assert row["notice_on"] == (new_expiry - timedelta(days=120)).isoformat()
        term = await bot.db.fetchone(
            "SELECT starts_on, expires_on FROM mou_terms WHERE agreement_id = ? AND term = ?",
            (aid, row["term"]),
        )
        assert term is not None
        assert (term["starts_on"], term["expires_on"]) == (new_effective.isoformat(), new_expiry.isoformat())
        assert row["status"] == "active"
        # the reminders follow the final expiry and notice period
        jobs = {j.dedupe_key: j for j in await bot.scheduler.pending(w.guild.id, P.agreement_prefix(aid))}
        pre = P.term_prefix(aid, row["term"])
        assert jobs[pre + "notice"].payload["on"] == row["notice_on"]
        expiry_jobs = [j for k, j in jobs.items() if k.startswith(pre + "exp:")]
        assert expiry_jobs and all(
            j.payload["on"] == (new_expiry - timedelta(days=j.payload["offset"])).isoformat()
            for j in expiry_jobs
        )
        # one audit row per update
        n = await bot.db.fetchval("SELECT COUNT(*) FROM audit WHERE guild_id = ? AND action = 'mou.update' "
                                  "AND entity_id = ?", (w.guild.id, str(aid)))
        assert n == len(updates)
        fake.assert_clean()
