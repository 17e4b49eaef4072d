"""Discord's request limits, stated in code, and pure checkers for request bodies.

The numbers come from Discord's developer documentation and its OpenAPI spec
(``discord-api-spec``). Tests must not read the spec at run time, so every limit the
fake enforces is written down here. Each checker returns a list of human-readable
breaches (empty when the body is fine); the fake records them in ``FakeDiscord.violations``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# -- messages -----------------------------------------------------------------
# The spec allows 4000 for some message bodies (a Nitro user limit); bots get 2000.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_NONCE = 25
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_DESCRIPTION = 1024  # alt text (MessageAttachmentRequest.description)
# Polls (docs: Poll resource, "Poll Create Request Object"): question text <= 300, 1..10 answers, each
# answer's text <= 55, duration 1..768 hours (32 days). The OpenAPI spec states 300 for every poll text
# (one shared PollMediaCreateRequest); Discord refuses answers over 55, so the fake checks the stricter.
MAX_POLL_QUESTION = 300
MAX_POLL_ANSWERS = 10
MAX_POLL_ANSWER = 55
MAX_POLL_HOURS = 768
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # bytes, per upload request, for an unboosted guild

# -- embeds -------------------------------------------------------------------
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000  # summed over every embed of one message
MAX_EMBED_COLOR = 0xFFFFFF

# -- components ---------------------------------------------------------------
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_V2_COMPONENTS = 40  # total components when the IS_COMPONENTS_V2 flag is set
MAX_V2_TEXT = 4000  # total text display characters in a components v2 message
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_BUTTON_URL = 512
MAX_SELECT_OPTIONS = 25
MAX_SELECT_OPTION_LABEL = 100
MAX_SELECT_OPTION_VALUE = 100
MAX_SELECT_OPTION_DESCRIPTION = 100
MAX_SELECT_PLACEHOLDER = 150
MAX_SELECT_VALUES = 25
MAX_TEXT_INPUT_LABEL = 45
MAX_TEXT_INPUT_PLACEHOLDER = 100
MAX_TEXT_INPUT_LENGTH = 4000
MAX_LABEL_LABEL = 45
MAX_LABEL_DESCRIPTION = 100
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
FLAG_EPHEMERAL = 1 << 6
FLAG_COMPONENTS_V2 = 1 << 15

# -- application commands -----------------------------------------------------
COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMAND_NAME = 32
MAX_COMMAND_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100
MAX_CHAT_INPUT_COMMANDS = 100
MAX_CONTEXT_MENU_COMMANDS = 5  # per type (user, message)
MAX_COMMAND_TOTAL_CHARS = 4000  # name + description + every option/choice name, description and value
# Discord's locales (AvailableLocalesEnum in the API description): the keys of *_localizations.
LOCALES = frozenset({
    "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he", "hi", "hr",
    "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru", "sv-SE", "th", "tr", "uk",
    "vi", "zh-CN", "zh-TW",
})

# -- other bodies -------------------------------------------------------------
MAX_THREAD_NAME = 100
MAX_EVENT_NAME = 100
MAX_EVENT_DESCRIPTION = 1000
MAX_EVENT_LOCATION = 100
MAX_GUILD_SCHEDULED_EVENTS = 100  # uncompleted (scheduled or active) events per guild: error 30038

_MENTION_RE = re.compile(r"<@[!&]?\d+>")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _check_len(out: list[str], where: str, value: Any, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        out.append(f"{where} must be a string, got {type(value).__name__}")
        return
    if len(value) > maximum:
        out.append(f"{where} length {len(value)} > {maximum}")
    if len(value) < minimum:
        out.append(f"{where} length {len(value)} < {minimum}")


# -- embeds -------------------------------------------------------------------


def check_embeds(embeds: Sequence[Mapping[str, Any]]) -> list[str]:
    """Check a list of embed dicts against Discord's embed limits."""
    out: list[str] = []
    if len(embeds) > MAX_EMBEDS:
        out.append(f"embeds: {len(embeds)} embeds > {MAX_EMBEDS}")
    total = 0
    for i, embed in enumerate(embeds):
        where = f"embeds[{i}]"
        _check_len(out, f"{where}.title", embed.get("title"), MAX_EMBED_TITLE)
        _check_len(out, f"{where}.description", embed.get("description"), MAX_EMBED_DESCRIPTION)
        total += _length(embed.get("title")) + _length(embed.get("description"))
        color = embed.get("color")
        if color is not None and not (isinstance(color, int) and 0 <= color <= MAX_EMBED_COLOR):
            out.append(f"{where}.color {color} out of range 0..{MAX_EMBED_COLOR}")
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            out.append(f"{where}.fields: {len(fields)} fields > {MAX_EMBED_FIELDS}")
        for j, field in enumerate(fields):
            fwhere = f"{where}.fields[{j}]"
            name, value = field.get("name"), field.get("value")
            _check_len(out, f"{fwhere}.name", name, MAX_FIELD_NAME, 1)
            _check_len(out, f"{fwhere}.value", value, MAX_FIELD_VALUE, 1)
            if name is None:
                out.append(f"{fwhere}.name is required")
            if value is None:
                out.append(f"{fwhere}.value is required")
            total += _length(name) + _length(value)
        footer = embed.get("footer") or {}
        _check_len(out, f"{where}.footer.text", footer.get("text"), MAX_FOOTER_TEXT)
        total += _length(footer.get("text"))
        author = embed.get("author") or {}
        _check_len(out, f"{where}.author.name", author.get("name"), MAX_AUTHOR_NAME)
        total += _length(author.get("name"))
    if total > MAX_EMBED_TOTAL:
        out.append(f"embeds: total embed characters {total} > {MAX_EMBED_TOTAL}")
    return out


