"""Hostile and broken input (hardening issue 7): every slash command, modal, button and autocomplete.

End to end (one bot, one fake Discord): the synced command tree is enumerated from the fake
(names, subcommands, option types, choices, min/max), so a new command is covered without
touching this file. For every leaf command, `HOSTILE_EXAMPLES` invocations (default 3) are built
from a seeded generator (tests/hostile): random Unicode (RTL, combining marks, zero-width,
emoji), 10,000-character strings clipped to the option's max_length (the Discord client enforces
it), empty strings, markdown and code fences, @everyone/@here and user/role/channel mentions, SQL
and FTS syntax, dates from year 1 to 9999, integers at the option bounds, existing and missing
ids; by members with and without the moderator role. Half the examples start from valid options
and make one to three of them hostile, so hostile text gets stored and rendered, not only refused.
Every modal the bot opens gets hostile values (within each input's max_length), every button and
select the bot posted is pressed by random members, and every autocomplete option is typed into.

Each interaction must be answered (no timeout) with either a success or a clear ephemeral error
(not the "Something went wrong … Reference" text, which means an unhandled exception); nothing is
logged at ERROR; `fake.violations == []` and `fake.unhandled == []`; and no bot message pings
@everyone/@here or anybody/any role the hostile text mentions (the victim member, role and
channel never act, never are chosen in options, so any ping of them came from member-typed text).

The pure service layer of each feature is covered with hypothesis `@given` in the second half.

    pytest -q tests/test_hostile_input.py                      # normal suite, ~3 examples per command
    HOSTILE_EXAMPLES=30 HOSTILE_SEED=1 pytest -q tests/test_hostile_input.py -s   # a longer run
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import timeparse
from bot.db import Database
from bot.errors import UserFacingError
from bot.places import Places
from bot.sandbox.emulation import FakeDiscord, FakeDiscordTimeout, InteractionResult, Member
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from bot.timeparse import TimeParseError
from cogs.directory.service import DirectoryService
from cogs.mous.service import Actor, MouService
from cogs.practices import service as practices_service
from cogs.practices.service import Draft, Meta, PracticeService, SearchFilters
from cogs.roundtables.service import RoundtableService
from tests.e2e import World, configure, start_world
from tests.hostile import HostileText, Victims, hypothesis_text

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "3"))
SEED = int(os.environ.get("HOSTILE_SEED", "20240607"))
TIMEOUT = 8.0
CRASH_TEXT = "Something went wrong"
ERROR_COLOUR = 0xC53030
DATE_OPTIONS = {
    "when",
    "until",
    "signed",
    "expires",
    "effective",
    "new_expiry",
    "date",
    "duration",
    "offsets",
    "times",
    "default_offsets",
    "repeat",
}
JsonDict = dict[str, Any]


# -- the command tree ------------------------------------------------------------------------
def leaves(commands: list[JsonDict]) -> list[tuple[str, list[JsonDict]]]:
    """("group sub", options schema) for every invocable slash command."""
    out: list[tuple[str, list[JsonDict]]] = []

    def walk(node: JsonDict, path: str) -> None:
        options = list(node.get("options") or [])
        subs = [o for o in options if o["type"] in (1, 2)]
        if subs:
            for sub in subs:
                walk(sub, f"{path} {sub['name']}")
        else:
            out.append((path, options))

    for command in commands:
        if command.get("type", 1) == 1:
            walk(command, command["name"])
    return out


def text_inputs(modal: JsonDict) -> list[JsonDict]:
    found: list[JsonDict] = []

    def walk(items: list[JsonDict]) -> None:
        for item in items:
            if item.get("type") == 4:
                found.append(item)
            walk(list(item.get("components") or []))
            if isinstance(item.get("component"), dict):
                walk([item["component"]])

    walk(list(modal.get("components") or []))
    return found


def interactive(message: JsonDict) -> list[JsonDict]:
    """Buttons (with a custom_id) and string selects of a message."""
    found: list[JsonDict] = []

    def walk(items: list[JsonDict]) -> None:
        for item in items:
            if (item.get("type") == 2 and item.get("custom_id") and not item.get("disabled")) or item.get(
                "type"
            ) == 3:
                found.append(item)
            walk(list(item.get("components") or []))
            if isinstance(item.get("accessory"), dict):
                walk([item["accessory"]])

    walk(list(message.get("components") or []))
    return found


# -- pings -----------------------------------------------------------------------------------
def message_bodies(fake: FakeDiscord) -> list[tuple[str, JsonDict]]:
    """Every message body the bot sent: channel messages, DMs, interaction callbacks, followups, edits."""
    out: list[tuple[str, JsonDict]] = []
    for req in fake.requests:
        body = req.json
        if req.method not in ("POST", "PATCH") or not isinstance(body, dict):
            continue
        if req.path.endswith("/callback"):
            data = body.get("data")
            if isinstance(data, dict):
                out.append((f"{req.method} {req.path}", data))
        elif re.match(r"^/(channels/\d+/messages|webhooks/\d+/[^/]+)", req.path):
            out.append((f"{req.method} {req.path}", body))
    return out


def pings(body: JsonDict) -> tuple[bool, set[int], set[int]]:
    """(@everyone/@here pings, user ids pinged, role ids pinged) by this body, as Discord would."""
    content = body.get("content")
    if not isinstance(content, str):
        return False, set(), set()
    allowed = body.get("allowed_mentions")
    if allowed is None:
        parse, users, roles = {"everyone", "users", "roles"}, set(), set()
    else:
        parse = set(allowed.get("parse") or [])
        users = {int(u) for u in allowed.get("users") or []}
        roles = {int(r) for r in allowed.get("roles") or []}
    everyone = ("@everyone" in content or "@here" in content) and "everyone" in parse
    mentioned_users = {int(u) for u in re.findall(r"<@!?(\d+)>", content)}
    mentioned_roles = {int(r) for r in re.findall(r"<@&(\d+)>", content)}
    pinged_users = {u for u in mentioned_users if "users" in parse or u in users}
    pinged_roles = {r for r in mentioned_roles if "roles" in parse or r in roles}
    return everyone, pinged_users, pinged_roles


def body_text(body: JsonDict) -> str:
    """The text a message body shows: content and every embed's title, description, fields, footer."""
    parts = [body.get("content") or ""]
    for e in body.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or "", (e.get("footer") or {}).get("text") or "",
                  (e.get("author") or {}).get("name") or ""]
        parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in e.get("fields") or []]
    return "\n".join(p for p in parts if isinstance(p, str))


def spoofed_markdown(fake: FakeDiscord, victims: Victims) -> list[str]:
    """Bodies showing hostile member text as markdown: a mention of the victims (who never act and are
    never chosen, so only member text names them), a masked link, or a heading from the hostile atoms."""
    found: list[str] = []
    leaks = {
        "mention": re.compile(rf"<@!?{victims.user_id}>|<@&{victims.role_id}>|<#{victims.channel_id}>"),
        "masked link": re.compile(r"(?<!\\)(?:\\\\)*\[link\]\(https://example\.com\)"),
        "heading": re.compile(r"^[^\S\n]*#{1,3} Heading", re.MULTILINE),
    }
    for where, body in message_bodies(fake):
        text = body_text(body)
        for what, rx in leaks.items():
            if rx.search(text):
                found.append(f"{where}: {what}: {text[:200]!r}")
    return found


