"""The one redactor: keep credentials out of everything teachgraph writes or prints.

Run directories get shared, so every string that reaches one (trace events, config dumps, data
files, metrics, the report), every error line and every log record goes through :func:`redact`.
It removes, in this order:

* URL userinfo (``https://user:pass@host`` -> ``https://host``);
* secrets registered at run time with :func:`register_secret` (the value of a model's
  ``api_key_env`` variable is registered when the model is created, whatever its name);
* values of environment variables whose names look secret (``*_API_KEY``, ``*TOKEN*``,
  ``*SECRET*``, ``*PASSWORD*``, ``*CREDENTIAL*``, ...);
* strings shaped like well-known keys, for keys that never passed through a variable we know:
  OpenAI/Anthropic ``sk-...`` (``sk-proj-...``, ``sk-ant-...``), LangSmith ``lsv2_...``, Hugging
  Face ``hf_...``, GitHub ``ghp_...``, Slack ``xox?-...``, Google ``AIza...``, AWS access key ids
  (``AKIA...``/``ASIA...``), ``Bearer ...`` tokens and ``Basic ...`` credentials.

This module is at the bottom of the layering (it imports nothing from teachgraph), so every
layer can use it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

# ``scheme://user:pass@host`` -> ``scheme://host``, anywhere in free text (exception messages
# echo request URLs). Quotes and brackets end the match so JSON around a URL stays valid.
_USERINFO_RE = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"'<>]+@")
_KEY_SHAPES_RE = re.compile(
    r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_\-]{8,}"
    r"|\blsv2_[A-Za-z0-9_\-]{8,}"
    r"|\bhf_[A-Za-z0-9]{10,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
)
_BEARER_RE = re.compile(
    r"\b(?P<word>[Bb]earer|BEARER)\s+[A-Za-z0-9._~+/=\-]{8,}"
    # HTTP basic credentials (base64 of user:password), as servers echo the Authorization header
    r"|\b(?P<basic>Basic|BASIC)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}"
)
# Environment variables whose values are treated as secrets wherever they appear.
_SECRET_ENV_RE = re.compile(r"API_?KEY|(?:^|_)KEY$|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE", re.I)
_SECRET_ENV_BYTES_RE = re.compile(_SECRET_ENV_RE.pattern.encode(), re.I)
_MIN_SECRET_LEN = 6  # shorter values ("1", "no") would redact ordinary words

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Treat ``value`` as a secret from now on, in this process (e.g. an ``api_key_env`` key)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _registered_lock:
            _registered.add(value)


def _env_secrets() -> set[str]:
    # os.environb skips the str decoding of every variable (this runs for every trace event);
    # only the matches are decoded.
    environ = os.environb if os.supports_bytes_environ else None
    if environ is None:  # pragma: no cover - Windows
        return {v for name, v in os.environ.items() if _SECRET_ENV_RE.search(name)}
    return {os.fsdecode(v) for name, v in environ.items() if _SECRET_ENV_BYTES_RE.search(name)}


def _secret_values(extra: Iterable[str]) -> list[str]:
    values = _env_secrets()
    with _registered_lock:
        values |= _registered
    values |= set(extra)
    # Longest first so a key that contains another key is removed whole.
    return sorted((v for v in values if v and len(v) >= _MIN_SECRET_LEN), key=len, reverse=True)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential replaced by ``***`` (see the module docstring)."""
    out = _USERINFO_RE.sub(r"\g<scheme>", text)
    for secret in _secret_values(extra_secrets):
        out = out.replace(secret, REDACTED)
    out = _BEARER_RE.sub(lambda m: f"{m.group('word') or m.group('basic')} {REDACTED}", out)
    return _KEY_SHAPES_RE.sub(REDACTED, out)


def redact_data(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` (the rest is kept as written)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_RE.sub(r"\g<scheme>", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace, redact secrets and cap the length: the form every error line takes."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_exception(exc: BaseException, limit: int = 400) -> str:
    """``"TypeName: message"`` on one line, secrets removed."""
    message = str(exc) or repr(exc)
    return one_line(f"{type(exc).__name__}: {message}", limit)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's formatted message (and traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_installed = False


def install_log_redaction() -> None:
    """Redact every log record created from now on, whichever logger or handler it goes to.

    A filter on the root logger misses records of child loggers with their own handlers, so the
    record factory is wrapped instead: the redaction happens when a record is made.
    """
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()
    redacting = RedactingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redacting.filter(record)
        return record

    logging.setLogRecordFactory(factory)