# -- message components -------------------------------------------------------


def _check_button(out: list[str], where: str, button: Mapping[str, Any]) -> None:
    style = button.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        out.append(f"{where}.style {style!r} is not a valid button style")
    _check_len(out, f"{where}.label", button.get("label"), MAX_BUTTON_LABEL)
    if style == 5:
        _check_len(out, f"{where}.url", button.get("url"), MAX_BUTTON_URL, 1)
        if not button.get("url"):
            out.append(f"{where}: link button needs a url")
        if button.get("custom_id"):
            out.append(f"{where}: link button must not have a custom_id")
    elif style == 6:
        if not button.get("sku_id"):
            out.append(f"{where}: premium button needs a sku_id")
    else:
        _check_len(out, f"{where}.custom_id", button.get("custom_id"), MAX_CUSTOM_ID, 1)
        if not button.get("custom_id"):
            out.append(f"{where}: button needs a custom_id")
    if style != 6 and not button.get("label") and not button.get("emoji"):
        out.append(f"{where}: button needs a label or an emoji")


def _check_select(out: list[str], where: str, select: Mapping[str, Any]) -> None:
    _check_len(out, f"{where}.custom_id", select.get("custom_id"), MAX_CUSTOM_ID, 1)
    if not select.get("custom_id"):
        out.append(f"{where}: select needs a custom_id")
    _check_len(out, f"{where}.placeholder", select.get("placeholder"), MAX_SELECT_PLACEHOLDER)
    min_values, max_values = select.get("min_values"), select.get("max_values")
    if min_values is not None and not (0 <= min_values <= MAX_SELECT_VALUES):
        out.append(f"{where}.min_values {min_values} out of range 0..{MAX_SELECT_VALUES}")
    if max_values is not None and not (1 <= max_values <= MAX_SELECT_VALUES):
        out.append(f"{where}.max_values {max_values} out of range 1..{MAX_SELECT_VALUES}")
    if min_values is not None and max_values is not None and min_values > max_values:
        out.append(f"{where}: min_values {min_values} > max_values {max_values}")
    if select.get("type") == 3:
        options = select.get("options") or []
        if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
            out.append(f"{where}.options: {len(options)} options, must be 1..{MAX_SELECT_OPTIONS}")
        if max_values is not None and options and max_values > len(options):
            out.append(f"{where}: max_values {max_values} > number of options {len(options)}")
        values: set[str] = set()
        for k, option in enumerate(options):
            owhere = f"{where}.options[{k}]"
            _check_len(out, f"{owhere}.label", option.get("label"), MAX_SELECT_OPTION_LABEL, 1)
            _check_len(out, f"{owhere}.value", option.get("value"), MAX_SELECT_OPTION_VALUE, 1)
            _check_len(out, f"{owhere}.description", option.get("description"), MAX_SELECT_OPTION_DESCRIPTION)
            value = option.get("value")
            if value in values:
                out.append(f"{owhere}.value {value!r} is duplicated")
            if isinstance(value, str):
                values.add(value)


