"""Provider failures: which are transient, how they are retried, and when the run must stop.

Three kinds of trouble reach a teacher node, and each has its own remedy:

* **malformed output** (invalid JSON, wrong fields): the model is shown its reply and the error
  and asked again; that loop lives in :mod:`teachgraph.providers.structured`;
* **transient provider errors** (HTTP 429 and 5xx, connection errors, timeouts, unreadable
  responses): the *same* request is sent again after an exponential backoff with jitter, or
  after the server's ``Retry-After`` when it sends one (tenacity, :func:`call_with_retries`);
* **fatal provider errors** (HTTP 400/401/403/404/422: bad request, authentication, permission,
  unknown model): never retried; the run stops at once.

:class:`FailureLimit` turns repeated failures into a stop: when the calls to one model keep
failing after their retries (a dead server), the run stops with one line naming the node, the model and
the error, and leaves its checkpoint for ``teachgraph run --resume`` once the cause is fixed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Literal, TypeVar

from langchain_core.exceptions import ContextOverflowError, ModelError, ModelRefusalError
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from teachgraph.errors import ProviderError, TeachgraphError

R = TypeVar("R")
FailureKind = Literal["transient", "fatal", "output", "setup"]

# Status codes that mean "this request will never succeed as sent".
FATAL_STATUS = frozenset({400, 401, 402, 403, 404, 405, 410, 413, 422})
# Status codes that mean "try again later".
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})


class RetrySettings(BaseModel):
    """How provider errors are retried, and how many failed calls stop the run."""

    model_config = ConfigDict(extra="forbid")

    max_retries: int = Field(default=4, ge=0, description="Retries of one request after a transient error.")
    initial_delay_s: float = Field(default=1.0, ge=0, description="First backoff; doubles each retry.")
    max_delay_s: float = Field(default=30.0, ge=0, description="Cap of one wait (Retry-After included).")
    jitter_s: float = Field(default=1.0, ge=0, description="Random extra wait, uniform in [0, jitter_s].")
    failure_limit: int = Field(
        default=3, ge=1, description="Calls to one model in a row that fail after their retries before the run stops."
    )


class ProviderStop(ProviderError):
    """The run stopped because of a provider: a fatal error, or the failure limit was reached."""

    def __init__(self, message: str, *, node: str, model: str) -> None:
        super().__init__(message)
        self.node, self.model = node, model


def status_code(exc: BaseException) -> int | None:
    """The HTTP status behind ``exc`` (openai/anthropic SDK errors, httpx errors), if any."""
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), if it did."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(float(ms) / 1000, 0.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:  # an HTTP date
            import time

            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, AttributeError):
        return None


def classify(exc: BaseException) -> FailureKind:
    """``transient`` (retry the request), ``fatal`` (stop the run), ``output`` (about this
    conversation, not the provider: a reply cut at max_tokens, a refusal, a prompt beyond the
    context window) or ``setup`` (a teachgraph configuration error: raise)."""
    if isinstance(exc, TeachgraphError):
        return "setup"
    if type(exc).__name__ == "LengthFinishReasonError":
        return "output"
    # LangChain's provider-neutral errors (raised by every maintained integration) say it best.
    if isinstance(exc, ModelRefusalError | ContextOverflowError):
        return "output"
    if isinstance(exc, ModelError):
        return "transient" if exc.is_retryable else "fatal"
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai is a dependency
        openai = None  # type: ignore[assignment]
    if openai is not None:
        fatal = (
            openai.AuthenticationError,
            openai.PermissionDeniedError,
            openai.NotFoundError,
            openai.BadRequestError,
            openai.UnprocessableEntityError,
        )
        if isinstance(exc, fatal):
            return "fatal"
        if isinstance(exc, openai.RateLimitError | openai.APIConnectionError | openai.InternalServerError):
            return "transient"
    code = status_code(exc)
    if code is not None and code >= 400:
        if code in TRANSIENT_STATUS or code >= 500:
            return "transient"
        return "fatal"
    # Connection resets, timeouts, undecodable bodies and anything unknown: worth another try;
    # a failure that keeps coming back is stopped by the FailureLimit.
    return "transient"


def _wait(settings: RetrySettings) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(
        multiplier=settings.initial_delay_s, max=settings.max_delay_s, exp_base=2, jitter=settings.jitter_s
    )

    def wait(state: RetryCallState) -> float:
        delay = backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_s(exc) if exc is not None else None
        if asked is not None:  # the server knows best, up to our cap
            delay = max(delay, min(asked, settings.max_delay_s))
        return min(delay, max(settings.max_delay_s, 0.0))

    return wait


def call_with_retries(
    fn: Callable[[], R],
    settings: RetrySettings,
    *,
    on_retry: Callable[[BaseException, float, int], None] | None = None,
) -> R:
    """``fn()``, retried after transient errors; the last error (or a non-transient one) is raised.

    ``on_retry(error, delay_s, retry_number)`` is called before each wait (for the trace).
    """

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None and state.next_action is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(exc, float(state.next_action.sleep), state.attempt_number)

    retrying = Retrying(
        stop=stop_after_attempt(settings.max_retries + 1),
        wait=_wait(settings),
        retry=retry_if_exception(lambda e: classify(e) == "transient"),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)


class FailureLimit:
    """Counts, per model, the calls in a row that failed at the provider; raises :class:`ProviderStop`.

    A fatal error stops at once; ``limit`` consecutive failed calls to one model (whichever nodes
    made them: a dead server fails them all) stop the run. A call that got any reply, even a
    malformed one, resets the model's count: the provider works. Thread-safe: data-writing
    branches run in parallel.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_a_row: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, node: str, model: str, failure: str | None, error: str | None) -> None:
        """Account for one finished call of ``node`` (``failure``: None/"output", "provider" or "fatal")."""
        with self._lock:
            if failure not in ("provider", "fatal"):
                self._in_a_row[model] = 0
                return
            self._in_a_row[model] += 1
            count = self._in_a_row[model]
        if failure == "fatal":
            raise ProviderStop(f"run stopped: node {node}, model {model}: {error}", node=node, model=model)
        if count >= self.limit:
            raise ProviderStop(
                f"run stopped: node {node}, model {model}: {count} calls in a row failed (failure limit "
                f"{self.limit}); last error: {error}",
                node=node,
                model=model,
            )
