"""Does a summary state a key fact? Deterministic, normalised matching, one rule per kind.

A model rarely copies a fact verbatim: "$1.92M" comes back as "1.92 million" or "$1,920,000",
"Friday, March 13" as "13 March" or "2026-03-13". Each kind of fact is reduced to what it means
(a value, a calendar day, a clock time, a set of content words) and compared on that:

- people: any part of the name, as a whole word, accents ignored ("Ibáñez" = "Ibanez");
- dates: the calendar day and the clock time the fact names (the weekday where it names no
  day); failing those, the month, else the year, else its content words;
- amounts: every number in the fact, by value (k, M, million, thousand expanded; commas
  ignored), percentages only against percentages, a currency symbol only against the same one
  (or none);
- action items and decisions: at least PHRASE_OVERLAP of the fact's content words (stemmed)
  appear in the summary.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from nltk.stem import porter
from rouge_score import tokenize, tokenizers

PHRASE_OVERLAP = 0.6  # share of a phrase's content words the summary must contain
AMOUNT_TOLERANCE = 0.005  # relative: "$1.92M" matches 1,920,000 and 1,925,000, not 1.9M

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}
_MONTH = r"(?P<{0}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
_MONTH_DAY = re.compile(r"\b" + _MONTH.format("m") + r"\s+" + _DAY.format("d") + r"\b")
_DAY_MONTH = re.compile(r"\b" + _DAY.format("d") + r"\s+(?:of\s+)?" + _MONTH.format("m") + r"\b")
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b")
_SLASH_DATE = re.compile(r"\b(?P<m>[01]?\d)/(?P<d>[0-3]?\d)(?:/(?P<y>\d{2,4}))?\b")  # US order
_MONTH_ONLY = re.compile(r"\b" + _MONTH.format("m") + r"\b")
_YEAR = re.compile(r"\b(?P<y>(?:19|20)\d{2})\b")
_WEEKDAY = re.compile(r"\b(?P<w>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b")
_CLOCK = re.compile(
    r"\b(?P<h>[0-2]?\d)(?::(?P<min>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|\b(?P<h24>[0-2]?\d):(?P<min24>[0-5]\d)\b"
    r"|\b(?P<word>noon|midday|midnight)\b"
)
_NUMBER = re.compile(
    r"(?P<cur>[$€£¥])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>thousand|million|billion|bn|mn|[kmb])(?![a-z]))?"
    r"(?:\s?(?P<pct>%|percent\b|per\s+cent\b))?"
    r"(?:\s?(?P<curword>usd|eur|gbp|dollars?|euros?|pounds?)\b)?"
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_CURRENCY_WORDS = {
    "usd": "$",
    "dollar": "$",
    "dollars": "$",
    "eur": "€",
    "euro": "€",
    "euros": "€",
    "gbp": "£",
    "pound": "£",
    "pounds": "£",
}
# Words that carry no content in a fact phrase; kept short on purpose (no corpus download).
_STOPWORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this",
    "that", "these", "those", "their", "his", "her", "our", "your", "we", "they", "he", "she",
    "i", "you", "who", "which", "what", "will", "would", "should", "can", "could", "may",
    "might", "must", "shall", "do", "does", "did", "has", "have", "had", "not", "no", "so",
    "if", "then", "than", "into", "onto", "over", "under", "about", "after", "before", "up",
    "down", "out", "all", "any", "each", "every", "per", "via", "s",
))  # fmt: skip


class _CachedStemmer:
    """The Porter stemmer ROUGE uses, remembering its answers: stemming is most of the cost of
    scoring, and a run's responses repeat the same few thousand words."""

    def __init__(self) -> None:
        self.stem = functools.lru_cache(maxsize=100_000)(porter.PorterStemmer().stem)


class StemmingTokenizer(tokenizers.Tokenizer):  # type: ignore[misc]
    """rouge-score's default tokenisation (lower case, alphanumeric words, Porter stems)."""

    def __init__(self) -> None:
        self._stemmer = _CachedStemmer()

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = tokenize.tokenize(text, self._stemmer)
        return tokens


_TOKENIZER = StemmingTokenizer()