def _check_text_input(
    out: list[str], where: str, text_input: Mapping[str, Any], *, label_required: bool
) -> None:
    _check_len(out, f"{where}.custom_id", text_input.get("custom_id"), MAX_CUSTOM_ID, 1)
    if not text_input.get("custom_id"):
        out.append(f"{where}: text input needs a custom_id")
    if text_input.get("style") not in (1, 2):
        out.append(f"{where}.style {text_input.get('style')!r} is not 1 (short) or 2 (paragraph)")
    label = text_input.get("label")
    if label_required and not label:
        out.append(f"{where}: text input in an action row needs a label")
    _check_len(out, f"{where}.label", label, MAX_TEXT_INPUT_LABEL, 1 if label is not None else 0)
    _check_len(out, f"{where}.placeholder", text_input.get("placeholder"), MAX_TEXT_INPUT_PLACEHOLDER)
    min_length, max_length = text_input.get("min_length"), text_input.get("max_length")
    if min_length is not None and not (0 <= min_length <= MAX_TEXT_INPUT_LENGTH):
        out.append(f"{where}.min_length {min_length} out of range 0..{MAX_TEXT_INPUT_LENGTH}")
    if max_length is not None and not (1 <= max_length <= MAX_TEXT_INPUT_LENGTH):
        out.append(f"{where}.max_length {max_length} out of range 1..{MAX_TEXT_INPUT_LENGTH}")
    if min_length is not None and max_length is not None and min_length > max_length:
        out.append(f"{where}: min_length {min_length} > max_length {max_length}")
    value = text_input.get("value")
    limit = min(max_length or MAX_TEXT_INPUT_LENGTH, MAX_TEXT_INPUT_LENGTH)
    _check_len(out, f"{where}.value", value, limit)


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for component in components:
        yield component
        children = component.get("components")
        if isinstance(children, list):
            yield from _walk_components(children)
        child = component.get("component")
        if isinstance(child, Mapping):
            yield from _walk_components([child])
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping):
            yield from _walk_components([accessory])


def check_components(components: Sequence[Mapping[str, Any]], *, flags: int = 0) -> list[str]:
    """Check message components (action rows with buttons and selects, or components v2)."""
    out: list[str] = []
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    if v2:
        total = sum(1 for _ in _walk_components(components))
        if total > MAX_V2_COMPONENTS:
            out.append(f"components: {total} components > {MAX_V2_COMPONENTS}")
        text = sum(_length(c.get("content")) for c in _walk_components(components) if c.get("type") == 10)
        if text > MAX_V2_TEXT:
            out.append(f"components: {text} characters of text display > {MAX_V2_TEXT}")
    elif len(components) > MAX_ACTION_ROWS:
        out.append(f"components: {len(components)} action rows > {MAX_ACTION_ROWS}")
    for i, row in enumerate(components):
        where = f"components[{i}]"
        if row.get("type") != 1:
            if not v2:
                out.append(
                    f"{where}: top-level component type {row.get('type')} needs the components v2 flag"
                )
            continue
        children = row.get("components") or []
        if not children:
            out.append(f"{where}: empty action row")
        if len(children) > MAX_ROW_BUTTONS:
            out.append(f"{where}: {len(children)} components in a row > {MAX_ROW_BUTTONS}")
        has_select = any(c.get("type") in (3, 5, 6, 7, 8) for c in children)
        if has_select and len(children) > 1:
            out.append(f"{where}: a select menu must be alone in its action row")
    custom_ids: set[str] = set()
    for n, component in enumerate(_walk_components(components)):
        ctype = component.get("type")
        where = f"components#{n}(type {ctype})"
        if ctype == 2:
            _check_button(out, where, component)
        elif ctype in (3, 5, 6, 7, 8):
            _check_select(out, where, component)
        elif ctype == 4:
            out.append(f"{where}: text inputs are only allowed in modals")
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in custom_ids:
                out.append(f"{where}: custom_id {custom_id!r} is used twice in one message")
            custom_ids.add(custom_id)
    return out


