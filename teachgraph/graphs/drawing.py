"""Mermaid drawings of the teacher graphs and the episode graph (snapshot-tested)."""

from __future__ import annotations

from teachgraph.errors import UnknownNameError


def mermaid(name: str, *, with_state: bool = True) -> str:
    """Mermaid source for ``name``: a teacher environment or ``episode``."""
    from teachgraph.graphs.episode import episode
    from teachgraph.graphs.teacher import BUILDERS

    if name == "episode":
        graph = episode()
    elif name in BUILDERS:
        graph = BUILDERS[name](with_state=with_state)
    else:
        raise UnknownNameError("graph", name, [*BUILDERS, "episode"])
    return graph.compile().get_graph().draw_mermaid(with_styles=False)
