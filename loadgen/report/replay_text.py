"""A replay's part of the console summary: the source beside what was replayed (requests,
rates, token percentiles, model mix), then what was read and skipped, and the rules followed."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from loadgen.report.fit import Column, fitted_tables
from loadgen.report.replay_types import ReplayDistribution, ReplaySection

FIGURE = Column("replay", justify="left")
SIDES = [Column("source"), Column("replayed")]


def print_replay(section: ReplaySection, console: Console) -> None:
    for table in fitted_tables(
        "replay: the log beside what was sent", [FIGURE], SIDES, replay_rows(section), console.width
    ):
        console.print(table)
    for line in replay_lines(section):
        console.print(Text(line, style="dim"))


def replay_rows(section: ReplaySection) -> list[list[str]]:
    arrivals = section["arrivals"]
    bin_s = arrivals["bin_s"]
    rows = [
        ["requests", f"{section['selected']:,}", f"{section['sent']:,}"],
        ["mean req/s", _number(arrivals["source_rps"]), _number(arrivals["replayed_rps"])],
        [
            f"peak req/s ({bin_s:g} s bins)",
            _number(max(arrivals["source"], default=0) / bin_s),
            _number(max(arrivals["replayed"], default=0) / bin_s),
        ],
    ]
    for name, tokens in (("input", section["input_tokens"]), ("output", section["output_tokens"])):
        rows.append(
            [f"{name} tokens p50/p95/p99", _spread(tokens["source"]), _spread(tokens["replayed"])]
        )
    for mix in section["models"]:
        rows.append([escape(mix["model"]), f"{mix['source']:,}", f"{mix['replayed']:,}"])
    return rows


def replay_lines(section: ReplaySection) -> list[str]:
    layouts = ", ".join(f"{name} {count:,}" for name, count in section["layouts"].items())
    skipped = _counts(section["skipped_records"])
    files = _counts(section["skipped_files"])
    lines = [
        f"replay read {section['records']:,} records from {section['files']:,} files"
        + (f" ({layouts})" if layouts else "")
        + f"; skipped: {skipped or 'none'}"
        + (f"; files skipped: {files}" if files else ""),
        f"speed x{section['speed']:g}, rate scale x{section['rate_scale']:g}"
        + (f" ({section['thinned']:,} thinned)" if section["thinned"] else "")
        + (f" ({section['added']:,} copies added)" if section["added"] else "")
        + f"; timestamps mark the call's {section['timestamps']['marks']}"
        + f"; prompts: {section['prompts']['logged']:,} logged, "
        f"{section['prompts']['synthetic']:,} synthetic",
    ]
    options = section.get("options_sent")
    sent = {
        name: count for name, count in (options or {}).items() if isinstance(count, int) and count
    }
    left_out = section.get("options_left_out", {})
    if sent or left_out:
        lines.append(
            f"options sent as logged: {_counts(sent) or 'none'}"
            + (f"; not sent: {_counts(left_out)}" if left_out else "")
        )
    if section["spreading"]["seconds_spread"]:  # only logs to the second are spread
        spreading = section["spreading"]
        lines.append(f"within a logged second: {spreading['rule']} (seed {spreading['seed']})")
    for example in section["skipped_examples"][:3]:
        detail = f" ({example['detail']})" if example["detail"] else ""
        lines.append(f"skipped {example['reason']}: {example['where']}{detail}")
    return lines


def _spread(tokens: ReplayDistribution) -> str:
    if tokens["p50"] is None:
        return "-"
    return f"{tokens['p50']:,.0f} / {tokens['p95']:,.0f} / {tokens['p99']:,.0f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in sorted(counts.items()))
