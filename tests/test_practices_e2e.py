"""Best-practice library end to end: the real bot through discord.py against the fake Discord.

share via modal → (possible-duplicate prompt) → review card → moderator decides by button →
submitter told (DM, or a mention in #reviews when DMs are closed) → announcement with a thread →
search (with typo correction) → Useful / Adopted counted once per member → export → a second
guild sees nothing → persistent buttons still work after a restart.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from bot.sandbox.emulation import FakeDiscord, InteractionResult, Member
from bot.sandbox.emulation.results import message_text
from tests.e2e import BotFactory, World, configure, populate, practice_service

JsonDict = dict[str, Any]

TITLE = "Rain gardens against street flooding"
SUMMARY = "Heavy storms flooded the old town twice a year; the sewers could not take the water."
APPROACH = (
    "We replaced parking strips with rain gardens and opened culverted streams. Residents adopted plots."
)
RESULTS = "Street flooding fell by two thirds in three years; 40 rain gardens built."
LESSONS = "Start with the streets that flood first, and involve the residents who live there."


# -- helpers ---------------------------------------------------------------------------------
async def open_share(w: World, member: Member, **options: Any) -> InteractionResult:
    opts = {"city": "Lyon, FR", "topic": "resilience, water", **options}
    res = await w.fake.invoke(w.guild, member, "practice share", options=opts)
    assert res.modal is not None, res.text
    return res


def draft_values(title: str = TITLE, **over: str) -> dict[str, str]:
    values = {
        "title": title,
        "summary": SUMMARY,
        "approach": APPROACH,
        "results": RESULTS,
        "lessons": LESSONS,
    }
    values.update(over)
    return values


async def share(w: World, member: Member, title: str = TITLE, *, options: dict[str, Any] | None = None,
                **texts: str) -> int:
    """Share through the command and the modal; returns the new practice's id."""
    res = await open_share(w, member, **(options or {}))
    done = await w.fake.submit_modal(w.guild, member, res, draft_values(title, **texts))
    await done.wait_for_message()
    m = re.search(r"Practice \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    assert done.ephemeral
    return int(m.group(1))


async def review_card(w: World, pid: int) -> JsonDict:
    return await w.fake.wait_for_message(
        w.reviews, lambda m: any(f"pr:rv:{pid}:" in c for c in custom_ids(m)))


def custom_ids(message: JsonDict) -> list[str]:
    out: list[str] = []

    def walk(items: list[JsonDict]) -> None:
        for item in items:
            if item.get("custom_id"):
                out.append(item["custom_id"])
            walk(item.get("components") or [])

    walk(message.get("components") or [])
    return out


def button_id(message: JsonDict, label_start: str) -> str:
    found: list[str] = []

    def walk(items: list[JsonDict]) -> None:
        for item in items:
            if item.get("type") == 2 and str(item.get("label", "")).startswith(label_start):
                found.append(item["custom_id"])
            walk(item.get("components") or [])

    walk(message.get("components") or [])
    assert found, f"no button starting {label_start!r} in {message.get('components')}"
    return found[0]


def review_button(card: JsonDict, act: str) -> str:
    return next(c for c in custom_ids(card) if c.startswith("pr:rv:") and c.endswith(":" + act))


async def status_of(w: World, pid: int) -> str:
    return (await practice_service(w.bot).get(w.guild.id, pid)).status


async def decide_by_button(w: World, pid: int, act: str, reason: str | None = None) -> InteractionResult:
    card = await review_card(w, pid)
    res = await w.fake.click(w.guild, w.mod, card, review_button(card, act))
    if reason is not None:
        assert res.modal is not None, res.text
        res = await w.fake.submit_modal(w.guild, w.mod, res, {"answer": reason})
    await res.wait_for_message()
    return res


async def eventually(probe: Any, limit: float = 5.0) -> Any:
    """Poll a (sync or async) probe until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {limit}s")
        await asyncio.sleep(0.02)


def bodies_to(w: World | FakeDiscord, path_part: str) -> list[JsonDict]:
    fake = w.fake if isinstance(w, World) else w
    return [r.json for r in fake.requests
            if r.method in ("POST", "PATCH") and path_part in r.path and isinstance(r.json, dict)]


def assert_no_pings(fake: FakeDiscord, *, allowed_users: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """No message the bot sent could ping @everyone/@here/roles, nor users other than `allowed_users`."""
    for r in fake.requests:
        body = r.json
        if r.method not in ("POST", "PATCH") or not isinstance(body, dict) or "/messages" not in r.path and \
                "/callback" not in r.path and "/webhooks/" not in r.path:
            continue
        data = body.get("data") if "/callback" in r.path and isinstance(body.get("data"), dict) else body
        if not data.get("content") and not data.get("embeds"):
            continue
        am = data.get("allowed_mentions")
        assert am is not None, f"{r.method} {r.path} sent content without allowed_mentions"
        assert "everyone" not in am.get("parse", []) and "roles" not in am.get("parse", []), (r.path, am)
        assert "users" not in am.get("parse", []), (r.path, am)
        assert {str(u) for u in am.get("users", [])} <= set(allowed_users), (r.path, am)
        assert not am.get("roles"), (r.path, am)


async def approve_by_command(w: World, pid: int) -> None:
    res = await w.fake.invoke(w.guild, w.mod, "practice approve", options={"id": pid})
    await res.wait_for_message()
    assert "approved" in res.content, res.text


# -- the main flow ---------------------------------------------------------------------------
async def test_share_review_approve_announce_search_and_votes(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    pid = await share(w, w.alice, options={"sdgs": "11, 13", "year": 2019,
                                           "links": "https://lyon.example.org/rain https://example.com/x"})
    assert await status_of(w, pid) == "pending"

    card = await review_card(w, pid)
    ids = custom_ids(card)
    assert [i.rsplit(":", 1)[1] for i in ids] == ["ap", "ch", "rj"]
    assert TITLE in message_text(card) and f"<@{w.alice.id}>" in message_text(card)

    # a plain member pressing Approve is refused, and nothing changes
    res = await fake.click(w.guild, w.bob, card, review_button(card, "ap"))
    await res.wait_for_message()
    assert res.ephemeral and "Only moderators" in res.text
    assert await status_of(w, pid) == "pending"
    assert custom_ids(fake.get_message(card["id"]) or {}) == ids
    assert fake.channel_messages(w.announcements) == []
    assert fake.dms(w.alice) == []

    # the moderator approves by button
    res = await decide_by_button(w, pid, "ap")
    assert res.ephemeral and "approved" in res.text and "DM" in res.text
    p = await practice_service(w.bot).get(w.guild.id, pid)
    assert p.status == "approved" and p.decided_by == w.mod.id
    # the card now says who decided and has no buttons left
    decided = fake.get_message(card["id"]) or {}
    assert custom_ids(decided) == [] and "approved by" in message_text(decided).lower()

    dm = await fake.wait_for_dm(w.alice)
    assert f"#{pid}" in dm["content"] and "approved" in dm["content"]

    ann = await fake.wait_for_message(w.announcements)
    ann_text = message_text(ann)
    assert "New practice" in ann_text and TITLE in ann_text and "Lyon" in ann_text
    assert f"pr:vote:{pid}:useful" in custom_ids(ann) and f"pr:vote:{pid}:adopt" in custom_ids(ann)
    thread = await eventually(lambda: fake.threads.get(int(ann["id"])))
    assert str(pid) in thread.name
    intro = await fake.wait_for_message(thread.id)
    assert "Questions about this practice" in intro["content"]
    assert (
        p.thread_id == thread.id
        or (await practice_service(w.bot).get(w.guild.id, pid)).thread_id == thread.id
    )

    # search finds it, by a word, a prefix, and with a typo
    res = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "flooding"})
    assert res.ephemeral and f"#{pid}" in res.text and "**flooding**" in res.text.lower()
    res = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "rain gard"})
    assert f"#{pid}" in res.text
    res = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "floodnig"})
    assert "Showing results for" in res.text and "flooding" in res.text and f"#{pid}" in res.text
    res = await fake.invoke(
        w.guild, w.bob, "practice search", options={"query": "flooding", "topic": "health"}
    )
    assert "No approved practice" in res.text and "removing a filter" in res.text
    res = await fake.invoke(w.guild, w.bob, "practice search",
                            options={"query": 'rain" NEAR(-flood* :) AND ("', "sdg": 13})
    assert f"#{pid}" in res.text or "No approved practice" in res.text
    assert "Something went wrong" not in res.text

    # Useful: once per member
    res = await fake.click(w.guild, w.bob, ann, f"pr:vote:{pid}:useful")
    await res.wait_for_followup()
    assert "marked as useful" in res.text
    res = await fake.click(w.guild, w.bob, ann, f"pr:vote:{pid}:useful")
    await res.wait_for_followup()
    assert "already" in res.text
    res = await fake.click(w.guild, w.carol, ann, f"pr:vote:{pid}:useful")
    await res.wait_for_followup()
    counts = await practice_service(w.bot).counts(w.guild.id, pid)
    assert counts.useful == 2
    ann_now = fake.get_message(ann["id"]) or {}
    assert button_id(ann_now, "Useful (2)") == f"pr:vote:{pid}:useful"

    # Adopted in my city: once per member (city picked, or typed, when the profile has none)
    for attempt in range(2):
        res = await fake.click(w.guild, w.bob, ann, f"pr:vote:{pid}:adopt")
        if attempt == 1:
            await res.wait_for_message()
            assert "already" in res.text
            break
        if res.modal is not None:
            res = await fake.submit_modal(w.guild, w.bob, res, {"answer": "Porto, PT"})
        else:
            msg = await res.wait_for_message()
            if "Recorded" not in res.text:  # a picker: choose a known city
                select = next(c for row in msg["components"] for c in row["components"] if c["type"] == 3)
                res = await fake.select(
                    w.guild, w.bob, msg, select["custom_id"], [select["options"][0]["value"]]
                )
        await res.wait_for_message()
        assert "Recorded" in res.text or "adopted" in res.text
    counts = await practice_service(w.bot).counts(w.guild.id, pid)
    assert counts.adopted == 1 and counts.useful == 2

    # /practice show: full embed with counts and buttons
    res = await fake.invoke(w.guild, w.carol, "practice show", options={"id": pid})
    assert "2 found it useful" in res.text and f"pr:vote:{pid}:useful" in res.custom_ids
    # autocomplete by title
    choices = await fake.autocomplete(w.guild, w.carol, "practice show", focused="id", value="rain")
    assert [c["value"] for c in choices] == [pid]
    assert_no_pings(fake)
    fake.assert_clean()


async def test_possible_duplicate_stop_and_go_on(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    first = await share(w, w.alice)
    # (another member's practice under review is not shown to a member: approved first)
    assert "approved" in (await fake.invoke(w.guild, w.mod, "practice approve", {"id": first})).text
    # same city, similar title → the member is warned and stops: nothing is saved
    res = await open_share(w, w.bob)
    res = await fake.submit_modal(w.guild, w.bob, res, draft_values("Rain gardens against flooding"))
    warn = await res.wait_for_message()
    assert "Possible duplicates" in res.text and f"#{first}" in res.text and res.ephemeral
    before = len(await practice_service(w.bot).queue(w.guild.id))
    stop = await fake.click(w.guild, w.bob, warn, button_id(warn, "Stop"))
    assert "nothing was saved" in message_text(stop.original or {}) or "nothing was saved" in str(
        stop.callback
    )
    assert len(await practice_service(w.bot).queue(w.guild.id)) == before
    assert await practice_service(w.bot).mine(w.guild.id, w.bob.id) == []

    # again, and this time go on: saved, with the review card listing the possible duplicate
    res = await open_share(w, w.bob)
    res = await fake.submit_modal(w.guild, w.bob, res, draft_values("Rain gardens against flooding"))
    warn = await res.wait_for_message()
    go = await fake.click(w.guild, w.bob, warn, button_id(warn, "Go on"))
    saved = await go.wait_for_followup()
    m = re.search(r"#(\d+)", saved["content"])
    assert m and "saved" in saved["content"]
    second = int(m.group(1))
    assert second != first and await status_of(w, second) == "pending"
    card = await review_card(w, second)
    assert "Possible duplicates" in message_text(card) and f"#{first}" in message_text(card)

    # a different city with the same title is not a duplicate: no prompt
    res = await open_share(w, w.carol, city="Porto, PT")
    res = await fake.submit_modal(w.guild, w.carol, res, draft_values())
    await res.wait_for_message()
    assert "saved" in res.content and "Possible duplicates" not in res.text
    fake.assert_clean()


async def test_request_changes_edit_resubmits_reject_and_dm_fallback(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    # dave's DMs are closed: the decision is posted in #reviews, pinging only him
    pid = await share(w, w.dave, "Night buses for shift workers", options={"topic": "urban-planning"})
    res = await decide_by_button(w, pid, "ch", reason="Please add figures on ridership.")
    assert "mentioned them in the review channel" in res.text
    assert await status_of(w, pid) == "changes_requested"
    mention = await fake.wait_for_message(w.reviews, lambda m: m["content"].startswith(f"<@{w.dave.id}>"))
    assert "asked for changes" in mention["content"] and "ridership" in mention["content"]
    body = next(b for b in bodies_to(w, f"/channels/{w.reviews.id}/messages")
                if str(b.get("content", "")).startswith(f"<@{w.dave.id}>"))
    am = body["allowed_mentions"]
    assert (
        [str(u) for u in am.get("users", [])] == [str(w.dave.id)]
        and "everyone" not in am.get("parse", [])
        and not am.get("roles")
    )
    assert fake.dms(w.dave) == []

    # another member may not edit it; dave edits and it goes back to pending with a new card
    res = await fake.invoke(w.guild, w.bob, "practice edit", options={"id": pid})
    assert res.modal is None and "Only the submitter or a moderator" in res.text
    res = await fake.invoke(w.guild, w.dave, "practice edit", options={"id": pid})
    assert res.modal is not None
    prefilled = json.dumps(res.modal)
    assert "Night buses for shift workers" in prefilled
    mark = fake.mark()
    done = await fake.submit_modal(
        w.guild, w.dave, res, {"results": "Ridership: 1,200 a night after a year."}
    )
    await done.wait_for_message()
    assert "back in the review queue" in done.text
    p = await practice_service(w.bot).get(w.guild.id, pid)
    assert p.status == "pending" and "1,200" in p.results
    card = await fake.wait_for_message(w.reviews, lambda m: bool(custom_ids(m)), after=mark)
    assert "Resubmitted" in message_text(card) and f"pr:rv:{pid}:{p.version}:ap" in custom_ids(card)
    revs = await practice_service(w.bot).revisions(w.guild.id, pid)
    assert [r.action for r in revs] == ["submit", "request_changes", "edit"]

    # reject with a reason modal; alice (DMs open) reads the reason by DM
    other = await share(w, w.alice, "Free umbrellas", options={"city": "Porto, PT"})
    res = await decide_by_button(w, other, "rj", reason="Out of scope for this library.")
    assert await status_of(w, other) == "rejected"
    dm = await fake.wait_for_dm(w.alice)
    assert "not accepted" in dm["content"] and "Out of scope" in dm["content"]
    # the submitter can no longer edit a rejected practice
    res = await fake.invoke(w.guild, w.alice, "practice edit", options={"id": other})
    assert res.modal is None and "only moderators can edit" in res.text
    # a second decision reports the first instead of overwriting it
    res = await fake.invoke(w.guild, w.mod, "practice approve", options={"id": other})
    await res.wait_for_message()
    assert "already rejected by" in res.text and await status_of(w, other) == "rejected"

    # two moderators press Approve / Reject on the same card at once: one decision wins, the other
    # moderator is told about it, and only one announcement goes out
    third = await share(w, w.bob, "Cooling centres in libraries", options={"city": "Seville, ES",
                                                                          "topic": "health"})
    card = await review_card(w, third)
    first = await fake.click(w.guild, w.mod, card, review_button(card, "ap"), wait=False)
    second = await fake.click(w.guild, w.admin, card, review_button(card, "ap"), wait=False)
    await first.wait_for_message()
    await second.wait_for_message()
    texts = sorted([first.text, second.text], key=lambda t: "already" in t)
    assert "is now **approved**" in texts[0] and "already approved by" in texts[1], texts
    assert await status_of(w, third) == "approved"
    await asyncio.sleep(0.1)
    assert (
        len([m for m in fake.channel_messages(w.announcements) if f"pr:vote:{third}:useful" in custom_ids(m)])
        == 1
    )

    # a moderator edits a pending practice: its card is refreshed, so its buttons decide the new version
    fourth = await share(w, w.carol, "Shade trees on school routes", options={"city": "Seville, ES"})
    card = await review_card(w, fourth)
    res = await fake.invoke(
        w.guild, w.mod, "practice edit", options={"id": fourth, "topic": "climate, health"}
    )
    done = await fake.submit_modal(w.guild, w.mod, res, {"title": "Shade trees on every school route"})
    await done.wait_for_message()
    p4 = await practice_service(w.bot).get(w.guild.id, fourth)
    assert p4.status == "pending" and p4.topics == ("climate", "health") and p4.version == 2
    refreshed = await eventually(lambda: (m := fake.get_message(card["id"])) and
                                 f"pr:rv:{fourth}:2:ap" in custom_ids(m) and m)
    assert "Shade trees on every school route" in message_text(refreshed)
    res = await fake.invoke(w.guild, w.mod, "practice queue")  # oldest first, one per page, with actions
    assert res.ephemeral and "Night buses" in res.text and "Page 1/2" in res.text
    assert any(i for i in res.custom_ids)
    page = await fake.click(w.guild, w.mod, res.message or {}, button_id(res.message or {}, "Next"))
    assert "Shade trees on every school route" in message_text(page.original or fake.get_message(
        (res.message or {})["id"]) or {})
    res = await fake.invoke(w.guild, w.alice, "practice queue")
    assert "Only moderators" in res.text
    assert_no_pings(fake, allowed_users={str(w.dave.id)})
    fake.assert_clean()


async def test_export_and_second_guild_isolation(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    a = await share(w, w.alice, options={"sdgs": "6 11"})
    b = await share(w, w.bob, "Participatory budget for schools",
                    options={"city": "Porto, PT", "topic": "governance, education"})
    await share(w, w.carol, "Still pending")
    await approve_by_command(w, a)
    await approve_by_command(w, b)

    res = await fake.invoke(w.guild, w.alice, "practice export", options={"format": "csv"})
    assert "Only moderators" in res.text and not res.files
    res = await fake.invoke(w.guild, w.mod, "practice export", options={"format": "csv"})
    await res.wait_for_message()
    (f,) = res.files
    assert f.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(f.data.decode("utf-8-sig"))))
    assert sorted(int(r["id"]) for r in rows) == [a, b]
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[a]["topics"] == "resilience;water" and by_id[a]["sdgs"] == "6;11"
    assert by_id[b]["title"] == "Participatory budget for schools"
    res = await fake.invoke(w.guild, w.mod, "practice export", options={"format": "json"})
    await res.wait_for_message()
    data = json.loads(res.files[0].text)
    assert {d["id"] for d in data} == {a, b}
    assert next(d for d in data if d["id"] == a)["topics"] == ["resilience", "water"]
    assert next(d for d in data if d["id"] == a)["sdgs"] == [6, 11]

    # a second guild, with its own moderator, sees none of it
    from bot.sandbox.emulation import Perm

    g2 = fake.add_guild(name="Elsewhere")
    mods2 = g2.add_role("Mods", permissions=Perm.MANAGE_MESSAGES)
    mod2 = g2.add_member(name="mod2", roles=[mods2])
    eve = g2.add_member(name="eve")
    await eventually(lambda: w.bot.get_guild(g2.id))
    res = await fake.invoke(g2, eve, "practice search", options={"query": "rain"})
    assert "No approved practice" in res.text and TITLE not in res.text
    res = await fake.invoke(g2, eve, "practice search")
    assert "No approved practice" in res.text
    res = await fake.invoke(g2, eve, "practice show", options={"id": a})
    assert f"no practice #{a}" in res.text.lower() and TITLE not in res.text
    assert await fake.autocomplete(g2, eve, "practice show", focused="id", value="") == []
    assert await fake.autocomplete(g2, mod2, "practice approve", focused="id", value="") == []
    res = await fake.invoke(g2, mod2, "practice export", options={"format": "json"})
    await res.wait_for_message()
    assert not res.files and "no approved practice" in res.text.lower()
    res = await fake.invoke(g2, mod2, "practice approve", options={"id": a})
    await res.wait_for_message()
    assert f"no practice #{a}" in res.text.lower()
    res = await fake.invoke(g2, eve, "practice stats")
    assert "**0** approved" in res.text
    # and the first guild's practice is untouched
    assert await status_of(w, a) == "approved"
    fake.assert_clean()


async def test_hostile_and_oversized_text_stays_within_limits_without_pings(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    role = f"<@&{w.moderators.id}>"
    title = ("@everyone ``` **x** " * 10)[:150]
    summary = (f"@here {role} ```py\nprint(1)\n``` ||spoiler|| " * 40)[:1000]
    approach = (f"@everyone <@{w.bob.id}> ```\n# heading\n> quote *a* _b_ ~~c~~ " * 120)[:4000]
    results = ("@here [link](https://evil.example) " * 60)[:1500]
    lessons = ("```" + "x" * 1600)[:1500]
    pid = await share(w, w.alice, title, summary=summary, approach=approach, results=results, lessons=lessons,
                      options={"city": "@everyone town", "contact": "@here the mayor ```",
                               "topic": "security"})
    p = await practice_service(w.bot).get(w.guild.id, pid)
    assert len(p.approach) == 4000 and p.title == " ".join(title.split())
    card = await review_card(w, pid)
    await decide_by_button(w, pid, "ap")
    ann = await fake.wait_for_message(w.announcements)
    res = await fake.invoke(w.guild, w.bob, "practice show", options={"id": pid})
    res2 = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "quote heading"})
    for message in (card, fake.get_message(card["id"]) or {}, ann, res.message or {}, res2.message or {}):
        for e in message.get("embeds") or []:
            text = json.dumps(e, ensure_ascii=False)
            assert "@everyone" not in text and "@here" not in text
            assert "```" not in text
            total = len(e.get("title") or "") + len(e.get("description") or "") + sum(
                len(f["name"]) + len(f["value"]) for f in e.get("fields") or []) + len(
                (e.get("footer") or {}).get("text") or "")
            assert total <= 6000 and len(e.get("description") or "") <= 4096
    assert len(message_text(res.message or {})) > 1000  # it was clipped, not dropped
    assert_no_pings(fake)
    fake.assert_clean()


async def test_persistent_buttons_work_after_restart(fake_discord: FakeDiscord, tmp_path: Path,
                                                     bot_factory: BotFactory) -> None:
    fake = fake_discord
    parts = populate(fake)
    async with bot_factory() as bot:
        await fake.wait_commands_synced()
        await configure(bot, parts)
        res = await fake.invoke(parts["guild"], parts["alice"], "practice share",
                                options={"city": "Lyon, FR", "topic": "water"})
        done = await fake.submit_modal(parts["guild"], parts["alice"], res, draft_values())
        await done.wait_for_message()
        pid = int(re.search(r"#(\d+)", done.content).group(1))  # type: ignore[union-attr]
        card = await fake.wait_for_message(parts["reviews"], lambda m: bool(custom_ids(m)))
    assert bot.is_closed()

    async with bot_factory() as bot2:  # a new process on the same database
        res = await fake.click(parts["guild"], parts["mod"], card, review_button(card, "ap"))
        await res.wait_for_message()
        assert "approved" in res.text
        assert (await practice_service(bot2).get(parts["guild"].id, pid)).status == "approved"
        ann = await fake.wait_for_message(parts["announcements"])

    async with bot_factory() as bot3:
        res = await fake.click(parts["guild"], parts["bob"], ann, f"pr:vote:{pid}:useful")
        await res.wait_for_followup()
        assert "marked as useful" in res.text
        assert (await practice_service(bot3).counts(parts["guild"].id, pid)).useful == 1
    fake.assert_clean()


async def test_search_pages_through_results_with_highlights(started_bot: World) -> None:
    from cogs.practices.service import Draft, Meta

    w = started_bot
    svc = practice_service(w.bot)
    for i in range(7):
        p = await svc.submit(w.guild.id, w.alice.id, Draft(f"Compost hub number {i}", "Food waste piled up.",
                                                           "Neighbours compost together."),
                             Meta(city_name="Lyon", country="FR", topics=("food",)))
        await svc.decide(w.guild.id, p.id, actor_id=w.mod.id, action="approve")
    res = await w.fake.invoke(
        w.guild, w.bob, "practice search", options={"query": "compost", "topic": "food"}
    )
    assert "Page 1/2" in res.text and res.text.count("**compost**") + res.text.count("**Compost**") >= 5
    nxt = button_id(res.message or {}, "Next")
    page = await w.fake.click(w.guild, w.bob, res.message or {}, nxt)
    shown = message_text(page.original or w.fake.get_message((res.message or {})["id"]) or {})
    assert "Page 2/2" in shown and "ompost**" in shown
    # someone else cannot page through bob's results
    prev = button_id(w.fake.get_message((res.message or {})["id"]) or {}, "‹ Prev")
    other = await w.fake.click(w.guild, w.carol, res.message or {}, prev)
    assert "someone else's" in other.text or "someone else" in str(other.callback)
    w.fake.assert_clean()


async def test_search_answers_with_its_first_page_and_ranks_the_rest_on_demand(started_bot: World) -> None:
    """More than a page of hits: the answer shows 'Page 1/2+' at once (only the page shown is ranked
    before answering); paging past it ranks the rest (same order), and » goes to the true last page."""
    from cogs.practices.service import Draft, Meta

    w = started_bot
    svc = practice_service(w.bot)
    ids = []
    for i in range(23):
        title = f"Tree canopy plan {i}" if i % 2 else f"Plan {i}"
        summary = "Shade for schools." if i % 2 else "More tree canopy for schools."
        p = await svc.submit(w.guild.id, w.alice.id, Draft(title, summary, "We planted trees."),
                             Meta(city_name="Lyon", country="FR", topics=("climate",)))
        await svc.decide(w.guild.id, p.id, actor_id=w.mod.id, action="approve")
        ids.append(p.id)
    full = await svc.search(w.guild.id, "canopy", first=None)
    assert len(full.hits) == 23
    res = await w.fake.invoke(w.guild, w.bob, "practice search", options={"query": "canopy"})
    assert "Page 1/2+" in res.text and "5+ results" in res.text
    msg_id = (res.message or {})["id"]

    def shown() -> str:
        return message_text(w.fake.get_message(msg_id) or {})

    for expected in ("Page 2/5", "Page 3/5"):  # the rest is ranked when the second page is asked for
        await w.fake.click(w.guild, w.bob, w.fake.get_message(msg_id) or {},
                           button_id(w.fake.get_message(msg_id) or {}, "Next"))
        assert expected in shown(), shown()
    assert "23 results" in shown()
    # page 3 shows hits 11-15 of the full ranking, with their highlighted snippets
    for hit in full.hits[10:15]:
        assert f"#{hit.id}" in shown()
    assert shown().count("anopy**") >= 5
    await w.fake.click(w.guild, w.bob, w.fake.get_message(msg_id) or {},
                       button_id(w.fake.get_message(msg_id) or {}, "»"))
    assert "Page 5/5" in shown() and f"#{full.hits[-1].id}" in shown()
    # a fresh search whose » is the first thing pressed lands on the true last page too
    res = await w.fake.invoke(w.guild, w.carol, "practice search", options={"query": "canopy"})
    msg_id = (res.message or {})["id"]
    await w.fake.click(w.guild, w.carol, res.message or {}, button_id(res.message or {}, "»"))
    assert "Page 5/5" in shown()
    w.fake.assert_clean()
