"""A replay's requests: each kept call at (its instant - the first call's) / speed from the
phase start, with its model, the API of its operation, max_tokens = its logged output count,
and its prompt: the logged one when the log has the body, else a synthetic prompt of its size.

The `Planned` requests go through the same runner as any open-loop run (loadgen/engine/
runner.py), so the measurement rules hold unchanged: each leaves at its intended instant
whatever came before, and response time counts from that instant."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from loadgen.config.apis import INVOKE_APIS, is_openai
from loadgen.engine.request import NO_OPTIONS, Planned, Prompt, Request, RequestOptions
from loadgen.plan.synthetic import (
    CharsPerToken,
    TokenCounter,
    TokenMethod,
    make_prompt,
    output_instruction,
    tokenizer_counter,
)
from loadgen.replay.options import replay_options
from loadgen.replay.records import STREAMING_OPERATIONS
from loadgen.replay.selection import Chosen, Selection

# Each logged operation, and the loadgen API that makes the same call.
BEDROCK_API_OF = {
    "Converse": "bedrock-converse",
    "ConverseStream": "bedrock-converse-stream",
    "InvokeModel": "bedrock-invoke",
    "InvokeModelWithResponseStream": "bedrock-invoke-stream",
}
# InvokeModel needs the model family's native body; where loadgen has none, the same call
# goes through Converse (streaming or not, as logged), which every text model takes.
CONVERSE_TWIN = {
    "bedrock-invoke": "bedrock-converse",
    "bedrock-invoke-stream": "bedrock-converse-stream",
}
# Prompts are made before the run up to this many characters; later ones as the plan is read.
PROMPTS_AHEAD_CHARS = 64 * 1024 * 1024


def api_of(
    operation: str | None,
    model: str,
    target_api: str,
    mode: str,
    has_native_body: Callable[[str], bool],
) -> str:
    """The API a call goes through: its logged operation's (in target.api's family: Bedrock,
    or OpenAI's streaming or not), or target.api with `api: scenario` or when the log names
    no operation."""
    if mode == "scenario" or operation is None:
        return target_api
    if is_openai(target_api):
        return "openai-chat" if operation in STREAMING_OPERATIONS else "openai-chat-nostream"
    api = BEDROCK_API_OF[operation]
    if api in INVOKE_APIS and not has_native_body(model):
        return CONVERSE_TWIN[api]
    return api


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    offset_ns: int  # from the phase start
    call: Chosen
    api: str
    options: RequestOptions = NO_OPTIONS  # the logged call's, as sent (options.py)
    left_out: tuple[str, ...] = ()  # the logged options not sent


def plan_requests(
    selection: Selection,
    speed: float,
    target_api: str,
    mode: str,
    has_native_body: Callable[[str], bool],
) -> list[ReplayRequest]:
    requests = []
    for instant_us, call in selection.arrivals:
        api = api_of(call.record.operation, call.model, target_api, mode, has_native_body)
        options, left_out = replay_options(call.record, call.model, api)
        requests.append(
            ReplayRequest(
                offset_ns=round((instant_us - selection.origin_us) * 1000 / speed),
                call=call,
                api=api,
                options=options,
                left_out=left_out,
            )
        )
    return requests


@dataclass
class ReplayPrompts:
    """The prompt of each request: logged, or synthetic (made with synthetic.py, counted as
    the target model counts tokens when a tokenizer is published for it, else at four
    characters a token, the default)."""

    seed: int
    made: Counter[str] = field(default_factory=Counter)  # logged | synthetic
    methods: Counter[TokenMethod] = field(default_factory=Counter)  # of synthetic prompts
    _counters: dict[str, TokenCounter] = field(default_factory=dict)
    _prefixes: dict[tuple[str, int], str] = field(default_factory=dict)

    def prompt(self, index: int, request: ReplayRequest) -> Prompt:
        record = request.call.record
        logged = record.request
        if logged is not None:
            self.made["logged"] += 1
            return Prompt(
                row_id=record.where,
                system=logged.system,
                user=logged.user,
                history=logged.history,
                user_blocks=logged.user_blocks,
                prefix_chars=logged.prefix_chars,
            )
        counter = self._counter(request.call.model)
        self.made["synthetic"] += 1
        self.methods[counter.method] += 1
        # The cached part of the logged prompt is one prefix per model, the same in every
        # prompt of that model, so a server's prompt cache could hold it as the log's did; a
        # "prefix" cache point goes after it (options.py).
        cached = record.cache_read_tokens + record.cache_write_tokens
        prefix_seed = zlib.crc32(request.call.model.encode())
        text = make_prompt(
            max(1, record.prompt_tokens),
            seed=self.seed * 1_000_003 + index,
            tokens=counter,
            shared_prefix_tokens=cached,
            prefix_seed=prefix_seed,
            instruction=output_instruction(max(1, record.output_tokens)),
        )
        prefix_chars = 0
        if cached > 0:
            prefix = self._prefix(request.call.model, cached, prefix_seed)
            if text.startswith(prefix):
                prefix_chars = len(prefix)
            elif prefix.startswith(text):  # the prompt is no longer than its cached part
                prefix_chars = len(text)
        return Prompt(row_id=record.where, system=None, user=text, prefix_chars=prefix_chars)

    def _prefix(self, model: str, tokens: int, prefix_seed: int) -> str:
        """The shared prefix of `tokens` tokens of a model's synthetic prompts: a prompt of
        exactly that size is its prefix alone (make_prompt puts the prefix first)."""
        key = (model, tokens)
        if key not in self._prefixes:
            self._prefixes[key] = make_prompt(
                tokens,
                seed=0,
                tokens=self._counter(model),
                shared_prefix_tokens=tokens,
                prefix_seed=prefix_seed,
            )
        return self._prefixes[key]

    def _counter(self, model: str) -> TokenCounter:
        if model not in self._counters:
            self._counters[model] = tokenizer_counter(model) or CharsPerToken()
        return self._counters[model]


def prompts_ahead(requests: list[ReplayRequest], prompts: ReplayPrompts) -> list[Prompt]:
    """The first prompts, up to PROMPTS_AHEAD_CHARS, made before the run: a synthetic prompt
    takes about a millisecond per 2,000 tokens, which must not delay a request's departure.
    Later ones are made as the runner reads the plan ahead of each request's instant."""
    ready: list[Prompt] = []
    size = 0
    for index, request in enumerate(requests):
        if size > PROMPTS_AHEAD_CHARS:
            break
        ready.append(prompts.prompt(index, request))
        size += len(ready[-1].user)
    return ready


def planned_requests(
    requests: list[ReplayRequest], prompts: ReplayPrompts, ready: list[Prompt], first_id: int
) -> Iterator[Planned]:
    """The runner's plan: request i at its offset, with prompt i (made ahead, or now)."""
    for index, request in enumerate(requests):
        prompt = ready[index] if index < len(ready) else prompts.prompt(index, request)
        record = request.call.record
        yield Planned(
            offset_ns=request.offset_ns,
            request=Request(
                request_id=first_id + index,
                model=request.call.model,
                prompt=prompt,
                max_tokens=max(1, record.output_tokens),
                api=request.api,
                options=request.options,
            ),
            warmup=False,
        )
