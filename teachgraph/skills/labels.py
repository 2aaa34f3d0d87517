"""The text shown for a skill in views of the forest (Mermaid and PNG), kept in one place so the
two views read the same."""

from __future__ import annotations

from teachgraph.skills.node import SkillNode


def format_accuracy(value: float | None) -> str:
    """``0.625 -> "62%"``; ``None -> "n/a"``."""
    return "n/a" if value is None else f"{value * 100:.0f}%"


def stats_line(node: SkillNode) -> str:
    """The line under a skill's name: its quota and latest validation accuracy."""
    return f"quota {node.quota} · val {format_accuracy(node.latest_accuracy('validation'))}"
