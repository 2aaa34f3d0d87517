"""Skill names and paths: normal form, the matching key for merges, and path arithmetic.

Skill names come from an LLM, so the same skill arrives spelled many ways ("Two-digit addition",
"two digit  addition", "two_digit_addition"). Names are stored in a normal form (so a node's id is
stable across iterations) and compared through a looser key (so near-duplicates merge instead of
growing the forest sideways).
"""

from __future__ import annotations

import re
import unicodedata

SEPARATOR = "/"
"""Joins names into a path: ``"addition/carrying"``. Not allowed inside a name."""

# Hyphens, underscores and whitespace all separate words in LLM-written names.
_WORD_BREAKS = re.compile(r"[\s_\-‐‑‒–—]+")


def normalise_name(name: str) -> str:
    """The stored form of a skill name: NFC, stripped, inner whitespace collapsed to one space.

    NFC so that the same visible name typed with combining accents or precomposed letters gives
    the same node id.

    Raises:
        ValueError: The name is empty (after stripping) or contains ``/``.
    """
    if not isinstance(name, str):
        raise TypeError(f"a skill name must be a str, not {type(name).__name__}")
    normal = " ".join(unicodedata.normalize("NFC", name).split())
    if not normal:
        raise ValueError("a skill name must not be empty")
    if SEPARATOR in normal:
        raise ValueError(
            f"skill name {normal!r} contains {SEPARATOR!r}, which separates path segments; "
            "add the parent first and pass it as parent=, or rename the skill"
        )
    return normal


def name_key(name: str) -> str:
    """The key two names must share to count as the same skill.

    Case-, whitespace-, hyphen- and underscore-insensitive (NFKC + casefold), so
    ``"Two-digit addition"``, ``"two digit addition"`` and ``"TWO_DIGIT_ADDITION"`` match.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _WORD_BREAKS.sub(" ", folded).strip()


def join_path(parent: str | None, name: str) -> str:
    """The path of ``name`` under ``parent`` (``name`` itself for a root)."""
    return name if parent is None else f"{parent}{SEPARATOR}{name}"
