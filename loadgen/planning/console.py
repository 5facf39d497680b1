"""A plan on the terminal: per model, what was measured, the load, the quota to request and a
table of every option's monthly bill, fitted to the terminal's width."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from loadgen.planning.schema import ModelPlan, OptionBill, OptionName, PlanDocument
from loadgen.report.fit import Column, fitted_tables

OPTION_LABELS: dict[OptionName, str] = {
    "on_demand_standard": "on demand, standard",
    "on_demand_priority": "on demand, priority",
    "on_demand_flex": "on demand, flex",
    "latency_optimized": "latency-optimised",
    "provisioned_none": "PT, no commitment",
    "provisioned_one_month": "PT, 1 month",
    "provisioned_six_months": "PT, 6 months",
    "reserved": "Reserved tier",
}
COLUMNS = [
    Column("USD / month"),
    Column("x standard"),
    Column("break-even\nreq/s"),
    Column("how", "left"),
]


def print_plan(document: PlanDocument, console: Console) -> None:
    plan = document["plan"]
    target = plan["inputs"]["target"]
    for model, data in plan["models"].items():
        console.print(Text(f"plan for {model}", style="bold"))
        for line in model_lines(data, target["hours_per_day"], target["days_per_month"]):
            console.print(Text(line))
        rows = [_row(name, bill, data) for name, bill in data["options"].items()]
        for table in fitted_tables(None, [Column("option", "left")], COLUMNS, rows, console.width):
            console.print(table)
        for why, names in _unpriced(data).items():
            console.print(Text(f"no price: {', '.join(names)}: {why}", style="dim"))
        if data["cheapest"] is not None:
            console.print(Text(f"cheapest: {OPTION_LABELS[data['cheapest']]}", style="green"))
        for note in data["notes"]:
            console.print(Text(f"note: {note}", style="dim"))
        console.print()


def _unpriced(data: ModelPlan) -> dict[str, list[str]]:
    """The options without a bill, grouped by why."""
    grouped: dict[str, list[str]] = {}
    for name, bill in data["options"].items():
        if bill["why"] is not None:
            grouped.setdefault(bill["why"], []).append(OPTION_LABELS[name])
    return grouped


def model_lines(data: ModelPlan, hours_per_day: float, days_per_month: float) -> list[str]:
    measured, load, quota = data["measured"], data["load"], data["quota"]
    lines = [
        f"measured: {measured['requests']:,} requests; each {_n(measured['input'])} input, "
        f"{_n(measured['output'])} output, {_n(measured['cache_read'])} cache read, "
        f"{_n(measured['cache_write'])} cache write tokens; max_tokens {measured['max_tokens']:,}",
        f"load: {_n(load['peak_rps'])} req/s at peak ({_n(load['interactive_rps'])} interactive) "
        f"{_n(hours_per_day)} h a day, {_n(days_per_month)} days: "
        f"{_n(load['requests_per_month'])} requests a month, "
        f"{_n(load['deferrable_requests_per_month'])} of them by {data['deferrable_via']}",
        f"quota to request ({quota['pool'].replace('_', '-')}): TPM {quota['tpm']:,}, "
        f"TPD {quota['tpd']:,}, RPM {quota['rpm']:,} (where the model has one)" + _fits(data),
    ]
    return lines


def _fits(data: ModelPlan) -> str:
    quota = data["quota"]
    given = quota["given"]
    if given is None:
        return ""
    if quota["fits"]:
        return f"; fits the given quota ({given['source']})"
    return f"; the given quota ({given['source']}) is short: {', '.join(quota['short'])}"


def _row(name: OptionName, bill: OptionBill, data: ModelPlan) -> list[str]:
    monthly = bill["monthly_usd"]
    standard = data["options"]["on_demand_standard"]["monthly_usd"]
    ratio = "-" if monthly is None or not standard else f"{monthly / standard:.2f}"
    even = bill["break_even_rps"]
    return [
        OPTION_LABELS[name],
        "-" if monthly is None else f"{monthly:,.2f}",
        ratio,
        "-" if even is None else _n(even),
        _how(bill),
    ]


def _how(bill: OptionBill) -> str:
    if bill["monthly_usd"] is None:
        return "[dim]no price[/dim]"
    if bill["units"] is not None and bill["hourly_usd"] is not None:
        return f"{bill['units']} MU x {bill['hourly_usd']:g}/h x {_n(bill['hours'] or 0)} h"
    if bill["reserved_input_tpm"] is not None:
        return (
            f"{_n(bill['reserved_input_tpm'])} in / {_n(bill['reserved_output_tpm'] or 0)} out TPM"
        )
    return "per token"


def _n(value: float) -> str:
    """A figure as a reader checks it: thousands separated, no float noise."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")
