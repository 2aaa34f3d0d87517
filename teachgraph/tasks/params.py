"""Validation of task parameters: pydantic models, errors turned into one-line ConfigErrors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from teachgraph.errors import ConfigError, describe_validation_error

__all__ = ["TaskParams", "format_validation_error", "validate_params"]


class TaskParams(BaseModel):
    """Base for a task family's parameters.

    Strict on purpose: a misspelt key (``test_sise``) or a quoted number (``"60"``) in a YAML
    config is an error the user should see, not something silently ignored or coerced.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


P = TypeVar("P", bound=BaseModel)


def format_validation_error(err: ValidationError) -> str:
    """One line listing every problem, e.g. ``"test_size: must be >= 0 (got -1)"``."""
    return describe_validation_error(err, root="params", unknown="unknown parameter", show_input=True)


def validate_params(model: type[P], raw: P | Mapping[str, object] | None, family: str) -> P:
    """Validate ``raw`` against ``model``; a one-line :class:`ConfigError` if it is invalid."""
    if isinstance(raw, model):
        return raw
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(f"params for task {family!r} must be a mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(dict(raw or {}))
    except ValidationError as err:
        valid = ", ".join(model.model_fields)
        raise ConfigError(
            f"invalid params for task {family!r}: {format_validation_error(err)} (valid params: {valid})"
        ) from None
