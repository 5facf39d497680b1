"""What a plan is asked for: the load at peak and how long it lasts, and what one Provisioned
Throughput model unit processes."""

from __future__ import annotations

from dataclasses import dataclass

from loadgen.config.scenario import HOURS_PER_MONTH
from loadgen.core.errors import ConfigError

HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = HOURS_PER_MONTH / HOURS_PER_DAY  # 730 h / 24: the month AWS's calculator takes

# What one model unit processes per minute is quoted per account ("For more information about
# what an MU specifies, pricing per MU ... contact your AWS account manager", Bedrock user guide,
# Provisioned Throughput). Without that figure (--model-unit-tpm), a plan takes the smallest
# capacity AWS sells by tokens per minute: the Reserved tier's minimum reservation, 100,000 input
# and 10,000 output tokens per minute (user guide, service tiers). A placeholder, said in every
# plan that uses it: replace it with the account team's figure.
DEFAULT_UNIT_INPUT_TPM = 100_000
DEFAULT_UNIT_OUTPUT_TPM = 10_000


@dataclass(frozen=True)
class Target:
    """The load to plan for, per model: a peak rate (or tokens per minute) held for
    `hours_per_day` on `days_per_month` days, nothing outside them; `deferrable_share` of it
    can wait and goes to batch."""

    peak_rps: float | None = None
    peak_tpm: float | None = None
    hours_per_day: float = HOURS_PER_DAY
    days_per_month: float = DAYS_PER_MONTH
    deferrable_share: float = 0.0
    hours_per_month: float = HOURS_PER_MONTH

    def __post_init__(self) -> None:
        problems = []
        if (self.peak_rps is None) == (self.peak_tpm is None):
            problems.append("give the peak as one of --peak-rps or --peak-tpm")
        for name in ("peak_rps", "peak_tpm"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                problems.append(f"--{name.replace('_', '-')} must be above 0, got {value}")
        if not 0 < self.hours_per_day <= HOURS_PER_DAY:
            problems.append(f"--hours-per-day must be in (0, 24], got {self.hours_per_day}")
        if not 0 < self.days_per_month <= 31:
            problems.append(f"--days-per-month must be in (0, 31], got {self.days_per_month}")
        if not 0 <= self.deferrable_share < 1:
            problems.append(
                f"--deferrable-share must be in [0, 1), got {self.deferrable_share}: some of "
                "the load must be interactive for on-demand, PT and reserved to mean anything"
            )
        if not 0 < self.hours_per_month <= 744:
            problems.append(f"--hours-per-month must be in (0, 744], got {self.hours_per_month}")
        if problems:
            raise ConfigError(problems, "loadgen plan")

    @property
    def peak_hours_per_month(self) -> float:
        return self.hours_per_day * self.days_per_month


@dataclass(frozen=True)
class ModelUnit:
    """Tokens per minute one Provisioned Throughput model unit processes: input (and cache
    writes) and output, which AWS specifies apart."""

    input_tpm: int = DEFAULT_UNIT_INPUT_TPM
    output_tpm: int = DEFAULT_UNIT_OUTPUT_TPM
    given: bool = False  # False: the documented default


def parse_model_units(values: tuple[str, ...]) -> tuple[ModelUnit, dict[str, ModelUnit]]:
    """--model-unit-tpm values: `IN/OUT` for every model, `MODEL=IN/OUT` for one (IN alone:
    the output figure keeps its default). Returns (every model's, by model)."""
    every = ModelUnit()
    by_model: dict[str, ModelUnit] = {}
    for value in values:
        model, equals, figures = value.rpartition("=")
        unit = _unit(figures, value)
        if equals:
            by_model[model] = unit
        else:
            every = unit
    return every, by_model


def _unit(figures: str, value: str) -> ModelUnit:
    first, slash, second = figures.partition("/")
    try:
        input_tpm = int(first.replace("_", "").replace(",", ""))
        output_tpm = (
            int(second.replace("_", "").replace(",", "")) if slash else DEFAULT_UNIT_OUTPUT_TPM
        )
    except ValueError:
        raise ConfigError(
            [f"--model-unit-tpm {value!r}: expected [MODEL=]INPUT_TPM[/OUTPUT_TPM]"], "loadgen plan"
        ) from None
    if input_tpm <= 0 or output_tpm <= 0:
        raise ConfigError([f"--model-unit-tpm {value!r}: figures must be above 0"], "loadgen plan")
    return ModelUnit(input_tpm, output_tpm, given=True)


@dataclass(frozen=True)
class QuotaOption:
    tpm: int | None = None
    tpd: int | None = None
    rpm: int | None = None


def parse_quotas(values: tuple[str, ...]) -> tuple[QuotaOption | None, dict[str, QuotaOption]]:
    """--quota values: `tpm=N,tpd=N,rpm=N` (any of them) for every model, or `MODEL:tpm=N,...`
    for one. Model ids contain ':' too: the model is what precedes the last ':' before the
    first '='."""
    every: QuotaOption | None = None
    by_model: dict[str, QuotaOption] = {}
    for value in values:
        head, _, _ = value.partition("=")
        model, colon, _ = head.rpartition(":")
        figures = value[len(model) + 1 :] if colon else value
        quota = _quota(figures, value)
        if colon:
            by_model[model] = quota
        else:
            every = quota
    return every, by_model


def _quota(figures: str, value: str) -> QuotaOption:
    found: dict[str, int] = {}
    for part in figures.split(","):
        name, equals, number = part.strip().partition("=")
        name = name.strip().lower()
        try:
            count = int(number.strip().replace("_", ""))
        except ValueError:
            count = 0
        if not equals or name not in ("tpm", "tpd", "rpm") or count <= 0:
            raise ConfigError(
                [f"--quota {value!r}: expected [MODEL:]tpm=N[,tpd=N][,rpm=N], each N above 0"],
                "loadgen plan",
            )
        found[name] = count
    return QuotaOption(**found)