# -- allowed mentions ---------------------------------------------------------


def check_allowed_mentions(body: Mapping[str, Any]) -> list[str]:
    """A message whose content could ping must say so with ``allowed_mentions``.

    No ``allowed_mentions`` at all plus ``@everyone``/``@here``/``<@...>`` in the content is a
    breach; so is an ``allowed_mentions.parse`` that lets the kind of mention in the content ping.
    Explicit ``users``/``roles`` lists are an intentional choice and are accepted.
    """
    content = body.get("content")
    if not isinstance(content, str):
        return []
    has_everyone = "@everyone" in content or "@here" in content
    has_user = bool(re.search(r"<@!?\d+>", content))
    has_role = "<@&" in content
    if not (has_everyone or has_user or has_role or "<@" in content):
        return []
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return ["allowed_mentions missing on a message whose content contains a mention"]
    parse = set(allowed.get("parse") or [])
    out: list[str] = []
    if has_everyone and "everyone" in parse:
        out.append("allowed_mentions.parse lets @everyone/@here ping")
    if has_user and "users" in parse:
        out.append("allowed_mentions.parse lets user mentions ping")
    if has_role and "roles" in parse:
        out.append("allowed_mentions.parse lets role mentions ping")
    return out


# -- whole messages -----------------------------------------------------------


def check_message_limits(
    body: Mapping[str, Any], *, files: int = 0, file_bytes: int = 0, require_content: bool = False
) -> list[str]:
    """Check one message body (channel message, callback data, followup or edit).

    ``files``/``file_bytes`` describe uploaded files sent alongside the body. With
    ``require_content`` an empty message (no content, embeds, components, files, stickers or poll)
    is a breach, as Discord answers 50006 "Cannot send an empty message".
    """
    out: list[str] = []
    content = body.get("content")
    if content is not None:
        _check_len(out, "content", content, MAX_CONTENT)
    embeds = body.get("embeds")
    if embeds:
        out.extend(check_embeds(embeds))
    flags = int(body.get("flags") or 0)
    components = body.get("components")
    if components:
        out.extend(check_components(components, flags=flags))
    if flags & FLAG_COMPONENTS_V2 and (content or embeds):
        out.append("a components v2 message cannot have content or embeds")
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        out.append(f"nonce length {len(nonce)} > {MAX_NONCE}")
    attachments = body.get("attachments") or []
    for i, attachment in enumerate(attachments):
        if isinstance(attachment, Mapping):
            _check_len(out, f"attachments[{i}].description", attachment.get("description"),
                       MAX_ATTACHMENT_DESCRIPTION)
    poll = body.get("poll")
    if poll is not None:
        out.extend(check_poll(poll))
    count = max(files, len(attachments))
    if count > MAX_ATTACHMENTS:
        out.append(f"attachments: {count} files > {MAX_ATTACHMENTS}")
    if file_bytes > ATTACHMENT_SIZE_LIMIT:
        out.append(f"attachments: {file_bytes} bytes uploaded > {ATTACHMENT_SIZE_LIMIT}")
    out.extend(check_allowed_mentions(body))
    if require_content and not (
        content or embeds or components or files or attachments or body.get("sticker_ids") or body.get("poll")
    ):
        out.append("empty message (no content, embeds, components or files)")
    return out


