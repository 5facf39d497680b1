"""Whether two runs were made against the same thing, before `loadgen compare` calls any
change between them a regression.

A baseline recorded against an older emulator, another endpoint or another scenario differs
from today's run for reasons that are not regressions: the nightly job once reported output
tokens/s 36 % down for every model because the emulator's answers had changed since its
baselines were recorded. So compare first sets the two reports' provenance side by side:

- the target: the built-in emulator, Bedrock or an OpenAI-compatible endpoint (run.target);
  its API; and, for a real endpoint, its region and URL (the emulator's port changes per run);
- the load model (run.load), without its length: loop, rate and its shape, arrivals, users
  and think time, model order;
- the scenario's and dataset's digests, the emulator's version and each common model's
  emulator profile (run.provenance, loadgen/run/provenance.py).

Any difference makes compare refuse (exit 9) and name what differs, unless the user allows it
(`--allow-different-targets`), when the difference is still printed beside the comparison. A
report written before loadgen recorded its provenance cannot be checked: that is said, and
the comparison goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from loadgen.core.errors import LoadgenError
from loadgen.report.schema import Report

EXIT_NOT_COMPARABLE = 9
ALLOW_FLAG = "--allow-different-targets"

# run.load's keys that make two runs different tests; its length (duration, requests,
# warmup), max_in_flight and note do not.
LOAD_KEYS = (
    "loop",
    "rate_shape",
    "rate",
    "arrival",
    "cv",
    "ramp",
    "stages",
    "concurrency",
    "think_time",
    "model_order",
)


class NotComparable(LoadgenError):
    """The two runs were not made against the same thing: no change between them can be
    called a regression (exit 9)."""

    exit_code = EXIT_NOT_COMPARABLE


@dataclass(frozen=True)
class Difference:
    what: str
    base: object
    new: object

    def describe(self, labels: tuple[str, str]) -> str:
        return f"{self.what}: {_shown(self.base)} in {labels[0]}, {_shown(self.new)} in {labels[1]}"


def differences(base: Report, new: Report) -> list[Difference]:
    """What differs between the two runs' provenance, for the models they share. Parts a
    report does not record (one written before schema_version 3) are not compared."""
    return [d for d in _all_differences(base, new) if d.base != d.new]


def unrecorded(report: Report, label: str) -> str | None:
    """A note when `report` has no provenance, so nothing says what produced it."""
    if "provenance" in report["run"]:
        return None
    return (
        f"{label} has no provenance (written before loadgen recorded it, schema_version "
        f"{report['schema_version']}): whether both runs were made against the same emulator "
        "version, scenario and dataset cannot be checked; record the baseline again"
    )


def check_comparable(
    base: Report, new: Report, labels: tuple[str, str], *, allow_different: bool
) -> list[str]:
    """Notes for the comparison; raise NotComparable, naming each difference, when the runs
    were made against different things and that is not allowed."""
    found = [d.describe(labels) for d in differences(base, new)]
    if found and not allow_different:
        listed = "\n".join(f"  - {line}" for line in found)
        raise NotComparable(
            f"compare refused: {labels[0]} and {labels[1]} were not made against the same "
            f"thing, so no change between them can be called a regression:\n{listed}\n"
            f"Record the baseline again against today's target (make baseline), or pass "
            f"{ALLOW_FLAG} to compare them anyway."
        )
    notes = [f"compared anyway ({ALLOW_FLAG}): {line}" for line in found]
    notes.extend(
        note
        for note in (unrecorded(base, labels[0]), unrecorded(new, labels[1]))
        if note is not None
    )
    return notes


def _all_differences(base: Report, new: Report) -> Iterator[Difference]:
    runs = base["run"], new["run"]
    targets = runs[0]["target"], runs[1]["target"]
    kinds = tuple(_target_kind(t) for t in targets)
    yield Difference("target", *kinds)
    if kinds[0] == kinds[1]:
        yield Difference("API", targets[0]["api"], targets[1]["api"])
        if kinds[0] != "emulator":
            yield Difference("region", targets[0]["region"], targets[1]["region"])
            yield Difference("endpoint", targets[0]["endpoint_url"], targets[1]["endpoint_url"])
    loads: tuple[Mapping[str, object], Mapping[str, object]] = runs[0]["load"], runs[1]["load"]
    if all("loop" in load for load in loads):  # before schema_version 3: another shape
        for key in LOAD_KEYS:
            yield Difference(f"load.{key}", loads[0].get(key), loads[1].get(key))
    provenance = runs[0].get("provenance"), runs[1].get("provenance")
    if provenance[0] is None or provenance[1] is None:
        return
    yield Difference(
        "scenario digest", provenance[0]["scenario_sha256"], provenance[1]["scenario_sha256"]
    )
    yield Difference(
        "dataset digest", provenance[0]["dataset_sha256"], provenance[1]["dataset_sha256"]
    )
    emulators = provenance[0]["emulator"], provenance[1]["emulator"]
    if emulators[0] is None or emulators[1] is None:
        return  # not both emulated: the target differs, said above
    yield Difference("emulator version", emulators[0]["version"], emulators[1]["version"])
    profiles = emulators[0]["profiles"], emulators[1]["profiles"]
    for model in base["models"]:
        if model in new["models"] and model in profiles[0] and model in profiles[1]:
            used = profiles[0][model], profiles[1][model]
            yield Difference(
                f"emulator profile of {model}",
                f"{used[0]['profile']} ({used[0]['sha256'][:12]})",
                f"{used[1]['profile']} ({used[1]['sha256'][:12]})",
            )


def _target_kind(target: Mapping[str, object]) -> str:
    """emulator, bedrock or openai: what answered, whatever its address."""
    return "emulator" if target.get("emulated") else str(target.get("provider"))


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12]  # a digest: its first 12 hex digits tell two apart
    return str(value)
