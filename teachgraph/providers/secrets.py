"""Kept so existing imports keep working: the redactor lives in :mod:`teachgraph.redaction`."""

from teachgraph.redaction import REDACTED, describe_exception, one_line, redact, register_secret, strip_userinfo

__all__ = ["REDACTED", "describe_exception", "one_line", "redact", "register_secret", "strip_userinfo"]