def check_poll(poll: Any) -> list[str]:
    """Check a message's ``poll`` (PollCreateRequest)."""
    out: list[str] = []
    if not isinstance(poll, Mapping):
        return ["poll must be an object"]
    question = poll.get("question")
    text = question.get("text") if isinstance(question, Mapping) else None
    if not text:
        out.append("poll.question.text is required")
    _check_len(out, "poll.question.text", text, MAX_POLL_QUESTION, 1)
    answers = poll.get("answers")
    if not isinstance(answers, list) or not 1 <= len(answers) <= MAX_POLL_ANSWERS:
        n = len(answers) if isinstance(answers, list) else "no"
        out.append(f"poll.answers: {n} answers, must be 1..{MAX_POLL_ANSWERS}")
        answers = answers if isinstance(answers, list) else []
    for i, answer in enumerate(answers):
        media = answer.get("poll_media") if isinstance(answer, Mapping) else None
        atext = media.get("text") if isinstance(media, Mapping) else None
        if not atext and not (isinstance(media, Mapping) and media.get("emoji")):
            out.append(f"poll.answers[{i}].poll_media needs text or an emoji")
        _check_len(out, f"poll.answers[{i}].poll_media.text", atext, MAX_POLL_ANSWER, 1)
    duration = poll.get("duration")
    whole = (isinstance(duration, int | float) and not isinstance(duration, bool)
             and float(duration).is_integer())
    if duration is not None and not (whole and 1 <= duration <= MAX_POLL_HOURS):
        out.append(f"poll.duration {duration!r} out of range 1..{MAX_POLL_HOURS} hours")
    return out


# -- modals -------------------------------------------------------------------


def check_modal(data: Mapping[str, Any]) -> list[str]:
    """Check the ``data`` of a type 9 (MODAL) interaction callback."""
    out: list[str] = []
    _check_len(out, "modal.title", data.get("title"), MAX_MODAL_TITLE, 1)
    if not data.get("title"):
        out.append("modal.title is required")
    _check_len(out, "modal.custom_id", data.get("custom_id"), MAX_CUSTOM_ID, 1)
    if not data.get("custom_id"):
        out.append("modal.custom_id is required")
    components = data.get("components") or []
    if not 1 <= len(components) <= MAX_MODAL_COMPONENTS:
        out.append(f"modal.components: {len(components)} components, must be 1..{MAX_MODAL_COMPONENTS}")
    custom_ids: set[str] = set()
    for i, top in enumerate(components):
        where = f"modal.components[{i}]"
        ttype = top.get("type")
        inner: list[tuple[str, Mapping[str, Any], bool]] = []
        if ttype == 1:
            children = top.get("components") or []
            if len(children) != 1:
                out.append(
                    f"{where}: an action row in a modal holds exactly one component, not {len(children)}"
                )
            inner.extend((f"{where}.components[{k}]", c, True) for k, c in enumerate(children))
        elif ttype == 18:
            _check_len(out, f"{where}.label", top.get("label"), MAX_LABEL_LABEL, 1)
            if not top.get("label"):
                out.append(f"{where}: label component needs a label")
            _check_len(out, f"{where}.description", top.get("description"), MAX_LABEL_DESCRIPTION, 1)
            child = top.get("component")
            if not isinstance(child, Mapping):
                out.append(f"{where}: label component needs a component")
            else:
                inner.append((f"{where}.component", child, False))
        elif ttype == 10:
            continue  # text display
        else:
            out.append(f"{where}: component type {ttype} is not allowed at the top of a modal")
        for cwhere, child, in_row in inner:
            ctype = child.get("type")
            if ctype == 4:
                _check_text_input(out, cwhere, child, label_required=in_row)
            elif ctype in (3, 5, 6, 7, 8):
                _check_select(out, cwhere, child)
            elif ctype in (19, 21, 22, 23):
                _check_len(out, f"{cwhere}.custom_id", child.get("custom_id"), MAX_CUSTOM_ID, 1)
            else:
                out.append(f"{cwhere}: component type {ctype} is not allowed in a modal")
            custom_id = child.get("custom_id")
            if isinstance(custom_id, str):
                if custom_id in custom_ids:
                    out.append(f"{cwhere}: custom_id {custom_id!r} is used twice in one modal")
                custom_ids.add(custom_id)
    return out


