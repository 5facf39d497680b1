"""Synthetic summaries for the emulator: an email's own sentences, arranged in the asked-for
sections, so that quality scoring has something to score without a real model.

This is NOT a summariser. It picks sentences that carry figures, dates, requests and
decisions, copies them word for word (extractive), and lays them out under the headings the
prompt asks for. `fidelity` (0..1) stands in for how good a model is: at 1 nearly every key
sentence survives and every heading is there; lower, fewer key sentences survive, filler from
the rest of the email takes their place, headings go missing, and below PROSE_BELOW the
response is one unstructured paragraph. Emulated models with different fidelities therefore
score differently, which is all it is for.

Pure: standard library only, nothing from the client side (the emulator shares no code with
what it is used to test).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PROSE_BELOW = 0.35  # fidelity under which the response ignores the asked-for structure
DEFAULT_SECTIONS = (
    "Summary",
    "Key points",
    "Action items",
    "Deadlines",
    "People involved",
    "Business impact",
)

_EMAIL = re.compile(
    r"^Subject:[ \t]*(?P<subject>[^\n]*)\n"
    r"From:[ \t]*(?P<sender>[^\n]*)\n"
    r"Date:[ \t]*(?P<date>[^\n]*)\n"
    r"(?P<body>.*)",
    re.MULTILINE | re.DOTALL,
)
_HEADING = re.compile(r"^\s*(?P<name>[A-Z][A-Za-z][A-Za-z /&'-]{0,38}?)\s*:\s*\S")
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE_PHRASE = re.compile(
    rf"\b(?:(?:{_WEEKDAYS}),?\s+)?(?:{_MONTHS})\.?\s+\d{{1,2}}(?:[\u2013-]\d{{1,2}})?(?:,\s+\d{{4}})?"
    rf"(?:,?\s+(?:at\s+)?\d{{1,2}}(?::\d\d)?\s*[ap]m(?:\s+[A-Z]{{2,4}})?)?"
    rf"|\b(?:{_WEEKDAYS})(?:\s+(?:noon|morning|\d{{1,2}}(?::\d\d)?\s*[ap]m))?\b"
    rf"|\b\d{{1,2}}(?::\d\d)?\s*[ap]m(?:\s+[A-Z]{{2,4}})?\b"
)
_AMOUNT = re.compile(r"[$€£]\s?\d|\d%|\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\s?(?:M|k|million)\b")
_ACTION = re.compile(
    r"\b(?:please|need(?:s)? to|must|should|can you|could you|owns?|owner|by (?:end|"
    rf"{_WEEKDAYS}|{_MONTHS}|\d)|due|deadline|send|submit|review|confirm|sign|book|schedule)\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?:decided|decision|approved?|agreed|go ahead|signed off|we will|we'll|final)\b",
    re.IGNORECASE,
)
_IMPACT = re.compile(
    r"\b(?:customers?|revenue|cost|budget|risk|margin|savings?|churn|GMV|loss|penalt)",
    re.IGNORECASE,
)
# A name: a possessive ("Ravi's counts") or an address at a sentence start ("Tomasz, your").
_NAME = re.compile(
    r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?='s\b)|(?:^|(?<=[.;:!?]\s))([A-Z][a-z]+(?:-[A-Z][a-z]+)?),",
    re.MULTILINE,
)
_NOT_NAMES = frozenset(
    f"{_MONTHS}|{_WEEKDAYS}|All|Hi|Hello|Thanks|Team|Everyone|Folks|Also|So|Yes|No|Today".split("|")
)
_WROTE = re.compile(r"^On .*?,\s*(?P<name>[^<,]+?)\s*<[^>]*>\s*wrote:\s*$")
_SIGN_OFF = re.compile(r"^(?:thanks|thank you|best|regards|cheers|all|hi|hello)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")


@dataclass(frozen=True)
class _Sentence:
    text: str
    position: int
    score: float
    action: bool
    decision: bool
    amount: bool
    dates: tuple[str, ...]


def extractive_summary(
    prompt: str, max_words: int, fidelity: float, rng: random.Random
) -> str | None:
    """A summary of the email in `prompt` in its asked-for sections; None if it has no email.

    `max_words` caps the length; `fidelity` in 0..1 sets how much of the email's key content
    and of the asked-for structure survives; `rng` makes the losses repeatable.
    """
    match = _EMAIL.search(prompt)
    if match is None or max_words <= 0:
        return None
    fidelity = min(max(fidelity, 0.0), 1.0)
    sentences = _sentences(match["body"])
    if not sentences:
        return None
    kept = _keep(sentences, fidelity, rng)
    people = _people(match["sender"], match["body"], fidelity, rng)
    if fidelity < PROSE_BELOW:
        text = " ".join(s.text for s in sorted(kept, key=lambda s: s.position))
        return _cap(text, max_words)
    sections = _asked_sections(prompt[: match.start()]) or list(DEFAULT_SECTIONS)
    headed = [rng.random() <= fidelity + 0.15 for _ in sections]
    # Like a model writing to a budget: the least telling sentences go until it fits.
    while True:
        text = _render(sections, headed, kept, people)
        if len(text.split()) <= max_words or len(kept) <= 1:
            return _cap(text, max_words)
        kept = [s for s in kept if s is not min(kept, key=lambda s: (s.score, -s.position))]


def _render(
    sections: list[str], headed: list[bool], kept: list[_Sentence], people: list[str]
) -> str:
    contents = _contents(sections, kept, people)
    parts: list[str] = []
    for name, has_heading in zip(sections, headed, strict=True):
        content = contents[name]
        if parts and not has_heading:
            parts[-1] += "\n" + content  # the heading is lost; its content runs on
        else:
            parts.append(f"{name}:{'' if content.startswith(chr(10)) else ' '}{content}")
    return "\n".join(parts)


def _asked_sections(instructions: str) -> list[str]:
    return [m["name"] for line in instructions.splitlines() if (m := _HEADING.match(line))]


def _sentences(body: str) -> list[_Sentence]:
    lines = []
    for raw in body.splitlines():
        line = raw.lstrip("> \t").strip()
        if not line or _WROTE.match(line) or _is_greeting_or_signature(line):
            continue
        lines.append(re.sub(r"^(?:[-*•]|\d+[.)])\s+", "", line))
    found: list[_Sentence] = []
    seen = set()
    for text in _SENTENCE_END.split(" ".join(lines)):
        text = text.strip()
        if len(text.split()) < 3 or text in seen:
            continue
        seen.add(text)
        found.append(_scored(text, len(found)))
    return found


def _is_greeting_or_signature(line: str) -> bool:
    words = line.split()
    if _SIGN_OFF.match(line) and len(words) <= 4:
        return True
    # "Omar," / "Lena" / "Claire Dubois": a name alone on a line opens or closes an email.
    return len(words) <= 2 and not re.search(r"[.!?:\d]", line)


def _scored(text: str, position: int) -> _Sentence:
    dates = tuple(m.group(0) for m in _DATE_PHRASE.finditer(text))
    action = bool(_ACTION.search(text))
    decision = bool(_DECISION.search(text))
    amount = bool(_AMOUNT.search(text))
    score = 2.0 * amount + 2.0 * bool(dates) + 1.5 * action + 1.5 * decision
    score += 0.5 * len(_names(text)) + 1.0 / (1 + position)
    return _Sentence(text, position, score, action, decision, amount, dates)


def _keep(sentences: list[_Sentence], fidelity: float, rng: random.Random) -> list[_Sentence]:
    """The key sentences that survive: the best share `fidelity` allows, the rest of the
    places taken (with probability 1 - fidelity each) by the email's least useful sentences."""
    ranked = sorted(sentences, key=lambda s: (-s.score, s.position))
    key = [s for s in ranked if s.score >= 1.5] or ranked[:2]
    count = max(1, round(len(key) * (0.15 + 0.85 * fidelity)))
    chosen = key[:count]
    filler = [s for s in reversed(ranked) if s not in chosen]
    kept = []
    for sentence in chosen:
        if filler and rng.random() > fidelity:
            kept.append(filler.pop(0))
        else:
            kept.append(sentence)
    return sorted(kept, key=lambda s: s.position)


