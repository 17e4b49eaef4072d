"""Guild isolation, end to end through the fake Discord.

Two servers run the same command sequence (practices shared and approved, a roundtable with an
RSVP, an agreement with a milestone and an activity, profiles, a server city, a server network with
a member city, settings). Every name typed in server 1 carries the marker ZEBRAFJORD, in server 2
OCTOPLAZA. Then, from server 2, every read path — show/list/search commands, autocomplete of every
option that has autocomplete (typed empty, with the marker, with a digit), the exports (CSV, JSON,
ICS attachments, parsed), `/settings show`, `/audit` — must contain none of server 1's markers,
channel ids or member ids, and server 1's numeric ids typed into server 2 must answer "not found".
Server 2's own marker must show up in the same reads (so an empty answer cannot pass). A sample of
reads is checked in the other direction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import icalendar

from bot.sandbox.emulation import Channel, Guild, InteractionResult, Member
from tests.e2e import World, configure, populate
from tests.test_permission_matrix import add_mou, schedule_rt, share_practice

NOT_FOUND = re.compile(
    r"not found|no (such )?(practice|roundtable|agreement|network|city|milestone)"
    r"|(isn't|is not|doesn't|does not) (exist|in this server|here)|couldn't find|don't know|unknown",
    re.I,
)


@dataclass
class Side:
    guild: Guild
    general: Channel
    reviews: Channel
    announcements: Channel
    admin: Member
    mod: Member
    alice: Member
    bob: Member
    marker: str  # capitalised, e.g. "Zebrafjord"
    city: str  # a server-added city, "<marker> Springs"
    ids: dict[str, int] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # everything this side was shown

    @property
    def people(self) -> list[Member]:
        return [self.admin, self.mod, self.alice, self.bob]


def side_of(parts: dict[str, Any], marker: str) -> Side:
    return Side(guild=parts["guild"], general=parts["general"], reviews=parts["reviews"],
                announcements=parts["announcements"], admin=parts["admin"], mod=parts["mod"],
                alice=parts["alice"], bob=parts["bob"], marker=marker, city=f"{marker} Springs")


def result_text(res: InteractionResult) -> str:
    """Everything a member sees in an answer: content, embeds, components, attached files."""
    parts = [res.text]
    for m in res.all_messages:
        parts.append(json.dumps(m.get("components") or [], ensure_ascii=False))
        parts.append(json.dumps(m.get("embeds") or [], ensure_ascii=False))
    if res.modal is not None:
        parts.append(json.dumps(res.modal, ensure_ascii=False))
    for f in res.files:
        parts.append(f.data.decode("utf-8", errors="replace"))
    return "\n".join(parts)


async def run(
    w: World, s: Side, who: Member, name: str, options: dict[str, Any] | None = None
) -> InteractionResult:
    """Run a read and keep what it showed, minus the member's own typed text (echoed back)."""
    res = await w.fake.invoke(s.guild, who, name, options or {})
    text = result_text(res)
    for v in (options or {}).values():
        if isinstance(v, str) and len(v) > 2:
            text = text.replace(v, "<typed>")
    s.seen.append(f"/{name} {sorted(options or {})}\n{text}")
    return res