# -- autocomplete and command choices -----------------------------------------


def check_choices(choices: Sequence[Mapping[str, Any]], *, where: str = "choices") -> list[str]:
    """Check autocomplete results or a command option's fixed choices."""
    out: list[str] = []
    if len(choices) > MAX_CHOICES:
        out.append(f"{where}: {len(choices)} choices > {MAX_CHOICES}")
    for i, choice in enumerate(choices):
        _check_len(out, f"{where}[{i}].name", choice.get("name"), MAX_CHOICE_NAME, 1)
        if not choice.get("name"):
            out.append(f"{where}[{i}].name is required")
        value = choice.get("value")
        if value is None:
            out.append(f"{where}[{i}].value is required")
        elif isinstance(value, str):
            _check_len(out, f"{where}[{i}].value", value, MAX_CHOICE_VALUE)
    return out


# -- application commands -----------------------------------------------------


def _longest(obj: Mapping[str, Any], key: str) -> int:
    """A field's length as Discord counts it toward the total: its longest localization, or itself."""
    values = [obj.get(key), *dict(obj.get(f"{key}_localizations") or {}).values()]
    return max(_length(v) for v in values)


def _check_localizations(out: list[str], where: str, obj: Mapping[str, Any], key: str, maximum: int) -> None:
    """`<key>_localizations`: a map from a Discord locale to a text within the field's own limits."""
    local = obj.get(f"{key}_localizations")
    if local is None:
        return
    if not isinstance(local, Mapping):
        out.append(f"{where}.{key}_localizations must be an object")
        return
    for loc, text in local.items():
        if loc not in LOCALES:
            out.append(f"{where}.{key}_localizations: unknown locale {loc!r}")
        _check_len(out, f"{where}.{key}_localizations[{loc}]", text, maximum, 1)


def _option_chars(option: Mapping[str, Any]) -> int:
    total = _longest(option, "name") + _longest(option, "description")
    for choice in option.get("choices") or []:
        total += _longest(choice, "name") + len(str(choice.get("value", "")))
    for sub in option.get("options") or []:
        total += _option_chars(sub)
    return total


def _check_options(out: list[str], where: str, options: Sequence[Mapping[str, Any]], depth: int) -> None:
    if len(options) > MAX_OPTIONS:
        out.append(f"{where}.options: {len(options)} options > {MAX_OPTIONS}")
    names: set[str] = set()
    seen_optional = False
    for i, option in enumerate(options):
        owhere = f"{where}.options[{i}]({option.get('name')})"
        name = option.get("name")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            out.append(f"{owhere}: name {name!r} must match {COMMAND_NAME_RE.pattern} and be lowercase")
        elif name in names:
            out.append(f"{owhere}: duplicate option name {name!r}")
        else:
            names.add(name)
        _check_len(out, f"{owhere}.description", option.get("description"), MAX_COMMAND_DESCRIPTION, 1)
        if not option.get("description"):
            out.append(f"{owhere}: description is required")
        _check_localizations(out, owhere, option, "name", MAX_COMMAND_NAME)
        _check_localizations(out, owhere, option, "description", MAX_COMMAND_DESCRIPTION)
        for j, choice in enumerate(option.get("choices") or []):
            _check_localizations(out, f"{owhere}.choices[{j}]", choice, "name", MAX_CHOICE_NAME)
        otype = option.get("type")
        if otype in (1, 2):
            if depth >= 2 or (otype == 2 and depth != 0):
                out.append(f"{owhere}: subcommand (group) nested too deep")
            subs = option.get("options") or []
            if otype == 2 and any(s.get("type") != 1 for s in subs):
                out.append(f"{owhere}: a subcommand group may only hold subcommands")
            _check_options(out, owhere, subs, depth + 1)
            continue
        if otype not in (3, 4, 5, 6, 7, 8, 9, 10, 11):
            out.append(f"{owhere}: unknown option type {otype!r}")
        if option.get("required"):
            if seen_optional:
                out.append(f"{owhere}: required options must come before optional ones")
        else:
            seen_optional = True
        choices = option.get("choices")
        if choices:
            out.extend(check_choices(choices, where=f"{owhere}.choices"))
            if option.get("autocomplete"):
                out.append(f"{owhere}: autocomplete cannot be combined with choices")
    kinds = {o.get("type") in (1, 2) for o in options}
    if len(kinds) > 1:
        out.append(f"{where}: subcommands cannot be mixed with plain options")