# -- the driver ------------------------------------------------------------------------------
class Driver:
    # what the funnel's "unhandled error" answer contains (the pseudo-locale sweep adds its accented form)
    crash_markers: tuple[str, ...] = (CRASH_TEXT, "Reference:")

    def __init__(self, w: World, rng: random.Random, victims: Victims, actors: list[Member]) -> None:
        self.w = w
        self.examples = EXAMPLES
        self.rng = rng
        self.ht = HostileText(rng, victims)
        self.actors = actors
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.per_command: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []
        self.results: list[InteractionResult] = []
        self.samples: dict[str, str] = {}
        self.labels: dict[int, str] = {}  # interaction id -> what was sent, to explain violations
        self.ids: dict[str, list[int]] = {}

    # ids of things that exist, for id options
    async def refresh_ids(self) -> None:
        db, gid = self.w.bot.db, self.w.guild.id
        queries = {
            "practice": "SELECT id FROM practices WHERE guild_id = ? ORDER BY id DESC LIMIT 20",
            "roundtable": "SELECT id FROM roundtables WHERE guild_id = ? ORDER BY id DESC LIMIT 20",
            "mou": "SELECT id FROM mou_agreements WHERE guild_id = ? ORDER BY id DESC LIMIT 20",
            "milestone": "SELECT id FROM mou_milestones WHERE guild_id = ? ORDER BY id DESC LIMIT 20",
        }
        for key, sql in queries.items():
            try:
                self.ids[key] = [int(r[0]) for r in await db.fetchall(sql, (gid,))]
            except Exception:  # a table without guild_id: take any
                self.ids[key] = [
                    int(r[0]) for r in await db.fetchall(sql.replace("WHERE guild_id = ? ", ""), ())
                ]

    def id_for(self, path: str, name: str) -> int:
        kind = "milestone" if name == "milestone" else ("practice" if name == "of" else path.split()[0])
        known = self.ids.get(kind) or []
        if known and self.rng.random() < 0.8:
            return self.rng.choice(known)
        return self.rng.choice([0, -1, 1, 2**53 - 1, -(2**53) + 1, 999_999])

    # option values
    def int_value(self, opt: JsonDict, path: str) -> int:
        low = opt.get("min_value")
        high = opt.get("max_value")
        if opt.get("choices"):
            return int(self.rng.choice(opt["choices"])["value"])
        if opt["name"] in ("id", "milestone", "of"):
            return self.id_for(path, opt["name"])
        lo = int(low) if low is not None else -(2**53) + 1
        hi = int(high) if high is not None else 2**53 - 1
        return self.rng.choice([lo, hi, lo + 1 if lo < hi else lo, hi - 1 if hi > lo else hi,
                                self.rng.randint(lo, hi), max(lo, min(hi, 0))])

    def valid_value(self, opt: JsonDict, path: str) -> Any:
        t = opt["type"]
        if opt.get("choices"):
            return self.rng.choice(opt["choices"])["value"]
        if t == 3:
            return {
                "timezone": "Europe/Paris",
                "zone": "Europe/Paris",
                "when": self.future(),
                "cities": "Europe/Paris; America/New_York",
                "date": "2031-05-01",
                "new_expiry": "2036-01-01",
                "offsets": "30d, 7d",
                "times": "1d, 1h",
                "country": "FR",
                "network": self.network,
                "network_a": self.network,
                "network_b": self.network,
                "duration": "90m",
                "topic": "resilience",
                "city_a": "Seoul, KR",
                "city_b": "Paris, FR",
                "city": "Lyon, FR",
            }.get(opt["name"], "Paris")
        if t == 4:
            if opt["name"] in ("id", "milestone", "of"):
                known = self.ids.get("milestone" if opt["name"] == "milestone" else
                                     "practice" if opt["name"] == "of" else path.split()[0]) or [1]
                return self.rng.choice(known)
            return int(opt.get("min_value") or 1)
        return self.hostile_value(opt, path)

    def hostile_value(self, opt: JsonDict, path: str) -> Any:
        t = opt["type"]
        if opt.get("choices"):
            return self.rng.choice(opt["choices"])["value"]
        if t == 3:
            raw = (
                self.ht.date() if opt["name"] in DATE_OPTIONS and self.rng.random() < 0.7 else self.ht.text()
            )
            return self.ht.fit(raw, opt.get("min_length"), opt.get("max_length"), required=True)
        if t == 4:
            return self.int_value(opt, path)
        if t == 10:
            return self.rng.choice(
                [float(opt.get("min_value", -1e15)), float(opt.get("max_value", 1e15)), 0.5]
            )
        if t == 5:
            return self.rng.random() < 0.5
        if t == 6:
            return self.rng.choice(self.actors + [self.w.bob, self.w.carol])
        if t == 7:
            return self.rng.choice([self.w.general, self.w.reviews, self.w.announcements])
        if t == 8:
            # the @everyone role (id = guild id) is a hostile choice for "moderator role" too
            return self.rng.choice(
                [self.w.moderators, self.w.guild.get_role(self.w.guild.id) or self.w.moderators]
            )
        if t == 11:
            return self.hostile_file()
        raise AssertionError(f"{path}: option {opt['name']} has a type this test does not know: {t}")

    def hostile_file(self) -> tuple[str, bytes]:
        r = self.rng.random()
        if r < 0.2:
            return "x.csv", b""
        if r < 0.4:
            return "x.csv", bytes(self.rng.randrange(256) for _ in range(2000))
        if r < 0.6:
            rows = ["name,acronym,founded,focus,scope,website"] + [
                ",".join(json.dumps(self.ht.text()[:300]) for _ in range(6)) for _ in range(20)]
            return "networks.csv", "\n".join(rows).encode("utf-8", "surrogatepass")
        if r < 0.8:
            return "x.json", json.dumps(
                {"networks": [{"name": self.ht.text()[:500], "founded": "year 1"}]}
            ).encode()
        return "x.json", b'{"networks": [' + b"{}," * 10_000 + b"]"

    def future(self) -> str:
        return (datetime.now(UTC) + timedelta(days=self.rng.randint(2, 60))).strftime("%Y-%m-%d %H:%M")

    network = "Eurocities"

    def build(self, path: str, schema: list[JsonDict]) -> dict[str, Any]:
        hostile_all = self.rng.random() < 0.5
        opts: dict[str, Any] = {}
        if hostile_all:
            for opt in schema:
                if opt.get("required") or self.rng.random() < 0.5:
                    opts[opt["name"]] = self.hostile_value(opt, path)
            return opts
        for opt in schema:
            if opt.get("required"):
                opts[opt["name"]] = self.valid_value(opt, path)
        if schema:
            for opt in self.rng.sample(schema, min(len(schema), self.rng.randint(1, 3))):
                opts[opt["name"]] = self.hostile_value(opt, path)
        return opts

    # outcomes
    def judge(self, label: str, res: InteractionResult, what: str) -> str:
        text = res.text
        if any(marker in text for marker in self.crash_markers):
            outcome = "crash"
            self.failures.append(f"{label}: unhandled error → {text[:300]!r}")
        elif res.modal is not None:
            outcome = "modal"
        elif any(int(e.get("color") or 0) == ERROR_COLOUR for e in res.embeds):
            outcome = "refused"
            if not res.ephemeral:
                self.failures.append(f"{label}: error shown publicly: {text[:200]!r}")
        elif res.callback_type in (6, 7) or res.message is not None or res.callback_type == 8:
            outcome = "ok"
        else:
            outcome = "no-answer"
            self.failures.append(f"{label}: no visible answer (callback {res.callback_type})")
        self.outcomes[f"{what}:{outcome}"] += 1
        key = label.split(" {")[0] if label.startswith("/") else re.sub(r"\d+", "#", label.split(" as ")[0])
        self.per_command[key][outcome] += 1
        self.samples.setdefault(f"{key} [{what}:{outcome}]", f"{label[:200]} ⇒ {text[:200]}")
        self.results.append(res)
        self.labels[res.id] = label
        return outcome

    def explain(self, violations: list[str]) -> list[str]:
        out: list[str] = []
        for v in violations:
            m = re.search(r"/interactions/(\d+)/", v)
            out.append(f"{v} ← {self.labels.get(int(m.group(1)), '?')[:300]}" if m else v)
        return out

    async def guarded(self, label: str, what: str, coro: Any) -> InteractionResult | None:
        try:
            res: InteractionResult = await coro
        except FakeDiscordTimeout:
            self.outcomes[f"{what}:timeout"] += 1
            self.failures.append(f"{label}: the bot never answered")
            return None
        return res

    async def invoke(self, path: str, schema: list[JsonDict]) -> None:
        actor = self.rng.choice(self.actors)
        opts = self.build(path, schema)
        label = f"/{path} {{{', '.join(f'{k}={v!r:.60}' for k, v in opts.items())}}} as {actor.user.name}"
        res = await self.guarded(label, "command", self.w.fake.invoke(self.w.guild, actor, path, opts,
                                                                      timeout=TIMEOUT))
        if res is None:
            return
        if self.judge(label, res, "command") == "modal":
            await self.fill_modal(label, actor, res)

    async def fill_modal(self, label: str, actor: Member, res: InteractionResult) -> None:
        assert res.modal is not None
        values: dict[str, str] = {}
        for item in text_inputs(res.modal):
            required = item.get("required", True)
            if self.rng.random() < 0.3:
                raw = item.get("value") or "A reasonable sentence about rain gardens and flooding."
            else:
                raw = self.ht.text()
            values[item["custom_id"]] = self.ht.fit(
                raw, item.get("min_length"), item.get("max_length") or 4000, required=required
            )
        shown = ", ".join(f"{k}={v!r:.40}" for k, v in values.items())
        mlabel = f"{label} → modal {res.modal.get('custom_id')!s:.40} {{{shown}}}"
        done = await self.guarded(mlabel, "modal", self.w.fake.submit_modal(self.w.guild, actor, res, values,
                                                                            timeout=TIMEOUT))
        if done is not None:
            self.judge(mlabel, done, "modal")

    async def modal_phase(self, path: str, schema: list[JsonDict]) -> None:
        """Open the command with valid options; when it answers with a modal, submit that modal
        `EXAMPLES` times with hostile values (share/edit forms, the agreement form...)."""
        opts = {o["name"]: self.valid_value(o, path) for o in schema if o.get("required")}
        actor = self.w.mod
        for _ in range(self.examples):
            label = f"/{path} {{{', '.join(f'{k}={v!r:.60}' for k, v in opts.items())}}} as {actor.user.name}"
            res = await self.guarded(label, "command", self.w.fake.invoke(self.w.guild, actor, path, opts,
                                                                          timeout=TIMEOUT))
            if res is None or self.judge(label, res, "command") != "modal":
                return
            await self.fill_modal(label, actor, res)

    async def autocomplete(self, path: str, schema: list[JsonDict]) -> None:
        for opt in [o for o in schema if o.get("autocomplete")] * self.examples:
            actor = self.rng.choice(self.actors)
            typed = self.ht.fit(self.ht.text(), 0, opt.get("max_length") or 6000, required=False)
            if opt["type"] in (4, 10):
                typed = typed[:50]
            label = f"/{path} autocomplete {opt['name']}={typed!r:.60}"
            try:
                choices = await self.w.fake.autocomplete(self.w.guild, actor, path, opt["name"], typed,
                                                         timeout=TIMEOUT)
            except FakeDiscordTimeout:
                self.outcomes["autocomplete:timeout"] += 1
                self.failures.append(f"{label}: the bot never answered")
                continue
            self.outcomes["autocomplete:ok"] += 1
            if len(choices) > 25:
                self.failures.append(f"{label}: {len(choices)} choices")

    async def press_buttons(self, budget: int) -> None:
        fake = self.w.fake
        seen: list[JsonDict] = []
        for channel in (self.w.general, self.w.reviews, self.w.announcements):
            seen.extend(fake.channel_messages(channel))
        for res in self.results:
            seen.extend(res.all_messages)
        candidates = [(m, c) for m in seen for c in interactive(m)]
        self.rng.shuffle(candidates)
        # one of each kind of custom_id first (ids differ only in numbers), then the rest at random
        by_kind: dict[str, tuple[JsonDict, JsonDict]] = {}
        for m, c in candidates:
            by_kind.setdefault(re.sub(r"\d+", "#", c["custom_id"]), (m, c))
        ordered = list(by_kind.values()) + candidates
        for message, component in ordered[:budget]:
            current = fake.get_message(message["id"])
            if current is None or not any(
                c.get("custom_id") == component["custom_id"] for c in interactive(current)
            ):
                continue
            actor = self.rng.choice(self.actors)
            cid = component["custom_id"]
            label = f"press {cid!s:.60} as {actor.user.name}"
            if component.get("type") == 3:
                options = [o["value"] for o in component.get("options") or []]
                if not options:
                    continue
                pick = self.rng.sample(options, 1)
                coro = fake.select(self.w.guild, actor, current, cid, pick, timeout=TIMEOUT)
            else:
                coro = fake.click(self.w.guild, actor, current, cid, timeout=TIMEOUT)
            res = await self.guarded(label, "component", coro)
            if res is not None and self.judge(label, res, "component") == "modal":
                await self.fill_modal(label, actor, res)
                # a reason form: press it again and again with other hostile reasons, while it is there
                for _ in range(self.examples - 1):
                    current = fake.get_message(message["id"])
                    if current is None or not any(c.get("custom_id") == cid for c in interactive(current)):
                        break
                    again = await self.guarded(
                        label, "component", fake.click(self.w.guild, actor, current, cid, timeout=TIMEOUT)
                    )
                    if again is None or self.judge(label, again, "component") != "modal":
                        break
                    await self.fill_modal(label, actor, again)


