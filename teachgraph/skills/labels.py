"""The text shown for a skill in views of the forest (Mermaid and PNG), kept in one place so the
two views read the same."""

from __future__ import annotations

from teachgraph.skills.node import SkillNode


def format_accuracy(value: float | None) -> str:
    """``0.625 -> "62%"``; ``None -> "n/a"``."""
    return "n/a" if value is None else f"{value * 100:.0f}%"


def stats_line(node: SkillNode) -> str:
    """The line under a skill's name: its quota, latest validation accuracy and, where the
    difficulty probe measured it, the accuracy on generated data."""
    line = f"quota {node.quota} · val {format_accuracy(node.latest_accuracy('validation'))}"
    generated = node.latest_accuracy("generated")
    return line if generated is None else f"{line} · gen {format_accuracy(generated)}"


def colour_accuracy(node: SkillNode) -> float | None:
    """The accuracy a skill's box is coloured by: validation, else accuracy on generated data
    (subskills have no validation items of their own)."""
    validation = node.latest_accuracy("validation")
    return validation if validation is not None else node.latest_accuracy("generated")