def check_commands(commands: Sequence[Mapping[str, Any]]) -> list[str]:
    """Check a bulk-overwrite body (the list the tree syncs)."""
    out: list[str] = []
    counts = {1: 0, 2: 0, 3: 0}
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        ctype = int(command.get("type") or 1)
        name = command.get("name")
        where = f"commands[{i}]({name})"
        counts[ctype] = counts.get(ctype, 0) + 1
        if ctype == 1:
            if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
                out.append(f"{where}: name {name!r} must match {COMMAND_NAME_RE.pattern} and be lowercase")
            _check_len(out, f"{where}.description", command.get("description"), MAX_COMMAND_DESCRIPTION, 1)
            if not command.get("description"):
                out.append(f"{where}: description is required")
            _check_localizations(out, where, command, "name", MAX_COMMAND_NAME)
            _check_localizations(out, where, command, "description", MAX_COMMAND_DESCRIPTION)
            options = command.get("options") or []
            _check_options(out, where, options, 0)
            # localized fields count with their longest version (Discord's rule for the total)
            chars = (
                _longest(command, "name") + _longest(command, "description")
                + sum(_option_chars(o) for o in options)
            )
            if chars > MAX_COMMAND_TOTAL_CHARS:
                out.append(f"{where}: {chars} characters in total > {MAX_COMMAND_TOTAL_CHARS}")
        else:
            _check_len(out, f"{where}.name", name, MAX_COMMAND_NAME, 1)
            if command.get("description"):
                out.append(f"{where}: context menu commands must have an empty description")
        if isinstance(name, str):
            if (ctype, name) in seen:
                out.append(f"{where}: duplicate command name {name!r}")
            seen.add((ctype, name))
    if counts.get(1, 0) > MAX_CHAT_INPUT_COMMANDS:
        out.append(f"commands: {counts[1]} slash commands > {MAX_CHAT_INPUT_COMMANDS}")
    for ctype in (2, 3):
        if counts.get(ctype, 0) > MAX_CONTEXT_MENU_COMMANDS:
            out.append(
                f"commands: {counts[ctype]} context menus of type {ctype} > {MAX_CONTEXT_MENU_COMMANDS}"
            )
    return out


# -- interaction callbacks ----------------------------------------------------


def check_interaction_callback(body: Mapping[str, Any]) -> list[str]:
    """Check a ``POST /interactions/{id}/{token}/callback`` body, by callback type."""
    ctype = body.get("type")
    data = body.get("data") or {}
    if ctype in (4, 7):
        return check_message_limits(data, require_content=ctype == 4)
    if ctype == 5:
        flags = int(data.get("flags") or 0)
        return (
            [] if flags & ~FLAG_EPHEMERAL == 0 else [f"deferred response flags {flags} other than EPHEMERAL"]
        )
    if ctype == 8:
        return check_choices(data.get("choices") or [], where="autocomplete.choices")
    if ctype == 9:
        return check_modal(data)
    if ctype in (1, 6):
        return []
    return [f"unknown interaction callback type {ctype!r}"]
