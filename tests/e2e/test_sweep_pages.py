"""A sweep with stages of seconds against the emulator: short stages lengthened with a warning,
"no SLOs given" when there are none, sweep.html written and read again by `loadgen report`;
then sweep.html and compare.html in headless Chromium at 420, 1000 and 1920 px: no table
wider than its section, and compare's colours following its verdicts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import loadgen, needs_chromium, offline_chromium, offline_page

MODEL = "slotted-model"
SLOTS, TTFT_MS, ITL_MS, TOKENS = 3, 50, 10, 11  # about 20 req/s of capacity
LOW, HIGH = 10, 40  # req/s: below the capacity, and twice above it
ASKED_S, MIN_REQUESTS = 1, 20  # 1 s at 10 req/s offers 10: that stage runs 2 s
WIDTHS = (420, 1000, 1920)
MUTED, BAD = "rgb(107, 114, 128)", "rgb(185, 28, 28)"  # base.html.j2's --muted and --bad
# Per table: whether it reaches past its section, or makes the section scroll sideways.
OVERFLOWING_TABLES = """() => [...document.querySelectorAll('table')].flatMap(table => {
  const section = table.closest('section');
  const box = table.getBoundingClientRect(), outer = section.getBoundingClientRect();
  const out = box.left < outer.left - 0.5 || box.right > outer.right + 0.5
    || section.scrollWidth > section.clientWidth + 1;
  return out ? [`${section.id}: table ${Math.round(box.width)} px in ${Math.round(outer.width)}`]
    : [];
})"""
# Per compare row: its verdict, and the colour its change cell is drawn in.
CHANGE_COLOURS = """() => [...document.querySelectorAll('td[data-label="change"]')].map(cell => [
  cell.parentElement.querySelector('td[data-label="verdict"]').textContent,
  getComputedStyle(cell).color])"""


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    folder = tmp_path_factory.mktemp("sweep-pages")
    scenario = folder / "sweep.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "sweep-pages",
                "models": [MODEL],
                "prompt": {"template": "Summarise: {body}"},
                "dataset": {"rows": [{"id": "a", "body": "word " * 20}]},
                "inference": {"max_tokens": 50},
                "load": {"rate": 1, "arrival": "poisson", "duration": "1s"},
                "cost": {"allow_unpriced": True},
                "emulator": {
                    "profiles": {
                        MODEL: {
                            "ttft_ms": TTFT_MS,
                            "itl_ms": ITL_MS,
                            "output_tokens": TOKENS,
                            "capacity": {"slots": SLOTS, "queue_limit": 3 * SLOTS},
                        }
                    }
                },
                "sweep": {"stage_warmup": "0.5s"},
                "seed": 1,
            }
        )
    )
    out = folder / "out"
    completed = loadgen(
        "sweep", str(scenario), "--emulate", "--out", str(out), "--rates", f"{LOW},{HIGH}",
        "--stage-duration", f"{ASKED_S}s", "--min-stage-requests", str(MIN_REQUESTS),
        timeout=180,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed, out


def _stages(out: Path) -> dict[float, dict[str, Any]]:
    summary = json.loads((out / "sweep.json").read_text())["sweep"]
    return {stage["rate"]: stage for stage in summary["models"][MODEL]["stages"]}


def test_a_stage_too_short_to_judge_runs_longer_with_a_warning(
    sweep_run: tuple[Any, Path],
) -> None:
    completed, out = sweep_run
    stages = _stages(out)
    lengthened = MIN_REQUESTS / LOW  # whole seconds that offer MIN_REQUESTS at LOW
    assert stages[LOW]["duration_s"] == lengthened
    assert stages[HIGH]["duration_s"] == ASKED_S  # 40 offered in 1 s: enough
    for rate, stage in stages.items():
        run = json.loads((Path(stage["out_dir"]) / "report.json").read_text())
        assert run["run"]["load"]["duration"] == stage["duration_s"], rate
    warning = (
        f"{ASKED_S} s at {LOW} req/s offers about {ASKED_S * LOW} requests, fewer than the "
        f"{MIN_REQUESTS} a stage needs to judge its throughput"
    )
    assert warning in completed.stdout.replace("\n", " ")
    summary = json.loads((out / "sweep.json").read_text())["sweep"]
    assert len(summary["warnings"]) == 1 and warning in summary["warnings"][0]


def test_without_slos_the_sweep_says_so_and_never_meets_them(
    sweep_run: tuple[Any, Path],
) -> None:
    completed, out = sweep_run
    stages = _stages(out)
    assert stages[LOW]["verdict"] == "kept up; no SLOs given"
    assert stages[LOW]["meets_slos"] is None
    assert stages[HIGH]["verdict"] == "saturated" and stages[HIGH]["saturation_reasons"]
    assert f"{MODEL}: no SLOs given; kept up to {LOW} req/s" in completed.stdout
    assert "meets SLOs" not in completed.stdout
    # The throughput each stage is judged on carries its interval.
    low, high = stages[LOW]["throughput_interval_rps"]
    assert low < stages[LOW]["throughput_rps"] < high


def test_the_sweep_writes_sweep_html_and_report_reads_the_folder_again(
    sweep_run: tuple[Any, Path], tmp_path: Path
) -> None:
    completed, out = sweep_run
    page = (out / "sweep.html").read_text()
    assert f"sweep: {out / 'sweep.html'}" in completed.stdout.replace("\n", "")
    assert "<script" not in page and page.count('<svg class="chart"') == 1
    assert f"{LOW} (knee)" in page and "no SLOs given" in page
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "sweep.html").unlink()
    printed = loadgen("report", str(copy), "--html", env={"COLUMNS": "200"})
    assert printed.returncode == 0, printed.stderr
    assert "highest good" in printed.stdout and f"{MODEL}: stages" in printed.stdout
    assert "no SLOs given; kept up to" in printed.stdout
    assert (copy / "sweep.html").read_text().count('<svg class="chart"') == 1
    as_json = loadgen("report", str(copy / "sweep.json"), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == json.loads((out / "sweep.json").read_text())


@needs_chromium
def test_sweep_and_compare_pages_fit_any_screen(
    sweep_run: tuple[Any, Path], tmp_path: Path
) -> None:
    _, out = sweep_run
    stages = _stages(out)
    compare_html = tmp_path / "compare.html"
    compared = loadgen(
        "compare", stages[LOW]["out_dir"], stages[HIGH]["out_dir"], "--html", str(compare_html),
        "--allow-different-targets", "--quiet",
    )  # fmt: skip
    assert compared.returncode in (0, 4), compared.stderr  # 4: the saturated stage regressed
    compared_page = compare_html.read_text()
    assert "<b>base</b>: " in compared_page and "<b>new</b>: " in compared_page  # trust lines
    pages = {"sweep": out / "sweep.html", "compare": compare_html}
    overflowing: dict[str, list[str]] = {}
    colours: list[list[str]] = []
    with offline_chromium() as browser:
        for width in WIDTHS:
            with offline_page(browser, width) as page:
                for name, path in pages.items():
                    page.goto(path.as_uri(), wait_until="load")
                    key = f"{name} at {width} px"
                    overflowing[key] = page.evaluate(OVERFLOWING_TABLES)
                    sideways = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                    if sideways > 0:
                        overflowing[key].append(f"the page scrolls {sideways} px sideways")
                    shot = tmp_path / f"{name}-{width}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    assert shot.stat().st_size > 20_000, shot
                    if name == "compare":
                        colours = page.evaluate(CHANGE_COLOURS)
    print(f"screenshots: {tmp_path}")
    assert all(not problems for problems in overflowing.values()), overflowing
    verdicts = {verdict for verdict, _ in colours}
    assert "regression" in verdicts and "no significant change" in verdicts, colours
    for verdict, colour in colours:
        if verdict == "regression":
            assert colour == BAD, (verdict, colour)
        elif verdict == "no significant change" or verdict.startswith("not tested"):
            assert colour == MUTED, (verdict, colour)  # greyed, whatever its sign
        assert re.fullmatch(r"rgb\(\d+, \d+, \d+\)", colour)