def fold(text: str) -> str:
    """Lower case, accents removed, dashes unified: the form every comparison uses."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u0131", "i")  # dotless i (Turkish) has no decomposition
    # Hyphens, en and em dashes, minus: one plain hyphen.
    return re.sub("[\u2010-\u2015\u2212]", "-", plain).lower()


@dataclass(frozen=True)
class Amount:
    value: float
    percent: bool
    currency: str | None


def amounts(text: str) -> list[Amount]:
    found = []
    for match in _NUMBER.finditer(fold(text)):
        value = float(match["num"].replace(",", ""))
        if match["mult"]:
            value *= _MULTIPLIERS[match["mult"]]
        currency = match["cur"] or _CURRENCY_WORDS.get(match["curword"] or "")
        found.append(Amount(value, bool(match["pct"]), currency))
    return found


def calendar_days(text: str) -> set[tuple[int, int]]:
    """(month, day) of every date written in text, in any of the common forms."""
    folded = fold(text)
    days: set[tuple[int, int]] = set()
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for match in pattern.finditer(folded):
            days.add((_MONTHS[match["m"]], int(match["d"])))
    for pattern in (_ISO_DATE, _SLASH_DATE):
        for match in pattern.finditer(folded):
            days.add((int(match["m"]), int(match["d"])))
    return {(m, d) for m, d in days if 1 <= m <= 12 and 1 <= d <= 31}


def clock_times(text: str) -> set[tuple[int, int]]:
    """(hour, minute) on a 24-hour clock: 6pm, 6 p.m. and 18:00 are all (18, 0)."""
    times = set()
    for match in _CLOCK.finditer(fold(text)):
        if match["word"]:
            times.add((0, 0) if match["word"] == "midnight" else (12, 0))
        elif match["h24"]:
            times.add((int(match["h24"]), int(match["min24"])))
        else:
            hour = int(match["h"]) % 12 + (12 if match["ampm"].startswith("p") else 0)
            times.add((hour, int(match["min"] or 0)))
    return times


def weekdays(text: str) -> set[int]:
    return {_WEEKDAYS[m["w"]] for m in _WEEKDAY.finditer(fold(text))}


def months(text: str) -> set[int]:
    return {_MONTHS[m["m"]] for m in _MONTH_ONLY.finditer(fold(text))}


def content_words(text: str) -> set[str]:
    return {token for token in _TOKENIZER.tokenize(fold(text)) if token not in _STOPWORDS}


class Summary:
    """A response, parsed once, asked about many facts."""

    def __init__(self, text: str) -> None:
        self.folded = fold(text)
        self.words = set(re.findall(r"[a-z0-9]+", self.folded))
        self.days = calendar_days(text)
        self.times = clock_times(text)
        self.weekdays = weekdays(text)
        self.months = months(text) | {m for m, _ in self.days}
        self.years = {m["y"] for m in _YEAR.finditer(self.folded)}
        self.amounts = amounts(text)
        self.content = content_words(text)

    def has_person(self, name: str) -> bool:
        parts = [p for p in re.findall(r"[a-z0-9]+", fold(name)) if len(p) >= 2]
        return any(part in self.words for part in parts)

    def has_date(self, fact: str) -> bool:
        checks = []
        days = calendar_days(fact)
        if days:
            # A range ("April 22-24") or a list: the first day named is the one that counts.
            checks.append(_first_day(fact, days) in self.days)
        if times := clock_times(fact):
            checks.append(bool(times & self.times))
        if not days and (days_of_week := weekdays(fact)):
            checks.append(bool(days_of_week & self.weekdays))
        if checks:
            return all(checks)
        if named_months := months(fact):
            return bool(named_months & self.months)
        if years := {m["y"] for m in _YEAR.finditer(fold(fact))}:
            return bool(years & self.years)
        return self.has_phrase(fact)

    def has_amount(self, fact: str) -> bool:
        wanted = amounts(fact)
        if not wanted:
            return self.has_phrase(fact)
        return all(any(_same_amount(w, got) for got in self.amounts) for w in wanted)

    def has_phrase(self, fact: str) -> bool:
        words = content_words(fact)
        if not words:
            return True
        return len(words & self.content) / len(words) >= PHRASE_OVERLAP


def _first_day(fact: str, days: set[tuple[int, int]]) -> tuple[int, int]:
    folded = fold(fact)
    first: tuple[int, tuple[int, int]] | None = None
    for pattern in (_MONTH_DAY, _DAY_MONTH, _ISO_DATE, _SLASH_DATE):
        for match in pattern.finditer(folded):
            month = _MONTHS[match["m"]] if match["m"] in _MONTHS else int(match["m"])
            day = (month, int(match["d"]))
            if day in days and (first is None or match.start() < first[0]):
                first = (match.start(), day)
    return first[1] if first else min(days)


def _same_amount(wanted: Amount, got: Amount) -> bool:
    if wanted.percent != got.percent:
        return False
    if wanted.currency and got.currency and wanted.currency != got.currency:
        return False
    return abs(wanted.value - got.value) <= AMOUNT_TOLERANCE * max(abs(wanted.value), 1e-9)


FACT_KINDS = ("people", "dates", "amounts", "action_items", "decisions")


@dataclass(frozen=True)
class Coverage:
    matched: int
    total: int
    missing: tuple[str, ...]  # "kind: fact", in the order of the annotation

    @property
    def share(self) -> float | None:
        return None if self.total == 0 else self.matched / self.total


def coverage(summary: Summary, key_facts: dict[str, Iterable[str]]) -> Coverage:
    """How many annotated facts the summary states; every fact counts the same."""
    checks = {
        "people": summary.has_person,
        "dates": summary.has_date,
        "amounts": summary.has_amount,
        "action_items": summary.has_phrase,
        "decisions": summary.has_phrase,
    }
    matched = total = 0
    missing = []
    for kind in FACT_KINDS:
        for fact in key_facts.get(kind) or ():
            total += 1
            if checks[kind](str(fact)):
                matched += 1
            else:
                missing.append(f"{kind}: {fact}")
    return Coverage(matched, total, tuple(missing))
