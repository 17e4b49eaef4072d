"""Pure renderers for the directory: data in, embeds out (always within Discord's limits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.embeds import COLOUR_WARN, chunk_lines, clip, make_embed, one_line, user_text
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
    text = ", ".join(bits)
    if m.caveat:
        text = f"{text}; ⚠ {m.caveat}" if text else f"⚠ {m.caveat}"
    return text


def profile_line(p: Profile, *, with_city: bool = False) -> str:
    parts = [f"<@{p.user_id}>"]
    if with_city and p.city:
        parts.append(p.city.label)
    role = " · ".join(one_line(x, 100) for x in (p.title, p.office) if x)
    if role:
        parts.append(role)
    parts.append(VERIFIED if p.verified else f"_{UNVERIFIED}_")
    return " — ".join(parts)


def profile_embed(p: Profile, display_name: str, now: datetime) -> discord.Embed:
    fields: list[tuple[str, str, bool]] = []
    if p.city:
        fields.append(("City", f"{p.city.label} — {VERIFIED if p.verified else UNVERIFIED}", False))
    else:
        fields.append(("City", "not set", False))
    if p.timezone:
        src = "" if p.explicit_timezone else " (the city's)"
        fields.append(("Time zone", local_time(p.timezone, now) + src, False))
    for name, value in (("Title", p.title), ("Office", p.office), ("Languages", p.languages),
                        ("Expertise", p.expertise)):
        if value:
            fields.append((name, user_text(value, 1024), True))
    fields.append(("DMs from Attaché", "accepted" if p.dm_ok else "declined", True))
    return make_embed(f"Profile — {one_line(display_name, 200)}", None, fields=fields)


def city_embed(
    city: City,
    country_name: str,
    now: datetime,
    memberships: Sequence[Membership],
    agreement_lines: Sequence[str],
    agreements_note: str,
    members: Sequence[Profile],
    practices: int | None,
    *,
    total_networks: int | None = None,
) -> discord.Embed:
    desc = [f"**Country:** {country_name} ({city.country})"]
    if city.region:
        desc.append(f"**Region:** {city.region}")
    desc.append(f"**Local time:** {local_time(city.timezone, now)}")
    if city.population:
        desc.append(f"**Population:** {city.population:,}")
    if city.guild_id is not None:
        desc.append("_Added to the directory by this server's moderators._")
    nets = [f"• {m.network.display}" + (f" — {b}" if (b := membership_bits(m)) else "") for m in memberships]
    shown: list[str] = []
    for item in nets:
        if sum(len(x) + 1 for x in shown) + len(item) > 960:
            break
        shown.append(item)
    nets = shown
    extra = max(total_networks or 0, len(memberships)) - len(nets)
    if extra > 0:
        nets.append(f"… and {extra} more (`/network shared` compares two cities)")
    fields = [
        (f"Networks ({max(total_networks or 0, len(memberships))})", "\n".join(nets) if nets else "none recorded",
         False),
        (f"Agreements{agreements_note}", "\n".join(agreement_lines) if agreement_lines else "none recorded", False),
        (f"Members here ({len(members)})",
         "\n".join(profile_line(p) for p in members[:15]) + (f"\n… and {len(members) - 15} more (`/whois`)"
                                                             if len(members) > 15 else "")
         if members else "none yet", False),
    ]
    if practices is not None:
        fields.append(("Approved practices", str(practices), True))
    return make_embed(city.label, "\n".join(desc), fields=fields,
                      footer="Memberships are dated snapshots from public sources; check the network's own list.")


def seed_agreement_line(a: SeedAgreement, city: City) -> str:
    other = (a.city_b, a.country_b) if a.city_a_id == city.id else (a.city_a, a.country_a)
    year = f" ({a.signed_year})" if a.signed_year else ""
    topic = f" — {clip(a.topic, 80)}" if a.topic else ""
    return f"• {a.kind} with {other[0]}, {other[1]}{year}{topic}"


def network_embed(
    net: Network, hq_label: str | None, members: Sequence[Membership], total: int, present: Sequence[Profile],
) -> discord.Embed:
    desc = []
    if net.notes:
        desc.append(user_text(net.notes, 1500))
    fields: list[tuple[str, str, bool]] = []
    if net.founded_year:
        fields.append(("Founded", str(net.founded_year), True))
    fields.append(("Headquarters", hq_label or "not confirmed", True))
    if net.scope:
        fields.append(("Scope", net.scope, True))
    if net.focus:
        fields.append(("Focus", ", ".join(net.focus), True))
    if net.member_count:
        year = f" ({net.member_count_year})" if net.member_count_year else " (undated)"
        fields.append(("Approx. members", f"{net.member_count:,}{year}", True))
    if net.website:
        fields.append(("Website", net.website, True))
    lines = [f"• {m.place}" + (f" — {b}" if (b := membership_bits(m)) else "") for m in members[:20]]
    more = f"\n… {total - 20} more: `/network members`" if total > 20 else ""
    fields.append((f"Member cities known here ({total})", "\n".join(lines) + more if lines else "none recorded", False))
    fields.append((f"Members of this server from those cities ({len(present)})",
                   "\n".join(profile_line(p, with_city=True) for p in present[:10]) if present else "none yet", False))
    if net.source:
        fields.append(("Source", clip(net.source, 1024), False))
    origin = "Added by this server" if net.guild_id is not None else "Seed reference data"
    return make_embed(net.display, "\n\n".join(desc) or None, fields=fields, footer=f"{origin} · id `{net.slug}`")


def pages(title: str, lines: Sequence[str], *, footer: str | None = None, empty: str = "Nothing found.",
          colour: discord.Colour | None = None) -> list[discord.Embed]:
    chunks = chunk_lines(list(lines), limit=3800, per_page=20) or [empty]
    kwargs = {"colour": colour} if colour is not None else {}
    return [make_embed(title, chunk, footer=footer, **kwargs) for chunk in chunks]


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
        lines.extend(f"• {c.label} — {n} member{'s' if n != 1 else ''}" for c, n in gaps.unverified_cities)
    return pages("Directory gaps", lines, empty="No gaps: every profile has a place and every city a verified "
                 "representative.", footer="Members who never ran /profile set are not listed.",
                 colour=COLOUR_WARN if lines else None)
