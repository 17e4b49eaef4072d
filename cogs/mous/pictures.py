"""The agreements timeline for `/mou upcoming` and the weekly digest: one row per agreement over the coming
months, its renewal-notice period as a bar (from the notice deadline to the expiry), the deadline and the
expiry marked, open milestones as dots, today as a line. Pure: a drawing function of plain data
(bot/pictures.py runs it off the event loop); no discord import, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.i18n import ENGLISH, month_name
from bot.pictures import ACCENT, INK, MUTED, RULE, WARN, WARN_SOFT, Kit, Picture

FILENAME = "agreements-timeline.png"
LEAD_DAYS = 7  # the timeline starts a week before today, so today's line stands inside it


@dataclass(frozen=True, slots=True)
class TimelineBar:
    label: str
    expires_on: date | None
    notice_on: date | None
    milestones: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class TimelineData:
    title: str
    subtitle: str
    today: date
    until: date
    bars: tuple[TimelineBar, ...]
    more: str  # "+ 12 more agreements in the list" or ""
    legend: tuple[str, str, str, str, str]  # notice period, notice deadline, expiry, milestone, today
    alt: str
    lang: str = ENGLISH  # the language of the month names on the axis (the texts above come translated)


def _months(start: date, end: date) -> list[date]:
    d = date(start.year, start.month, 1)
    out = []
    while d <= end:
        if d >= start:
            out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def draw_timeline(kit: Kit, t: TimelineData) -> Picture:
    margin, label_w, row_h, top = 20, 320, 26, 116
    chart_w = 1040
    width = 2 * margin + label_w + chart_w
    height = top + max(1, len(t.bars)) * row_h + (26 if t.more else 0) + 56
    img, d = kit.canvas(width, height)
    kit.text(d, (margin, 14), t.title, size=22, bold=True, width=width - 2 * margin)
    kit.text(d, (margin, 46), t.subtitle, size=14, fill=MUTED, width=width - 2 * margin)
    start = t.today - timedelta(days=LEAD_DAYS)
    span = max(1, (t.until - start).days)
    x0 = margin + label_w
    bottom = top + max(1, len(t.bars)) * row_h

    def x_of(day: date) -> float:
        return x0 + (day - start).days / span * chart_w

    months = _months(start, t.until)
    step = 1 if len(months) <= 14 else 3 if len(months) <= 40 else 12
    for m in months:
        x = x_of(m)
        d.line([(x, top - 10), (x, bottom)], fill=RULE)
        if (m.month - 1) % step == 0:
            name = month_name(t.lang, m.month, "abbreviated")
            label = f"{name} {m.year}" if m.month == 1 or m == months[0] or step > 1 else name
            kit.text(d, (x + 3, top - 26), label, size=12, fill=MUTED)
    for i, bar in enumerate(t.bars):
        y = top + i * row_h
        if i % 2:
            d.rectangle([margin, y, width - margin, y + row_h - 1], fill=(248, 249, 250))
        kit.text(d, (margin, y + row_h / 2), bar.label, size=13, anchor="lm", width=label_w - 12)
        cy = y + row_h / 2
        if bar.notice_on is not None and bar.expires_on is not None:
            a, b = max(bar.notice_on, start), min(bar.expires_on, t.until)
            if a <= b:
                d.rectangle([x_of(a), cy - 6, max(x_of(b), x_of(a) + 2), cy + 6], fill=WARN_SOFT)
        if bar.notice_on is not None and start <= bar.notice_on <= t.until:
            x = x_of(bar.notice_on)
            d.polygon([(x, cy - 8), (x + 7, cy), (x, cy + 8), (x - 7, cy)], fill=WARN)
        if bar.expires_on is not None and start <= bar.expires_on <= t.until:
            x = x_of(bar.expires_on)
            d.rectangle([x - 2, cy - 9, x + 2, cy + 9], fill=INK)
        for due in bar.milestones:
            if start <= due <= t.until:
                x = x_of(due)
                d.ellipse([x - 5, cy - 5, x + 5, cy + 5], fill=ACCENT, outline=(255, 255, 255))
    xt = x_of(t.today)
    d.line([(xt, top - 12), (xt, bottom)], fill=ACCENT, width=2)
    kit.text(d, (xt, top - 32), t.legend[4], size=11, bold=True, fill=ACCENT, anchor="ms")
    y = bottom + 10
    if t.more:
        kit.text(d, (margin, y + 6), t.more, size=13, fill=MUTED)
        y += 26
    ly, lx = y + 18, float(margin)
    items = (("bar", t.legend[0]), ("diamond", t.legend[1]), ("expiry", t.legend[2]), ("dot", t.legend[3]))
    for shape, text in items:
        if shape == "bar":
            d.rectangle([lx, ly - 6, lx + 22, ly + 6], fill=WARN_SOFT)
        elif shape == "diamond":
            d.polygon([(lx + 11, ly - 8), (lx + 18, ly), (lx + 11, ly + 8), (lx + 4, ly)], fill=WARN)
        elif shape == "expiry":
            d.rectangle([lx + 9, ly - 9, lx + 13, ly + 9], fill=INK)
        else:
            d.ellipse([lx + 6, ly - 5, lx + 16, ly + 5], fill=ACCENT)
        kit.text(d, (lx + 28, ly), text, size=13, anchor="lm")
        lx += 28 + kit.text_width(text, 13) + 26
    return kit.png(img, alt=t.alt, filename=FILENAME)
