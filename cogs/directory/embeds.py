"""Pure renderers for the directory: data in, embeds out (always within Discord's limits)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

import discord

from bot.contracts import AgreementLine
from bot.embeds import COLOUR, COLOUR_WARN, FIELD_VALUE_MAX, chunk_lines, clip, make_embed, md, md_line
from cogs.directory.service import (
    City,
    Gaps,
    Membership,
    Network,
    Profile,
    SeedAgreement,
)

VERIFIED = "✅ verified"
UNVERIFIED = "unverified claim"


def local_time(zone: str, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%H:%M} ({local:%a}) · {zone} (UTC{offset[:3]}:{offset[3:]})"


def membership_bits(m: Membership) -> str:
    bits = [m.category] if m.category != "member" else []
    if m.joined_year:
        bits.append(f"since {m.joined_year}")
    if m.left_year:
        bits.append(f"left {m.left_year}")
    if m.status == "former" and not m.left_year:
        bits.append("former")
    if m.as_of:
        bits.append(f"as of {m.as_of}")
    if m.origin == "guild":
        bits.append("added here")
    text = md_line(", ".join(bits), 300)
    if m.caveat:
        caveat = md_line(m.caveat, 300)
        text = f"{text}; ⚠ {caveat}" if text else f"⚠ {caveat}"
    return text


def profile_line(p: Profile, *, with_city: bool = False) -> str:
    parts = [f"<@{p.user_id}>"]
    if with_city and p.city:
        parts.append(md_line(p.city.label, 150))
    role = " · ".join(md_line(x, 100) for x in (p.title, p.office) if x)
    if role:
        parts.append(role)
    parts.append(VERIFIED if p.verified else f"_{UNVERIFIED}_")
    return " — ".join(parts)


def profile_embed(p: Profile, display_name: str, now: datetime) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if p.city:
        fields.append(
            ("City", f"{md_line(p.city.label, 150)} — {VERIFIED if p.verified else UNVERIFIED}", False)
        )
    else:
        fields.append(("City", "not set", False))
    if p.timezone:
        src = "" if p.explicit_timezone else " (the city's)"
        fields.append(("Time zone", local_time(p.timezone, now) + src, False))
    for name, value in (("Title", p.title), ("Office", p.office), ("Languages", p.languages),
                        ("Expertise", p.expertise)):
        if value:
            fields.append((name, md(value, 1024), True))
    fields.append(("DMs from Attaché", "accepted" if p.dm_ok else "declined", True))
    return make_embed(f"Profile — {md_line(display_name, 200)}", None, fields=fields)


def fit_lines(lines: Sequence[str], *, total: int | None = None, more: Callable[[int], str] | None = None,
              empty: str = "none recorded", limit: int = FIELD_VALUE_MAX) -> str:
    """Join lines into one field value of at most `limit` characters: whole lines only, then
    "… and N more" for what was cut (or was never fetched: `total` counts every line there is)."""
    total = max(total or 0, len(lines))
    if not lines:
        return empty if total == 0 else clip((more or _and_more)(total), limit)
    tail = more or _and_more
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


def _and_more(n: int) -> str:
    return f"… and {n} more"


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
) -> discord.Embed:
    """The city card. `tracked` is this server's agreements from the MOU tracker (None when the tracker
    is not loaded); `documented` the agreements the seed documents from public sources; both show."""
    desc = [f"**Country:** {md_line(country_name, 100)} ({md_line(city.country, 10)})"]
    if city.region:
        desc.append(f"**Region:** {md_line(city.region, 100)}")
    desc.append(f"**Local time:** {local_time(city.timezone, now)}")
    if city.population:
        desc.append(f"**Population:** {city.population:,}")
    if city.guild_id is not None:
        desc.append("_Added to the directory by this server's moderators._")
    nets = [f"• {md_line(m.network.display, 200)}" + (f" — {b}" if (b := membership_bits(m)) else "")
            for m in memberships]
    n_nets = max(total_networks or 0, len(memberships))
    fields = [(f"Networks ({n_nets})", fit_lines(
        nets, total=n_nets, limit=1000,
        more=lambda n: f"… and {n} more (`/network shared` compares two cities)"), False)]
    if tracked is not None:
        plus = "+" if tracked_capped else ""
        fields.append((f"Tracked on this server ({len(tracked)}{plus})", fit_lines(
            [tracked_agreement_line(a) for a in tracked], total=len(tracked),
            empty="none yet — `/mou add` records one",
            more=lambda n: f"… and {n}{plus} more (`/mou list city:`)"), False))
    n_doc = max(total_documented or 0, len(documented))
    fields.append((f"Documented agreements ({n_doc})", fit_lines(
        [documented_agreement_line(a, city) for a in documented], total=n_doc), False))
    fields.append((f"Members here ({len(members)})", fit_lines(
        [profile_line(p) for p in members[:15]], total=len(members), empty="none yet",
        more=lambda n: f"… and {n} more (`/whois`)"), False))
    if practices is not None:
        fields.append(("Approved practices", str(practices), True))
    return make_embed(md_line(city.label, 250), "\n".join(desc), fields=fields,
                      footer="Memberships and documented agreements are dated snapshots from public sources; "
                             "check the original.")


_URL = re.compile(r"https?://\S+")
_KIND_LABELS = {"mou": "MOU", "sister-city": "sister-city link", "friendship-city": "friendship-city link"}


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


def tracked_agreement_line(a: AgreementLine) -> str:
    """One agreement this server tracks (from the MOU tracker): id, kind, the other parties, status, expiry
    (a Discord date at local noon in the server's zone, so viewers near it see the same day)."""
    line = f"• #{a.id} {md_line(a.kind_label, 40)}"
    others = list(a.partners)
    if others:
        line += " with " + ", ".join(md_line(p, 100) for p in others[:3]) + (
            f" +{len(others) - 3}" if len(others) > 3 else "")
    line += f" · {md_line(a.status, 40)}"
    if a.expires_on is not None:
        noon = datetime.combine(a.expires_on, time(12), tzinfo=ZoneInfo(a.zone))
        line += f" · expires <t:{int(noon.timestamp())}:D>"
    return line


def documented_agreement_line(a: SeedAgreement, city: City) -> str:
    """One documented agreement: kind, the other city, year, and the first source."""
    other = (a.city_b, a.country_b) if a.city_a_id == city.id else (a.city_a, a.country_a)
    year = f" ({a.signed_year})" if a.signed_year else " (year not documented)"
    source = _source_link(a.source)
    kind = _KIND_LABELS.get(a.kind) or md_line(a.kind, 40)
    return (f"• {kind} with {md_line(other[0], 100)}, {md_line(other[1], 10)}{year}"
            + (f" — {source}" if source else ""))


def network_embed(
    net: Network, hq_label: str | None, members: Sequence[Membership], total: int, present: Sequence[Profile],
) -> discord.Embed:
    desc = []
    if net.notes:
        desc.append(md(net.notes, 1500))
    fields: list[tuple[str, str, bool]] = []
    if net.founded_year:
        fields.append(("Founded", str(net.founded_year), True))
    fields.append(("Headquarters", md_line(hq_label, 200) or "not confirmed", True))
    if net.scope:
        fields.append(("Scope", md_line(net.scope, 100), True))
    if net.focus:
        fields.append(("Focus", md_line(", ".join(net.focus), 500), True))
    if net.member_count:
        year = f" ({net.member_count_year})" if net.member_count_year else " (undated)"
        fields.append(("Approx. members", f"{net.member_count:,}{year}", True))
    if net.website:
        fields.append(("Website", md_line(net.website, 500), True))
    lines = [
        f"• {md_line(m.place, 200)}" + (f" — {b}" if (b := membership_bits(m)) else "") for m in members[:20]
    ]
    more = f"\n… {total - 20} more: `/network members`" if total > 20 else ""
    fields.append(
        (f"Member cities known here ({total})", "\n".join(lines) + more if lines else "none recorded", False)
    )
    fields.append(
        (
            f"Members of this server from those cities ({len(present)})",
            "\n".join(profile_line(p, with_city=True) for p in present[:10]) if present else "none yet",
            False,
        )
    )
    if net.source:
        fields.append(("Source", md(net.source, 1024), False))
    origin = "Added by this server" if net.guild_id is not None else "Seed reference data"
    return make_embed(
        md_line(net.display, 250),
        "\n\n".join(desc) or None,
        fields=fields,
        footer=f"{origin} · id `{net.slug}`",
    )


def network_line(n: Network) -> str:
    """One network in `/network list`."""
    return (f"**{md_line(n.display, 200)}**" + (f" — {md_line(n.scope, 40)}" if n.scope else "")
            + (f" · {md_line(', '.join(n.focus), 300)}" if n.focus else "")
            + (" · _added here_" if n.guild_id is not None else ""))


def member_city_line(m: Membership) -> str:
    """One member city in `/network members`."""
    return f"• {md_line(m.place, 200)}" + (f" — {b}" if (b := membership_bits(m)) else "")


def shared_line(net: Network, a: City, ma: Membership, b: City, mb: Membership) -> str:
    """One network two cities share, in `/network shared`."""
    notes = "; ".join(f"{md_line(lbl, 100)}: {bits}" for lbl, bits in ((a.name, membership_bits(ma)),
                                                                       (b.name, membership_bits(mb))) if bits)
    return f"• **{md_line(net.display, 200)}**" + (f" — {notes}" if notes else "")


def pages(title: str, lines: Sequence[str], *, footer: str | None = None, empty: str = "Nothing found.",
          colour: discord.Colour | None = None) -> list[discord.Embed]:
    chunks = chunk_lines(list(lines), limit=3800, per_page=20) or [empty]
    return [make_embed(title, chunk, footer=footer, colour=colour if colour is not None else COLOUR)
            for chunk in chunks]


def gaps_pages(gaps: Gaps) -> list[discord.Embed]:
    lines: list[str] = []
    if gaps.missing_place:
        lines.append("**Members with a profile but no city or time zone:**")
        lines.extend(f"• <@{u}>" for u in gaps.missing_place)
    if gaps.missing_city:
        lines.append("**Members with a time zone but no city:**")
        lines.extend(f"• <@{u}>" for u in gaps.missing_city)
    if gaps.unverified_cities:
        lines.append("**Cities with members but no verified representative:**")
        lines.extend(
            f"• {md_line(c.label, 150)} — {n} member{'s' if n != 1 else ''}"
            for c, n in gaps.unverified_cities
        )
    return pages(
        "Directory gaps",
        lines,
        empty="No gaps: every profile has a place and every city a verified representative.",
        footer="Members who never ran /profile set are not listed.",
        colour=COLOUR_WARN if lines else None,
    )
