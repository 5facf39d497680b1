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

__all__ = [
    "Capacity",
    "Emulator",
    "EmulatorConfig",
    "EmulatorProcess",
    "Faults",
    "Profile",
    "Quota",
    "serve",
]
