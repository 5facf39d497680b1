"""Command-line settings laid over an emulator config: seed, quotas, slots, fault rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loadgen.emulator.profiles import FAULT_KINDS, EmulatorConfig


def parse_fault(text: str) -> tuple[str, float]:
    """KIND=RATE, e.g. throttle=0.05 (ValueError naming what is wrong)."""
    kind, sep, rate = text.partition("=")
    kind = kind.strip()
    if not sep:
        raise ValueError(f"{text!r}: write KIND=RATE, e.g. throttle=0.05")
    if kind not in FAULT_KINDS:
        raise ValueError(f"{kind!r} is not a fault; choose from {', '.join(FAULT_KINDS)}")
    try:
        value = float(rate)
    except ValueError:
        raise ValueError(f"{text!r}: the rate must be a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{text!r}: the rate must be a number from 0 to 1")
    return kind, value


def apply_overrides(
    config: EmulatorConfig,
    *,
    seed: int | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    tpd: int | None = None,
    quotas: bool = True,
    slots: int | None = None,
    queue_limit: int | None = None,
    faults: Sequence[str] = (),
) -> EmulatorConfig:
    """A new config; pydantic's ValidationError (or ValueError) for values out of range."""
    rates = dict(parse_fault(text) for text in faults)
    if rates:
        config = config.with_faults(rates)
    data: dict[str, Any] = config.model_dump(mode="json")
    if seed is not None:
        data["seed"] = seed
    data["quotas"]["enabled"] = quotas
    if rpm is not None:
        data["quotas"]["rpm"] = rpm
    if tpm is not None:
        data["quotas"]["tpm"] = tpm
    if tpd is not None:
        data["quotas"]["tpd"] = tpd
    if slots is not None or queue_limit is not None:
        data["capacity"] = {"slots": slots, "queue_limit": queue_limit}
    return EmulatorConfig.model_validate(data)
