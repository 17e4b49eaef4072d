"""The one CSV writer of every file the bot exports (and its reverse for imports).

Every CSV Attaché writes (practices, agreements, networks, memberships, roundtable attendees, the
audit log) goes through `write_csv`, so a rule added here holds for all of them:

* **Formula injection (OWASP "CSV Injection").** A text cell whose first character is ``=``, ``+``,
  ``-``, ``@``, tab or carriage return is prefixed with a single quote, so Excel, LibreOffice and
  Google Sheets show it as text instead of running it as a formula (``=HYPERLINK(...)``,
  ``@SUM(...)``, DDE payloads). OWASP's rule looks at the first character only; we also apply it
  when those characters follow leading spaces (``"  =1+1"``), because some import dialogs trim
  spaces before deciding what a cell is. A cell that already starts with a single quote gets one
  more, so `unneutralise` can undo the rule exactly (``unneutralise(neutralise(x)) == x`` for every
  string). Numbers the bot itself writes (ints, floats) are left alone.
* **Discord ids as text.** A snowflake has 17–20 digits; spreadsheets read it as a number and keep
  15 significant digits (``1.23457E+17``, and the last digits are lost for good when saved). There
  is no CSV syntax that means "this is text" to all three of them (a leading quote shows
  literally; ``="…"`` is itself a formula, which the rule above forbids), so an id is written as
  ``id:`` followed by its digits: never a number, never a formula, readable, and stripped again by
  `parse_id`. Every member-id column is followed by a ``…_name`` column with the member's display
  name when the bot knows it (``unknown member`` otherwise, e.g. someone who left); a member who used
  `/privacy forget-me` (stored as id 0) has an empty id and the name ``a former member``.
* **UTF-8 with a BOM**, so Excel opens accented names correctly (it assumes the ANSI code page
  without one); `text_of` reads files with or without it. Lines end with CRLF (RFC 4180).

JSON exports need none of the cell rules (JSON has types), but they write ids as strings too (a
JavaScript reader would round a snowflake stored as a number): `json_records` does it from the same
`Column` list as the CSV (`id_text` for hand-built records), `write_json` writes UTF-8 JSON.

**The upload.** `pack` is the one step from export bytes to the file a member downloads: as is up to
`UPLOAD_LIMIT`, gzipped (``name.gz``) above it, and `ExportTooLarge` (a clear, ephemeral refusal) when even
the compressed file would not fit. bot.ui.upload turns its result into the Discord attachment.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, t
from bot.retention import FORMER_MEMBER, FORMER_MEMBER_LABEL

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
QUOTE = "'"
ID_PREFIX = "id:"
UNKNOWN_MEMBER = N_("unknown member")
BOM = "\ufeff"

Kind = Literal["text", "id", "member"]
# An async {user id: display name} lookup the Discord side hands to a service's export (members who
# left are absent); services stay free of discord imports (bot.member_names builds one per guild).
NameLookup = Callable[[Iterable[int]], Awaitable[dict[int, str]]]


def _needs_quote(value: str) -> bool:
    if not value:
        return False
    first = value[0]
    return first in FORMULA_TRIGGERS or first == QUOTE or value.lstrip()[:1] in FORMULA_TRIGGERS


def neutralise(value: str) -> str:
    """A text cell a spreadsheet will never evaluate (OWASP: prefix a single quote)."""
    return QUOTE + value if _needs_quote(value) else value


def unneutralise(value: str) -> str:
    """The original text of a cell written by `neutralise` (or typed by hand without the quote)."""
    if value.startswith(QUOTE) and _needs_quote(value[1:]):
        return value[1:]
    return value


def id_text(value: int | str) -> str:
    """A Discord id as text for JSON: digits in a string."""
    return str(int(value))


def id_cell(value: int | str | None) -> str:
    """A Discord id as a CSV cell that no spreadsheet turns into a number: ``id:123…``."""
    if value is None or value == "":
        return ""
    return f"{ID_PREFIX}{int(value)}"


def parse_id(cell: str) -> int | None:
    """Read an id cell back: ``id:123``, ``'id:123`` or plain digits; None when empty."""
    text = unneutralise(cell.strip()).strip()
    if text.casefold().startswith(ID_PREFIX):
        text = text[len(ID_PREFIX):].strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"“{text[:30]}” is not a Discord id")
    return int(text)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an export. `kind` = "text" (neutralised), "id" (a Discord id, or a list of them,
    written as text) or "member" (member id(s) as text, then a `<key>_name` column with their names)."""

    key: str
    kind: Kind = "text"

    @property
    def headers(self) -> list[str]:
        if self.kind == "member":
            return [self.key, name_column(self.key)]
        return [self.key]


def name_column(key: str) -> str:
    if key.endswith("_ids"):
        return key[:-4] + "_names"
    return key.removesuffix("_id") + "_name"


def member_ids(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column | str]) -> set[int]:
    """Every member id in the member columns of these rows (to look their names up once)."""
    keys = [c.key for c in map(_column, columns) if c.kind == "member"]
    out: set[int] = set()
    for row in rows:
        for k in keys:
            out.update(int(v) for v in _ids(row.get(k)) if int(v) != FORMER_MEMBER)
    return out


def _column(c: Column | str) -> Column:
    return c if isinstance(c, Column) else Column(c)


def _ids(value: Any) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [int(v) for v in value if v is not None and v != ""]
    return [int(value)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(v) for v in value))
    return neutralise(str(value))


def write_csv(columns: Sequence[Column | str], rows: Iterable[Mapping[str, Any]], *,
              names: Mapping[int, str] | None = None, lang: str = ENGLISH) -> bytes:
    """The CSV file (UTF-8 with BOM, CRLF) of `rows`: dicts keyed by the columns' keys. Headers are the
    column keys (machine-readable, read back by the imports); the "a former member" / "unknown member"
    labels are in `lang` (the member who asked for the file)."""
    former, unknown = t(lang, FORMER_MEMBER_LABEL), t(lang, UNKNOWN_MEMBER)
    cols = [_column(c) for c in columns]
    names = names or {}
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for c in cols for h in c.headers])
    for row in rows:
        out: list[str] = []
        for c in cols:
            value = row.get(c.key)
            if c.kind == "text":
                out.append(_cell(value))
                continue
            ids = _ids(value)
            if c.kind == "member":  # a member who asked to be forgotten has no id, only "a former member"
                out.append(" ".join(id_cell(i) for i in ids if i != FORMER_MEMBER))
                out.append(
                    neutralise(
                        "; ".join(
                            former if i == FORMER_MEMBER else names.get(i) or unknown
                            for i in ids
                        )
                    )
                )
            else:
                out.append(" ".join(id_cell(i) for i in ids))
        w.writerow(out)
    return buf.getvalue().encode("utf-8")


def text_of(data: bytes | str) -> str:
    """CSV bytes as text, without the BOM (UnicodeDecodeError for a non-UTF-8 file)."""
    if isinstance(data, bytes):
        return data.decode("utf-8-sig")
    return data.removeprefix(BOM)


def read_csv(data: bytes | str) -> list[dict[str, str]]:
    """Rows of a CSV written by `write_csv`, with every cell `unneutralise`d (ids stay `id:…` text)."""
    reader = csv.DictReader(io.StringIO(text_of(data), newline=""))
    return [{k: unneutralise(v or "") for k, v in row.items() if k is not None} for row in reader]


def json_records(columns: Sequence[Column | str], rows: Iterable[Mapping[str, Any]], *,
                 names: Mapping[int, str] | None = None, lang: str = ENGLISH) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts, keyed by the columns: ids as strings (a list of ids as a list), a
    member column followed by its `…_name` (None when unknown; a forgotten member has no id and the name
    "a former member"); other values as they are (JSON has types: no formula rule)."""
    cols = [_column(c) for c in columns]
    names = names or {}
    former = t(lang, FORMER_MEMBER_LABEL)
    out: list[dict[str, Any]] = []
    for row in rows:
        o: dict[str, Any] = {}
        for c in cols:
            value = row.get(c.key)
            if c.kind == "text":
                o[c.key] = value
                continue
            many = isinstance(value, list | tuple | set | frozenset)
            ids = _ids(value)
            shown = [None if i == FORMER_MEMBER else id_text(i) for i in ids]
            o[c.key] = shown if many else (shown[0] if shown else None)
            if c.kind == "member":
                labels = [former if i == FORMER_MEMBER else names.get(i) for i in ids]
                o[name_column(c.key)] = labels if many else (labels[0] if labels else None)
        out.append(o)
    return out


