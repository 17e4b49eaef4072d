"""The findtime picture: one row per place, one column per half hour of the coming days in UTC, each cell
shaded by what that half hour is for the place (working hours, early/late, night, weekend), the best
slots outlined and numbered as in the text list. Pure: a drawing function of plain data (bot/pictures.py
runs it off the event loop); no discord import, no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.i18n import N_
from bot.pictures import ACCENT, INK, MUTED, RULE, Colour, Kit, Picture
from cogs.roundtables.findtime import STEP, Kind, Slot, hour_kinds

if TYPE_CHECKING:
    from PIL import ImageDraw

GRID_DAYS = 7  # the picture shows at most a week (the text lists every slot)
FILENAME = "findtime.png"
KIND_COLOURS: dict[Kind, Colour] = {
    "work": (102, 187, 106),
    "edge": (255, 204, 102),
    "night": (62, 80, 110),
    "weekend": (196, 196, 206),
}
LEGEND_KINDS: tuple[Kind, ...] = ("work", "edge", "night", "weekend")
# The legend's texts in English (the cog passes them in the member's language: embeds.findtime_legend):
# one per kind above, then the outlined best slots.
LEGEND = (N_("Working hours"), N_("Early / late"), N_("Night"), N_("Weekend"),
          N_("Best slots (numbered as in the list)"))


@dataclass(frozen=True, slots=True)
class GridRow:
    label: str
    zone: str
    weekend: frozenset[int]


@dataclass(frozen=True, slots=True)
class FindtimeGrid:
    title: str
    subtitle: str
    start: datetime  # UTC, on the hour: the first column
    days: int
    rows: tuple[GridRow, ...]
    slots: tuple[tuple[int, datetime, datetime], ...]  # (number, start, end), UTC
    now: datetime
    hours: tuple[time, time]
    alt: str
    legend: tuple[str, ...] = LEGEND


def grid_data(places: Sequence[tuple[str, str, frozenset[int]]], slots: Sequence[Slot], *, now: datetime,
              within_days: int, hours: tuple[time, time], title: str, subtitle: str,
              alt: str, legend: tuple[str, ...] = LEGEND) -> FindtimeGrid:
    """(row label, zone, weekend) per place → the picture's data, from the current UTC hour on."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    days = shown_days(within_days)
    rows = tuple(GridRow(label, zone, frozenset(weekend)) for label, zone, weekend in places)
    end = start + days * 48 * STEP
    shown = tuple((i, s.start, s.end) for i, s in enumerate(slots, start=1) if s.start < end)
    return FindtimeGrid(title, subtitle, start, days, rows, shown, now, hours, alt, legend)


def shown_days(within_days: int) -> int:
    return max(1, min(GRID_DAYS, within_days))


def draw_findtime(kit: Kit, g: FindtimeGrid) -> Picture:
    margin, label_w = 16, 210
    cols = g.days * 48
    cw = max(4, min(24, (1600 - 2 * margin - label_w) // cols))
    grid_w = cols * cw
    width = 2 * margin + label_w + grid_w
    row_h, top = 30, 112
    height = top + len(g.rows) * row_h + 70
    img, d = kit.canvas(width, height)
    x0 = margin + label_w
    kit.text(d, (margin, 12), g.title, size=20, bold=True, width=width - 2 * margin)
    kit.text(d, (margin, 40), g.subtitle, size=13, fill=MUTED, width=width - 2 * margin)

    def x_at(t: datetime) -> float:
        return x0 + (t - g.start).total_seconds() / STEP.total_seconds() * cw

    # day headings, hour ticks, midnight rules
    for day in range(g.days):
        day_start = g.start + timedelta(days=day)
        midnight = day_start.replace(hour=0)
        first = max(day_start, midnight)
        label = first.strftime("%a %d %b")
        xa, xb = x_at(first), min(x_at(midnight + timedelta(days=1)), x0 + grid_w)
        if xb - xa > kit.text_width(label, 12, bold=True) + 4:
            kit.text(d, ((xa + xb) / 2, 66), label, size=12, bold=True, anchor="mm")
    t = g.start
    end = g.start + cols * STEP
    while t < end:
        x = x_at(t)
        if t.hour == 0:
            d.line([(x, 76), (x, top + len(g.rows) * row_h)], fill=INK, width=1)
        if t.hour % 6 == 0 and 6 * 2 * cw >= 20:
            d.line([(x, 78), (x, 84)], fill=MUTED)
            kit.text(d, (x + 2, 78), f"{t.hour:02d}", size=10, fill=MUTED)
        t += timedelta(hours=1)
    # rows
    for r, row in enumerate(g.rows):
        y = top + r * row_h
        kit.text(d, (margin, y + row_h / 2), row.label, size=14, anchor="lm", width=label_w - 10)
        kinds = hour_kinds(row.zone, row.weekend, start=g.start, steps=cols, hours=g.hours)
        _cells(d, kinds, x0, y + 2, cw, row_h - 4)
    # now, and the best slots
    if g.start <= g.now < end:
        xn = x_at(g.now)
        d.line([(xn, top - 6), (xn, top + len(g.rows) * row_h)], fill=ACCENT, width=2)
    grid_bottom = top + len(g.rows) * row_h
    for number, s_start, s_end in g.slots:
        xa, xb = x_at(s_start), min(x_at(s_end), x0 + grid_w)
        d.rectangle([xa - 1, top - 2, xb + 1, grid_bottom + 1], outline=INK, width=3)
        d.rectangle([xa, top - 1, xb, grid_bottom], outline=(255, 255, 255), width=1)
        cx = (xa + xb) / 2
        d.ellipse([cx - 10, top - 28, cx + 10, top - 8], fill=INK)
        kit.text(d, (cx, top - 18), str(number), size=12, bold=True, fill=(255, 255, 255), anchor="mm")
    # legend
    ly = grid_bottom + 24
    lx = float(margin)
    for kind, text in zip(LEGEND_KINDS, g.legend, strict=False):
        d.rectangle([lx, ly, lx + 18, ly + 14], fill=KIND_COLOURS[kind], outline=RULE)
        kit.text(d, (lx + 24, ly + 7), text, size=13, anchor="lm")
        lx += 24 + kit.text_width(text, 13) + 22
    d.rectangle([lx, ly - 1, lx + 18, ly + 15], outline=INK, width=3)
    kit.text(d, (lx + 24, ly + 7), g.legend[-1], size=13, anchor="lm")
    return kit.png(img, alt=g.alt, filename=FILENAME)


def _cells(d: ImageDraw.ImageDraw, kinds: Sequence[Kind], x0: float, y: float, cw: int, h: int) -> None:
    """Runs of equal kind as one rectangle each (a week is 336 half hours; a row has a dozen runs)."""
    i = 0
    while i < len(kinds):
        j = i
        while j + 1 < len(kinds) and kinds[j + 1] == kinds[i]:
            j += 1
        d.rectangle([x0 + i * cw, y, x0 + (j + 1) * cw - 1, y + h], fill=KIND_COLOURS[kinds[i]])
        i = j + 1
