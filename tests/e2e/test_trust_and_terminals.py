"""A run that drops most of its requests, against the emulator, as CI sees it (stdout a pipe):
the trust line first, the emulated banner, the verdict void, exit 8 with --fail-on-limited,
progress lines while it runs, plain text without padding; and its report.html in headless
Chromium at three widths. The parts on their own: tests/unit/report/test_trust.py,
tests/unit/report/test_console_widths.py, tests/unit/run/test_progress_lines.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO, loadgen, needs_chromium, offline_chromium, offline_page

MODEL = "us.amazon.nova-lite-v1:0"
# About 1.3 s a request: at 8 req/s, 3 in flight hold 2 or 3 req/s, and the rest is dropped.
SLOW = {"ttft_ms": 300, "ttft_jitter_ms": 20, "itl_ms": 25, "output_tokens": 40}
WIDTHS = (420, 1000, 1920)


def _scenario(folder: Path) -> Path:
    data = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())
    data["dataset"]["path"] = str(REPO / "scenarios" / "data" / "emails.jsonl")
    data["models"] = [MODEL]
    data["emulator"] = {"seed": 3, "profiles": {"amazon.nova-lite-v1:0": SLOW}}
    path = folder / "dropping.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(folder: Path, *flags: str) -> tuple[Any, Path]:
    out = folder / "out"
    completed = loadgen(
        "run",
        str(_scenario(folder)),
        "--max-in-flight",
        "3",
        "--rps",
        "8",
        "--duration",
        "4s",
        "--seed",
        "5",
        "--emulate",
        "--skip-preflight",
        "--out",
        str(out),
        *flags,
        env={"LOADGEN_PROGRESS_EVERY": "1"},  # a progress line a second instead of every 10
    )
    return completed, out


@pytest.fixture(scope="module")
def dropping_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return _run(tmp_path_factory.mktemp("dropping"), "--fail-on-limited")


def test_fail_on_limited_exits_8_and_says_why(dropping_run: tuple[Any, Path]) -> None:
    completed, out = dropping_run
    assert completed.returncode == 8, completed.stderr
    assert "exit code 8" in completed.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["generator"]["dropped"] > 0
    assert report["trust"]["trustworthy"] is False
    assert report["run"]["emulated"] is True


def test_without_fail_on_limited_the_same_run_exits_0(tmp_path: Path) -> None:
    completed, out = _run(tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads((out / "report.json").read_text())["trust"]["trustworthy"] is False


def test_the_summary_opens_with_the_trust_line_and_voids_the_verdict(
    dropping_run: tuple[Any, Path],
) -> None:
    completed, out = dropping_run
    report = json.loads((out / "report.json").read_text())
    dropped = report["run"]["generator"]["dropped"]
    offered = dropped + report["run"]["generator"]["dispatched"]
    lines = completed.stdout.splitlines()
    # The summary starts with it (warnings before the load, and progress lines, come earlier).
    summary = lines[next(i for i, line in enumerate(lines) if line.startswith("trust: ")) :]
    assert summary[0].startswith(f"trust: NOT TRUSTWORTHY: {dropped} of {offered} requests")
    assert summary[1].startswith(" EMULATED  built-in emulator")
    assert summary[2] == "email_summary — completed"
    assert "not trustworthy" in completed.stdout.split("verdict per model")[1]
    assert "all 4 met" not in completed.stdout and "meets every requirement" not in completed.stdout
    assert "(synthetic)" in completed.stdout  # beside costs and the Pareto front


def test_piped_output_is_plain_and_unpadded_with_progress_lines(
    dropping_run: tuple[Any, Path],
) -> None:
    completed, _ = dropping_run
    lines = completed.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert "\x1b[" not in completed.stdout  # no colour codes into a pipe
    assert "…" not in completed.stdout
    progress = [line for line in lines if line.startswith("progress ")]
    assert len(progress) >= 3, completed.stdout
    pattern = (
        r"progress \d+ s of 4 s(: draining)?, sent \d+, in flight \d, dropped \d+, errors \d+, "
        r"TTFT p50 [\d.,-]+ / p99 [\d.,-]+ ms \(last 10 s\), achieved \d+\.\d\d of \d+\.\d\d "
        r"req/s scheduled \(target 8, last \d+ s\)"
    )
    assert all(re.fullmatch(pattern, line) for line in progress), progress
    trust_at = next(i for i, line in enumerate(lines) if line.startswith("trust: "))
    assert lines.index(progress[-1]) < trust_at  # while it ran, before the summary


@needs_chromium
def test_report_html_shows_trust_and_banner_and_clips_no_table_at_any_width(
    dropping_run: tuple[Any, Path], tmp_path: Path
) -> None:
    _, out = dropping_run
    seen: dict[int, dict[str, Any]] = {}
    with offline_chromium() as browser:
        for width in WIDTHS:
            with offline_page(browser, width) as page:
                page.goto((out / "report.html").as_uri(), wait_until="load")
                seen[width] = page.evaluate(LAYOUT_JS)
                page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    print(f"screenshots of report.html: {tmp_path}/report-{{{','.join(map(str, WIDTHS))}}}.png")
    for width, layout in seen.items():
        trust, banner = layout["trust"], layout["banner"]
        assert trust["text"].startswith("trust: NOT TRUSTWORTHY"), (width, trust)
        assert banner["text"].startswith("EMULATED"), (width, banner)
        # Both at the top of the page, whole and inside the viewport's width.
        for box in (trust, banner):
            assert box["height"] > 0 and box["top"] < 400 and box["right"] <= width, (width, box)
        assert layout["pageWidth"] <= width, (width, layout["pageWidth"])
        assert layout["tables"] > 5
        # Every table fits its container or sits in one that scrolls: none is cut off.
        assert layout["clipped"] == [], (width, layout["clipped"])


# Where the trust line and banner are, how wide the page is, and each table wider than the box
# that holds it where that box does not scroll (clipped: part of it cannot be seen).
LAYOUT_JS = """() => {
  const box = (selector) => {
    const element = document.querySelector(selector);
    const rect = element.getBoundingClientRect();
    return {text: element.innerText.trim(), top: rect.top, right: rect.right,
            height: rect.height};
  };
  const clipped = [];
  const tables = document.querySelectorAll("table");
  for (const table of tables) {
    let holder = table.parentElement;
    while (holder && getComputedStyle(holder).overflowX === "visible") {
      holder = holder.parentElement;
    }
    if (!holder || holder === document.body || holder === document.documentElement) continue;
    const scrolls = ["auto", "scroll"].includes(getComputedStyle(holder).overflowX);
    if (!scrolls && table.getBoundingClientRect().width > holder.clientWidth + 1) {
      clipped.push(table.innerText.slice(0, 60));
    }
  }
  return {trust: box("#trust"), banner: box("#emulated"), tables: tables.length, clipped,
          pageWidth: document.documentElement.scrollWidth};
}"""
