"""Exceptions with actionable messages.

Every error a user can cause (a bad config, a missing file, an unknown name) is a
``TeachgraphError``; the CLI prints its message on one line and exits non-zero, without a
traceback. Messages say what was wrong *and* what to do about it.
"""

from __future__ import annotations


class TeachgraphError(Exception):
    """Base class for user-facing errors. ``str(err)`` is a complete one-line explanation."""


class ConfigError(TeachgraphError):
    """A run, task, student or model configuration is invalid."""


class DataNotFoundError(TeachgraphError):
    """A data file or directory the run needs does not exist."""


class UnknownNameError(TeachgraphError):
    """A task, model, node or graph name is not registered."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]) -> None:
        choices = ", ".join(sorted(known)) or "(none registered)"
        super().__init__(f"unknown {kind} {name!r}; known {kind}s: {choices}")
        self.kind, self.name, self.known = kind, name, list(known)


class ProviderError(TeachgraphError):
    """A chat model could not be created or called (missing key, server down, ...)."""


class MissingDependencyError(TeachgraphError):
    """An optional extra is needed for this feature."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the {package!r} package, which is not installed; "
            f"install it with: pip install 'teachgraph[{extra}]'"
        )


class StudentError(TeachgraphError):
    """The student could not be loaded, trained or asked to predict."""
