"""French and Spanish date words -> the English grammar of bot/timeparse.py.

Members type dates in their own language (`3 décembre 2027 15h`, `mardi 9h30`, `demain 14h`,
`dans 2 heures`; `3 de diciembre de 2027 15:00`, `martes 9:30`, `mañana 14:00`, `en 2 horas`). Rather
than a second grammar per language, the words are rewritten into the English phrasing the one grammar
already reads strictly (same DST checks, same refusals), so every rule of timeparse holds in every
language. The rewrite does not depend on the member's language: the vocabularies do not collide with
English date words (words that would, such as French `mar.` for mardi against English `Mar`, are left
out), so a French liaison whose client is in English is understood too.

To add a language, add its words to the tables below (months, weekdays, units, day words, small
numbers, connectors) and a test per form in tests/test_timeparse_multilingual.py.

Pure module: no I/O, no Discord."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

__all__ = ["to_english"]

_MONTHS = {
    "january": ("janvier", "janv", "enero", "ene"),
    "february": ("fevrier", "fevr", "fev", "febrero"),
    "march": ("mars", "marzo"),
    "april": ("avril", "avr", "abril", "abr"),
    "may": ("mai", "mayo"),
    "june": ("juin", "junio"),
    "july": ("juillet", "juil", "julio"),
    "august": ("aout", "agosto"),
    "september": ("septembre", "septiembre", "setiembre"),
    "october": ("octobre", "octubre"),
    "november": ("novembre", "noviembre"),
    "december": ("decembre", "diciembre", "dic"),
}
_WEEKDAYS = {
    "monday": ("lundi", "lun", "lunes"),
    "tuesday": ("mardi", "martes"),
    "wednesday": ("mercredi", "mer", "miercoles", "mie"),
    "thursday": ("jeudi", "jeu", "jueves", "jue"),
    "friday": ("vendredi", "ven", "viernes", "vie"),
    "saturday": ("samedi", "sam", "sabado", "sab"),
    "sunday": ("dimanche", "dim", "domingo", "dom"),
}
_UNITS = {
    "seconds": ("secondes", "segundos"),
    "second": ("seconde", "segundo"),
    "minutes": ("minutos",),
    "minute": ("minuto",),
    "hours": ("heures", "horas"),
    "hour": ("heure", "hora"),
    "days": ("jours", "dias"),
    "day": ("jour", "dia"),
    "weeks": ("semaines", "semanas"),
    "week": ("semaine", "semana"),
    "months": ("mois", "meses"),
    "month": ("mes",),
    "years": ("ans", "annees", "anos"),
    "year": ("annee", "ano"),
}
_NUMBERS = {
    "1": ("un", "une", "uno", "una"),
    "2": ("deux", "dos"),
    "3": ("trois", "tres"),
    "4": ("quatre", "cuatro"),
    "5": ("cinq", "cinco"),
    "6": ("seis",),
    "7": ("siete",),  # French "sept" stays the English month abbreviation
    "8": ("huit", "ocho"),
    "9": ("neuf", "nueve"),
    "10": ("dix", "diez"),
    "12": ("douze", "doce"),
    "15": ("quinze", "quince"),
    "20": ("vingt", "veinte"),
    "30": ("trente", "treinta"),
}
_WORDS = {
    "tomorrow": ("demain", "manana"),
    "today": ("aujourd'hui", "aujourdhui", "hoy"),
    "now": ("maintenant", "ahora"),
    "noon": ("midi", "mediodia"),
    "midnight": ("minuit", "medianoche"),
    "next": ("prochain", "prochaine", "proximo", "proxima"),
}

_ENGLISH_ABBREVIATIONS = frozenset(
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun".split()
)
_WEEKDAY_WORDS = "|".join(w for names in _WEEKDAYS.values() for w in names)
_WEEKDAY_ANY = rf"(?:{_WEEKDAY_WORDS}|{'|'.join(_WEEKDAYS)})"


def _fold(text: str) -> str:
    """Lower-case, accents off (é -> e, ñ -> n), typographic apostrophes straight."""
    text = text.replace("\u2019", "'").replace("\u02bc", "'")
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


@functools.cache
def _rules() -> tuple[tuple[_Rule, ...], re.Pattern[str], dict[str, str]]:
    # Phrases first (their words would otherwise be rewritten one by one), then the single words.
    phrases: list[_Rule] = [
        (re.compile(r"\bahora mismo\b"), "now"),
        (re.compile(r"\b(?:apres[- ]demain|pasado manana)\b"), "day after tomorrow"),
        (re.compile(r"\b(?:ce soir|cette nuit|esta noche)\b"), "tonight"),
        # "3 de la tarde", "9 du matin", "8 de la noche"
        (re.compile(r"\b(?:du matin|(?:de|por) la manana)\b"), "am"),
        (re.compile(r"\b(?:de l'apres[- ]midi|de l apres[- ]midi|apres[- ]midi|du soir|(?:de|por) la "
                    r"(?:tarde|noche))\b"), "pm"),
        # "dans une demi-heure", "en media hora", "2 heures et demie", "2 horas y media"
        (re.compile(r"\b(?:une )?demi[- ]heure\b"), "30 minutes"),
        (re.compile(r"\bmedia hora\b"), "30 minutes"),
        (re.compile(r"\b(heures?|horas?) (?:et demie|y media)\b"), r"\1 and 30 minutes"),
        # relative: "dans 2 heures", "d'ici 3 jours", "en 2 horas", "dentro de 2 horas"
        (re.compile(r"^(?:dans|d'ici|dentro de|en)\s+"), "in "),
        # "lundi prochain", "el próximo lunes", "el lunes que viene", "ce lundi", "este lunes"
        (re.compile(rf"\b({_WEEKDAY_ANY}) (?:prochain|prochaine|proximo|que viene)\b"), r"next \1"),
        (re.compile(rf"\b(?:el |la )?(?:proximo|proxima|prochain) ({_WEEKDAY_ANY})\b"), r"next \1"),
        (re.compile(rf"\b(?:ce|este|esta) ({_WEEKDAY_ANY})\b"), r"this \1"),
        # leading articles: "le 3 décembre", "el 3 de diciembre", "el martes"
        (re.compile(r"^(?:le|el|la)\s+"), ""),
        # ordinals: "1er", "1re", "1ero", "1º" (NFKC made it "1o")
        (re.compile(r"\b(\d{1,2})(?:er|re|ero|\.?o)\b"), r"\1"),
        # "3 de diciembre de 2027", "1 de enero"
        (re.compile(r"(?<=\d) del? (?=[a-z])"), " "),
        (re.compile(r"\bdel? (?=\d{4}\b)"), ""),
        # "15 h", "15:00 h", "15:00 hrs", "a las 15 horas" (not a duration: "in …" is left alone)
        (re.compile(r"(?<![\w:])(\d{1,2}:\d{2}) ?(?:h|hs|hrs)\b"), r"\1"),
        (re.compile(r"(?<![\w:])(\d{1,2}) ?h ?(\d{2})\b"), r"\1h\2"),
        (re.compile(r"(?<![\w:])(\d{1,2}) ?(?:h|hs|hrs|horas?|heures?)\b(?!\s*\d)"), r"\1h"),
        # Spanish "y" and French "et" between amounts: "1 hora y 30 minutos"
        (re.compile(r"\b(?:y|et)\b(?= (?:\d|un|une|una|uno|media|demie))"), "and"),
    ]
    words: dict[str, str] = {}
    for table in (_MONTHS, _WEEKDAYS, _UNITS, _NUMBERS, _WORDS):
        for english, spellings in table.items():
            for spelling in spellings:
                words[spelling] = english
    # "1 an" (a year) but never the English "an" of "in an hour"
    phrases.append((re.compile(r"(?<=\d) an\b"), " year"))
    # "à 15h", "a las 15:00", "a la 1": "at", before a time only (English "a week" stays)
    phrases.append((re.compile(r"\b(?:a las|a la|a|vers)\s+(?=\d|midi|minuit|mediodia|medianoche)"), "at "))
    # a word on its own: not inside "america/santo_domingo" nor the "h" of "15h"
    word_re = re.compile(r"(?<![\w/])[a-z][a-z']*\.?(?![\w/])")
    return tuple(phrases), word_re, words


def to_english(low: str) -> str:
    """`low` (lower-cased, whitespace-normalised user text) with French and Spanish date words replaced
    by the English ones of the grammar; English text comes back unchanged."""
    folded = _fold(low)
    phrases, word_re, words = _rules()
    out = folded
    for pattern, repl in phrases:
        out = pattern.sub(repl, out)

    def word(m: re.Match[str]) -> str:
        token = m.group(0)
        bare = token.rstrip(".")
        english = words.get(bare)
        if english is not None:
            return english
        return bare if bare in _ENGLISH_ABBREVIATIONS else token  # "déc." -> "dec" (dateutil wants no dot)

    out = word_re.sub(word, out)
    if out == folded:
        return low  # nothing of ours in it: keep the member's text exactly (accents and all)
    return " ".join(out.split())
