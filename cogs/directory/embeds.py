"""Pure renderers for the directory: data in, embeds out (always within Discord's limits), in the reader's
language (`lang`; countries, numbers and weekdays through Babel, bot/i18n.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

import discord

from bot.contracts import AgreementLine
from bot.embeds import COLOUR, COLOUR_WARN, FIELD_VALUE_MAX, chunk_lines, clip, make_embed, md, md_line
from bot.i18n import ENGLISH, N_, country_name, format_number, nt, render, t, weekday_name
from cogs.directory.records import CATEGORIES, ImportRejected, RowError
from cogs.directory.service import (
    City,
    Gaps,
    Membership,
    Network,
    Profile,
    SeedAgreement,
)

VERIFIED = N_("✅ verified")
UNVERIFIED = N_("unverified claim")
# Membership categories (records.CATEGORIES) as shown; the stored value stays English.
_CATEGORY_LABELS = dict(zip(CATEGORIES, (
    N_("member"), N_("observer"), N_("steering committee"), N_("chair"), N_("founding"), N_("host"),
    N_("lead city"), N_("designated"), N_("partner")), strict=True))


def country(lang: str, iso: str, fallback: str) -> str:
    """A country's name in `lang` (Babel's CLDR names: MX -> Mexico / Mexique / México); the gazetteer's
    English name when CLDR does not know the code."""
    name = country_name(lang, iso)
    return fallback if name == iso else name


def local_time(zone: str, now: datetime, lang: str = ENGLISH) -> str:
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    day = weekday_name(lang, local.weekday(), "abbreviated")
    return f"{local:%H:%M} ({day}) · {zone} (UTC{offset[:3]}:{offset[3:]})"


def membership_bits(m: Membership, lang: str = ENGLISH) -> str:
    bits = [] if m.category == "member" else [
        t(lang, _CATEGORY_LABELS[m.category]) if m.category in _CATEGORY_LABELS else m.category]
    if m.joined_year:
        bits.append(t(lang, "since {year}", year=m.joined_year))
    if m.left_year:
        bits.append(t(lang, "left {year}", year=m.left_year))
    if m.status == "former" and not m.left_year:
        bits.append(t(lang, "former"))
    if m.as_of:
        bits.append(t(lang, "as of {date}", date=m.as_of))
    if m.origin == "guild":
        bits.append(t(lang, "added here"))
    text = md_line(", ".join(bits), 300)
    if m.caveat:
        caveat = md_line(t(lang, m.caveat), 300)
        text = f"{text}; ⚠ {caveat}" if text else f"⚠ {caveat}"
    return text


def profile_line(p: Profile, lang: str = ENGLISH, *, with_city: bool = False) -> str:
    parts = [f"<@{p.user_id}>"]
    if with_city and p.city:
        parts.append(md_line(p.city.label, 150))
    role = " · ".join(md_line(x, 100) for x in (p.title, p.office) if x)
    if role:
        parts.append(role)
    parts.append(t(lang, VERIFIED) if p.verified else f"_{t(lang, UNVERIFIED)}_")
    return " — ".join(parts)


def profile_embed(p: Profile, display_name: str, now: datetime, lang: str = ENGLISH) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if p.city:
        state = t(lang, VERIFIED if p.verified else UNVERIFIED)
        fields.append((t(lang, "City"), f"{md_line(p.city.label, 150)} — {state}", False))
    else:
        fields.append((t(lang, "City"), t(lang, "not set"), False))
    if p.timezone:
        shown = local_time(p.timezone, now, lang)
        fields.append((t(lang, "Time zone"), shown if p.explicit_timezone
                       else t(lang, "{time} (the city's)", time=shown), False))
    for name, value in ((N_("Title"), p.title), (N_("Office"), p.office), (N_("Languages"), p.languages),
                        (N_("Expertise"), p.expertise)):
        if value:
            fields.append((t(lang, name), md(value, 1024), True))
    dms = t(lang, "accepted") if p.dm_ok else t(lang, "declined")
    fields.append((t(lang, "DMs from Attaché"), dms, True))
    return make_embed(t(lang, "Profile — {name}", name=md_line(display_name, 200)), None, fields=fields)


def fit_lines(lines: Sequence[str], *, total: int | None = None, more: Callable[[int], str] | None = None,
              empty: str | None = None, limit: int = FIELD_VALUE_MAX, lang: str = ENGLISH) -> str:
    """Join lines into one field value of at most `limit` characters: whole lines only, then
    "… and N more" for what was cut (or was never fetched: `total` counts every line there is)."""
    total = max(total or 0, len(lines))
    tail = more or (lambda n: _and_more(n, lang))
    if not lines:
        if total:
            return clip(tail(total), limit)
        return empty if empty is not None else t(lang, "none recorded")
    joined = "\n".join(lines)
    if total == len(lines) and len(joined) <= limit:
        return joined
    reserve = len(tail(total)) + 1
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + (1 if shown else 0) + reserve > limit:
            break
        used += len(line) + (1 if shown else 0)
        shown.append(line)
    if not shown:  # one line longer than the whole field
        shown = [clip(lines[0], limit - reserve)]
    return "\n".join([*shown, tail(total - len(shown))])


def _and_more(n: int, lang: str = ENGLISH) -> str:
    return t(lang, "… and {n} more", n=format_number(lang, n))


def city_embed(
    city: City,
    country_name: str,
    now: datetime,
    memberships: Sequence[Membership],
    documented: Sequence[SeedAgreement],
    tracked: Sequence[AgreementLine] | None,
    members: Sequence[Profile],
    practices: int | None,
    *,
    total_networks: int | None = None,
    total_documented: int | None = None,
    tracked_capped: bool = False,
    lang: str = ENGLISH,
) -> discord.Embed:
    """The city card. `tracked` is this server's agreements from the MOU tracker (None when the tracker
    is not loaded); `documented` the agreements the seed documents from public sources; both show."""
    desc = [t(lang, "**Country:** {country} ({code})", country=md_line(country_name, 100),
              code=md_line(city.country, 10))]
    if city.region:
        desc.append(t(lang, "**Region:** {region}", region=md_line(city.region, 100)))
    desc.append(t(lang, "**Local time:** {time}", time=local_time(city.timezone, now, lang)))
    if city.population:
        desc.append(t(lang, "**Population:** {n}", n=format_number(lang, city.population)))
    if city.guild_id is not None:
        desc.append(t(lang, "_Added to the directory by this server's moderators._"))
    nets = [f"• {md_line(m.network.display, 200)}" + (f" — {b}" if (b := membership_bits(m, lang)) else "")
            for m in memberships]
    n_nets = max(total_networks or 0, len(memberships))
    fields = [(t(lang, "Networks ({n})", n=format_number(lang, n_nets)), fit_lines(
        nets, total=n_nets, limit=1000, lang=lang,
        more=lambda n: t(lang, "… and {n} more (`/network shared` compares two cities)",
                         n=format_number(lang, n))), False)]
    if tracked is not None:
        plus = "+" if tracked_capped else ""
        n_tracked = f"{format_number(lang, len(tracked))}{plus}"
        fields.append((t(lang, "Tracked on this server ({n})", n=n_tracked),
                       fit_lines([tracked_agreement_line(a, lang) for a in tracked], total=len(tracked),
                                 empty=t(lang, "none yet — `/mou add` records one"), lang=lang,
                                 more=lambda n: t(lang, "… and {n} more (`/mou list city:`)",
                                                  n=f"{format_number(lang, n)}{plus}")), False))
    n_doc = max(total_documented or 0, len(documented))
    fields.append((t(lang, "Documented agreements ({n})", n=format_number(lang, n_doc)), fit_lines(
        [documented_agreement_line(a, city, lang) for a in documented], total=n_doc, lang=lang), False))
    fields.append((t(lang, "Members here ({n})", n=format_number(lang, len(members))), fit_lines(
        [profile_line(p, lang) for p in members[:15]], total=len(members), empty=t(lang, "nobody yet"),
        lang=lang,
        more=lambda n: t(lang, "… and {n} more (`/whois`)", n=format_number(lang, n))), False))
    if practices is not None:
        fields.append((t(lang, "Approved practices"), format_number(lang, practices), True))
    return make_embed(md_line(city.label, 250), "\n".join(desc), fields=fields,
                      footer=t(lang, "Memberships and documented agreements are dated snapshots from public "
                                     "sources; check the original."))


_URL = re.compile(r"https?://\S+")
_KIND_LABELS = {"mou": N_("MOU"), "sister-city": N_("sister-city link"),
                "friendship-city": N_("friendship-city link")}


def _source_link(source: str | None) -> str:
    """The first source of a seed row ("Title (Publisher, date) URL ; …") as a short masked link (the
    title alone when the URL would not survive inside one)."""
    first = (source or "").split(" ; ")[0].strip()
    m = _URL.search(first)
    text = " ".join((first[: m.start()] if m else first).split()).strip(" -–—,;:")
    title = md_line(clip(re.sub(r"[\[\]`*_~|\\<>]", "", text), 70), 200)
    url = m.group(0).rstrip(".,;") if m else ""
    if url and len(url) <= 200 and not re.search(r"[()<>\[\]]", url):
        return f"[{title or 'source'}]({url})"
    return title


def tracked_agreement_line(a: AgreementLine, lang: str = ENGLISH) -> str:
    """One agreement this server tracks (from the MOU tracker): id, kind, the other parties, status, expiry
    (a Discord date at local noon in the server's zone, so viewers near it see the same day)."""
    line = f"• #{a.id} {md_line(t(lang, a.kind_label), 40)}"  # the tracker's labels are catalog ids
    others = list(a.partners)
    if others:
        names = ", ".join(md_line(p, 100) for p in others[:3]) + (
            f" +{len(others) - 3}" if len(others) > 3 else "")
        line += " " + t(lang, "with {partners}", partners=names)
    line += f" · {md_line(t(lang, a.status), 40)}"
    if a.expires_on is not None:
        noon = datetime.combine(a.expires_on, time(12), tzinfo=ZoneInfo(a.zone))
        stamp = f"<t:{int(noon.timestamp())}:D>"
        line += " · " + t(lang, "expires {date}", date=stamp)
    return line


def documented_agreement_line(a: SeedAgreement, city: City, lang: str = ENGLISH) -> str:
    """One documented agreement: kind, the other city, year, and the first source."""
    other = (a.city_b, a.country_b) if a.city_a_id == city.id else (a.city_a, a.country_a)
    source = _source_link(a.source)
    kind = t(lang, _KIND_LABELS[a.kind]) if a.kind in _KIND_LABELS else md_line(a.kind, 40)
    where = f"{md_line(other[0], 100)}, {md_line(other[1], 10)}"
    line = (t(lang, "{kind} with {city} ({year})", kind=kind, city=where, year=a.signed_year) if a.signed_year
            else t(lang, "{kind} with {city} (year not documented)", kind=kind, city=where))
    return f"• {line}" + (f" — {source}" if source else "")


def network_embed(
    net: Network, hq_label: str | None, members: Sequence[Membership], total: int, present: Sequence[Profile],
    lang: str = ENGLISH,
) -> discord.Embed:
    desc = []
    if net.notes:
        desc.append(md(net.notes, 1500))
    fields: list[tuple[str, str, bool]] = []
    if net.founded_year:
        fields.append((t(lang, "Founded"), str(net.founded_year), True))
    fields.append((t(lang, "Headquarters"), md_line(hq_label, 200) or t(lang, "not confirmed"), True))
    if net.scope:
        fields.append((t(lang, "Scope"), md_line(net.scope, 100), True))
    if net.focus:
        fields.append((t(lang, "Focus"), md_line(", ".join(net.focus), 500), True))
    if net.member_count:
        count = format_number(lang, net.member_count)
        shown = (f"{count} ({net.member_count_year})" if net.member_count_year
                 else t(lang, "{n} (undated)", n=count))
        fields.append((t(lang, "Approx. members"), shown, True))
    if net.website:
        fields.append((t(lang, "Website"), md_line(net.website, 500), True))
    lines = [f"• {md_line(m.place(lang), 200)}" + (f" — {b}" if (b := membership_bits(m, lang)) else "")
             for m in members[:20]]
    more = ("\n" + t(lang, "… {n} more: `/network members`", n=format_number(lang, total - 20))
            if total > 20 else "")
    fields.append((t(lang, "Member cities known here ({n})", n=format_number(lang, total)),
                   "\n".join(lines) + more if lines else t(lang, "none recorded"), False))
    fields.append((
        t(lang, "Members of this server from those cities ({n})", n=format_number(lang, len(present))),
        "\n".join(profile_line(p, lang, with_city=True) for p in present[:10]) if present
        else t(lang, "nobody yet"),
        False,
    ))
    if net.source:
        fields.append((t(lang, "Source"), md(net.source, 1024), False))
    footer = (t(lang, "Added by this server · id `{id}`", id=net.slug) if net.guild_id is not None
              else t(lang, "Seed reference data · id `{id}`", id=net.slug))
    return make_embed(md_line(net.display, 250), "\n\n".join(desc) or None, fields=fields, footer=footer)


def network_line(n: Network, lang: str = ENGLISH) -> str:
    """One network in `/network list`."""
    return (f"**{md_line(n.display, 200)}**" + (f" — {md_line(n.scope, 40)}" if n.scope else "")
            + (f" · {md_line(', '.join(n.focus), 300)}" if n.focus else "")
            + (" · _" + t(lang, "added here") + "_" if n.guild_id is not None else ""))


def member_city_line(m: Membership, lang: str = ENGLISH) -> str:
    """One member city in `/network members`."""
    return f"• {md_line(m.place(lang), 200)}" + (f" — {b}" if (b := membership_bits(m, lang)) else "")


def shared_line(net: Network, a: City, ma: Membership, b: City, mb: Membership, lang: str = ENGLISH) -> str:
    """One network two cities share, in `/network shared`."""
    notes = "; ".join(f"{md_line(lbl, 100)}: {bits}" for lbl, bits in ((a.name, membership_bits(ma, lang)),
                                                                       (b.name, membership_bits(mb, lang)))
                      if bits)
    return f"• **{md_line(net.display, 200)}**" + (f" — {notes}" if notes else "")


def pages(title: str, lines: Sequence[str], *, footer: str | None = None, empty: str | None = None,
          colour: discord.Colour | None = None, lang: str = ENGLISH) -> list[discord.Embed]:
    chunks = chunk_lines(list(lines), limit=3800, per_page=20) or [
        empty if empty is not None else t(lang, "Nothing found.")]
    return [make_embed(title, chunk, footer=footer, colour=colour if colour is not None else COLOUR)
            for chunk in chunks]


def gaps_pages(gaps: Gaps, lang: str = ENGLISH) -> list[discord.Embed]:
    lines: list[str] = []
    if gaps.missing_place:
        lines.append(t(lang, "**Members with a profile but no city or time zone:**"))
        lines.extend(f"• <@{u}>" for u in gaps.missing_place)
    if gaps.missing_city:
        lines.append(t(lang, "**Members with a time zone but no city:**"))
        lines.extend(f"• <@{u}>" for u in gaps.missing_city)
    if gaps.unverified_cities:
        lines.append(t(lang, "**Cities with members but no verified representative:**"))
        lines.extend(f"• {md_line(c.label, 150)} — " + nt(lang, "{n} member", "{n} members", n)
                     for c, n in gaps.unverified_cities)
    return pages(
        t(lang, "Directory gaps"),
        lines,
        empty=t(lang, "No gaps: every profile has a place and every city a verified representative."),
        footer=t(lang, "Members who never ran /profile set are not listed."),
        colour=COLOUR_WARN if lines else None,
    )


def row_error(e: RowError, lang: str = ENGLISH) -> str:
    """One bad row of a CSV import, in `lang`."""
    return t(lang, "line {line}: {problem}", line=e.line, problem=render(lang, e.message))


def import_report(exc: ImportRejected, lang: str = ENGLISH) -> str:
    """Every bad row of a rejected import (the attached file), in `lang`."""
    return "\n".join(row_error(e, lang) for e in exc.errors)


def import_rejected(exc: ImportRejected, lang: str = ENGLISH) -> str:
    """Why a CSV import wrote nothing, with the first bad rows (the full list goes in the attached file)."""
    shown = "\n".join(f"• {row_error(e, lang)}" for e in exc.errors[:30])
    more = "\n" + _and_more(len(exc.errors) - 30, lang) if len(exc.errors) > 30 else ""
    head = t(lang, "Nothing was imported: {bad} of {total} rows have problems. Fix them and try again.",
             bad=format_number(lang, len(exc.errors)), total=format_number(lang, exc.total))
    return f"{head}\n{shown}{more}"
