"""A replay ready to run (made by setup.py): what it read and chose, its requests and the
prompts made ahead, and the scenario with the replay's models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from loadgen.config.apis import INVOKE_APIS
from loadgen.config.replay_spec import ReplaySpec
from loadgen.config.scenario import Scenario
from loadgen.engine.request import Planned, Prompt
from loadgen.replay.planning import ReplayPrompts, ReplayRequest, planned_requests
from loadgen.replay.read_result import ReadResult
from loadgen.replay.selection import Selection


@dataclass
class ReplayPlan:
    scenario: Scenario  # the models are the replay's; load.rate its mean rate
    spec: ReplaySpec
    seed: int
    read: ReadResult
    selection: Selection
    requests: list[ReplayRequest]
    prompts: ReplayPrompts
    ready: list[Prompt]  # the prompts made ahead
    first_id: int = 0  # the request id of the first request, once planned

    @property
    def apis(self) -> list[str]:
        """The APIs the requests go through, target.api first when it is one of them."""
        used = list(dict.fromkeys(request.api for request in self.requests))
        first = self.scenario.target.api
        return [first, *(api for api in used if api != first)] if first in used else used

    @property
    def checked_apis(self) -> list[str]:
        """The APIs whose models setup checks (InvokeModel's native bodies): a logged replay
        sends a model without one through Converse instead (planning.api_of)."""
        if self.spec.api == "scenario":
            return [self.scenario.target.api]
        return [api for api in self.apis if api not in INVOKE_APIS] or [self.scenario.target.api]

    def models_by_api(self) -> dict[str | None, list[str]]:
        """Each API the requests go through, and the models sent through it (preflight probes
        each pair, which opens each API's connection before load)."""
        pairs: dict[str | None, dict[str, None]] = {}
        for request in self.requests:
            pairs.setdefault(request.api, {})[request.call.model] = None
        return {api: list(models) for api, models in pairs.items()}

    def planned(self, first_id: int) -> Iterator[Planned]:
        """The runner's plan, request i with id first_id + i."""
        self.first_id = first_id
        return planned_requests(self.requests, self.prompts, self.ready, first_id)
