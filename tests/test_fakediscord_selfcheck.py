"""Proves the fake Discord works with a plain discord.py ``commands.Bot`` (not the project's bot)."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.sandbox.emulation import (
    FakeDiscord,
    FakeDiscordTimeout,
    Guild,
    Member,
    Perm,
    check_commands,
    check_interaction_callback,
    check_message_limits,
    check_modal,
    run_bot,
)
from tests.fakediscord_fixtures import fake_discord  # noqa: F401  (fixture used below)

log = logging.getLogger(__name__)

CITIES = ["Paris", "Parma", "Porto", "Lisbon", "Lyon"]


class Feedback(discord.ui.Modal, title="Feedback"):
    # 2.7 wraps a bare TextInput in an action row (type 1) and sends a Label as type 18.
    subject: discord.ui.TextInput[Feedback] = discord.ui.TextInput(
        label="Subject", custom_id="subject", max_length=50
    )
    body: discord.ui.Label[Feedback] = discord.ui.Label(
        text="Body", component=discord.ui.TextInput(custom_id="body", style=discord.TextStyle.paragraph)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        inner = self.body.component
        assert isinstance(inner, discord.ui.TextInput)
        await interaction.response.send_message(f"got {self.subject.value} / {inner.value}", ephemeral=True)


class Confirm(discord.ui.View):
    @discord.ui.button(label="OK", custom_id="confirm:ok", style=discord.ButtonStyle.green)
    async def ok(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        await interaction.response.edit_message(content="confirmed", view=None)


class Pick(discord.ui.View):
    @discord.ui.select(
        custom_id="pick:city",
        options=[discord.SelectOption(label=c, value=c.lower()) for c in CITIES],
        max_values=2,
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Pick]) -> None:
        await interaction.response.send_message("picked " + ",".join(select.values), ephemeral=True)


class SelfCheckBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.received_ready = asyncio.Event()
        self._build_tree()

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_ready(self) -> None:
        self.received_ready.set()

    def _build_tree(self) -> None:
        tree = self.tree

        @tree.command(name="ping", description="Is the bot alive?")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        practice = app_commands.Group(name="practice", description="Good practices")

        async def city_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=c, value=c) for c in CITIES if c.lower().startswith(current.lower())
            ]

        @practice.command(name="share", description="Share a practice")
        @app_commands.describe(city="City", partner="Partner")
        @app_commands.autocomplete(city=city_autocomplete)
        async def share(interaction: discord.Interaction, city: str, partner: discord.Member) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"{city} shared with {partner.mention} ({partner.display_name})")

        tree.add_command(practice)

        @tree.command(name="feedback", description="Send feedback")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

        @tree.command(name="confirm", description="Ask for confirmation")
        async def confirm(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Sure?", view=Confirm())

        @tree.command(name="upper", description="Upper-case a file")
        async def upper(
            interaction: discord.Interaction, file: discord.Attachment, role: discord.Role
        ) -> None:
            data = await file.read()
            out = discord.File(io.BytesIO(data.upper()), filename="out.csv")
            await interaction.response.send_message(f"{file.filename} for {role.name}", file=out)

        @tree.command(name="numbers", description="Typed options")
        async def numbers(
            interaction: discord.Interaction,
            count: app_commands.Range[int, 1, 10],
            ratio: float,
            flag: bool,
            where: discord.TextChannel,
        ) -> None:
            await interaction.response.send_message(f"{count}|{ratio}|{flag}|{where.name}", ephemeral=True)

        @tree.command(name="pick", description="Pick cities")
        async def pick(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Pick:", view=Pick(), ephemeral=True)


@pytest.fixture
async def running_bot(fake_discord: FakeDiscord) -> AsyncIterator[tuple[SelfCheckBot, Guild, Member]]:  # noqa: F811
    guild = fake_discord.add_guild(name="Cities")
    alice = guild.add_member(name="alice")
    async with run_bot(fake_discord, SelfCheckBot()) as bot:
        await fake_discord.wait_commands_synced()
        yield bot, guild, alice


async def test_bot_drives_through_fake(
    fake_discord: FakeDiscord,  # noqa: F811
    running_bot: tuple[SelfCheckBot, Guild, Member],
) -> None:
    bot, guild, alice = running_bot
    fake = fake_discord
    channel = guild.default_channel

    # login + gateway
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert fake.intents == discord.Intents.default().value
    assert fake.gateway_queries[0]["compress"] in (
        "zlib-stream",
        "zstd-stream",
    )  # answered with plain text frames
    assert bot.received_ready.is_set()
    assert bot.get_guild(guild.id) is not None
    assert {c["name"] for c in fake.global_commands} == {
        "ping",
        "practice",
        "feedback",
        "confirm",
        "upper",
        "numbers",
        "pick",
    }

    # slash command, ephemeral
    res = await fake.invoke(guild, alice, "ping")
    assert res.callback_type == 4
    assert res.content == "pong" and res.ephemeral
    assert fake.channel_messages(channel) == []  # ephemeral responses are not channel messages

    # subcommand with a user option, deferred + followup, autocomplete
    choices = await fake.autocomplete(guild, alice, "practice share", focused="city", value="Par")
    assert [c["value"] for c in choices] == ["Paris", "Parma"]
    res = await fake.invoke(guild, alice, "practice share", {"city": "Paris", "partner": alice})
    assert res.callback_type == 5
    assert res.content == f"Paris shared with <@{alice.id}> (alice)"
    assert not res.ephemeral
    assert (await res.wait_for_followup(1))["content"] == res.content

    # modal: TextInput in an action row + a Label-wrapped TextInput
    res = await fake.invoke(guild, alice, "feedback")
    assert res.modal is not None and res.modal["title"] == "Feedback"
    assert [c["type"] for c in res.modal["components"]] == [1, 18]
    submitted = await fake.submit_modal(guild, alice, res, {"subject": "Hi", "body": "Long text"})
    assert submitted.content == "got Hi / Long text" and submitted.ephemeral

    # button on a persistent-looking view: UPDATE_MESSAGE (type 7)
    res = await fake.invoke(guild, alice, "confirm")
    assert res.custom_ids == ["confirm:ok"]
    clicked = await fake.click(guild, alice, res, "confirm:ok")
    assert clicked.callback_type == 7
    assert clicked.content == "confirmed" and clicked.components == []
    assert fake.channel_messages(channel)[-1]["content"] == "confirmed"

    # attachment + role options, file upload in the response
    role = guild.add_role("Coordinators")
    res = await fake.invoke(guild, alice, "upper", {"role": role}, attachments={"file": ("in.csv", b"a,b\n")})
    assert res.content == "in.csv for Coordinators"
    assert [(f.filename, f.data) for f in res.files] == [("out.csv", b"A,B\n")]

    # enforce_nonce: the same nonce twice yields one stored message
    text_channel = bot.get_channel(channel.id)
    assert isinstance(text_channel, discord.TextChannel)
    before = len(fake.channel_messages(channel))
    first = await text_channel.send("once", nonce="abc")
    second = await text_channel.send("once", nonce="abc")
    assert first.id == second.id
    assert len(fake.channel_messages(channel)) == before + 1

    # 429 is retried by discord.py's HTTP client
    fake.fail_next("POST", r"^/channels/\d+/messages$", 429, retry_after=0.05)
    sent = await text_channel.send("after a rate limit")
    assert fake.faults_triggered and sent.content == "after a rate limit"
    posts = [
        r.status for r in fake.requests if r.method == "POST" and r.path == f"/channels/{channel.id}/messages"
    ]
    assert posts[-2:] == [429, 200]

    # DMs closed -> 403 50007; deleted channel -> 404 10003
    bob = guild.add_member(name="bob", dms_open=False)
    dguild = bot.get_guild(guild.id)
    assert dguild is not None and dguild.get_member(bob.id) is None  # no GUILD_MEMBERS intent: not cached
    bob_member = await dguild.fetch_member(bob.id)
    with pytest.raises(discord.Forbidden) as forbidden:
        await bob_member.send("hello")
    assert forbidden.value.code == 50007
    doomed = guild.add_text_channel("doomed")
    fake.delete_channel(doomed)
    with pytest.raises(discord.NotFound) as not_found:
        await bot.http.send_message(doomed.id, params=discord.http.handle_message_parameters(content="x"))
    assert not_found.value.code == 10003

    # a dropped gateway is RESUMEd, and events sent meanwhile are replayed
    assert await fake.drop_gateway() == "resumed"
    res = await fake.invoke(guild, alice, "ping")
    assert res.content == "pong"
    assert fake.resume_count == 1 and fake.identify_count == 1
    # an invalidated session makes discord.py IDENTIFY afresh
    assert await fake.drop_gateway(resumable=False) == "identified"
    assert (await fake.invoke(guild, alice, "ping")).content == "pong"

    fake.assert_clean()


async def test_more_options_selects_rest_and_replay(
    fake_discord: FakeDiscord,  # noqa: F811
    running_bot: tuple[SelfCheckBot, Guild, Member],
) -> None:
    bot, guild, alice = running_bot
    fake = fake_discord
    channel = guild.default_channel
    other = guild.add_text_channel("other")

    res = await fake.invoke(guild, alice, "numbers", {"count": 3, "ratio": 0.5, "flag": True, "where": other})
    assert res.content == "3|0.5|True|other"
    with pytest.raises(ValueError):  # Range[int, 1, 10]: the Discord client refuses 11
        await fake.invoke(guild, alice, "numbers", {"count": 11, "ratio": 0.5, "flag": True, "where": other})

    res = await fake.invoke(guild, alice, "pick")
    picked = await fake.select(guild, alice, res, "pick:city", ["paris", "lyon"])
    assert picked.content == "picked paris,lyon"

    # REST: files to a channel, fetch/edit/delete a message, fetch channel, roles, channels
    dchannel = bot.get_channel(channel.id)
    assert isinstance(dchannel, discord.TextChannel)
    sent = await dchannel.send("report", file=discord.File(io.BytesIO(b"x,y\n"), filename="report.csv"))
    assert [(f.filename, f.text) for f in fake.files(channel)] == [("report.csv", "x,y\n")]
    assert await sent.attachments[0].read() == b"x,y\n"
    fetched = await dchannel.fetch_message(sent.id)
    await fetched.edit(content="report (edited)")
    assert fake.get_message(sent.id)["content"] == "report (edited)"  # type: ignore[index]
    assert fake.get_message(sent.id)["attachments"]  # type: ignore[index]
    await fetched.delete()
    assert fake.get_message(sent.id) is None
    assert (await bot.fetch_channel(other.id)).name == "other"
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    assert {r.name for r in await dguild.fetch_roles()} >= {"@everyone", fake.bot_user.name}
    assert {c.name for c in await dguild.fetch_channels()} == {"general", "other"}

    # DMs to a user with open DMs, and wait_for_message
    carol = guild.add_member(name="carol")
    dcarol = await dguild.fetch_member(carol.id)
    await dcarol.send("welcome")
    assert [m["content"] for m in fake.dms(carol)] == ["welcome"]
    assert (await fake.wait_for_dm(carol))["content"] == "welcome"

    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await dchannel.send("later")

    sender = asyncio.create_task(send_later())
    later = await fake.wait_for_message(channel, lambda m: m["content"] == "later", timeout=2)
    await sender
    assert later["author"]["id"] == str(fake.bot_user.id)

    # injected 403 surfaces as discord.Forbidden
    fake.fail_next("POST", r"^/channels/\d+/messages$", 403)
    with pytest.raises(discord.Forbidden):
        await dchannel.send("nope")

    # events dispatched while the bot is disconnected are replayed on RESUME
    await fake.drop_gateway(wait=False)
    replayed = guild.add_role("Replayed")
    await fake.wait_ready()
    assert fake.resume_count == 1
    assert dguild.get_role(replayed.id) is not None

    fake.assert_clean()


class Later(discord.ui.View):
    @discord.ui.button(label="Slow", custom_id="later:slow")
    async def slow(self, interaction: discord.Interaction, button: discord.ui.Button[Later]) -> None:
        await interaction.response.defer()  # type 6
        assert interaction.message is not None
        await interaction.message.edit(content="done later", view=None)

    @discord.ui.button(label="Ask", custom_id="later:ask")
    async def ask(self, interaction: discord.Interaction, button: discord.ui.Button[Later]) -> None:
        await interaction.response.send_modal(Rename())


class Rename(discord.ui.Modal, title="Rename"):
    name: discord.ui.TextInput[Rename] = discord.ui.TextInput(label="Name", custom_id="name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"renamed to {self.name.value}")  # type 7


async def test_deferrals_modal_from_button_and_dm_invoke(fake_discord: FakeDiscord) -> None:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild()
    alice = guild.add_member(name="alice")
    bot = SelfCheckBot()

    @bot.tree.command(name="later", description="Deferred ephemeral, then edited")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="slow answer", view=Later())
        await interaction.followup.send("a file", file=discord.File(io.BytesIO(b"1"), filename="one.txt"))

    @bot.tree.command(name="whoami", description="Works in DMs")
    @app_commands.allowed_contexts(guilds=True, dms=True)
    async def whoami(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"you are {interaction.user.name}")

    async with run_bot(fake, bot):
        await fake.wait_commands_synced()
        res = await fake.invoke(guild, alice, "later")
        assert res.callback_type == 5
        assert res.content == "slow answer" and res.ephemeral
        followup = await res.wait_for_followup()
        assert [f.filename for f in fake.message_files(followup)] == ["one.txt"]

        clicked = await fake.click(guild, alice, res, "later:slow")
        assert clicked.callback_type == 6
        await clicked.wait_for_edit()
        assert clicked.content == "done later" and clicked.components == []

        res = await fake.invoke(guild, alice, "later")
        opened = await fake.click(guild, alice, res, "later:ask")
        assert opened.modal is not None
        renamed = await fake.submit_modal(guild, alice, opened, {"name": "Lyon"})
        assert renamed.callback_type == 7 and renamed.content == "renamed to Lyon"
        assert fake.get_message(res.original_id or 0)["content"] == "renamed to Lyon"  # type: ignore[index]

        dm = await fake.invoke(None, alice.user, "whoami")
        assert dm.content == "you are alice"
        assert fake.dms(alice) and fake.dms(alice)[-1]["content"] == "you are alice"
    fake.assert_clean()


async def test_strict_mode_and_ack_deadline() -> None:
    async with FakeDiscord(strict=True, ack_deadline=0.05) as fake:
        guild = fake.add_guild()
        alice = guild.add_member(name="alice")
        bot = SelfCheckBot()

        @bot.tree.command(name="sleepy", description="Answers too late")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.1)
            await interaction.response.send_message("late")

        async with run_bot(fake, bot):
            await fake.wait_commands_synced()
            with pytest.raises(discord.HTTPException) as bad:
                await bot.http.send_message(
                    guild.default_channel.id,
                    params=discord.http.handle_message_parameters(content="x" * 2001),
                )
            assert bad.value.status == 400 and bad.value.code == 50035
            res = await fake.invoke(guild, alice, "sleepy")
            assert res.content == "late"
        assert any("acknowledged after" in v for v in fake.violations)


async def test_breaches_are_recorded(
    fake_discord: FakeDiscord,  # noqa: F811
    running_bot: tuple[SelfCheckBot, Guild, Member],
) -> None:
    bot, guild, _ = running_bot
    fake = fake_discord
    params = discord.http.handle_message_parameters(content="hello @everyone " + "x" * 2000)
    await bot.http.send_message(guild.default_channel.id, params=params)
    assert any("content length 2016 > 2000" in v for v in fake.violations)
    assert any("allowed_mentions missing" in v for v in fake.violations)
    with pytest.raises(AssertionError):
        fake.assert_clean()


async def test_install_restores_discord_urls() -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        assert Route.BASE == fake.api_base
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (base, gateway)


async def test_scheduled_events_threads_and_roles(
    fake_discord: FakeDiscord,  # noqa: F811
    running_bot: tuple[SelfCheckBot, Guild, Member],
) -> None:
    import datetime as dt

    bot, guild, alice = running_bot
    fake = fake_discord
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    start = discord.utils.utcnow() + dt.timedelta(days=1)
    event = await dguild.create_scheduled_event(
        name="Roundtable",
        start_time=start,
        end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Paris",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert fake.scheduled_events[event.id]["entity_metadata"] == {"location": "Paris"}
    await event.edit(name="Roundtable (moved)")
    assert fake.scheduled_events[event.id]["name"] == "Roundtable (moved)"
    await event.delete()
    assert event.id not in fake.scheduled_events

    guild.set_bot_permissions(Perm.BOT_DEFAULT & ~Perm.MANAGE_EVENTS)
    await fake.sync_gateway()
    with pytest.raises(discord.Forbidden):
        await dguild.create_scheduled_event(
            name="Nope",
            start_time=start,
            end_time=start + dt.timedelta(hours=1),
            entity_type=discord.EntityType.external,
            location="Paris",
            privacy_level=discord.PrivacyLevel.guild_only,
        )

    channel = dguild.get_channel(guild.default_channel.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("thread me")
    thread = await message.create_thread(name="Discussion")
    assert fake.threads[thread.id].name == "Discussion" and thread.id == message.id
    await thread.send("inside")
    assert fake.channel_messages(thread.id)[0]["content"] == "inside"

    role = guild.add_role("Members")
    await fake.sync_gateway()
    member = await dguild.fetch_member(alice.id)
    drole = dguild.get_role(role.id)
    assert member is not None and drole is not None
    await member.add_roles(drole)
    assert role in alice.roles
    await member.remove_roles(drole)
    assert role not in alice.roles

    fake.assert_clean()


async def test_start_close_twice_leaks_no_tasks(fake_discord: FakeDiscord) -> None:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild()
    alice = guild.add_member(name="alice")
    baseline = {t for t in asyncio.all_tasks() if not t.done()}
    baseline_threads = set(threading.enumerate())
    for run in range(2):
        bot = SelfCheckBot()
        task = asyncio.create_task(bot.start("fake-token"))
        await fake.wait_ready()
        await fake.wait_commands_synced(count=run + 1)
        res = await fake.invoke(guild, alice, "ping")
        assert res.content == "pong"
        # Closing inside the READY delay (guild_ready_timeout) would leave discord.py's _delay_ready
        # task dispatching "ready" on a closed client, so wait for on_ready first.
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        await bot.close()
        await task
    assert fake.identify_count == 2

    def leftovers() -> list[object]:
        tasks = {t for t in asyncio.all_tasks() if not t.done()} - baseline - {asyncio.current_task()}
        threads = [t for t in set(threading.enumerate()) - baseline_threads if t.is_alive()]
        return [*tasks, *threads]

    for _ in range(200):  # the server side and discord.py's keep-alive thread stop within a few turns
        if not leftovers():
            break
        await asyncio.sleep(0.01)
    assert leftovers() == []


async def test_timeout_when_bot_never_answers(fake_discord: FakeDiscord) -> None:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild()
    alice = guild.add_member(name="alice")
    bot = SelfCheckBot()

    @bot.tree.command(name="silent", description="Never answers")
    async def silent(interaction: discord.Interaction) -> None:
        return None

    async with run_bot(fake, bot):
        await fake.wait_commands_synced()
        with pytest.raises(FakeDiscordTimeout):
            await fake.invoke(guild, alice, "silent", timeout=0.3)
        with pytest.raises(LookupError):
            await fake.invoke(guild, alice, "nosuchcommand")
        with pytest.raises(ValueError):
            await fake.invoke(guild, alice, "practice share", {"city": "Paris"})  # partner is required


async def test_unknown_route_is_recorded(fake_discord: FakeDiscord) -> None:  # noqa: F811
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{fake_discord.api_base}/nope/123") as resp:
        assert resp.status == 404
        assert await resp.json() == {"message": "Unknown route", "code": 0}
    assert fake_discord.unhandled == ["GET /nope/123"]


# ---------------------------------------------------------------- pure limit checks


def test_message_limits_accept_a_normal_message() -> None:
    body = {
        "content": "hello <@123>",
        "allowed_mentions": {"parse": []},
        "embeds": [{"title": "t", "description": "d", "fields": [{"name": "n", "value": "v"}]}],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "OK", "custom_id": "ok"}]}
        ],
    }
    assert check_message_limits(body) == []


def test_message_limits_report_each_breach() -> None:
    body = {
        "content": "x" * 2001,
        "embeds": [
            {
                "title": "t" * 257,
                "description": "d" * 4097,
                "fields": [{"name": "n", "value": "v" * 1025}] * 26,
            }
        ],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}]}
        ]
        * 6,
    }
    problems = check_message_limits(body)
    for expected in (
        "content length 2001 > 2000",
        "embeds[0].title length 257 > 256",
        "embeds[0].description length 4097 > 4096",
        "embeds[0].fields: 26 fields > 25",
        "value length 1025 > 1024",
        "total embed characters",
        "6 action rows > 5",
        "custom_id length 101 > 100",
    ):
        assert any(expected in p for p in problems), (expected, problems)


def test_allowed_mentions_rules() -> None:
    assert check_message_limits({"content": "hi @everyone"}) == [
        "allowed_mentions missing on a message whose content contains a mention"
    ]
    assert check_message_limits({"content": "<@1>", "allowed_mentions": {"parse": ["users"]}}) == [
        "allowed_mentions.parse lets user mentions ping"
    ]
    assert check_message_limits({"content": "<@&1>", "allowed_mentions": {"parse": [], "roles": ["1"]}}) == []
    assert check_message_limits({"content": "no mention here"}) == []


def test_embed_total_and_select_limits() -> None:
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    assert any("6001 > 6000" in p for p in check_message_limits({"embeds": embeds}))
    options = [{"label": f"o{i}", "value": f"v{i}"} for i in range(26)]
    select = {"type": 1, "components": [{"type": 3, "custom_id": "s", "options": options}]}
    assert any("26 options" in p for p in check_message_limits({"components": [select]}))
    row = {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"b{i}"} for i in range(6)],
    }
    assert any("6 components in a row > 5" in p for p in check_message_limits({"components": [row]}))


def test_modal_and_callback_limits() -> None:
    modal = {
        "custom_id": "m",
        "title": "t" * 46,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "a", "style": 1, "label": "l" * 46}]},
            {
                "type": 18,
                "label": "ok",
                "component": {"type": 4, "custom_id": "b", "style": 1, "max_length": 4001},
            },
        ],
    }
    problems = check_modal(modal)
    assert any("modal.title length 46 > 45" in p for p in problems)
    assert any("label length 46 > 45" in p for p in problems)
    assert any("max_length 4001" in p for p in problems)
    choices = [{"name": f"c{i}", "value": "v" * 101} for i in range(26)]
    problems = check_interaction_callback({"type": 8, "data": {"choices": choices}})
    assert any("26 choices > 25" in p for p in problems)
    assert any("value length 101 > 100" in p for p in problems)
    assert check_interaction_callback({"type": 4, "data": {}}) == [
        "empty message (no content, embeds, components or files)"
    ]


def test_command_limits() -> None:
    good = [
        {
            "name": "settings",
            "description": "Settings",
            "options": [{"type": 1, "name": "show", "description": "Show"}],
        }
    ]
    assert check_commands(good) == []
    bad = [
        {"name": "Bad Name", "description": ""},
        {
            "name": "ok",
            "description": "d" * 101,
            "options": [{"type": 3, "name": f"o{i}", "description": "x"} for i in range(26)],
        },
    ]
    problems = check_commands(bad)
    assert any("'Bad Name' must match" in p for p in problems)
    assert any("description is required" in p for p in problems)
    assert any("description length 101 > 100" in p for p in problems)
    assert any("26 options > 25" in p for p in problems)
    too_many = [{"name": f"c{i}", "description": "d"} for i in range(101)]
    assert any("101 slash commands > 100" in p for p in check_commands(too_many))
