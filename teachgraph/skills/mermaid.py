"""The skill forest as a Mermaid flowchart, for the report, notebooks and markdown traces."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from teachgraph.skills.labels import stats_line

if TYPE_CHECKING:
    from teachgraph.skills.forest import SkillForest

# Mermaid entity codes for characters that would end a quoted label or be read as markup.
# '#' goes first so the '#' of the other codes is not escaped again.
_ESCAPES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"))


def node_id(path: str) -> str:
    """A Mermaid id for ``path`` that is stable across iterations.

    Derived from the path (not the node's position), so adding a skill does not renumber the
    others and the Mermaid of consecutive iterations diffs line by line.
    """
    return "s" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:10]


def escape_label(text: str) -> str:
    """``text`` made safe inside a double-quoted Mermaid label (line breaks become spaces)."""
    text = " ".join(text.split())
    for char, code in _ESCAPES:
        text = text.replace(char, code)
    return text


def forest_to_mermaid(forest: SkillForest) -> str:
    """A ``graph TD`` flowchart of ``forest``: one box per skill (name, quota, latest
    validation accuracy), edges parent -> child, in the forest's iteration order."""
    lines = ["graph TD"]
    paths = list(forest)
    for path in paths:
        node = forest.node(path)
        label = f"{escape_label(node.name)}<br/>{escape_label(stats_line(node))}"
        lines.append(f'    {node_id(path)}["{label}"]')
    for path in paths:
        parent = forest.parent(path)
        if parent is not None:
            lines.append(f"    {node_id(parent)} --> {node_id(path)}")
    return "\n".join(lines) + "\n"
