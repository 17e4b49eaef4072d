"""Getting started, end to end through the fake Discord: the welcome message when the bot joins a server
(once), the Set up button and `/setup` (Manage Server, checked on every press and submit), what
`/settings show` marks as missing, and the step a feature names when a channel is missing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulation import FakeDiscord, Guild, InteractionResult, Perm
from tests.e2e import BotFactory, World, make_config, start_world

JsonDict = dict[str, Any]


def _welcomes(fake: FakeDiscord, guild: Guild) -> list[JsonDict]:
    return [m for ch in guild.text_channels for m in fake.channel_messages(ch)
            if any(c.get("custom_id") == "onb:setup" for row in m.get("components") or []
                   for c in row.get("components") or [])]


async def _settle(w_bot: Any) -> None:
    """Let the scheduler run what is due (the welcome job runs at once)."""
    for _ in range(20):
        await asyncio.sleep(0.05)
        if not await w_bot.db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = 'onboarding.welcome' AND status IN ('pending', 'running')"
        ):
            return


async def _joined(fake: FakeDiscord, bot: Any, guild: Guild) -> None:
    fake.add_bot_to_guild(guild)
    for _ in range(100):  # until discord.py has the guild (on_guild_join ran)
        if bot.get_guild(guild.id) is not None:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    await _settle(bot)


def _select_id(res: InteractionResult | JsonDict, custom_id: str) -> JsonDict:
    message = res.message if isinstance(res, InteractionResult) else res
    assert message is not None
    for row in message.get("components") or []:
        for c in row.get("components") or []:
            if c.get("custom_id") == custom_id:
                return dict(c)
    raise AssertionError(f"no component {custom_id} in {message.get('components')}")


async def test_welcome_is_posted_once_in_the_system_channel(
    bot_factory: BotFactory, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    cfg = make_config(tmp_path)
    async with bot_factory(config=cfg) as bot:
        await fake.wait_commands_synced()
        g = fake.add_guild(name="Sister Cities Forum", channels=("general", "lobby"), announce=False)
        lobby = g.channel("lobby")
        g.system_channel_id = lobby.id
        await _joined(fake, bot, g)
        msg = await fake.wait_for_message(lobby, lambda m: bool(m.get("components")))
        text = str(msg["embeds"])
        assert "Set up" in str(msg["components"]) and "Setup checklist" in text
        assert "Announcements channel" in text and "Review channel" in text and "Time zone" in text
        assert fake.channel_messages(g.channel("general")) == []
        assert msg.get("nonce")  # sent by the durable scheduler with its nonce
        # the bot is removed and invited back soon after: no second welcome
        fake.remove_bot_from_guild(g)
        await asyncio.sleep(0.2)
        await _joined(fake, bot, g)
        assert len(_welcomes(fake, g)) == 1
    # a restart, then another re-invitation: still one
    async with bot_factory(config=cfg) as bot:
        fake.remove_bot_from_guild(g)
        await asyncio.sleep(0.2)
        await _joined(fake, bot, g)
        assert len(_welcomes(fake, g)) == 1
    fake.assert_clean()


async def test_welcome_goes_to_the_first_channel_the_bot_may_write_in_or_nowhere(
    bot_factory: BotFactory, fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_discord
    async with bot_factory(config=make_config(tmp_path)) as bot:
        await fake.wait_commands_synced()
        # the system channel and the first channel are closed to the bot: the second one gets it
        g = fake.add_guild(name="Closed doors", channels=("rules", "news", "chat"), announce=False)
        assert g.bot_role is not None
        g.system_channel_id = g.channel("rules").id
        for name in ("rules", "news"):
            g.set_overwrite(g.channel(name), g.bot_role, deny=Perm.SEND_MESSAGES)
        await _joined(fake, bot, g)
        await fake.wait_for_message(g.channel("chat"), lambda m: bool(m.get("components")))
        assert len(_welcomes(fake, g)) == 1
        # a server where it may write nowhere: nothing posted, logged, and nothing claimed
        mute = fake.add_guild(name="Read only", channels=("general",), announce=False)
        assert mute.bot_role is not None
        mute.set_overwrite(mute.channel("general"), mute.bot_role, deny=Perm.SEND_MESSAGES)
        with caplog.at_level(logging.WARNING, logger="cogs.onboarding.cog"):
            await _joined(fake, bot, mute)
        assert _welcomes(fake, mute) == []
        assert any("no channel where I may post" in r.getMessage() for r in caplog.records)
        claimed = await bot.db.fetchval("SELECT count(*) FROM guild_welcomes WHERE guild_id = ?", (mute.id,))
        assert claimed == 0
    fake.assert_clean()


async def test_set_up_button_is_refused_to_non_managers_on_press_and_on_submit(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    async with start_world(fake, tmp_path, configure_settings=False) as w:
        g = fake.add_guild(name="New network", channels=("general",), announce=False)
        owner = g.get_member(g.owner_id)
        managers = g.add_role("Admins", permissions=Perm.MANAGE_GUILD)
        boss = g.add_member(name="boss", roles=[managers])
        liaison = g.add_member(name="liaison")
        chanmod = g.add_member(name="chanmod")  # Manage Server in this one channel only: not enough
        g.set_overwrite(g.channel("general"), chanmod, allow=Perm.MANAGE_GUILD)
        await _joined(fake, w.bot, g)
        welcome = (await fake.wait_for_message(g.channel("general"), lambda m: bool(m.get("components"))))
        for who in (liaison, chanmod):
            res = await fake.click(g, who, welcome, "onb:setup")
            assert res.ephemeral and "Manage Server" in res.text, res.text
            assert res.custom_ids == []
        assert owner is not None
        res = await fake.click(g, boss, welcome, "onb:setup")
        assert res.ephemeral and "Set up Attaché" in res.text
        assert {"onb:ann", "onb:rev", "onb:mod", "onb:tz"} <= set(res.custom_ids)
        # someone else can't use the boss's view
        other = await fake.select(g, owner, res, "onb:tz", ["Europe/Paris"])
        assert "someone else" in other.text
        # the boss opens the zone form, then loses Manage Server: the submission is refused
        form = await fake.select(g, boss, res, "onb:tz", ["other"])
        assert form.modal is not None
        g.remove_member_role(boss, managers)
        done = await fake.submit_modal(g, boss, form, {"onb:zone": "Asia/Seoul"})
        assert done.ephemeral and "Manage Server" in done.text, done.text
        # and so is a choice in the view
        chosen = await fake.select(g, boss, res, "onb:ann", [g.channel("general")])
        assert "Manage Server" in chosen.text, chosen.text
        gs = await w.bot.settings.get(g.id)
        assert gs.get("timezone") is None and gs.announcements_channel_id is None
        fake.assert_clean()


async def test_setup_saves_each_step_and_settings_show_marks_what_is_missing(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    async with start_world(fake, tmp_path, configure_settings=False) as w:
        g = w.guild
        res = await fake.invoke(g, w.admin, "settings show")
        missing = "**Announcements channel**, **Review channel**, **Moderator role**, **Time zone**"
        assert f"Missing: {missing}" in res.text, res.text
        assert "`/setup` → Review channel" in res.text
        res = await fake.invoke(g, w.alice, "setup")
        assert res.ephemeral and "Manage Server" in res.text
        view = await fake.invoke(g, w.admin, "setup")
        assert view.ephemeral and "Still to do" in view.text

        async def pick(custom_id: str, values: list[Any]) -> InteractionResult:
            done = await fake.select(g, w.admin, view, custom_id, values)
            if done.callback_type == 6 and not done.followup_ids:
                await done.wait_for_edit()
            return done

        await pick("onb:ann", [w.announcements])
        await pick("onb:rev", [w.reviews])
        gs = await w.bot.settings.get(g.id)
        assert gs.announcements_channel_id == w.announcements.id and gs.review_channel_id == w.reviews.id
        # refused roles: managed by an integration (the bot's own), @everyone
        assert g.bot_role is not None
        for role, why in ((g.bot_role, "managed"), (g.everyone, "@everyone")):
            done = await fake.select(g, w.admin, view, "onb:mod", [role])
            assert done.ephemeral and why in done.text, done.text
            assert (await w.bot.settings.get(g.id)).moderator_role_id is None
        # a server's usual staff role, with elevated permissions, may be the moderator role:
        # Attaché trusts it, it never hands it out
        staff = g.add_role("Staff", permissions=Perm.MANAGE_MESSAGES | Perm.MANAGE_ROLES)
        for role in (staff, w.moderators):
            await pick("onb:mod", [role])
            for _ in range(100):  # the view acknowledges first, then saves and redraws
                if (await w.bot.settings.get(g.id)).moderator_role_id == role.id:
                    break
                await asyncio.sleep(0.05)
            assert (await w.bot.settings.get(g.id)).moderator_role_id == role.id
        # the time zone: one of the common ones, then any IANA zone typed in the form
        offered = [o["value"] for o in _select_id(view, "onb:tz")["options"]]
        assert "other" in offered and len(offered) <= 25
        await pick("onb:tz", [offered[0]])
        assert (await w.bot.settings.get(g.id)).get("timezone") == offered[0]
        form = await fake.select(g, w.admin, view, "onb:tz", ["other"])
        bad = await fake.submit_modal(g, w.admin, form, {"onb:zone": "Mars/Olympus"})
        assert "Unknown time zone" in bad.text
        assert (await w.bot.settings.get(g.id)).get("timezone") == offered[0]
        form = await fake.select(g, w.admin, view, "onb:tz", ["other"])
        good = await fake.submit_modal(g, w.admin, form, {"onb:zone": "america/tijuana"})
        await good.wait_for_edit()
        assert (await w.bot.settings.get(g.id)).timezone == "America/Tijuana"
        current = fake.get_message(view.message["id"]) if view.message else None
        assert current is not None and "Every step is done" in str(current["embeds"])
        res = await fake.invoke(g, w.admin, "settings show")
        assert "Every step is done" in res.text and "Missing" not in res.text
        # every change is in the audit log
        n = await w.bot.db.fetchval(
            "SELECT count(*) FROM audit WHERE guild_id = ? AND action = 'settings.set'", (g.id,))
        assert n == 6  # two channels, two roles, two zones
        fake.assert_clean()


async def test_unfinished_setup_still_answers_and_names_the_missing_step(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    async with start_world(fake, tmp_path, configure_settings=False) as w:
        g = w.guild
        res = await fake.invoke(g, w.alice, "practice share", {"city": "Lyon, FR", "topic": "water"})
        assert res.modal is not None, res.text
        done = await fake.submit_modal(g, w.alice, res, {
            "title": "Rain gardens", "summary": "Rain gardens in every new square, to hold storm water.",
            "approach": "Three pilot squares with the water utility and residents.",
            "results": "Less flooding in two years.", "lessons": "Start small, measure."})
        await done.wait_for_message()
        assert "`/setup` → Review channel" in done.text, done.text
        res = await fake.invoke(g, w.alice, "roundtable schedule", {
            "title": "Unset channels roundtable", "when": "2031-03-04 10:00", "timezone": "UTC"},
            channel=w.general)
        assert "Scheduled" in res.text and "`/setup` → Announcements channel" in res.text, res.text
        res = await fake.invoke(g, w.admin, "mou settings")
        assert "`/setup` → Announcements channel" in res.text, res.text
        fake.assert_clean()


# -- /help -------------------------------------------------------------------------------------------
async def _all_help_pages(w: World, member: Any) -> str:
    res = await w.fake.invoke(w.guild, member, "help")
    texts = [res.text]
    footer = res.embeds[0].get("footer", {}).get("text", "")
    if res.custom_ids:
        pages = int(footer.split("Page 1/")[1].split()[0].rstrip("+·"))
        for _ in range(pages - 1):
            res = await w.fake.click(w.guild, member, res.message or {}, res.custom_ids[2])
            texts.append(str(res.callback_data.get("embeds")))
    return "\n".join(texts)


async def test_help_shows_clickable_mentions_and_only_what_the_member_may_use(started_bot: World) -> None:
    w = started_bot
    ids = {c["name"]: c["id"] for c in w.fake.commands_for()}
    alice = await _all_help_pages(w, w.alice)
    assert f"</practice search:{ids['practice']}>" in alice
    assert f"</help:{ids['help']}>" in alice and f"</roundtable schedule:{ids['roundtable']}>" in alice
    hidden_from_members = ("practice approve", "practice queue", "audit", "settings show", "setup",
                           "settings timezone")
    for hidden in hidden_from_members:
        assert f"</{hidden}:" not in alice, hidden
    mod = await _all_help_pages(w, w.mod)
    assert f"</practice approve:{ids['practice']}>" in mod and f"</audit:{ids['audit']}>" in mod
    assert "</settings timezone:" not in mod and "</setup:" not in mod  # Manage Server only
    admin = await _all_help_pages(w, w.admin)
    assert f"</setup:{ids['setup']}>" in admin and f"</settings timezone:{ids['settings']}>" in admin

    # one command: its options (required or not) and an example
    res = await w.fake.invoke(w.guild, w.alice, "help", {"command": "practice search"})
    assert res.ephemeral and "`query` (optional)" in res.text and "Example" in res.text
    res = await w.fake.invoke(w.guild, w.alice, "help", {"command": "/roundtable schedule"})
    assert "`title` (required)" in res.text and "/roundtable schedule title:" in res.text
    res = await w.fake.invoke(w.guild, w.alice, "help", {"command": "practice approve"})
    assert "not one you can use" in res.text
    res = await w.fake.invoke(w.guild, w.alice, "help", {"command": "teleport"})
    assert "no command" in res.text
    choices = await w.fake.autocomplete(w.guild, w.alice, "help", focused="command", value="practice")
    values = [c["value"] for c in choices]
    assert "practice search" in values and "practice approve" not in values and len(values) <= 25
    choices = await w.fake.autocomplete(w.guild, w.mod, "help", focused="command", value="practice a")
    assert "practice approve" in [c["value"] for c in choices]
    w.fake.assert_clean()


async def test_every_command_answers_before_setup(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """No setting made at all: every command without required options still answers (no error id)."""
    from tests.test_permission_matrix import leaf_commands

    fake = fake_discord
    async with start_world(fake, tmp_path, configure_settings=False) as w:
        commands = fake.commands_for()
        answered = 0
        for path in leaf_commands(commands):
            root = next(c for c in commands if c["name"] == path.split()[0])
            options: list[JsonDict] = list(root.get("options") or [])
            for part in path.split()[1:]:
                options = list(next(o for o in options if o["name"] == part).get("options") or [])
            if any(o.get("required") for o in options) or path == "privacy forget-me":
                continue
            for member in (w.alice, w.admin):
                res = await fake.invoke(w.guild, member, path)
                assert res.callback_type is not None, path
                failed = "Something went wrong" in res.text or "Reference:" in res.text
                assert not failed, (path, res.text)
                answered += 1
        assert answered >= 30, answered
        fake.assert_clean()


async def test_welcome_in_the_servers_language_and_a_language_step_in_the_members(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The welcome is a post: the server's language (here its Discord language, French). The setup view is
    a reply: the member's (Spanish). Its language select saves the `language` setting like `/settings
    language`, Manage Server re-checked on the choice; the change is announced in the new language."""
    fake = fake_discord
    async with start_world(fake, tmp_path, configure_settings=False) as w:
        g = fake.add_guild(name="Réseau francophone", channels=("general", "annonces"), announce=False)
        g.preferred_locale = "fr"
        managers = g.add_role("Admins", permissions=Perm.MANAGE_GUILD)
        boss = g.add_member(name="boss", roles=[managers])
        await _joined(fake, w.bot, g)
        welcome = await fake.wait_for_message(g.channel("general"), lambda m: bool(m.get("components")))
        assert welcome["embeds"][0]["title"] == "Merci d'avoir ajouté Attaché"
        text = str(welcome["embeds"])
        assert "Liste de configuration" in text and "Salon des annonces" in text and "non défini" in text
        assert _select_id(welcome, "onb:setup")["label"] == "Configurer"

        view = await fake.click(g, boss, welcome, "onb:setup", locale="es-ES")
        assert view.ephemeral and "Configurar Attaché" in view.text and "Falta:" in view.text, view.text
        options = _select_id(view, "onb:lang")["options"]
        assert [o["label"] for o in options][:3] == ["English", "Español", "Français"]
        assert options[3]["value"] == "auto" and options[3]["label"].startswith("Automático")
        assert _select_id(view, "onb:tz")["placeholder"] == "4. Zona horaria…"

        async def pick(custom_id: str, values: list[Any]) -> InteractionResult:
            done = await fake.select(g, boss, view, custom_id, values, locale="es-ES")
            if done.callback_type == 6 and not done.followup_ids:
                await done.wait_for_edit()
            return done

        await pick("onb:ann", [g.channel("annonces")])
        # Manage Server is checked when the choice is made: lost since the view opened, nothing is saved
        g.remove_member_role(boss, managers)
        refused = await fake.select(g, boss, view, "onb:lang", ["es"], locale="es-ES")
        assert refused.ephemeral and (await w.bot.settings.get(g.id)).get("language") is None
        g.add_member_role(boss, managers)
        mark = fake.mark()
        await pick("onb:lang", ["es"])
        assert (await w.bot.settings.get(g.id)).get("language") == "es"
        assert await w.bot.languages.for_guild(g.id) == "es"
        post = await fake.wait_for_message(g.channel("annonces"), after=mark)
        assert post["content"].startswith("A partir de ahora, Attaché publica en este servidor en español.")
        current = fake.get_message(view.message["id"]) if view.message else None
        assert current is not None and "🌐 **Idioma de las publicaciones**: Español" in str(current["embeds"])
        # Automatic: back to the server's Discord language
        await pick("onb:lang", ["auto"])
        assert (await w.bot.settings.get(g.id)).get("language") is None
        assert await w.bot.languages.for_guild(g.id) == "fr"
        n = await w.bot.db.fetchval(
            "SELECT count(*) FROM audit WHERE guild_id = ? AND action = 'settings.set'", (g.id,))
        assert n == 3  # the channel and the language twice
        fake.assert_clean()