async def sequence(w: World, s: Side) -> None:
    """The same command sequence in either server."""
    fake, g, m = w.fake, s.guild, s.marker
    fake_w = World(fake=w.fake, bot=w.bot, guild=g, general=s.general, reviews=s.reviews,
                   announcements=s.announcements, moderators=g.role("Moderators"), admin=s.admin, mod=s.mod,
                   alice=s.alice, bob=s.bob, carol=s.bob, dave=s.bob, config=w.config)
    # settings
    for name, opts in (
        ("settings timezone", {"zone": "Asia/Tokyo" if m == "Zebrafjord" else "Europe/Lisbon"}),
        ("roundtable reminder-times", {"times": "2d, 1h"}),
    ):
        res = await fake.invoke(g, s.admin, name, opts)
        assert res.ephemeral and "manage server" not in res.text.lower(), res.text
    res = await fake.invoke(g, s.mod, "mou settings", {"reminder_hour": 8})
    assert "updated" in res.text, res.text
    # directory: a server city, a server network with that city, profiles
    res = await fake.invoke(
        g, s.mod, "city add", {"name": s.city, "country": "NZ", "timezone": "Pacific/Auckland"}
    )
    assert "Added" in res.text, res.text
    res = await fake.invoke(
        g,
        s.mod,
        "network add",
        {
            "name": f"{m} Harbour Network",
            "acronym": m[:3].upper() + "HN",
            "focus": "water",
            "source": f"{m} charter",
        },
    )
    assert "Added" in res.text, res.text
    res = await fake.invoke(
        g,
        s.mod,
        "network add-member",
        {"network": f"{m} Harbour Network", "city": s.city, "source": f"{m} minutes"},
    )
    assert "Recorded" in res.text, res.text
    res = await fake.invoke(g, s.alice, "profile set", {"city": s.city, "title": f"{m} envoy",
                                                        "office": f"{m} office", "expertise": f"{m} ports"})
    assert res.ephemeral and "Manage" not in res.text, res.text
    res = await fake.invoke(g, s.bob, "profile set", {"city": "Lima", "title": f"{m} attaché"})
    assert res.ephemeral, res.text
    # practices: one approved, one pending
    s.ids["approved"] = await share_practice(fake_w, s.alice, f"{m} tidal gardens", city=s.city)
    res = await fake.invoke(g, s.mod, "practice approve", {"id": s.ids["approved"]})
    assert "approved" in res.text.lower(), res.text
    s.ids["pending"] = await share_practice(fake_w, s.bob, f"{m} pending ferries", city="Lima")
    # a roundtable with an RSVP
    s.ids["rt"] = await schedule_rt(fake_w, s.alice, f"{m} roundtable", where=f"{m} town hall",
                                    agenda=f"{m} agenda")
    res = await fake.invoke(g, s.bob, "roundtable rsvp", {"id": s.ids["rt"], "response": "going"})
    assert res.ephemeral, res.text
    # an agreement with a milestone and an activity
    s.ids["mou"] = await add_mou(fake_w, s.alice, f"{m} sister cities", city_a=s.city, city_b="Lima",
                                 summary=f"{m} exchanges")
    res = await fake.invoke(g, s.alice, "mou milestone add", {"id": s.ids["mou"], "date": "2031-06-01",
                                                             "description": f"{m} festival"})
    assert res.ephemeral, res.text
    s.ids["milestone"] = int(await w.bot.db.fetchval(
        "SELECT id FROM mou_milestones WHERE guild_id = ? AND agreement_id = ?", (g.id, s.ids["mou"])))
    res = await fake.invoke(g, s.alice, "mou log", {"id": s.ids["mou"], "text": f"{m} visit"})
    assert res.ephemeral, res.text


def autocomplete_targets(commands: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(command path, option) for every option that has autocomplete."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]
        for o in options:
            if o["type"] not in (1, 2) and o.get("autocomplete"):
                out.append((prefix, o["name"]))
        for sub in subs:
            walk(f"{prefix} {sub['name']}", sub.get("options") or [])

    for c in commands:
        walk(c["name"], c.get("options") or [])
    return out


def parse_file(name: str, data: bytes) -> str:
    """Parse an export like a member's spreadsheet/calendar would; return its text for the marker check."""
    text = data.decode("utf-8")
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(text)))
        assert rows, name
    elif name.endswith(".json"):
        json.loads(text)
    elif name.endswith(".ics"):
        icalendar.Calendar.from_ical(text)
    return text


