"""The skill forest: root skills -> subskills -> deeper levels, over a ``networkx.DiGraph``.

Node ids are paths (``"addition/carrying"``), edges run parent -> child, and each node's
attributes are a :class:`~teachgraph.skills.node.SkillNode` stored as a plain JSON-ready dict.
Unlike DataEnvGym's fixed, flat skill trees, skills can be added at any depth at any iteration,
and names are merged case/space/hyphen-insensitively so the forest does not fill with
near-duplicates of what an LLM already named.

The forest lives in graph state as node-link data (:meth:`SkillForest.to_data`), which is
JSON-serialisable (so checkpoints work) and round-trips exactly, and is rebuilt into a
``SkillForest`` on demand (:meth:`SkillForest.from_data`).
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import networkx as nx
from pydantic import ValidationError

from teachgraph.skills.generator import GeneratorRecord
from teachgraph.skills.names import SEPARATOR, join_path, name_key, normalise_name
from teachgraph.skills.node import ACCURACY_SPLITS, AccuracyPoint, SkillNode

if TYPE_CHECKING:
    from teachgraph.skills.diff import ForestDiff
    from teachgraph.skills.snapshot import ForestSnapshot

# Attributes that make up a node's identity; changing them would need a re-keyed subtree.
_IDENTITY_FIELDS = frozenset({"path", "name"})


class SkillNotFoundError(KeyError):
    """A path that is not in the forest was used. A ``KeyError`` with a readable message."""

    def __init__(self, path: object, known: list[str]) -> None:
        hint = ""
        if isinstance(path, str):
            close = difflib.get_close_matches(path, known, n=3)
            if close:
                hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        if not hint:
            shown = ", ".join(repr(k) for k in known[:8]) + (", ..." if len(known) > 8 else "")
            hint = f"; known skills: {shown}" if known else "; the forest is empty"
        super().__init__(f"no skill {path!r} in the forest{hint}")
        self.path = path

    def __str__(self) -> str:
        # KeyError's own __str__ shows repr(message), i.e. the message wrapped in quotes.
        return str(self.args[0])


class SkillForest:
    """A forest of skills. See the module docstring for the model.

    Attributes:
        graph: The ``networkx.DiGraph`` (edges parent -> child; node id = path; node attributes
            = a :class:`SkillNode` minus its ``path``, as plain dicts). Read it freely; write
            through the methods so attributes stay validated and the tree shape stays a forest.
        assignments: Task-instance id -> path of the skill the instance was assigned to.

    Iteration (``for path in forest``) is depth-first pre-order, roots and children in the order
    they were created, which is also the order of :meth:`to_data`, prompts and drawings.
    """

    graph: nx.DiGraph
    assignments: dict[str, str]

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.assignments = {}

    # ------------------------------------------------------------------ building

    def add_skill(
        self,
        name: str,
        *,
        parent: str | None = None,
        description: str = "",
        gold_label: str | None = None,
        quota: int = 0,
        iteration: int = 0,
    ) -> str:
        """Add a skill under ``parent`` (a root when ``None``) and return its path.

        Idempotent: if ``parent`` already has a child with this name, or one matching it under
        :meth:`find`'s loose comparison, nothing is changed (not even its description or quota)
        and that child's path is returned. So callers can add whatever an LLM named and use the
        returned path, without creating duplicates or renaming existing nodes.

        Raises:
            ValueError: ``name`` is empty or contains ``/``, or an attribute is invalid.
            KeyError: ``parent`` is not in the forest.
        """
        normal = normalise_name(name)
        existing = self.find(normal, parent=parent)  # also checks that ``parent`` exists
        if existing is not None:
            return existing
        path = join_path(parent, normal)
        node = SkillNode(
            path=path,
            name=normal,
            description=description,
            gold_label=gold_label,
            quota=quota,
            created_iteration=iteration,
        )
        self.graph.add_node(path, **_attributes(node))
        if parent is not None:
            self.graph.add_edge(parent, path)
        return path

    def find(self, name: str, *, parent: str | None = None) -> str | None:
        """The path of ``parent``'s child (a root when ``parent`` is ``None``) named like ``name``.

        The comparison ignores case, whitespace, hyphens and underscores (see
        :func:`~teachgraph.skills.names.name_key`), so ``"Two-digit addition"`` finds
        ``"two digit addition"``. An exact match wins over a loose one. Returns ``None`` when no
        child matches.

        Raises:
            KeyError: ``parent`` is not in the forest.
        """
        siblings = self.roots() if parent is None else self.children(parent)
        try:
            normal = normalise_name(name)
        except ValueError:
            return None  # a name that cannot exist (empty, contains '/') is simply not found
        exact = join_path(parent, normal)
        if exact in self.graph:
            return exact
        key = name_key(normal)
        for path in siblings:
            if name_key(self.graph.nodes[path]["name"]) == key:
                return path
        return None

    def remove(self, path: str) -> None:
        """Remove ``path`` with its whole subtree, and every assignment to those nodes."""
        doomed = set(self.subtree(path))
        self.graph.remove_nodes_from(doomed)
        self.assignments = {i: p for i, p in self.assignments.items() if p not in doomed}

    # ------------------------------------------------------------------ structure

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self.graph

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def __iter__(self) -> Iterator[str]:
        """Paths in depth-first pre-order; roots and children in creation order."""
        for root in self.roots():
            yield from self._preorder(root)

    def __repr__(self) -> str:
        return f"<SkillForest: {len(self)} skills, {len(self.roots())} roots, {len(self.assignments)} assignments>"

    def roots(self) -> list[str]:
        """Top-level skills, in creation order."""
        return [p for p, degree in self.graph.in_degree() if degree == 0]

    def children(self, path: str) -> list[str]:
        """Direct subskills of ``path``, in creation order."""
        self._require(path)
        return list(self.graph.successors(path))

    def parent(self, path: str) -> str | None:
        """The parent of ``path``, or ``None`` for a root."""
        self._require(path)
        return next(iter(self.graph.predecessors(path)), None)

    def leaves(self, under: str | None = None) -> list[str]:
        """Skills without subskills (in iteration order), in the whole forest or under ``under``.

        ``under`` itself is included when it is a leaf.
        """
        paths = self if under is None else self.subtree(under)
        return [p for p in paths if self.graph.out_degree(p) == 0]

    def depth(self, path: str) -> int:
        """How far ``path`` is below its root (a root has depth 0)."""
        self._require(path)
        # Paths mirror the tree (from_data checks it), so counting separators is exact.
        return path.count(SEPARATOR)

    def subtree(self, path: str) -> list[str]:
        """``path`` followed by all its descendants, in depth-first pre-order."""
        self._require(path)
        return list(self._preorder(path))

    # ------------------------------------------------------------------ attributes

    def node(self, path: str) -> SkillNode:
        """A validated copy of the attributes of ``path`` (changing it changes nothing)."""
        self._require(path)
        return SkillNode.model_validate({"path": path, **self.graph.nodes[path]})

    def update(self, path: str, /, **attrs: Any) -> None:
        """Set attributes of ``path``; the result is validated as a whole :class:`SkillNode`.

        Raises:
            ValueError: An attribute is unknown or invalid (pydantic's ``ValidationError`` is a
                ``ValueError``), or ``path``/``name`` is given: they are the node's identity.
        """
        self._require(path)
        identity = _IDENTITY_FIELDS & attrs.keys()
        if identity:
            raise ValueError(
                f"cannot update {sorted(identity)} of {path!r}: the path is the node's id; "
                "add a new skill (and remove this one) to rename"
            )
        current = self.graph.nodes[path]
        node = SkillNode.model_validate({**current, **attrs, "path": path})
        current.clear()
        current.update(_attributes(node))

    def set_quota(self, path: str, quota: int) -> None:
        """Set the per-iteration data quota of ``path``.

        Raises:
            ValueError: ``quota`` is negative or not an int.
        """
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            raise ValueError(f"a quota must be an int >= 0, got {quota!r} for {path!r}")
        self.update(path, quota=quota)

    def quotas(self) -> dict[str, int]:
        """Path -> quota for every node with a quota above 0, in iteration order."""
        quotas = ((p, self.graph.nodes[p]["quota"]) for p in self)
        return {p: q for p, q in quotas if q > 0}

    def record_generated(self, path: str, accepted: int, rejected: int = 0) -> None:
        """Record one iteration's data writing for ``path``.

        Sets ``generated_last`` to ``accepted`` and adds both counts to the cumulative totals.

        Raises:
            ValueError: A count is negative or not an int.
        """
        for label, count in (("accepted", accepted), ("rejected", rejected)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{label} must be an int >= 0, got {count!r}")
        attrs = self.graph.nodes[self._require(path)]
        self.update(
            path,
            generated_last=accepted,
            generated_total=attrs["generated_total"] + accepted,
            rejected_total=attrs["rejected_total"] + rejected,
        )

    def record_accuracy(self, path: str, *, iteration: int, split: str, value: float, n: int) -> None:
        """Record the student's accuracy on ``path`` measured at ``iteration`` on ``split``.

        Recording the same ``(iteration, split)`` again replaces the earlier point in place, so
        re-running an evaluation (e.g. after resuming a crashed run) does not duplicate history.

        Raises:
            ValueError: ``split`` is not one of ``validation``/``test``/``generated``, ``value``
                is outside ``[0, 1]`` or ``n`` is negative.
        """
        self._require(path)
        point = AccuracyPoint(iteration=iteration, split=split, value=value, n=n)  # type: ignore[arg-type]
        history = [AccuracyPoint.model_validate(p) for p in self.graph.nodes[path]["accuracy_history"]]
        for i, old in enumerate(history):
            if (old.iteration, old.split) == (point.iteration, point.split):
                history[i] = point
                break
        else:
            history.append(point)
        self.update(path, accuracy_history=history)

    def record_generators(self, path: str, records: list[GeneratorRecord]) -> None:
        """Add or replace (by hash) generator records of ``path``, keeping first-written order."""
        current = {g.hash: g for g in self.node(path).generators}
        for record in records:
            current[record.hash] = record
        self.update(path, generators=list(current.values()))

    def latest_accuracy(self, path: str, split: str = "validation") -> float | None:
        """The most recent accuracy of ``path`` on ``split``, or ``None`` if never measured."""
        if split not in ACCURACY_SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {list(ACCURACY_SPLITS)}")
        return self.node(path).latest_accuracy(split)

    # ------------------------------------------------------------------ assignments

    def assign(self, instance_id: str, path: str) -> None:
        """Assign a task instance to the skill ``path`` (replacing any earlier assignment)."""
        self._require(path)
        self.assignments[instance_id] = path

    def instances_of(self, path: str, *, recursive: bool = True) -> list[str]:
        """Ids of the instances assigned to ``path`` (and, if ``recursive``, to its subtree)."""
        targets = set(self.subtree(path)) if recursive else {self._require(path)}
        return [i for i, p in self.assignments.items() if p in targets]

    # ------------------------------------------------------------------ serialisation

    def to_data(self) -> dict[str, Any]:
        """Node-link data (``networkx.node_link_data``, ``edges="edges"``) plus ``assignments``.

        Nodes and edges are listed in iteration order, so forests that behave the same give
        the same data. The result shares nothing with the forest and is JSON-serialisable;
        ``SkillForest.from_data(f.to_data()) == f`` holds exactly.
        """
        ordered = nx.DiGraph()
        ordered.graph.update(self.graph.graph)
        paths = list(self)
        ordered.add_nodes_from((p, self.graph.nodes[p]) for p in paths)
        # Adding edges in pre-order keeps each parent's children in creation order.
        ordered.add_edges_from((parent, p) for p in paths if (parent := self.parent(p)) is not None)
        data = nx.node_link_data(ordered, edges="edges")
        data["assignments"] = dict(self.assignments)
        # node_link_data copies the attribute dicts shallowly; nested lists would be shared.
        return copy.deepcopy(data)

    @classmethod
    def from_state(cls, data: dict[str, Any] | None) -> SkillForest:
        """The forest a state (or a snapshot) carries: :meth:`from_data`, or an empty forest when
        there is none yet (``None`` or ``{}``)."""
        return cls.from_data(data) if data else cls()

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SkillForest:
        """Rebuild a forest from :meth:`to_data` output, validating every node and the shape.

        Raises:
            ValueError: The data is not a valid forest (bad attributes, a node with two parents,
                a path that does not match its parent, an assignment to a missing skill, ...).
        """
        if not isinstance(data, dict):
            raise ValueError(f"skill forest data must be a dict, not {type(data).__name__}")
        data = copy.deepcopy(data)
        assignments = data.pop("assignments", {})
        if not data.get("directed", False) or data.get("multigraph", False):
            raise ValueError("skill forest data must describe a directed, non-multi graph")
        try:
            graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
        except (KeyError, TypeError) as err:
            raise ValueError(f"invalid skill forest node-link data: {err!r}") from err
        forest = cls()
        forest.graph = graph
        for path, attrs in graph.nodes(data=True):
            try:
                node = SkillNode.model_validate({**attrs, "path": path})
            except ValidationError as err:
                raise ValueError(f"invalid attributes for skill {path!r}: {err}") from err
            attrs.clear()
            attrs.update(_attributes(node))
            parents = list(graph.predecessors(path))
            expected = path.rpartition(SEPARATOR)[0] or None
            if parents != ([expected] if expected is not None else []):
                raise ValueError(f"skill {path!r} has parents {parents}, but its path says {expected!r}")
        if not isinstance(assignments, dict):
            raise ValueError("'assignments' must map instance ids to skill paths")
        for instance_id, path in assignments.items():
            if path not in graph:
                raise ValueError(f"instance {instance_id!r} is assigned to unknown skill {path!r}")
        forest.assignments = dict(assignments)
        return forest

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_data` as strict JSON (non-ASCII kept readable, no NaN/Infinity)."""
        return json.dumps(self.to_data(), ensure_ascii=False, allow_nan=False, indent=indent)

    @classmethod
    def from_json(cls, s: str | bytes) -> SkillForest:
        """Rebuild a forest from :meth:`to_json` output. Raises ``ValueError`` on bad input."""
        return cls.from_data(json.loads(s))

    def __eq__(self, other: object) -> bool:
        """Same nodes with the same attributes, same edges, same assignments, same order."""
        if not isinstance(other, SkillForest):
            return NotImplemented
        return self.to_data() == other.to_data()

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def copy(self) -> SkillForest:
        """An independent deep copy."""
        return type(self).from_data(self.to_data())

    # ------------------------------------------------------------------ history and views

    def snapshot(self, iteration: int) -> ForestSnapshot:
        """A JSON-ready record of the forest as it is at ``iteration``."""
        # Imported here because snapshot.py builds on this module (it loads SkillForests).
        from teachgraph.skills.snapshot import ForestSnapshot

        return ForestSnapshot(iteration=iteration, forest=self.to_data())

    def diff(self, other: SkillForest) -> ForestDiff:
        """What changed from ``self`` (before) to ``other`` (after)."""
        if not isinstance(other, SkillForest):
            raise TypeError(f"can only diff against a SkillForest, not {type(other).__name__}")
        from teachgraph.skills.diff import diff_forests

        return diff_forests(self, other)

    def to_mermaid(self) -> str:
        """A Mermaid ``graph TD`` flowchart: name, quota and latest validation accuracy."""
        from teachgraph.skills.mermaid import forest_to_mermaid

        return forest_to_mermaid(self)

    # ------------------------------------------------------------------ internals

    def _require(self, path: str) -> str:
        if path not in self:
            raise SkillNotFoundError(path, list(self))
        return path

    def _preorder(self, start: str) -> Iterator[str]:
        stack = [start]
        while stack:
            path = stack.pop()
            yield path
            # Reversed so the first-created child is popped (visited) first.
            stack.extend(reversed(list(self.graph.successors(path))))


def _attributes(node: SkillNode) -> dict[str, Any]:
    """The graph-attribute form of a node: JSON-ready, without the path (it is the node id)."""
    return node.model_dump(mode="json", exclude={"path"})
