"""A synthetic dataset planned into requests (loadgen/plan/prompts.py, synthetic_prompts.py)."""

from __future__ import annotations

import itertools

import pytest

from loadgen.core.errors import ConfigError
from loadgen.plan.phases import closed_loop_requests
from loadgen.plan.prompts import PromptSource, load_rows
from loadgen.plan.synthetic import CharsPerToken
from tests.conftest import ScenarioFactory

SHAPE = {
    "input": {"distribution": "uniform", "min": 300, "max": 3000},
    "output": {"distribution": "uniform", "min": 20, "max": 400},
    "count": 40,
}


def test_each_request_asks_for_its_shape(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(
        models=["a", "b"], dataset={"synthetic": SHAPE, "rows": None}, prompt={"template": "{text}"}
    )
    source = PromptSource(scenario, load_rows(scenario), seed=3)
    requests = list(itertools.islice(closed_loop_requests(scenario, ["a", "b"], source, 0), 80))
    counter = CharsPerToken()
    for request in requests:
        prompt = request.prompt
        assert prompt.input_tokens is not None and prompt.output_tokens is not None
        assert counter.count(prompt.user) == prompt.input_tokens
        assert request.max_tokens == prompt.output_tokens  # not inference.max_tokens (100)
        assert 300 <= prompt.input_tokens <= 3000 and 20 <= prompt.output_tokens <= 400
    assert len({r.prompt.row_id for r in requests}) == SHAPE["count"]  # rows in turn


def test_the_same_seed_plans_the_same_prompts(make_scenario: ScenarioFactory) -> None:
    def texts(seed: int, synthetic_seed: int | None = None) -> dict[str, str]:
        synthetic = {**SHAPE, "seed": synthetic_seed}
        scenario = make_scenario(
            dataset={"synthetic": synthetic, "rows": None}, prompt={"template": "{text}"}
        )
        source = PromptSource(scenario, load_rows(scenario), seed)
        prompts = [source.prompt(i, "fixed-model") for i in range(SHAPE["count"])]
        return {p.row_id: p.user for p in prompts}

    assert texts(1) == texts(1)
    # Another run seed sends the same prompts in another order; another dataset seed, others.
    assert texts(2) == texts(1)
    assert not set(texts(1).values()) & set(texts(1, synthetic_seed=99).values())


def test_each_model_gets_text_made_to_its_own_counter(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(
        models=["a", "b"], dataset={"synthetic": SHAPE, "rows": None}, prompt={"template": "{text}"}
    )
    source = PromptSource(scenario, load_rows(scenario), seed=3)
    assert source.synthetic is not None
    short = CharsPerToken(3.0, 5, "calibrated")
    source.synthetic.use_counters({"b": short})
    source.synthetic.prepare(["a", "b"])
    a, b = source.prompt(7, "a"), source.prompt(7, "b")
    assert (a.row_id, a.input_tokens) == (b.row_id, b.input_tokens)
    assert CharsPerToken().count(a.user) == a.input_tokens
    assert short.count(b.user) == b.input_tokens and len(b.user) < len(a.user)
    assert source.synthetic.methods(["a", "b"]) == {"a": "default", "b": "calibrated"}


def test_requested_tokens_by_row(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(
        dataset={"synthetic": SHAPE, "rows": None}, prompt={"template": "{text}"}
    )
    source = PromptSource(scenario, load_rows(scenario), seed=3)
    requested = source.requested_tokens()
    prompt = source.prompt(5)
    assert requested[prompt.row_id] == (prompt.input_tokens, prompt.output_tokens)
    assert len(requested) == SHAPE["count"]


def test_ignore_eos_is_carried_by_each_prompt(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(
        dataset={"synthetic": {**SHAPE, "ignore_eos": True}, "rows": None},
        prompt={"template": "{text}"},
    )
    source = PromptSource(scenario, load_rows(scenario), seed=3)
    assert source.prompt(0).ignore_eos


def test_a_template_with_other_fields_is_refused(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(
        dataset={"synthetic": SHAPE, "rows": None}, prompt={"template": "{text} {body}"}
    )
    with pytest.raises(ConfigError, match="only \\{text\\}"):
        PromptSource(scenario, load_rows(scenario), seed=3)


def test_rows_prompts_carry_no_shape(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario()
    source = PromptSource(scenario, load_rows(scenario), seed=3)
    assert source.synthetic is None and source.requested_tokens() == {}
    prompt = source.prompt(0, "fixed-model")
    assert (prompt.input_tokens, prompt.output_tokens, prompt.ignore_eos) == (None, None, False)
