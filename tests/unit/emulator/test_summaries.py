"""The emulator's synthetic summaries: drawn from the email in the prompt, in its sections, and
worse (as scored by loadgen/quality/scoring.py) the lower the fidelity."""

from __future__ import annotations

import json
import random
import statistics

import pytest
import yaml

from loadgen.config.quality_spec import QualitySpec
from loadgen.emulator.summaries import PROSE_BELOW, extractive_summary
from loadgen.quality.scoring import Scorer, sections_from_template
from tests.helpers import REPO

TEMPLATE = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())["prompt"][
    "template"
]
ROWS = [
    json.loads(line) for line in (REPO / "scenarios/data/emails.jsonl").read_text().splitlines()
]
SECTIONS = sections_from_template(TEMPLATE)


def _prompt(row: dict[str, object]) -> str:
    return TEMPLATE.format_map(row)


def test_no_email_in_the_prompt_gives_none() -> None:
    assert extractive_summary("Write a haiku about autumn.", 100, 1.0, random.Random(0)) is None
    assert extractive_summary("Summarise: the meeting moved.", 100, 1.0, random.Random(0)) is None


def test_full_fidelity_keeps_every_asked_for_section_and_copies_the_emails_sentences() -> None:
    row = ROWS[1]  # a long incident thread
    summary = extractive_summary(_prompt(row), 300, 1.0, random.Random(0))
    assert summary is not None
    headings = [line.split(":")[0] for line in summary.splitlines() if not line.startswith("-")]
    assert headings == SECTIONS
    body = " ".join(line.lstrip("> ").strip() for line in str(row["body"]).splitlines())
    bullets = [line[2:] for line in summary.splitlines() if line.startswith("- ")]
    assert bullets and all(bullet in body for bullet in bullets)
    assert "Claire Dubois" in summary  # the sender, in People involved


def test_sections_follow_the_prompt() -> None:
    email = TEMPLATE[TEMPLATE.index("Subject:") :]
    template = "Summarise.\nGist: one line.\nRisks: a list.\n\n" + email
    summary = extractive_summary(template.format_map(ROWS[3]), 200, 1.0, random.Random(0))
    assert summary is not None
    assert summary.startswith("Gist:")
    assert "\nRisks:" in summary
    assert "Key points" not in summary


def test_same_seed_same_summary_and_max_words_holds() -> None:
    prompt = _prompt(ROWS[9])
    first = extractive_summary(prompt, 80, 0.6, random.Random(4))
    assert first == extractive_summary(prompt, 80, 0.6, random.Random(4))
    assert first is not None and len(first.split()) <= 80


def test_low_fidelity_loses_the_structure() -> None:
    summary = extractive_summary(_prompt(ROWS[1]), 300, PROSE_BELOW - 0.05, random.Random(0))
    assert summary is not None and "Key points:" not in summary


@pytest.mark.parametrize(("high", "low"), [(0.95, 0.6), (0.6, 0.2)])
def test_quality_scores_rank_high_fidelity_above_low(high: float, low: float) -> None:
    scorer = Scorer(QualitySpec(), SECTIONS)

    def mean_score(fidelity: float) -> float:
        rng = random.Random(11)
        scores = []
        for row in ROWS:
            text = extractive_summary(_prompt(row), 300, fidelity, rng)
            assert text is not None
            scores.append(scorer.score("m", str(row["id"]), row, text).score)
        return statistics.mean(scores)

    assert mean_score(high) > mean_score(low) + 0.1