async def reads(w: World, me: Side, other: Side, *, full: bool) -> None:
    """Every read path from `me`'s server; what it shows lands in me.seen."""
    fake, g = w.fake, me.guild
    mod, alice = me.mod, me.alice
    plain = [
        (alice, "practice search", {}),
        (alice, "practice search", {"query": other.marker}),
        (alice, "practice search", {"query": me.marker}),
        (alice, "practice mine", {}),
        (alice, "practice stats", {}),
        (mod, "practice queue", {}),
        (alice, "practice show", {"id": me.ids["approved"]}),
        (alice, "roundtable list", {"when": "upcoming"}),
        (alice, "roundtable list", {"when": "mine"}),
        (alice, "roundtable show", {"id": me.ids["rt"]}),
        (alice, "mou list", {}),
        (alice, "mou show", {"id": me.ids["mou"]}),
        (alice, "mou upcoming", {"days": 3650}),
        (alice, "network list", {}),
        (alice, "network show", {"network": f"{me.marker} Harbour Network"}),
        (alice, "network members", {"network": f"{me.marker} Harbour Network"}),
        (alice, "whois", {"city": "Lima"}),
        (alice, "city show", {"city": "Lima"}),
        (alice, "city show", {"city": me.city}),
        (alice, "profile show", {"member": me.alice}),
        (alice, "profile show", {}),
        (mod, "directory gaps", {}),
        (mod, "settings show", {}),
        (mod, "audit", {}),
        (mod, "mou settings", {}),
        (alice, "help", {}),
    ]
    if full:
        plain += [(alice, "network shared", {"city_a": "Lima", "city_b": me.city}),
                  (alice, "roundtable list", {"when": "past"}),
                  (alice, "mou list", {"city": "Lima"}), (alice, "whois", {"city": me.city})]
    for who, name, opts in plain:
        res = await run(w, me, who, name, opts)
        assert res.callback is not None, name
    # exports, parsed
    exports = [
        (mod, "practice export", {"format": "csv"}),
        (mod, "practice export", {"format": "json"}),
        (mod, "mou export", {"format": "csv"}),
        (mod, "mou export", {"format": "json"}),
        (alice, "mou ics", {}),
        (alice, "roundtable ics", {"id": me.ids["rt"]}),
        (mod, "network export", {"what": "networks"}),
        (mod, "network export", {"what": "memberships"}),
    ]
    for who, name, opts in exports:
        res = await run(w, me, who, name, opts)
        assert res.files, (name, opts, res.text)
        for f in res.files:
            parse_file(f.filename, f.data)
    # the other server's ids: not found
    for name, opts in (
        ("practice show", {"id": other.ids["approved"]}),
        ("practice show", {"id": other.ids["pending"]}),
        ("roundtable show", {"id": other.ids["rt"]}),
        ("roundtable ics", {"id": other.ids["rt"]}),
        ("mou show", {"id": other.ids["mou"]}),
        ("city show", {"city": other.city}),
        ("network show", {"network": f"{other.marker} Harbour Network"}),
    ):
        res = await w.fake.invoke(g, alice, name, opts)
        assert res.ephemeral and NOT_FOUND.search(res.text), (name, opts, res.text)
        assert not res.files
        typed = str(next(iter(opts.values())))
        me.seen.append(f"/{name} (other server's id)\n{result_text(res).replace(typed, '<typed>')}")
    # autocomplete of every option that has it
    targets = autocomplete_targets(fake.commands_for(None))
    assert len(targets) >= 20, targets
    values = ("", other.marker[:5].lower(), "1") if full else (other.marker[:5].lower(),)
    for name, opt in targets:
        extra: dict[str, Any] = {}
        if name == "mou milestone done" and opt == "milestone":
            extra = {"id": other.ids["mou"]}  # the other server's agreement: its milestones stay hidden
        for v in values:
            choices = await fake.autocomplete(g, mod, name, focused=opt, value=v, options=extra)
            me.seen.append(f"autocomplete /{name} {opt}={v!r}\n{json.dumps(choices, ensure_ascii=False)}")


def leaks(me: Side, other: Side, other_people: list[Member], other_channels: list[Channel]) -> list[str]:
    needles = [other.marker, other.marker.lower(), other.marker.upper(), other.marker[:3].upper() + "HN"]
    needles += [str(p.id) for p in other_people] + [str(c.id) for c in other_channels]
    found: list[str] = []
    for block in me.seen:
        low = block.lower()
        for n in needles:
            if n.lower() in low:
                found.append(f"{n!r} in: {block[:300]!r}")
    return found


async def test_second_guild_sees_nothing_of_the_first(started_bot: World) -> None:
    w = started_bot
    w.bot.cooldown_scale = 0  # cooldowns have their own test; here they would only stop the reads
    one = side_of(
        {
            "guild": w.guild,
            "general": w.general,
            "reviews": w.reviews,
            "announcements": w.announcements,
            "admin": w.admin,
            "mod": w.mod,
            "alice": w.alice,
            "bob": w.bob,
        },
        "Zebrafjord",
    )
    parts2 = populate(w.fake, name="Second Network Office")
    await w.fake.sync_gateway()
    await configure(w.bot, parts2)
    two = side_of(parts2, "Octoplaza")

    await sequence(w, one)
    await sequence(w, two)
    one.seen.clear()
    two.seen.clear()

    # server 2 reads everything: nothing of server 1 (markers, ids of members and channels)
    await reads(w, two, one, full=True)
    chan1 = [one.general, one.reviews, one.announcements]
    problems = leaks(two, one, one.people, chan1)
    assert not problems, "server 1 data visible in server 2:\n" + "\n".join(problems[:20])
    # and server 2's own data is there (the reads are not vacuous)
    seen2 = "\n".join(two.seen)
    assert seen2.count(two.marker) >= 20, seen2[:2000]
    for key in ("approved", "rt", "mou"):
        assert f"#{two.ids[key]}" in seen2 or str(two.ids[key]) in seen2

    # what the bot posted in server 2's channels (announcements, review cards) too
    for ch in (two.general, two.reviews, two.announcements):
        for msg in w.fake.channel_messages(ch):
            two.seen.append(f"#{ch.name}\n{json.dumps(msg, ensure_ascii=False)}")
    problems = leaks(two, one, one.people, chan1)
    assert not problems, "server 1 data posted in server 2:\n" + "\n".join(problems[:20])

    # autocomplete offers server 2 its own rows (so the empty answers above are not vacuous)
    own = {("mou show", "id"): "", ("practice show", "id"): "", ("roundtable show", "id"): "",
           ("network show", "network"): two.marker[:5], ("city show", "city"): two.marker[:5],
           ("whois", "city"): two.marker[:5], ("mou list", "city"): two.marker[:5]}
    for (name, opt), v in own.items():
        choices = await w.fake.autocomplete(two.guild, two.mod, name, focused=opt, value=v)
        assert two.marker in json.dumps(choices), (name, opt, choices)

    # the reverse direction, a sample
    await reads(w, one, two, full=False)
    problems = leaks(one, two, two.people, [two.general, two.reviews, two.announcements])
    assert not problems, "server 2 data visible in server 1:\n" + "\n".join(problems[:20])
    assert "\n".join(one.seen).count(one.marker) >= 20

    assert w.fake.violations == [] and w.fake.unhandled == []


