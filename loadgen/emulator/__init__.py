"""An emulator of Bedrock's runtime APIs (Converse, ConverseStream, InvokeModel and its
stream, with Anthropic and Nova bodies) and OpenAI's chat completions, speaking the real wire
protocols with known timing, quotas, capacity and faults.

It shares no protocol code with the harness (framing, parsing, timing): a bug common to both
would cancel out in the project's own tests. Nothing here imports botocore or other loadgen
modules.
"""

from loadgen.emulator.process import EmulatorProcess
from loadgen.emulator.profiles import Capacity, EmulatorConfig, Faults, Profile, Quota
from loadgen.emulator.server import Emulator, serve

# The version of the emulator's answers. Bump it with any change that makes the same profile
# and seed answer differently (timing, token counts, text, faults, quotas): reports record it
# (run.provenance.emulator), and `loadgen compare` refuses to call a change between runs of
# two versions a regression (docs/emulator.md, "Version").
# 2: quotas by AWS's rules (reserve input + max_tokens, settle with burndown).
# 3: the wire as Bedrock's: "p" padding on every stream event, request validation (400
# ValidationException), originalStatusCode on modelStreamErrorException; new fault kinds and
# stop rates (at 0 by default, every seed's plans as before). Request options answered
# (caching, reasoning, tools, tiers, guardrails; a request without them as before).
EMULATOR_VERSION = 3

__all__ = [
    "EMULATOR_VERSION",
    "Capacity",
    "Emulator",
    "EmulatorConfig",
    "EmulatorProcess",
    "Faults",
    "Profile",
    "Quota",
    "serve",
]
