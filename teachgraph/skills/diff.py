"""What changed in the skill forest between two points of a run (two iterations, or two steps).

A diff is by path: a node that moved to another parent shows as removed plus added, because its
path (its id) changed. Sibling order is not compared; attribute values are, exactly.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from teachgraph.skills.node import SkillNode

if TYPE_CHECKING:
    from teachgraph.skills.forest import SkillForest

# Policy statistics that only record that something else happened (when a bandit last updated a
# skill, how often it did): kept in the diff, left out of its summary unless asked for.
BOOKKEEPING_POLICY_KEYS = frozenset({"updated_at", "pulls"})
# Attributes compared between the two forests (path and name are the node's identity).
_COMPARED = tuple(f for f in SkillNode.model_fields if f not in ("path", "name"))
_DEFAULTS = SkillNode(path="_", name="_").model_dump(mode="json")


class ForestDiff(BaseModel):
    """The difference from one forest (before) to another (after).

    Attributes:
        added: Paths only in the after forest, in its iteration order.
        removed: Paths only in the before forest, in its iteration order.
        changed: Path -> attribute -> ``(before, after)`` for paths in both forests whose
            attributes differ. Values are in their JSON form (accuracy points as dicts).
        added_attributes: Path -> the attributes of each added node that are not at their
            defaults (e.g. ``{"quota": 4, "description": ...}``), so the diff alone can say what
            was added.
        assignments: Instance id -> ``(before path, after path)`` for every instance assigned
            differently (``None`` where it was not assigned).
    """

    model_config = ConfigDict(extra="forbid")

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = Field(default_factory=dict)
    added_attributes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    assignments: dict[str, tuple[str | None, str | None]] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when the two forests hold the same skills, attributes and assignments."""
        return not (self.added or self.removed or self.changed or self.assignments)

    def summary(self, *, bookkeeping: bool = False) -> str:
        """Human-readable lines, one per change, ``"no changes"`` for an empty diff.

        For example ``+ addition/carrying (quota 4)``, ``- fractions/old``,
        ``~ addition: quota 0 -> 4`` and ``assignments: 3 assigned, 1 moved, 0 unassigned``.
        Bookkeeping changes (:data:`BOOKKEEPING_POLICY_KEYS`, e.g. ``policy updated_at 1 -> 2``)
        are counted on a last line instead of listed, unless ``bookkeeping`` is true.
        """
        if self.is_empty():
            return "no changes"
        lines: list[str] = []
        hidden: dict[str, int] = {}
        for path in self.added:
            quota = self.added_attributes.get(path, {}).get("quota", 0)
            lines.append(f"+ {path}" + (f" (quota {quota})" if quota else ""))
        lines.extend(f"- {path}" for path in self.removed)
        for path, attrs in self.changed.items():
            for attr, (before, after) in attrs.items():
                if attr == "policy" and not bookkeeping:
                    for key in BOOKKEEPING_POLICY_KEYS & {*before, *after}:
                        if before.get(key) != after.get(key):
                            hidden[f"policy {key}"] = hidden.get(f"policy {key}", 0) + 1
                    before = {k: v for k, v in before.items() if k not in BOOKKEEPING_POLICY_KEYS}
                    after = {k: v for k, v in after.items() if k not in BOOKKEEPING_POLICY_KEYS}
                lines.extend(f"~ {path}: {text}" for text in _describe(attr, before, after))
        if self.assignments:
            lines.append(_describe_assignments(self.assignments))
        if hidden:
            what = ", ".join(f"{name} ×{n}" for name, n in sorted(hidden.items()))
            lines.append(f"({sum(hidden.values())} bookkeeping change(s) not listed: {what})")
        return "\n".join(lines)


def diff_forests(before: SkillForest, after: SkillForest) -> ForestDiff:
    """The :class:`ForestDiff` from ``before`` to ``after``."""
    old_paths, new_paths = list(before), list(after)
    old_set, new_set = set(old_paths), set(new_paths)
    added = [p for p in new_paths if p not in old_set]
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    for path in new_paths:
        if path not in old_set:
            continue
        old, new = before.graph.nodes[path], after.graph.nodes[path]
        # Deep copies so the diff never aliases lists that live inside either forest's graph.
        attrs = {a: (copy.deepcopy(old[a]), copy.deepcopy(new[a])) for a in _COMPARED if old[a] != new[a]}
        if attrs:
            changed[path] = attrs
    added_attributes = {
        p: {a: copy.deepcopy(after.graph.nodes[p][a]) for a in _COMPARED if after.graph.nodes[p][a] != _DEFAULTS[a]}
        for p in added
    }
    reassigned: dict[str, tuple[str | None, str | None]] = {}
    for instance_id in {**before.assignments, **after.assignments}:
        old_path = before.assignments.get(instance_id)
        new_path = after.assignments.get(instance_id)
        if old_path != new_path:
            reassigned[instance_id] = (old_path, new_path)
    return ForestDiff(
        added=added,
        removed=[p for p in old_paths if p not in new_set],
        changed=changed,
        added_attributes={p: a for p, a in added_attributes.items() if a},
        assignments=reassigned,
    )


def _describe(attr: str, before: Any, after: Any) -> list[str]:
    """Readable fragments for one changed attribute (several for histories and dicts)."""
    if attr == "accuracy_history":
        return _describe_history(before, after)
    if attr == "generators":
        return _describe_generators(before, after)
    if attr == "recent_questions":
        return [f"recent questions: {len(after)} kept"] if before != after else []
    if attr == "policy":
        keys = list(dict.fromkeys([*before, *after]))
        return [
            f"policy {k} {_value(before.get(k))} -> {_value(after.get(k))}"
            for k in keys
            if before.get(k) != after.get(k)
        ]
    return [f"{attr} {_value(before)} -> {_value(after)}"]


def _describe_history(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    def keyed(points: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
        return {(p["iteration"], p["split"]): p for p in points}

    old, new = keyed(before), keyed(after)
    out = []
    for key in dict.fromkeys([*old, *new]):
        iteration, split = key
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        where = f"{split} accuracy @ iteration {iteration}"
        if o is None:
            assert n is not None
            out.append(f"{where} = {_value(n['value'])} (n={n['n']})")
        elif n is None:
            out.append(f"{where} removed (was {_value(o['value'])})")
        else:
            out.append(f"{where} {_value(o['value'])} -> {_value(n['value'])} (n={n['n']})")
    return out


def _describe_generators(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """One line per generator added or changed (status, draws), not its whole source."""
    old = {g["hash"]: g for g in before}
    out = []
    for g in after:
        o = old.get(g["hash"])
        if o is None:
            out.append(f"generator {g['hash']} {g['status']} ({g['reason']}), {g['draws']} draws")
        elif o != g:
            changes = [
                f"{k} {_value(o.get(k))} -> {_value(g.get(k))}"
                for k in ("status", "draws", "accepted", "probe_accuracy")
                if o.get(k) != g.get(k)
            ]
            out.append(f"generator {g['hash']}: " + (", ".join(changes) or "updated"))
    out.extend(f"generator {h} removed" for h in old if h not in {g["hash"] for g in after})
    return out


def _describe_assignments(changes: dict[str, tuple[str | None, str | None]]) -> str:
    new = sum(1 for old, _ in changes.values() if old is None)
    dropped = sum(1 for _, after in changes.values() if after is None)
    moved = len(changes) - new - dropped
    return f"assignments: {new} assigned, {moved} moved, {dropped} unassigned"


def _value(value: Any) -> str:
    """Short display form of an attribute value."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:39] + "…")
    return str(value)