def write_json(records: Any) -> bytes:
    """UTF-8 JSON of an export (readable: one level of indentation, non-ASCII kept)."""
    return json.dumps(records, ensure_ascii=False, indent=1, default=str).encode("utf-8")


# The attachment limit Discord applies to a bot's upload in a server without boosts has been 8 MiB
# (10 MiB since 2024; boosted servers allow 50-100 MiB): 8 MiB fits everywhere.
UPLOAD_LIMIT = 8 * 1024 * 1024


class ExportTooLarge(UserFacingError):
    def __init__(self) -> None:
        super().__init__(N_("The export is larger than Discord's attachment limit even compressed. "
                            "Ask the operator for a database export."))


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    data: bytes

    @property
    def compressed(self) -> bool:
        return self.filename.endswith(".gz")


def pack(filename: str, data: bytes | str, *, limit: int | None = None) -> ExportFile:
    """The file to upload: UTF-8 bytes, gzipped above `limit` (default UPLOAD_LIMIT); ExportTooLarge when
    even that is too big."""
    limit = UPLOAD_LIMIT if limit is None else limit
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) <= limit:
        return ExportFile(filename, raw)
    packed = gzip.compress(raw, mtime=0)
    if len(packed) > limit:
        raise ExportTooLarge()
    return ExportFile(filename + ".gz", packed)
