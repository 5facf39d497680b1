"""What the runs measured per model, for a plan: successful requests and their token totals, the
max_tokens they asked for, the region and the quotas they ran against.

The sources are run folders (report.json, samples.jsonl) or a sweep's folder (sweep.json and
every stage's run folder). Tokens come from samples.jsonl, which has each request's cache reads
and writes; a run without one is read from its report's token totals, with no cache tokens
(said in the notes). Only measured requests that succeeded with the server's own usage count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loadgen.capacity.saved import load_sweep, sweep_path
from loadgen.core.errors import ConfigError
from loadgen.core.sample import Sample, read_samples
from loadgen.report.saved_run import SavedRun, load_run, reading


@dataclass
class TokenTotals:
    """Token counts summed over requests (Bedrock's usage fields)."""

    requests: int = 0
    input: int = 0  # usage.inputTokens: input neither read from nor written to the cache
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def add(self, sample: Sample) -> None:
        self.requests += 1
        self.input += sample.input_tokens or 0
        self.output += sample.output_tokens or 0
        self.cache_read += sample.cache_read_tokens or 0
        self.cache_write += sample.cache_write_tokens or 0

    def merge(self, other: TokenTotals) -> None:
        self.requests += other.requests
        self.input += other.input
        self.output += other.output
        self.cache_read += other.cache_read
        self.cache_write += other.cache_write


@dataclass(frozen=True)
class GivenQuota:
    """The quota a run was measured against (report.json `quota.models.<id>.limits`)."""

    tpm: int | None
    tpd: int | None
    rpm: int | None
    source: str  # "scenario", "account", "emulator" (of the run), or "--quota"


@dataclass
class Measured:
    """One model, over every source that sent it requests."""

    model: str
    # Requests by their input (plain + cache read + cache write): at or below the model's
    # long-context threshold, and above it. Without long-context rates, all are in `regular`.
    regular: TokenTotals = field(default_factory=TokenTotals)
    long: TokenTotals = field(default_factory=TokenTotals)
    max_tokens: int | None = None  # the most any source asked for (what a request reserves)
    regions: list[str] = field(default_factory=list)
    quota: GivenQuota | None = None
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> TokenTotals:
        both = TokenTotals()
        both.merge(self.regular)
        both.merge(self.long)
        return both


def find_runs(paths: Iterable[Path]) -> list[SavedRun]:
    """Every run the paths name: a run folder (or its report.json), or a sweep folder (or its
    sweep.json), whose stages are runs of their own."""
    runs: list[SavedRun] = []
    for path in paths:
        found = sweep_path(path)
        if found is None:
            runs.append(load_run(path))
        else:
            runs += _sweep_stages(found)
    return runs


def _sweep_stages(path: Path) -> list[SavedRun]:
    document = load_sweep(path)
    stages = []
    for model, data in document["sweep"]["models"].items():
        for stage in data.get("stages", []):
            stages.append(load_run(_stage_folder(path.parent, model, stage["out_dir"])))
    if not stages:
        raise ConfigError(["the sweep ran no stage: nothing was measured"], str(path))
    return stages


def _stage_folder(sweep_dir: Path, model: str, out_dir: str) -> Path:
    """A stage's folder as sweep.json names it, or, for a sweep folder moved or copied
    elsewhere, the same model/rate folder under this sweep's own folder."""
    named = Path(out_dir)
    if not named.is_absolute():
        named = sweep_dir / named
    if (named / "report.json").is_file():
        return named
    return sweep_dir / named.parent.name / named.name


def measure(
    runs: Iterable[SavedRun], long_context_above: dict[str, int | None]
) -> dict[str, Measured]:
    """Per model (in the order first met), what its successful measured requests used.
    `long_context_above`: each model's long-context threshold (None: it has none), by which
    requests are split, since those above it are billed at other rates."""
    measured: dict[str, Measured] = {}
    for run in runs:
        with reading(run):
            _add_run(run, measured, long_context_above)
    return measured


def models_of(runs: Iterable[SavedRun]) -> list[str]:
    models: list[str] = []
    for run in runs:
        models += [model for model in run.report["models"] if model not in models]
    return models


def _add_run(
    run: SavedRun, measured: dict[str, Measured], long_context_above: dict[str, int | None]
) -> None:
    report = run.report
    region = report["run"]["target"].get("region")
    quota_section = report.get("quota", {}).get("models", {})
    for model in report["models"]:
        entry = measured.setdefault(model, Measured(model))
        entry.sources.append(run.label)
        if region and region not in entry.regions:
            entry.regions.append(region)
        quota = quota_section.get(model)
        if quota is not None:
            entry.max_tokens = max(entry.max_tokens or 0, quota["max_tokens"])
            limits = quota["limits"]
            if limits and entry.quota is None:
                first = next(iter(limits.values()))
                entry.quota = GivenQuota(
                    tpm=limits["tpm"]["limit"] if "tpm" in limits else None,
                    tpd=limits["tpd"]["limit"] if "tpd" in limits else None,
                    rpm=limits["rpm"]["limit"] if "rpm" in limits else None,
                    source=first["source"],
                )
    samples_path = run.samples_path
    if samples_path is None:
        _add_from_report(run, measured)
        return
    for sample in read_samples(samples_path):
        if sample.warmup or not sample.ok or sample.tokens_estimated:
            continue
        if sample.input_tokens is None or sample.output_tokens is None:
            continue
        entry = measured.setdefault(sample.model, Measured(sample.model))
        above = long_context_above.get(sample.model)
        all_input = (
            sample.input_tokens + (sample.cache_read_tokens or 0) + (sample.cache_write_tokens or 0)
        )
        (entry.long if above is not None and all_input > above else entry.regular).add(sample)


def _add_from_report(run: SavedRun, measured: dict[str, Measured]) -> None:
    """A run without samples.jsonl: its report's token totals over its successful requests;
    cache tokens are not in a report, so none are counted."""
    for model, section in run.report["models"].items():
        tokens = section["tokens"]
        ok = section["requests"]["ok"] - tokens["estimated_requests"]
        entry = measured[model]
        entry.regular.merge(
            TokenTotals(
                requests=max(ok, 0),
                input=tokens["input"]["total"],
                output=tokens["output"]["total"],
            )
        )
        entry.notes.append(
            f"{run.label} has no samples.jsonl: its tokens are from report.json, without cache "
            "reads and writes"
        )