async def seed_content(w: World) -> None:
    """One practice (approved), one roundtable, one agreement, so id options have targets."""
    fake = w.fake
    res = await fake.invoke(w.guild, w.alice, "practice share", {"city": "Lyon, FR", "topic": "resilience"})
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, {
        "title": "Rain gardens against flooding", "summary": "Storms flooded the old town twice a year.",
        "approach": "Parking strips became rain gardens.", "results": "Flooding fell by two thirds.",
        "lessons": "Start with the streets that flood first."})
    await done.wait_for_message()
    pid = await w.bot.db.fetchval("SELECT MAX(id) FROM practices WHERE guild_id = ?", (w.guild.id,))
    assert pid, done.text
    res = await fake.invoke(w.guild, w.mod, "practice approve", {"id": pid})
    assert "Something" not in res.text, res.text
    for n in range(3):  # left pending: their review cards carry the reason-form buttons
        res = await fake.invoke(w.guild, w.bob, "practice share", {"city": "Seoul, KR", "topic": "inclusion"})
        assert res.modal is not None, res.text
        done = await fake.submit_modal(w.guild, w.bob, res, {
            "title": f"Night buses for shift workers {n}", "summary": "Shift workers had no way home.",
            "approach": "Four night lines.", "results": "Ridership doubled.", "lessons": "Ask the workers."})
        await done.wait_for_message()
    when = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule", {"title": "Budgets", "when": when,
                                                                        "timezone": "UTC", "capacity": 2})
    assert "Something" not in res.text, res.text
    res = await fake.invoke(w.guild, w.alice, "mou add", {"kind": "mou", "title": "Twinning",
                                                         "city_a": "Seoul, KR", "city_b": "Paris, FR",
                                                         "expires": "2031-01-01"})
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, {})
    await done.wait_for_message()