def _people(sender: str, body: str, fidelity: float, rng: random.Random) -> list[str]:
    names = [sender.split("<")[0].strip()]
    for raw in body.splitlines():
        line = raw.lstrip("> \t").strip()
        if wrote := _WROTE.match(line):
            names.append(wrote["name"].strip())
        elif _is_greeting_or_signature(line) and not _SIGN_OFF.match(line):
            names.append(line.rstrip(","))
    names.extend(_names(body))
    unique = list(dict.fromkeys(n for n in names if n and n not in _NOT_NAMES))
    return [n for i, n in enumerate(unique) if i == 0 or rng.random() <= fidelity]


def _names(text: str) -> list[str]:
    found = (a or b for a, b in _NAME.findall(text))
    return [name for name in found if name not in _NOT_NAMES]


def _contents(sections: list[str], kept: list[_Sentence], people: list[str]) -> dict[str, str]:
    """What goes under each heading. Each sentence is written once, as a writer with a word
    budget would: the summary takes the two most telling, action items the requests, key
    points what is left; dates and people are listed, not repeated in sentences."""
    by_kind: dict[str, list[str]] = {}
    for name in sections:
        by_kind.setdefault(_kind(name), []).append(name)
    order = ("summary", "action", "impact", "points", "deadlines", "people")
    used: set[int] = set()
    contents: dict[str, str] = {}

    def fresh(sentences: list[_Sentence]) -> list[_Sentence]:
        return [s for s in sentences if s.position not in used]

    for kind in order:
        for name in by_kind.get(kind, []):
            if kind == "summary":
                chosen = sorted(sorted(kept, key=lambda s: -s.score)[:2], key=lambda s: s.position)
                contents[name] = " ".join(s.text for s in chosen)
            elif kind == "action":
                chosen = fresh([s for s in kept if s.action])
                contents[name] = _bullets([s.text for s in chosen])
            elif kind == "impact":
                impact = [s for s in kept if s.amount or _IMPACT.search(s.text)]
                chosen = (fresh(impact) or impact)[:1]
                contents[name] = chosen[0].text if chosen else "none stated"
            elif kind == "deadlines":
                dates = list(dict.fromkeys(d for s in kept for d in s.dates))
                contents[name] = "; ".join(dates) if dates else "none"
                chosen = []
            elif kind == "people":
                contents[name] = ", ".join(people) if people else "none"
                chosen = []
            else:
                chosen = fresh(kept)
                contents[name] = _bullets([s.text for s in chosen])
            used.update(s.position for s in chosen)
    return contents


def _kind(section: str) -> str:
    lowered = section.lower()
    for kind, words in (
        ("summary", ("summary",)),
        ("action", ("action", "next step")),
        ("deadlines", ("deadline", "date")),
        ("people", ("people", "who")),
        ("impact", ("impact", "risk")),
    ):
        if any(word in lowered for word in words):
            return kind
    return "points"  # key points, decisions, or a heading this module does not know


def _bullets(items: list[str]) -> str:
    return "".join(f"\n- {item}" for item in items) if items else "none"


def _cap(text: str, max_words: int) -> str:
    words = text.split(" ")
    return text if len(words) <= max_words else " ".join(words[:max_words])
