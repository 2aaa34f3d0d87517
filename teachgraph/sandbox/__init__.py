"""The sandbox for model-written programs: teacher solutions, generators, later student code.

Every caller goes through :class:`Sandbox` (``teachgraph.nodes.sandbox`` adds the math prelude
for solution programs). See ``run.py`` for the two modes and ``bubblewrap.py`` for what the
isolated mode contains; docs/architecture.md states what is and is not guaranteed.
"""

from teachgraph.sandbox.run import (
    MAX_OUTPUT,
    OUTPUT_LIMIT,
    ProgramResult,
    Sandbox,
    SandboxMode,
    SandboxUnavailable,
    unavailable_message,
)

__all__ = [
    "MAX_OUTPUT",
    "OUTPUT_LIMIT",
    "ProgramResult",
    "Sandbox",
    "SandboxMode",
    "SandboxUnavailable",
    "unavailable_message",
]