async def test_every_command_modal_button_and_autocomplete_survives_hostile_input(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await hostile_sweep(fake_discord, tmp_path, caplog, examples=EXAMPLES)


async def hostile_sweep(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture, *, examples: int,
    language: str | None = None, crash_markers: tuple[str, ...] = (),
) -> None:
    """The sweep: every command, modal, button and autocomplete with hostile input; `language` forces
    every reply, post and DM into one language (tests/test_i18n.py runs it in the pseudo-locale)."""
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    async with start_world(fake_discord, tmp_path) as w:
        w.bot.cooldown_scale = 0  # cooldowns have their own test; here they would only hide coverage
        w.bot.languages.forced = language
        eve = w.guild.add_member(name="eve")  # never acts, never chosen: only hostile text names her
        hidden = w.guild.add_role("Victims", permissions=0)
        secret = w.guild.add_text_channel("secret")
        victims = Victims(user_id=eve.id, role_id=hidden.id, channel_id=secret.id)
        driver = Driver(w, rng, victims, [w.alice, w.mod, w.admin, w.dave])
        driver.crash_markers = (*Driver.crash_markers, *crash_markers)
        driver.examples = examples
        await seed_content(w)

        commands = leaves(fake_discord.commands_for(None) + fake_discord.commands_for(w.guild))
        assert len(commands) > 40, [c for c, _ in commands]
        # settings last: a hostile moderator role (e.g. @everyone) would change who may do what
        commands.sort(key=lambda c: c[0].startswith("settings"))
        for path, schema in commands:
            await driver.refresh_ids()
            await driver.modal_phase(path, schema)
            for _ in range(examples):
                await driver.invoke(path, schema)
            await driver.autocomplete(path, schema)
        # the settings commands may have made @everyone the moderator role: put the world back, so
        # buttons are pressed with the usual split between moderators and members
        await configure(w.bot, {"guild": w.guild, "admin": w.admin, "reviews": w.reviews,
                                "announcements": w.announcements, "moderators": w.moderators})
        await driver.press_buttons(budget=max(40, examples * 20))

        everyone_pings: list[str] = []
        bad_pings: list[str] = []
        spoofed = spoofed_markdown(fake_discord, victims)
        for where, body in message_bodies(fake_discord):
            everyone, users, roles = pings(body)
            if everyone:
                everyone_pings.append(f"{where}: {body.get('content')!r:.200}")
            if users & {eve.id, 123} or roles:
                bad_pings.append(f"{where}: users={users} roles={roles}: {body.get('content')!r:.200}")

        summary = {"seed": SEED, "examples_per_command": examples, "language": language,
                   "commands": len(commands),
                   "outcomes": dict(sorted(driver.outcomes.items())),
                   "total": sum(driver.outcomes.values()), "failures": len(driver.failures)}
        print("\nHOSTILE E2E SUMMARY:", json.dumps(summary))  # noqa: T201 - the report reads this
        if os.environ.get("HOSTILE_REPORT"):
            Path(os.environ["HOSTILE_REPORT"]).write_text(json.dumps(  # noqa: ASYNC240
                {**summary, "per_command": {k: dict(v) for k, v in sorted(driver.per_command.items())},
                 "failure_list": driver.failures, "samples": driver.samples}, indent=1, ensure_ascii=False))

        untouched = [p for p, _ in commands if not driver.per_command.get(f"/{p}")]
        errors = [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records
                  if r.levelno >= logging.ERROR and not r.name.startswith("bot.sandbox.emulation")]
        assert not driver.failures, "\n".join(driver.failures[:40])
        assert not errors, "\n".join(errors[:20])
        assert fake_discord.violations == [], driver.explain(fake_discord.violations[:20])
        assert fake_discord.unhandled == [], fake_discord.unhandled[:20]
        assert not everyone_pings, everyone_pings[:10]
        assert not bad_pings, bad_pings[:10]
        assert not spoofed, "\n".join(spoofed[:10])
        assert not untouched, untouched


# -- dates at the edges of the calendar: every date option of every command ----------------
# A string option is a date option when its name is one of these or its description talks about a
# date, a start, an expiry or "when": a new date option is picked up without touching this file.
DATE_OPTION_NAMES = {"when", "until", "signed", "expires", "effective", "new_expiry", "date"}
DATE_DESCRIPTION_RE = re.compile(r"\bdates?\b|YYYY|\bwhen\b|\bstart\b|expir|\buntil\b", re.IGNORECASE)
EDGE_DATES = ("0001-01-01", "0001-01-01 00:00", "9999-12-31", "9999-12-31 23:59")
KNOWN_DATE_OPTIONS = {  # the ones that exist today: the detection above must keep finding them
    ("roundtable schedule", "when"),
    ("roundtable schedule", "until"),
    ("roundtable edit", "when"),
    ("mou add", "signed"),
    ("mou add", "expires"),
    ("mou update", "signed"),
    ("mou update", "expires"),
    ("mou update", "effective"),
    ("mou renew", "new_expiry"),
    ("mou log", "date"),
    ("mou milestone add", "date"),
}
EDGE_TIME_LIMIT = 1.0  # seconds from the interaction to the answer


def date_options(commands: list[tuple[str, list[JsonDict]]]) -> list[tuple[str, list[JsonDict], JsonDict]]:
    out = []
    for path, schema in commands:
        for opt in schema:
            if opt["type"] != 3 or opt.get("choices"):
                continue
            if opt["name"] in DATE_OPTION_NAMES or DATE_DESCRIPTION_RE.search(opt.get("description") or ""):
                out.append((path, schema, opt))
    return out


async def test_every_date_option_takes_year_1_and_9999(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Year 1 and 9999-12-31 23:59 in every date option (with valid other options, as a moderator who
    owns the targets): a clear answer (saved, or an ephemeral error) within a second, never a crash."""
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    async with start_world(fake_discord, tmp_path) as w:
        w.bot.cooldown_scale = 0
        victims = Victims(user_id=w.dave.id, role_id=w.moderators.id, channel_id=w.general.id)
        driver = Driver(w, rng, victims, [w.mod])
        await seed_content(w)
        mou_id = await w.bot.db.fetchval(
            "SELECT MAX(id) FROM mou_agreements WHERE guild_id = ?", (w.guild.id,)
        )
        res = await fake_discord.invoke(w.guild, w.mod, "mou update", {"id": mou_id, "status": "signed"})
        assert "Something" not in res.text, res.text  # signed, so /mou renew reaches its date
        commands = leaves(fake_discord.commands_for(None) + fake_discord.commands_for(w.guild))
        found = date_options(commands)
        assert KNOWN_DATE_OPTIONS <= {(p, o["name"]) for p, _, o in found}, sorted(
            (p, o["name"]) for p, _, o in found
        )
        failures: list[str] = []
        for path, schema, opt in found:
            for value in EDGE_DATES:
                await driver.refresh_ids()
                opts = {o["name"]: driver.valid_value(o, path) for o in schema if o.get("required")}
                opts[opt["name"]] = value
                label = f"/{path} {opt['name']}={value!r}"
                res = await driver.guarded(label, "command", fake_discord.invoke(w.guild, w.mod, path, opts,
                                                                                 timeout=TIMEOUT))
                if res is None:
                    failures.append(f"{label}: no answer")
                    continue
                if res.modal is not None:  # the agreement form: submit it as it comes
                    res = await driver.guarded(
                        label, "modal", fake_discord.submit_modal(w.guild, w.mod, res, {}, timeout=TIMEOUT)
                    )
                    if res is None:
                        failures.append(f"{label}: no answer to the form")
                        continue
                outcome = driver.judge(label, res, "command")
                if outcome in ("crash", "no-answer"):
                    failures.append(f"{label}: {outcome}: {res.text[:200]!r}")
                if res.callback_delay is not None and res.callback_delay > EDGE_TIME_LIMIT:
                    failures.append(f"{label}: answered after {res.callback_delay:.2f} s")
        errors = [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records
                  if r.levelno >= logging.ERROR and not r.name.startswith("bot.sandbox.emulation")]
        assert not failures + driver.failures, "\n".join(failures + driver.failures)
        assert not errors, "\n".join(errors[:20])
        assert fake_discord.violations == [], fake_discord.violations[:10]
        assert fake_discord.unhandled == [], fake_discord.unhandled[:10]


# ============================================================================================
# The pure service layer, with hypothesis: hostile text into every create/update/search function
# → a result, or a UserFacingError/TimeParseError (shown to the member as is), never another
# exception; and a refused call writes nothing (every table's row count, audit and jobs included).
# ============================================================================================

SERVICE_EXAMPLES = int(os.environ.get("HOSTILE_SERVICE_EXAMPLES", "25"))
G = 5150
OWNER, OTHER = 11, 12
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SVC_SETTINGS = settings(max_examples=SERVICE_EXAMPLES, deadline=None, derandomize=False,
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                               HealthCheck.data_too_large])
EXPECTED = (UserFacingError, TimeParseError)
H = hypothesis_text()
MAYBE = st.one_of(st.none(), H)
DATES_1_9999 = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(lambda d: d.isoformat()),
    st.tuples(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)), st.integers(0, 23),
              st.integers(0, 59)).map(lambda t: f"{t[0].isoformat()} {t[1]:02d}:{t[2]:02d}"),
    H,
)


class FixedClock:
    def __call__(self) -> datetime:
        return NOW


@pytest.fixture
async def hdb(seeded_db: Database) -> Database:
    return seeded_db


async def row_counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    virtual = [r["name"] for r in rows if (r["sql"] or "").upper().startswith("CREATE VIRTUAL")]
    real = [r["name"] for r in rows if r["name"] not in virtual
            and not any(r["name"].startswith(v + "_") for v in virtual)]
    out: dict[str, int] = {}
    for name in real:
        out[name] = int(await db.fetchval(f'SELECT COUNT(*) FROM "{name}"'))
    return out


class Calls:
    """Run one service call: a result or an expected refusal; a refusal leaves every table as it was."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tally: collections.Counter[str] = collections.Counter()

    async def __call__(self, what: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        before = await row_counts(self.db)
        try:
            result = await fn()
        except EXPECTED as exc:
            after = await row_counts(self.db)
            changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
            assert not changed, f"{what} was refused ({exc}) but wrote rows: {changed}"
            message = getattr(exc, "message", None) or str(exc)
            assert message.strip(), f"{what}: refused with an empty message"
            self.tally[f"{what}:refused"] += 1
            return None
        self.tally[f"{what}:ok"] += 1
        return result


def refuse_sync(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except EXPECTED:
        return None


@SVC_SETTINGS
@given(title=H, summary=H, approach=H, results=H, lessons=H, city=H, topics=H, sdgs=MAYBE, links=MAYBE,
       contact=MAYBE, network=MAYBE, language=H, query=H, reason=H)
async def test_practices_service_takes_hostile_text(
    hdb: Database,
    title: str,
    summary: str,
    approach: str,
    results: str,
    lessons: str,
    city: str,
    topics: str,
    sdgs: str | None,
    links: str | None,
    contact: str | None,
    network: str | None,
    language: str,
    query: str,
    reason: str,
) -> None:
    svc = PracticeService(hdb, clock=FixedClock())
    call = Calls(hdb)
    parsed_topics = refuse_sync(lambda: practices_service.parse_topics(topics)) or ("climate",)
    parsed_sdgs = refuse_sync(lambda: practices_service.parse_sdgs(sdgs)) or ()
    parsed_links = refuse_sync(lambda: practices_service.parse_links(links)) or ()
    refuse_sync(lambda: practices_service.split_city_text(city))
    meta = Meta(
        city_name=city,
        topics=parsed_topics,
        sdgs=parsed_sdgs,
        links=parsed_links,
        contact_text=contact,
        network_name=network,
        language=language,
        country=city[:2] or None,
    )
    p = await call(
        "submit", lambda: svc.submit(G, OWNER, Draft(title, summary, approach, results, lessons), meta)
    )
    if p is None:  # a valid draft, so the rest has something to work on
        p = await svc.submit(
            G, OWNER, Draft("Rain gardens", "Floods.", "Gardens."), Meta("Lyon", ("climate",))
        )
    await call("edit", lambda: svc.edit(G, p.id, actor_id=OWNER, is_moderator=False,
                                        draft=Draft(title, summary, approach, results, lessons), meta=meta))
    await call("decide", lambda: svc.decide(G, p.id, actor_id=OTHER, action="request_changes", reason=reason))
    await call(
        "search", lambda: svc.search(G, query, SearchFilters(city_name=city or None, network_name=network))
    )
    await call("autocomplete", lambda: svc.autocomplete(G, query))
    await call("known_cities", lambda: svc.known_cities(G, query))
    await call("known_networks", lambda: svc.known_networks(G, query))
    await call("similar", lambda: svc.similar(G, title, city_id=None, city_name=city))


@SVC_SETTINGS
@given(
    title=H,
    when=DATES_1_9999,
    zone=st.one_of(st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "Etc/GMT+12"]), H),
    where=MAYBE,
    agenda=MAYBE,
    repeat=st.one_of(st.none(), st.sampled_from(["weekly", "monthly-last"]), H),
    duration=H,
    notes=H,
    query=H,
    capacity=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
)
async def test_roundtables_service_takes_hostile_text(
    hdb: Database,
    title: str,
    when: str,
    zone: str,
    where: str | None,
    agenda: str | None,
    repeat: str | None,
    duration: str,
    notes: str,
    query: str,
    capacity: int | None,
) -> None:
    sched = Scheduler(hdb, clock=FixedClock())
    settings_svc = SettingsService(hdb, default_timezone="UTC")
    svc = RoundtableService(hdb, sched, settings=settings_svc, clock=FixedClock())
    call = Calls(hdb)
    start = refuse_sync(lambda: timeparse.parse_when(when, zone, now=NOW))
    minutes = refuse_sync(lambda: timeparse.parse_duration(duration))
    refuse_sync(lambda: timeparse.get_zone(zone))
    refuse_sync(lambda: timeparse.parse_date(when, today=NOW.date()))
    timeparse.search_zones(zone)
    tz = zone if refuse_sync(lambda: timeparse.get_zone(zone)) is not None else "UTC"
    rt = await call("create", lambda: svc.create(
        G, OWNER, title=title, start=start or NOW + timedelta(days=3), tz=tz,
        duration_min=int(minutes.total_seconds() // 60) if minutes else 60, where=where, capacity=capacity,
        repeat=repeat, agenda=agenda))
    if rt is None:
        rt = await svc.create(G, OWNER, title="Budgets", start=NOW + timedelta(days=3), tz="UTC")
    await call("edit", lambda: svc.edit(G, rt.id, OWNER, is_moderator=False, start=start, where=where,
                                        capacity=capacity, agenda=agenda))
    await call("add_notes", lambda: svc.add_notes(G, rt.id, OWNER, notes, is_moderator=False))
    await call("search", lambda: svc.search(G, query))


@SVC_SETTINGS
@given(
    title=H,
    city_a=H,
    city_b=H,
    signed=st.one_of(st.none(), DATES_1_9999),
    expires=st.one_of(st.none(), DATES_1_9999),
    text=H,
    on=st.one_of(st.none(), DATES_1_9999),
    offsets=H,
    query=H,
    summary=H,
    links=H,
    focus=H,
    reason=H,
    notice=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
)
async def test_mous_service_takes_hostile_text(
    hdb: Database,
    title: str,
    city_a: str,
    city_b: str,
    signed: str | None,
    expires: str | None,
    text: str,
    on: str | None,
    offsets: str,
    query: str,
    summary: str,
    links: str,
    focus: str,
    reason: str,
    notice: int | None,
) -> None:
    settings_svc = SettingsService(hdb, default_timezone="UTC")
    directory = DirectoryService(hdb)

    async def server_zone(guild_id: int) -> str:
        return (await settings_svc.get(guild_id)).timezone

    svc = MouService(
        hdb, Scheduler(hdb, clock=FixedClock()), settings_svc, places=Places(server_zone, directory)
    )
    call = Calls(hdb)
    owner = Actor(OWNER)
    a = await call("create", lambda: svc.create(
        G, owner, kind="mou", title=title, parties=[city_a, city_b], signed=signed, expires=expires,
        notice_days=notice, owner_ids=[OWNER], summary=summary, links=links, focus_areas=focus))
    if a is None:
        a = await svc.create(G, owner, kind="mou", title="Twinning", parties=["Seoul, KR", "Paris, FR"],
                             expires="2031-01-01", owner_ids=[OWNER])
    await call("update", lambda: svc.update(G, owner, a.id, title=title, signed=signed, expires=expires,
                                            notice_days=notice, summary=summary))
    await call("add_party", lambda: svc.add_party(G, owner, a.id, city_a))
    await call("set_party", lambda: svc.set_party(G, owner, a.id, city_b, esign="sent"))
    await call("log_activity", lambda: svc.log_activity(G, owner, a.id, text, on=on))
    await call("add_milestone", lambda: svc.add_milestone(G, owner, a.id, on or "", text))
    await call("set_offsets", lambda: svc.set_offsets(G, owner, a.id, offsets))
    await call("search", lambda: svc.search(G, query))
    await call("list", lambda: svc.list_agreements(G, city=city_a))
    await call("search_cities", lambda: svc.search_cities(G, query))
    await call("renew", lambda: svc.renew(G, owner, a.id, expires or ""))
    await call("terminate", lambda: svc.terminate(G, owner, a.id, reason))


@SVC_SETTINGS
@given(city=H, name=H, country=H, zone=H, region=MAYBE, title=MAYBE, office=MAYBE, languages=MAYBE,
       expertise=MAYBE, net_name=H, acronym=MAYBE, focus=MAYBE, website=MAYBE, source=MAYBE, query=H,
       founded=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), blob=st.binary(max_size=3000))
async def test_directory_service_takes_hostile_text(
    hdb: Database, city: str, name: str, country: str, zone: str, region: str | None, title: str | None,
    office: str | None, languages: str | None, expertise: str | None, net_name: str, acronym: str | None,
    focus: str | None, website: str | None, source: str | None, query: str, founded: int | None, blob: bytes,
) -> None:
    svc = DirectoryService(hdb)
    call = Calls(hdb)
    await call("resolve_city", lambda: svc.resolve_city(city, guild_id=G))
    await call("search_cities", lambda: svc.search_cities(query, guild_id=G))
    await call("search_member_cities", lambda: svc.search_member_cities(G, query))
    await call("add_city", lambda: svc.add_city(G, OWNER, name, country, zone, region))
    await call(
        "set_profile",
        lambda: svc.set_profile(
            G,
            OWNER,
            city=city,
            title=title,
            office=office,
            languages=languages,
            expertise=expertise,
            timezone=zone,
        ),
    )
    net = await call("add_network", lambda: svc.add_network(
        G, OWNER, name=net_name, acronym=acronym, founded_year=founded, focus=focus, website=website,
        hq_city=city, source=source))
    await call("resolve_network", lambda: svc.resolve_network(query, guild_id=G))
    await call("search_networks", lambda: svc.search_networks(query, guild_id=G))
    await call("import_networks", lambda: svc.import_networks(blob, guild_id=G, actor_id=OWNER))
    csv_text = "name,acronym,founded,focus,scope,website\n" + ",".join(
        json.dumps(v or "") for v in (net_name, acronym, str(founded), focus, "global", website))
    await call("import_networks_csv", lambda: svc.import_networks(csv_text, guild_id=G, actor_id=OWNER))
    await call("import_memberships", lambda: svc.import_memberships(blob, guild_id=G, actor_id=OWNER))
    if net is not None:
        paris = await svc.resolve_city("Paris, FR", guild_id=G)
        await call("add_membership", lambda: svc.add_membership(G, OWNER, net, paris, category=query,
                                                                source=source))


# -- member text renders as typed: no masked link, heading or mention (issue 11) ------------------
def _builders() -> dict[str, Callable[[], Any]]:
    """Every embed builder of cogs/*/embeds.py, called with member text (`PAYLOAD`) in every field."""
    from bot.contracts import AgreementLine
    from bot.settings import GuildSettings
    from cogs.directory import embeds as D
    from cogs.directory import service as DS
    from cogs.mous import embeds as M
    from cogs.mous import service as MS
    from cogs.onboarding import embeds as O
    from cogs.practices import embeds as PE
    from cogs.practices import service as PS
    from cogs.roundtables import embeds as R
    from cogs.roundtables import service as RS
    from cogs.roundtables.findtime import Slot
    from tests.hostile.render import PAYLOAD, WHEN, fill

    p = fill(PS.Practice)
    rt = fill(RS.Roundtable)
    occ = fill(RS.Occurrence)
    search = fill(PS.SearchResult, corrected=(PAYLOAD,), filters=(("city", PAYLOAD),))
    detail = fill(MS.AgreementDetail, history=(fill(MS.HistoryEntry, changes={"title": {"to": PAYLOAD},
                                                                              "reason": PAYLOAD}),))
    reminder = fill(MS.ReminderContext)
    net, city, prof, ms = fill(DS.Network), fill(DS.City), fill(DS.Profile), fill(DS.Membership)
    tracked = fill(AgreementLine, zone="UTC", expires_on=WHEN.date())
    return {
        "cogs.practices.embeds.practice_embed": lambda: PE.practice_embed(p, fill(PS.Counts), heading="x"),
        "cogs.practices.embeds.review_card": lambda: PE.review_card(p, similar=[p], resubmitted=True),
        "cogs.practices.embeds.decided_card": lambda: PE.decided_card(p),
        "cogs.practices.embeds.decision_message": lambda: [
            PE.decision_message(fill(PS.Practice, status=s, duplicate_of=None), PAYLOAD)
            for s in PS.STATUS_LABELS
        ],
        "cogs.practices.embeds.hit_lines": lambda: PE.hit_lines(search),
        "cogs.practices.embeds.search_page": lambda: PE.search_page(search, PAYLOAD, 0),
        "cogs.practices.embeds.search_pages": lambda: PE.search_pages(search, PAYLOAD),
        "cogs.practices.embeds.no_results_message": lambda: PE.no_results_message(PAYLOAD, search),
        "cogs.practices.embeds.list_pages": lambda: PE.list_pages(
            "Your practices", [fill(PS.Practice, status="rejected")]
        ),
        "cogs.practices.embeds.stats_embed": lambda: PE.stats_embed(fill(PS.Stats), PAYLOAD),
        "cogs.practices.embeds.announcement_embed": lambda: PE.announcement_embed(p),
        "cogs.practices.embeds.city_line": lambda: PE.city_line(p),
        "cogs.practices.embeds.contact_line": lambda: PE.contact_line(p),
        "cogs.practices.embeds.highlight": lambda: PE.highlight("a \x02" + PAYLOAD + "\x03 " + PAYLOAD),
        "cogs.roundtables.embeds.title_line": lambda: R.title_line(rt),
        "cogs.roundtables.embeds.where_text": lambda: R.where_text(rt, show_link=True),
        "cogs.roundtables.embeds.announcement_embed": lambda: R.announcement_embed(
            rt, occ, fill(RS.Counts), PAYLOAD
        ),
        "cogs.roundtables.embeds.list_page": lambda: [
            R.list_page("Upcoming", [rt], {}, past=past) for past in (0, 1)
        ],
        "cogs.roundtables.embeds.show_embed": lambda: R.show_embed(
            rt, occ, [occ, occ], [fill(RS.Attendee)], [fill(RS.Note)], PAYLOAD, show_link=True
        ),
        "cogs.roundtables.embeds.rsvp_reply": lambda: [
            R.rsvp_reply(rt, occ, s, 1, False) for s in ("going", "waitlist", "maybe", "declined")
        ],
        "cogs.roundtables.embeds.reminder_text": lambda: R.reminder_text(rt, occ, ""),
        "cogs.roundtables.embeds.reminder_dm": lambda: R.reminder_dm(rt, occ, PAYLOAD),
        "cogs.roundtables.embeds.notes_embed": lambda: R.notes_embed(rt, fill(RS.Note), WHEN),
        "cogs.roundtables.embeds.findtime_embed": lambda: [
            R.findtime_embed([(PAYLOAD, "UTC")], slots, 60, 7) for slots in ([], [fill(Slot)])
        ],
        "cogs.mous.embeds.detail_embed": lambda: M.detail_embed(detail),
        "cogs.mous.embeds.list_pages": lambda: M.list_pages(
            [fill(MS.ListRow)], 1, WHEN.date(), "UTC", "Agreements"
        ),
        "cogs.mous.embeds.upcoming_pages": lambda: M.upcoming_pages(
            [fill(MS.DueItem)], 30, WHEN.date(), "UTC"
        ),
        "cogs.mous.embeds.digest_embeds": lambda: M.digest_embeds(fill(MS.Digest), "UTC", 6),
        "cogs.mous.embeds.reminder_text": lambda: (
            [
                M.reminder_text(fill(MS.ReminderContext, what=w), mention=True)
                for w in ("expiry", "notice", "milestone")
            ]
            + [M.reminder_text(reminder)]
        ),
        "cogs.mous.embeds.reminder_line": lambda: [
            M.reminder_line(fill(MS.ReminderContext, what=w), name_owners=True)
            for w in ("expiry", "notice", "milestone")
        ],
        "cogs.mous.embeds.reminder_messages": lambda: [
            part
            for channel in (True, False)
            for m in M.reminder_messages(
                [fill(MS.ReminderContext, what=w) for w in ("expiry", "notice", "milestone")], channel=channel
            )
            for part in (m.content, *m.embeds)
        ],
        "cogs.directory.embeds.membership_bits": lambda: D.membership_bits(ms),
        "cogs.directory.embeds.profile_line": lambda: D.profile_line(prof, with_city=True),
        "cogs.directory.embeds.profile_embed": lambda: D.profile_embed(prof, PAYLOAD, WHEN),
        "cogs.directory.embeds.city_embed": lambda: D.city_embed(
            city, PAYLOAD, WHEN, [ms], [fill(DS.SeedAgreement)], [tracked], [prof], 1
        ),
        "cogs.directory.embeds.tracked_agreement_line": lambda: D.tracked_agreement_line(tracked),
        "cogs.directory.embeds.documented_agreement_line": lambda: D.documented_agreement_line(
            fill(DS.SeedAgreement), city
        ),
        "cogs.directory.embeds.network_embed": lambda: D.network_embed(net, PAYLOAD, [ms], 1, [prof]),
        "cogs.directory.embeds.network_line": lambda: D.network_line(net),
        "cogs.directory.embeds.member_city_line": lambda: D.member_city_line(ms),
        "cogs.directory.embeds.shared_line": lambda: D.shared_line(net, city, ms, city, ms),
        "cogs.directory.embeds.gaps_pages": lambda: D.gaps_pages(DS.Gaps([4242], [4243], [(city, 3)])),
        "cogs.onboarding.embeds.welcome_embed": lambda: O.welcome_embed(PAYLOAD, GuildSettings(1, "UTC", {})),
    }


# Builders that never show member text (dates, counts, codes) or take only text the caller escaped.
NO_MEMBER_TEXT = {
    "cogs.practices.embeds.shown_reason": "a text value: each caller escapes it (md) where it shows it",
    "cogs.practices.embeds.ts": "a Discord timestamp",
    "cogs.practices.embeds.describe_decision": "a status label, a mention and a timestamp",
    "cogs.practices.embeds.search_page_count": "a number",
    "cogs.practices.embeds.status_label": "a status name from the catalogs",
    "cogs.practices.embeds.topics_line": "topic names from the fixed list, in the reader's language",
    "cogs.roundtables.embeds.counts_text": "counts and a capacity",
    "cogs.roundtables.embeds.mention_list": "the bot's own mentions of member ids",
    # The findtime picture and poll: plain text where Discord renders no markdown (text drawn in a PNG,
    # an attachment's alt text, a poll's question and answers), squeezed with one_line; or times only.
    "cogs.roundtables.embeds.hours_text": "two times of day",
    "cogs.roundtables.embeds.slot_text": "a UTC time span",
    "cogs.roundtables.embeds.findtime_picture_title": "text drawn in an image (no markdown there)",
    "cogs.roundtables.embeds.findtime_picture_subtitle": "times and counts drawn in an image",
    "cogs.roundtables.embeds.findtime_row_label": "text drawn in an image (no markdown there)",
    "cogs.roundtables.embeds.findtime_alt": "an attachment's alt text (plain text)",
    "cogs.roundtables.embeds.poll_question": "a poll question (plain text)",
    "cogs.roundtables.embeds.poll_answers": "poll answers: UTC time spans",
    "cogs.roundtables.embeds.poll_content": "the bot's mention of the author and Discord timestamps",
    "cogs.roundtables.embeds.poll_posted": "a channel mention and a number",
    "cogs.roundtables.embeds.change_names": "the service's names of the changed fields, as a list",
    "cogs.roundtables.embeds.findtime_legend": "the picture's fixed legend",
    "cogs.practices.embeds.stats_chart_data": "text drawn in an image and alt text (no markdown there)",
    "cogs.practices.embeds.stats_map_data": "text drawn in an image and alt text (no markdown there)",
    "cogs.mous.embeds.timeline_data": "text drawn in an image and alt text (no markdown there)",
    "cogs.mous.embeds.day": "a date", "cogs.mous.embeds.days_left": "a number of days",
    "cogs.mous.embeds.field_name": "a field's name from the catalogs",
    "cogs.directory.embeds.local_time": "a time and an IANA zone",
    "cogs.directory.embeds.pages": "pages of lines the callers built with md()",
    "cogs.directory.embeds.fit_lines": "joins lines the callers built with md() into one field",
    "cogs.directory.embeds.country": "a country name from Babel's CLDR data or the gazetteer",
    "cogs.directory.embeds.import_rejected": "counts and the row errors the import built with md_line",
    "cogs.directory.embeds.row_error": "a line number and a row error the import built with md_line",
    "cogs.directory.embeds.import_report": "the row errors (row_error), in an attached text file",
    "cogs.onboarding.embeds.language_line": "a language's name from the catalogs",
    "cogs.onboarding.embeds.checklist": "step names, channel and role mentions, validated IANA zones",
    "cogs.onboarding.embeds.step_value": "a channel or role mention, or a validated IANA zone (md_line)",
    "cogs.onboarding.embeds.setup_embed": "the checklist and the cog's own notes about channel ids",
    "cogs.meta.embeds.help_line": "a command's mention and the bot's own description",
    "cogs.meta.embeds.help_pages": "the bot's own command names and descriptions",
    "cogs.meta.embeds.option_line": "the bot's own option names, descriptions and choices",
    "cogs.meta.embeds.command_embed": "the bot's own command, its options and a generated example",
}


def _embed_functions() -> list[str]:
    import importlib
    import inspect

    names = []
    for path in sorted(Path(__file__).resolve().parents[1].glob("cogs/*/embeds.py")):
        mod = importlib.import_module(f"cogs.{path.parent.name}.embeds")
        names += [f"{mod.__name__}.{n}" for n, fn in inspect.getmembers(mod, inspect.isfunction)
                  if fn.__module__ == mod.__name__ and not n.startswith("_")]
    return names


def test_every_embed_builder_is_checked_with_hostile_markdown() -> None:
    missing = set(_embed_functions()) - set(_builders()) - set(NO_MEMBER_TEXT)
    assert not missing, f"add these renderers to _builders() (or NO_MEMBER_TEXT, with why): {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(_builders()))
def test_member_text_renders_as_typed(name: str) -> None:
    from tests.hostile.render import markdown_leaks, rendered_text

    texts = rendered_text(_builders()[name]())
    assert texts, name
    joined = "\n".join(texts)
    assert markdown_leaks(joined) == [], f"{name}: {markdown_leaks(joined)} in {joined[:600]!r}"
    assert "click" in joined, f"{name}: the member text is not shown at all, so nothing was checked"
