"""Keep credentials out of labels, traces and error messages.

Anything teachgraph writes about a model (labels, provenance, trace events, error lines) can end
up in a run directory that people share, so every such string goes through :func:`redact`.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

# ``scheme://user:pass@host`` -> ``scheme://host``. Matched anywhere in free text (exception
# messages sometimes echo the request URL).
_USERINFO_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
# Shapes of common API keys (OpenAI/Anthropic ``sk-...``, HF ``hf_...``, bearer headers), for
# keys that never passed through an environment variable we know about.
_KEY_SHAPES_RE = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{6,}|hf_[A-Za-z0-9]{10,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})")
# Environment variables whose values are treated as secrets wherever they appear.
_SECRET_ENV_RE = re.compile(r"(API_KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)
_MIN_SECRET_LEN = 6  # shorter values ("1", "no") would redact ordinary words

REDACTED = "***"


def strip_userinfo(url: str) -> str:
    """Return ``url`` without ``user:password@`` (the rest is kept as written)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_RE.sub(r"\g<scheme>", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _secret_env_values() -> list[str]:
    values = [
        value for name, value in os.environ.items() if _SECRET_ENV_RE.search(name) and len(value) >= _MIN_SECRET_LEN
    ]
    # Longest first so a key that contains another key is removed whole.
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, extra_secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Remove credentials from free text: URL userinfo, values of ``*_API_KEY``/``*TOKEN*``/...
    environment variables, ``extra_secrets``, and strings shaped like API keys."""
    out = _USERINFO_RE.sub(r"\g<scheme>", text)
    for secret in [*extra_secrets, *_secret_env_values()]:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            out = out.replace(secret, REDACTED)
    return _KEY_SHAPES_RE.sub(REDACTED, out)


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace, redact secrets and cap the length: the form every error line takes."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_exception(exc: BaseException, limit: int = 400) -> str:
    """``"TypeName: message"`` on one line, secrets removed."""
    message = str(exc) or repr(exc)
    return one_line(f"{type(exc).__name__}: {message}", limit)
