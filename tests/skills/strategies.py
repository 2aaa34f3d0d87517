"""Hypothesis strategies for random skill forests."""

from __future__ import annotations

from hypothesis import strategies as st

from teachgraph.skills import ACCURACY_SPLITS, SkillForest

# Any unicode except '/' (the path separator) and lone surrogates (not encodable as UTF-8, and
# never produced by decoding an LLM's output); names must have a non-space character.
skill_names = st.text(st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1, max_size=12).filter(
    lambda s: bool(s.split())
)
free_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
unit_floats = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)

MAX_DEPTH = 4  # roots are depth 0, so trees have up to 5 levels
MAX_NODES = 24


@st.composite
def forests(draw: st.DrawFn, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> SkillForest:
    """A random forest: random shape up to ``max_depth``, every kind of attribute, assignments."""
    forest = SkillForest()

    def grow(parent: str | None, depth: int) -> None:
        for _ in range(draw(st.integers(0, 4 if parent is None else 3))):
            if len(forest) >= max_nodes:
                return
            path = forest.add_skill(
                draw(skill_names),
                parent=parent,
                description=draw(free_text),
                gold_label=draw(st.none() | free_text),
                quota=draw(st.integers(0, 1000)),
                iteration=draw(st.integers(0, 20)),
            )
            for _ in range(draw(st.integers(0, 2))):
                forest.record_generated(path, draw(st.integers(0, 100)), rejected=draw(st.integers(0, 100)))
            for _ in range(draw(st.integers(0, 3))):
                forest.record_accuracy(
                    path,
                    iteration=draw(st.integers(0, 10)),
                    split=draw(st.sampled_from(ACCURACY_SPLITS)),
                    value=draw(unit_floats),
                    n=draw(st.integers(0, 10_000)),
                )
            policy = draw(st.dictionaries(free_text, finite_floats, max_size=3))
            if policy:
                forest.update(path, policy=policy)
            if depth < max_depth:
                grow(path, depth + 1)

    grow(None, 0)
    if len(forest):
        paths = list(forest)
        for instance_id in draw(st.lists(free_text, max_size=12)):
            forest.assign(instance_id, draw(st.sampled_from(paths)))
    return forest
