"""A Bedrock ConverseStream emulator that speaks the real wire protocol, with known timing.

It shares no protocol code with the harness (framing, parsing, timing): a bug common to both
would cancel out in the project's own tests. Nothing here imports botocore or other loadgen
modules.
"""

from loadgen.emulator.process import EmulatorProcess
from loadgen.emulator.profiles import EmulatorConfig, Faults, Profile
from loadgen.emulator.server import Emulator, serve

__all__ = ["Emulator", "EmulatorConfig", "EmulatorProcess", "Faults", "Profile", "serve"]
