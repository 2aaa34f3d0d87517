"""Small helpers for recomposing an uncompiled graph: insert a node after another, or replace one.

``StateGraph`` has ``add_node``/``add_edge`` but no way to splice into an existing edge; these
helpers do exactly that on the builder's public ``edges``/``nodes`` so user code stays short::

    graph = skill_tree()
    insert_after(graph, "validation", "difficulty_probe", difficulty_probe)
    app = graph.compile()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import StateGraph

from teachgraph.errors import UnknownNameError


def insert_after(graph: StateGraph, after: str, name: str, node: Callable[..., Any], **node_kwargs: Any) -> StateGraph:
    """Add ``node`` as ``name`` so that ``after``'s plain outgoing edges now leave from ``name``.

    ``after`` -> X becomes ``after`` -> ``name`` -> X. Conditional edges of ``after`` are left as
    they are (their targets are decided at run time).
    """
    if after not in graph.nodes:
        raise UnknownNameError("node", after, list(graph.nodes))
    outgoing = {(a, b) for (a, b) in graph.edges if a == after}
    graph.add_node(name, node, **node_kwargs)
    for edge in outgoing:
        graph.edges.discard(edge)
        graph.add_edge(name, edge[1])
    graph.add_edge(after, name)
    return graph


def replace_node(graph: StateGraph, name: str, node: Callable[..., Any]) -> StateGraph:
    """Swap the function behind node ``name``, keeping its edges."""
    if name not in graph.nodes:
        raise UnknownNameError("node", name, list(graph.nodes))
    incoming = {(a, b) for (a, b) in graph.edges if b == name}
    outgoing = {(a, b) for (a, b) in graph.edges if a == name}
    branches = graph.branches.pop(name, None)
    del graph.nodes[name]
    graph.edges.difference_update(incoming | outgoing)
    graph.add_node(name, node)
    for a, b in incoming | outgoing:
        graph.add_edge(a, b)
    if branches:
        graph.branches[name] = branches
    return graph
