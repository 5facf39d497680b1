"""`loadgen plan` end to end: on the saved sweep of docs/plan.md it reproduces every figure the
document works out by hand; it reads run folders too, writes plan.html with its chart, and says
what it needs when a run does not have it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from tests.helpers import REPO, loadgen

DOC = REPO / "docs" / "plan.md"
EXAMPLE = REPO / "tests" / "data" / "plan_example"
WIDE = {"COLUMNS": "200"}


def _fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _example() -> tuple[list[str], dict[str, Any]]:
    """The worked example's command and the figures plan.json must show, as docs/plan.md has
    them."""
    text = DOC.read_text(encoding="utf-8")
    example = text[text.index("## A worked example") :]
    command = next(block for block in _fenced(example, "bash") if "loadgen plan" in block)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["loadgen", "plan"]
    return words[1:], json.loads(_fenced(example, "json")[0])


def _contains(actual: Any, expected: Any, where: str = "") -> list[str]:
    """Where `actual` differs from `expected`, which names only some of its keys."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        return [
            problem
            for key, value in expected.items()
            for problem in (
                _contains(actual[key], value, f"{where}.{key}")
                if key in actual
                else [f"{where}.{key}: missing"]
            )
        ]
    # Exactly: the document's numbers are plan.json's, to the last digit written.
    if actual != expected or type(actual) is not type(expected):
        return [f"{where}: plan.json has {actual!r}, docs/plan.md {expected!r}"]
    return []


def test_plan_on_the_saved_sweep_reproduces_the_hand_worked_example(tmp_path: Path) -> None:
    arguments, expected = _example()
    completed = loadgen(*arguments, "--out", str(tmp_path), env=WIDE)
    assert completed.returncode == 0, completed.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert _contains(plan["plan"]["models"], expected) == []
    # The console says the same.
    assert "TPM 66,720, TPD 40,032,000, RPM 480" in completed.stdout
    assert "is short: tpm" in completed.stdout
    assert "436.12" in completed.stdout and "22.486" in completed.stdout


def test_the_page_draws_each_priced_option_and_names_those_without_a_price(
    tmp_path: Path,
) -> None:
    arguments, _ = _example()
    completed = loadgen(*arguments, "--out", str(tmp_path), env=WIDE)
    assert completed.returncode == 0, completed.stderr
    page = (tmp_path / "plan.html").read_text()
    assert page.count("<svg") == 1  # one model, one chart
    for label in ("PT, 6 months", "Reserved tier", "on demand, flex"):
        assert label in page
    assert "no latency-optimized rates" in page


def test_plan_reads_run_folders_and_a_peak_in_tokens(tmp_path: Path) -> None:
    stage = EXAMPLE / "sweep" / "openai.gpt-oss-120b-1_0" / "rate-2"
    # 139 tokens a request (39 + 100): 83,400 tokens a minute are 600 requests, 10 a second.
    completed = loadgen(
        "plan", str(stage), "--peak-tpm", "83400", "--no-html", "--out", str(tmp_path), env=WIDE
    )
    assert completed.returncode == 0, completed.stderr
    assert not (tmp_path / "plan.html").exists()
    model = json.loads((tmp_path / "plan.json").read_text())["plan"]["models"][
        "openai.gpt-oss-120b-1:0"
    ]
    assert model["measured"]["requests"] == 10
    assert model["load"]["peak_rps"] == 10.0
    assert model["options"]["provisioned_six_months"]["monthly_usd"] is None  # no quote given
    assert any("--model-unit-tpm" in note for note in model["notes"])


def test_plan_without_a_peak_or_a_run_says_what_is_missing(tmp_path: Path) -> None:
    no_peak = loadgen("plan", str(EXAMPLE / "sweep"), "--out", str(tmp_path))
    assert no_peak.returncode == 2
    assert "--peak-rps or --peak-tpm" in no_peak.stderr
    no_run = loadgen("plan", str(tmp_path), "--peak-rps", "1", "--out", str(tmp_path))
    assert no_run.returncode == 2
    assert "no report.json there" in no_run.stderr


def test_prices_shows_a_quote_for_one_model_in_full() -> None:
    completed = loadgen(
        "prices",
        "--model",
        "openai.gpt-oss-120b-1:0",
        "--prices",
        str(EXAMPLE / "quote.yaml"),
        env={"COLUMNS": "80"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "priority" in completed.stdout and "0.2625" in completed.stdout
    words = " ".join(completed.stdout.split())  # lines folded at 80 columns, joined
    assert "model unit-hour: none 1.5, one month 0.7, six months 0.5" in words
    assert "Reserved tier, USD per 1K TPM-month: input 2, output 10" in words
    assert max(len(line) for line in completed.stdout.splitlines()) <= 80
