"""What every section of a scenario is built on: a strict pydantic model and durations."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from loadgen.core.durations import parse_duration

# "30s", "2m", "500ms" or plain seconds, as a float of seconds.
Seconds = Annotated[float, BeforeValidator(parse_duration)]


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must not be ignored), values are frozen and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
