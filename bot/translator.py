"""The Discord side of bot/i18n.py: command localizations and the language of an interaction.

* `CatalogTranslator` (discord.py's `app_commands.Translator`, installed in `setup_hook` before the
  commands are synced) gives every command, subcommand and option description and every choice name
  its localizations from the catalogs (msgid = the English text): French for `fr`, Spanish for `es-ES`
  and `es-419`, and any Discord locale whose language has a catalog. Names stay English on purpose:
  one server mixes languages, and members tell each other which command to type.
* `lang_for_interaction(interaction)`: the language of a reply, from the member's Discord client
  (`interaction.locale`), unless the bot forces one (tests: the pseudo-locale)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.i18n import ENGLISH, language_of, lookup

log = logging.getLogger(__name__)

# Discord's limits for what the translator returns (names are never translated).
LIMITS = {
    app_commands.TranslationContextLocation.command_description: 100,
    app_commands.TranslationContextLocation.group_description: 100,
    app_commands.TranslationContextLocation.parameter_description: 100,
    app_commands.TranslationContextLocation.choice_name: 100,
}


class CatalogTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[Any, Any],
    ) -> str | None:
        limit = LIMITS.get(context.location)
        if limit is None:  # command, group and option names stay English
            return None
        lang = language_of(locale.value)
        if lang == ENGLISH:
            return None
        text = lookup(lang, string.message)
        if text is None:
            return None
        if not 1 <= len(text) <= limit:
            log.warning("the %s localization of %r is over %d characters; not sent", lang, string.message,
                        limit)
            return None
        return text


def lang_for_interaction(interaction: discord.Interaction[Any]) -> str:
    """The language to answer this interaction in: the member's Discord client language."""
    languages = getattr(interaction.client, "languages", None)
    forced = getattr(languages, "forced", None)
    if forced:
        return str(forced)
    return language_of(getattr(interaction.locale, "value", None))
