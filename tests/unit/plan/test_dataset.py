"""The bundled emails follow docs/dataset-format.md and cover the study's variety."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tests.helpers import REPO

ROWS: list[dict[str, Any]] = [
    json.loads(line)
    for line in (REPO / "scenarios" / "data" / "emails.jsonl").read_text().splitlines()
]
FACT_KINDS = ("people", "dates", "amounts", "action_items", "decisions")


def test_every_row_has_the_documented_fields_and_types() -> None:
    assert len(ROWS) >= 40
    assert len({row["id"] for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert row["urgency"] in ("urgent", "routine"), row["id"]
        for field in ("id", "category", "subject", "from", "date", "body", "reference_summary"):
            assert isinstance(row[field], str) and row[field], (row["id"], field)
        assert row["to"] and all(isinstance(to, str) for to in row["to"])
        assert datetime.fromisoformat(row["date"]).utcoffset() is not None, row["id"]
        assert set(row["key_facts"]) == set(FACT_KINDS), row["id"]
        sentences = row["reference_summary"].count(". ") + 1
        assert 1 <= sentences <= 6, row["id"]


def test_people_dates_and_amounts_occur_verbatim_in_the_body() -> None:
    for row in ROWS:
        for kind in ("people", "dates", "amounts"):
            for fact in row["key_facts"][kind]:
                assert fact in row["body"], (row["id"], kind, fact)


def test_addresses_are_reserved_example_domains() -> None:
    for row in ROWS:
        for address in [row["from"], *row["to"]]:
            domain = address.rsplit("@", 1)[1].rstrip(">")
            assert domain in ("example.com", "example.org"), (row["id"], address)


def test_the_emails_cover_the_variety_the_study_needs() -> None:
    words = {row["id"]: len(row["body"].split()) for row in ROWS}
    one_liners = [i for i, n in words.items() if n <= 40]
    threads = [row for row in ROWS if "wrote:" in row["body"]]
    urgent = [row for row in ROWS if row["urgency"] == "urgent"]

    def count(kind: str) -> int:
        return sum(bool(row["key_facts"][kind]) for row in ROWS)

    assert len(one_liners) >= 5
    assert max(words.values()) >= 800  # a long thread
    assert len(threads) >= 8
    assert any(r["urgency"] == "urgent" for r in ROWS if words[r["id"]] <= 40)
    assert len(urgent) >= 10 and len(ROWS) - len(urgent) >= 10
    assert count("amounts") >= 30 and count("dates") >= 30 and count("decisions") >= 20
    assert sum(len(row["key_facts"]["people"]) >= 4 for row in ROWS) >= 10
    assert len({row["category"] for row in ROWS}) >= 10
