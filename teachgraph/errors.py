"""Exceptions with actionable messages.

Every error a user can cause (a bad config, a missing file, an unknown name) is a
``TeachgraphError``; the CLI prints its message on one line and exits non-zero, without a
traceback. Messages say what was wrong *and* what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: the sandbox imports this module without third-party packages
    from pydantic import ValidationError


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


def describe_validation_error(
    err: ValidationError,
    *,
    limit: int | None = None,
    root: str = "(root)",
    unknown: str = "unknown field",
    show_input: bool = False,
) -> str:
    """A pydantic ``ValidationError`` as one line: ``"field: problem; other.field: problem"``.

    Args:
        limit: List at most this many problems, then ``"; and N more"`` (``None``: all).
        root: The location shown for a problem with the whole value.
        unknown: What a forbidden extra field is called (``"unknown parameter"``, ...).
        show_input: Append the offending value, ``" (got -1)"``, when it is short.
    """
    problems = err.errors(include_url=False)
    parts = [_problem(e, root=root, unknown=unknown, show_input=show_input) for e in problems[:limit]]
    more = len(problems) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _problem(e: Any, *, root: str, unknown: str, show_input: bool) -> str:
    loc = ".".join(str(p) for p in e["loc"]) or root
    if e["type"] == "extra_forbidden":
        return f"{loc}: {unknown}"
    msg = e["msg"].removeprefix("Value error, ")
    got = e.get("input")
    shown = repr(got) if show_input and not isinstance(got, dict) and len(repr(got)) <= 60 else None
    return f"{loc}: {msg}" + (f" (got {shown})" if shown is not None else "")