# -- search, suggestions and titles under review (issue 11) --------------------------------------
async def share_with(w: World, guild: Guild, member: Member, title: str, summary: str, *,
                     city: str = "Lyon, FR") -> InteractionResult:
    res = await w.fake.invoke(guild, member, "practice share", {"city": city, "topic": "water"})
    assert res.modal is not None, res.text
    done = await w.fake.submit_modal(guild, member, res, {
        "title": title, "summary": summary, "approach": "Three phases with the residents and the utility.",
        "results": "Documented in the annual report.", "lessons": "Start small and publish the numbers."})
    await done.wait_for_message()
    return done


def practice_id(res: InteractionResult) -> int:
    m = re.search(r"Practice \*\*#(\d+)\*\*", res.content)
    assert m, res.text
    return int(m.group(1))


async def test_another_servers_practices_change_nothing_in_this_servers_search(
    started_bot: World, monkeypatch: Any
) -> None:
    """Server 2's vocabulary is never suggested in server 1, and server 2's many newer matching
    practices (more than the ranking cap) leave server 1's results, order and counts unchanged."""
    from cogs.practices import ranking as service_mod

    w = started_bot
    w.bot.cooldown_scale = 0
    parts2 = populate(w.fake, name="Second Network Office")
    await w.fake.sync_gateway()
    await configure(w.bot, parts2)
    g1, g2 = w.guild, parts2["guild"]
    # a smaller cap keeps the test quick; server 2 gets more matches than it
    monkeypatch.setattr(service_mod, "CANDIDATE_BUDGET", 150)
    monkeypatch.setattr(service_mod, "TIER_MIN_CANDIDATES", 150)
    # server 2: "desalination" everywhere, and "compost" in 400 newer summaries
    rows = [
        (g2.id, f"Desalination plant {i}", "Desalination of sea water for the islands.") for i in range(5)
    ]
    await w.bot.db.executemany(
        "INSERT INTO practices (guild_id, status, topics_mask, city_name, submitter_id, created_ms, "
        "updated_ms, approved_ms, title, summary, approach) VALUES "
        "(?, 'approved', 8192, 'Oslo', 5, 0, 0, 0, ?, ?, 'Pumps.')",
        rows,
    )
    # server 1: "compost" in summaries only (the bm25 tiers, which cap), and a "desalinator"
    ours = []
    for i, title in enumerate(("Neighbourhood soil hubs", "School kitchens", "Market waste loop",
                               "Park maintenance", "Allotment network", "Street trees")):
        res = await share_with(
            w, g1, w.alice, title, f"Compost {'bins ' * (i % 3)}collected in every district."
        )
        ours.append(practice_id(res))
    res = await share_with(w, g1, w.alice, "A solar desalinator for the harbour", "Fresh water from the sun.")
    ours.append(practice_id(res))
    for pid in ours:
        assert "approved" in (await w.fake.invoke(g1, w.mod, "practice approve", {"id": pid})).text

    queries = ("compost", "compost bins", "district compost", "compo")

    async def search1(q: str) -> str:  # what the member sees (button ids aside: they are random per message)
        res = await w.fake.invoke(g1, w.alice, "practice search", {"query": q})
        return re.sub(r'"custom_id": "[^"]*"', "", result_text(res))

    before = {q: await search1(q) for q in queries}
    # the first page is answered at once (5 of the 6: "5+ results"); the rest is ranked on paging
    assert "5+ results" in before["compost"] and sum(f"#{pid} " in before["compost"] for pid in ours) == 5

    await w.bot.db.executemany(
        "INSERT INTO practices (guild_id, status, topics_mask, city_name, submitter_id, created_ms, "
        "updated_ms, approved_ms, title, summary, approach) VALUES "
        "(?, 'approved', 8192, 'Oslo', 5, 0, 0, 0, ?, ?, 'Compost.')",
        [(g2.id, f"Depot {i}", "Compost bins in every district, compost for all.") for i in range(400)],
    )
    for q in queries:
        after = await search1(q)
        assert after == before[q], (q, before[q][:600], after[:600])
    # server 2 does see its own
    res = await w.fake.invoke(g2, parts2["alice"], "practice search", {"query": "compost"})
    assert "Depot" in result_text(res)

    # "did you mean": server 1's own word, never server 2's (closer) one
    res = await w.fake.invoke(g1, w.alice, "practice search", {"query": "desalinatoin"})
    text = result_text(res)
    assert "desalination" not in text.lower(), text[:600]
    assert "Showing results for **desalinator**" in text and f"#{ours[-1]}" in text, text[:600]
    res = await w.fake.invoke(g2, parts2["alice"], "practice search", {"query": "desalinatoin"})
    assert "Showing results for **desalination**" in result_text(res)
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_titles_under_review_are_shown_only_to_their_submitter_and_moderators(
    started_bot: World,
) -> None:
    w = started_bot
    w.bot.cooldown_scale = 0
    g = w.guild
    pending = practice_id(
        await share_with(w, g, w.bob, "Harbour ferries at night", "Night ferries for workers.")
    )
    rejected = practice_id(await share_with(w, g, w.bob, "Harbour ferries everywhere", "Ferries for all."))
    res = await w.fake.invoke(g, w.mod, "practice reject", {"id": rejected, "reason": "Too vague."})
    assert "rejected" in res.text, res.text
    secrets = ("Harbour ferries at night", "Harbour ferries everywhere")

    def shown(choices: list[dict[str, Any]]) -> str:
        return json.dumps(choices, ensure_ascii=False)

    targets = [(name, opt) for name, opt in autocomplete_targets(w.fake.commands_for(None))
               if name.startswith("practice ") and opt in ("id", "of")]
    assert {("practice show", "id"), ("practice edit", "id"), ("practice approve", "id")} <= set(targets), (
        targets
    )
    for name, opt in targets:
        for value in ("", "harbour", "ferries", str(pending)):
            choices = shown(await w.fake.autocomplete(g, w.alice, name, focused=opt, value=value))
            assert not any(t in choices for t in secrets), (name, opt, value, choices)
    # the submitter and a moderator do see them
    assert "Harbour ferries at night" in shown(
        await w.fake.autocomplete(g, w.bob, "practice edit", focused="id", value="harbour")
    )
    mod_sees = shown(await w.fake.autocomplete(g, w.mod, "practice edit", focused="id", value="harbour"))
    assert all(t in mod_sees for t in secrets), mod_sees
    # /practice show: refused to another member, shown to the submitter
    res = await w.fake.invoke(g, w.alice, "practice show", {"id": pending})
    assert res.ephemeral and "Harbour" not in result_text(res) and "not in the library" in res.text, res.text
    assert "Harbour ferries at night" in result_text(
        await w.fake.invoke(g, w.bob, "practice show", {"id": pending})
    )

    # the duplicate warning: alice sharing a similar title in the same city is not told of bob's
    res = await share_with(w, g, w.alice, "Harbour ferries at night", "Our own night ferries.")
    text = result_text(res)
    assert "Possible duplicates" not in text and secrets[1] not in text and f"#{pending}" not in text, text
    assert "saved" in res.content, text
    # bob (the submitter) is warned of his own, and so is a moderator
    for who in (w.bob, w.mod):
        res = await w.fake.invoke(g, who, "practice share", {"city": "Lyon, FR", "topic": "water"})
        res = await w.fake.submit_modal(g, who, res, {
            "title": "Harbour ferries at night", "summary": "Again.", "approach": "Again.",
            "results": "", "lessons": ""})
        await res.wait_for_message()
        assert "Possible duplicates" in res.text and f"#{pending}" in res.text, (who, res.text)
    assert w.fake.violations == [] and w.fake.unhandled == []
