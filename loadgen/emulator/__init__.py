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
EMULATOR_VERSION = 2  # 2: quotas by AWS's rules (reserve input + max_tokens, settle with burndown)

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
