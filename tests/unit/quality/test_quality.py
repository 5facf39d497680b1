"""Quality scores: key facts matched however they are written, and summaries ranked as a
careful reader would rank them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.config.quality_spec import QualitySpec, QualityWeights
from loadgen.config.scenario import load_scenario
from loadgen.quality.keyfacts import Summary, coverage
from loadgen.quality.scoring import Scorer, model_section, scoring_wanted, sections_from_template
from tests.conftest import ScenarioFactory
from tests.helpers import REPO

SCENARIO = REPO / "scenarios" / "email_summary.yaml"
ROWS = {
    row["id"]: row
    for row in map(json.loads, (REPO / "scenarios/data/emails.jsonl").read_text().splitlines())
}
SECTIONS = sections_from_template(yaml.safe_load(SCENARIO.read_text())["prompt"]["template"])


@pytest.mark.parametrize(
    ("fact", "summary"),
    [
        ("March 13", "The freeze ends on 13 March."),
        ("Friday, March 13, 2026", "Freeze until 2026-03-13."),
        ("Friday, March 13", "until Fri Mar 13 at 6pm"),
        ("March 13", "due 3/13"),
        ("April 22–24, 2026", "The offsite runs April 22 to 24."),
        ("11:59pm ET", "enrol before 23:59 Eastern"),
        ("6pm CET", "until 6 p.m."),
        ("noon", "sent by 12:00"),
        ("Friday 5pm", "copy due Fri at 17:00"),
        ("January 2027", "starting in Jan 2027"),
        ("end of day Thursday", "by Thursday evening"),
    ],
)
def test_dates_match_in_any_common_form(fact: str, summary: str) -> None:
    assert Summary(summary).has_date(fact)


@pytest.mark.parametrize(
    ("fact", "summary"),
    [
        ("March 13", "The freeze ends on March 31."),
        ("Friday, March 13, 2026", "until 2026-03-14"),
        ("6pm CET", "until 6am"),
        ("Friday 5pm", "copy due by 4pm"),
        ("Friday 5pm", "copy due Monday 5pm"),
        ("Friday, March 13 at 6pm", "until March 13 at 9am"),
    ],
)
def test_other_dates_do_not_match(fact: str, summary: str) -> None:
    assert not Summary(summary).has_date(fact)


@pytest.mark.parametrize(
    ("fact", "summary"),
    [
        ("$1.92M", "opex was 1.92 million dollars"),
        ("$1.92M", "opex was $1,920,000"),
        ("$1,920,000", "opex was $1.92M"),
        ("€12k", "a refund of €12,000"),
        ("$450k", "USD 450,000"),
        ("18%", "up 18 percent"),
        ("1,240", "about 1240 checkouts failed"),
        ("$160,000–$190,000", "a band of $160k to $190k"),
        ("6,000 RSUs", "6000 RSUs vesting over four years"),
    ],
)
def test_amounts_match_by_value(fact: str, summary: str) -> None:
    assert Summary(summary).has_amount(fact)


@pytest.mark.parametrize(
    ("fact", "summary"),
    [
        ("$1.92M", "opex was $1.9M"),
        ("18%", "we paid $18"),
        ("€12k", "a refund of $12,000"),
        ("$160,000–$190,000", "a band up to $190k"),
    ],
)
def test_other_amounts_do_not_match(fact: str, summary: str) -> None:
    assert not Summary(summary).has_amount(fact)


def test_people_match_by_any_part_of_the_name_accents_ignored() -> None:
    summary = Summary("Carmen Ibanez and Mr Grün agreed; Selin Aydin signs.")
    assert summary.has_person("Carmen Ibáñez")
    assert summary.has_person("Felix Grün")
    assert summary.has_person("Selin Aydın")
    assert not summary.has_person("Omar Haddad")


def test_action_items_match_by_content_words() -> None:
    summary = Summary("Kwame should place PO-7731 now and secure delivery before 20 April.")
    assert summary.has_phrase("Kwame places PO-7731 and secures delivery before April 20")
    assert not summary.has_phrase("Ravi drafts the postmortem for the reliability meeting")


# Three summaries of email-026 (Omar approves PO-7731 for 40 chairs at $18,360, delivery
# before April 20), written by hand as a good, a mediocre and a bad model might.
GOOD = """Summary: Omar Haddad approves purchase order PO-7731 for 40 office chairs at $18,360.
Kwame should place the order and make sure the chairs arrive before April 20.
Key points:
- PO-7731 approved: 40 chairs, $18,360.
Action items:
- Kwame: place PO-7731 and secure delivery before April 20.
Deadlines: delivery before 20 April.
People involved: Omar Haddad (approver), Kwame Asante (requester).
Business impact: $18,360 of furniture spend, approved."""
MEDIOCRE = """Summary: Omar approved the chair order.
Key points:
- The order for office chairs can go ahead.
Action items: Kwame to order the chairs.
People involved: Omar, Kwame."""
BAD = """The quarterly report shows steady growth in revenue while costs remain under control,
and the team expects further gains next year after the launch of the new product line."""


@pytest.mark.parametrize("row_id", ["email-026"])
def test_good_mediocre_and_bad_summaries_rank_in_that_order(row_id: str) -> None:
    scorer = Scorer(QualitySpec(), SECTIONS)
    row = ROWS[row_id]
    good, mediocre, bad = (scorer.score("m", row_id, row, t) for t in (GOOD, MEDIOCRE, BAD))
    assert good.score > mediocre.score > bad.score
    for part in ("key_fact_coverage", "structure", "rouge_l"):
        assert getattr(good, part) > getattr(mediocre, part) > getattr(bad, part), part
    assert good.key_fact_coverage == 1.0
    assert good.structure == 1.0
    assert good.score > 0.75 and bad.score < 0.2
    assert "amounts: $18,360" in mediocre.missing_facts
    assert set(mediocre.missing_sections) == {"Deadlines", "Business impact"}


def test_a_long_thread_ranks_the_same_way() -> None:
    row = ROWS["email-002"]
    good = (
        "Summary: Claire Dubois closes the SEV1 on checkout 502s: stay on db-pay-02, deploy "
        "freeze until Friday, March 13, 2026 at 6pm CET.\n"
        "Key points:\n- 1,240 checkouts failed; about $86,000 of GMV delayed, not lost.\n"
        "- Error rate peaked at 37%; 212 merchants affected.\n"
        "- Tomasz's 80% disk alarm change approved as an exception.\n"
        "Action items:\n- Nadia's team emails the 212 affected merchants: template by 10am, "
        "sent by noon.\n- Ravi owns the postmortem, draft due Wednesday, March 18.\n"
        "- Tomasz checks db-pay-01 under load before any failback.\n"
        "- Correct the impact number before 9am.\n"
        "Deadlines: March 13 6pm CET; 10am; noon; March 18; 9am.\n"
        "People involved: Claire, Ravi Menon, Tomasz Wieczorek, Nadia Rahman.\n"
        "Business impact: about $86,000 of GMV delayed and 1,240 failed checkouts."
    )
    mediocre = (
        "Summary: There was a payments database outage and checkout failed for a while.\n"
        "Action items: Ravi writes the postmortem.\nPeople involved: Claire, Ravi."
    )
    scorer = Scorer(QualitySpec(), SECTIONS)
    scores = [scorer.score("m", "email-002", row, t).score for t in (good, mediocre, BAD)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0.7


def test_sections_come_from_the_template_without_its_input_lines() -> None:
    assert SECTIONS == [
        "Summary",
        "Key points",
        "Action items",
        "Deadlines",
        "People involved",
        "Business impact",
    ]


@pytest.mark.parametrize(
    "heading", ["Key points:", "## Key points", "**Key points**", "KEY POINTS -", "key_points:"]
)
def test_markdown_and_plain_headings_count(heading: str) -> None:
    scorer = Scorer(QualitySpec(), ["Key points"])
    assert scorer.score("m", "r", {}, f"{heading}\n- one").structure == 1.0
    assert scorer.score("m", "r", {}, "The key points are these.").structure == 0.0


def test_weights_come_from_the_scenario_and_missing_parts_drop_out() -> None:
    only_structure = QualitySpec(
        weights=QualityWeights(key_facts=0, structure=1, rouge_l=0, length=0)
    )
    row = ROWS["email-026"]
    assert Scorer(only_structure, SECTIONS).score("m", "r", row, MEDIOCRE).score == pytest.approx(
        4 / 6
    )
    # No key facts and no reference: structure and length alone make the score.
    bare = Scorer(QualitySpec(), SECTIONS).score("m", "r", {"body": row["body"]}, GOOD)
    assert bare.key_fact_coverage is None and bare.rouge_l is None
    assert bare.score == pytest.approx((0.2 * 1.0 + 0.1 * 1.0) / 0.3)


def test_length_and_compression() -> None:
    spec = QualitySpec(min_words=10, max_words=20)
    scorer = Scorer(spec, [])
    row = {"body": "word " * 100}
    assert scorer.score("m", "r", row, "word " * 5).length == 0.5
    assert scorer.score("m", "r", row, "word " * 15).length == 1.0
    assert scorer.score("m", "r", row, "word " * 30).length == 0.5
    assert scorer.score("m", "r", row, "word " * 15).compression == pytest.approx(0.15)


def test_model_section_has_the_reported_shape_and_the_worst_rows() -> None:
    scorer = Scorer(QualitySpec(), SECTIONS)
    row = ROWS["email-026"]
    scores = [
        scorer.score("m", rid, row, t) for rid, t in (("a", GOOD), ("b", BAD), ("c", MEDIOCRE))
    ]
    section = model_section(scores, worst=2)
    assert set(section["score"]) == {"mean", "p10", "p50"}
    assert section["scored"] == 3
    assert [w["row_id"] for w in section["worst"]] == ["b", "c"]
    assert section["worst"][0]["missing_facts"][0] == "people: Kwame"
    assert model_section([], worst=3)["score"] == {"mean": None, "p10": None, "p50": None}


def test_reference_summaries_state_most_of_their_own_key_facts() -> None:
    """The annotations and the matcher agree: a careful human summary scores high."""
    matched = total = 0
    for row in ROWS.values():
        result = coverage(Summary(row["reference_summary"]), row["key_facts"])
        matched, total = matched + result.matched, total + result.total
    assert matched / total > 0.85


def test_scoring_is_skipped_without_references(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario()
    rows: list[dict[str, Any]] = [{"id": "a", "body": "hello"}]
    assert not scoring_wanted(scenario, rows, enabled=True)
    assert scoring_wanted(scenario, [{**rows[0], "reference_summary": "hi"}], enabled=True)
    assert not scoring_wanted(scenario, [{**rows[0], "reference_summary": "hi"}], enabled=False)
    off = make_scenario(quality={"enabled": False})
    assert not scoring_wanted(off, [{**rows[0], "reference_summary": "hi"}], enabled=True)


def test_the_quality_block_is_validated(tmp_path: Path) -> None:
    from loadgen.core.errors import ConfigError

    data = yaml.safe_load(SCENARIO.read_text())
    data["quality"] = {"weights": {"key_facts": -1}, "min_words": 50, "max_words": 10}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    (tmp_path / "data").symlink_to(REPO / "scenarios" / "data")
    with pytest.raises(ConfigError, match=r"quality\.weights\.key_facts") as caught:
        load_scenario(path)
    assert "quality" in str(caught.value)


def _samples(texts: list[tuple[str, str]]) -> list[Any]:
    from loadgen.core.sample import Sample

    return [
        Sample(
            request_id=index,
            model="m" if index % 2 else "n",
            row_id=row_id,
            warmup=index == 0,  # warmup: never scored
            intended_us=0,
            dispatch_us=0,
            response_text=text,
        )
        for index, (row_id, text) in enumerate(texts)
    ]


def test_worker_processes_score_as_one_thread_does() -> None:
    from loadgen.quality.kept_responses import KeptResponses
    from loadgen.quality.scoring import rows_with_references, score_responses

    written = [("email-026", GOOD), ("email-026", MEDIOCRE), ("email-026", BAD), ("x", GOOD)] * 3
    kept = KeptResponses(rows_with_references(ROWS))
    for sample in _samples(written):
        kept.add(sample)
    one = score_responses(kept, ROWS, QualitySpec(), SECTIONS)
    pooled = score_responses(kept, ROWS, QualitySpec(), SECTIONS, parallel_from=2, workers=2)
    assert len(one) == 8  # not the warmup one, not row "x" (no such row)
    assert pooled == one


def test_texts_written_with_keep_text_score_as_the_kept_ones(tmp_path: Path) -> None:
    from loadgen.core.sample import LineFormat, read_samples
    from loadgen.quality.kept_responses import KeptResponses, responses_of
    from loadgen.quality.scoring import rows_with_references, score_responses
    from loadgen.sinks.jsonl import JsonlSink

    samples = _samples([("email-026", GOOD), ("email-026", MEDIOCRE), ("email-026", BAD)] * 2)
    sink = JsonlSink(tmp_path / "samples.jsonl", line_format=LineFormat("r", 0, keep_text=True))
    sink.start()
    kept = KeptResponses(rows_with_references(ROWS))
    for sample in samples:
        sink.add(sample)
        kept.add(sample)
    sink.stop()
    from_file = responses_of(read_samples(tmp_path / "samples.jsonl"))
    scored = score_responses(from_file, ROWS, QualitySpec(), SECTIONS)
    assert len(scored) == 5  # the warmup one apart
    assert scored == score_responses(kept, ROWS, QualitySpec(), SECTIONS)
