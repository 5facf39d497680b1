"""The scenario's `quality:` block: which sections to expect and how to weigh the scores.

Kept apart from loadgen/quality/scoring.py so that reading a scenario does not import the scorers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class QualityWeights(_Strict):
    """Weights of the combined score. A part with no data for a row (no key facts, no
    reference summary, no sections asked for) drops out and the others are scaled up."""

    key_facts: float = Field(0.5, ge=0)
    structure: float = Field(0.2, ge=0)
    rouge_l: float = Field(0.2, ge=0)
    length: float = Field(0.1, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> QualityWeights:
        if self.key_facts + self.structure + self.rouge_l + self.length <= 0:
            raise ValueError("at least one quality weight must be above 0")
        return self


class QualitySpec(_Strict):
    enabled: bool = True
    # The headings a response must have. Default: read from prompt.template, every line
    # `Heading: what to write` that has no {placeholder}.
    sections: list[str] | None = None
    weights: QualityWeights = QualityWeights()
    min_words: int = Field(20, ge=0, description="fewer words than this lowers the length score")
    max_words: int = Field(300, ge=1, description="more words than this lowers the length score")
    worst: int = Field(3, ge=0, le=50, description="how many worst responses the report lists")

    @model_validator(mode="after")
    def _bounds(self) -> QualitySpec:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is above max_words ({self.max_words})")
        return self
