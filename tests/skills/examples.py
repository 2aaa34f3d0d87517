"""Example skill forests for tests and for looking at drawings.

Run ``python -m tests.skills.examples [PATH] [--large]`` to write the example's PNG (default
``/tmp/forest_demo.png``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from teachgraph.skills import SkillForest
from teachgraph.views import draw_forest

# (name, quota, validation accuracy or None, children)
Spec = tuple[str, int, float | None, list["Spec"]]

ARITHMETIC: list[Spec] = [
    ("multi-digit addition", 0, 0.55, [
        ("carrying across columns", 6, 0.38, [
            ("carrying into a new digit", 4, 0.21, []),
            ("repeated carries (e.g. 999 + 1)", 4, None, []),
        ]),
        ("adding three or more numbers", 2, 0.61, []),
        ("aligning place values", 0, 0.83, []),
    ]),
    ("fractions", 0, 0.42, [
        ("common denominators", 5, 0.35, [
            ("least common multiple", 3, 0.30, []),
            ("simplifying the result", 0, 0.72, []),
        ]),
        ("mixed numbers", 3, 0.47, []),
    ]),
    ("word problems", 0, 0.64, [
        ("extracting the quantities", 0, 0.88, []),
        ("multi-step reasoning", 8, 0.29, [
            ("rates and unit conversion", 4, None, []),
            ("percent change", 3, 0.33, []),
            ("working backwards", 2, 0.40, []),
        ]),
        ("money and change", 2, 0.71, []),
    ]),
]  # fmt: skip


def build_forest(spec: list[Spec], iteration: int = 3) -> SkillForest:
    """A forest from ``spec``, with accuracy histories, generation counts and assignments."""
    forest = SkillForest()

    def add(item: Spec, parent: str | None) -> None:
        name, quota, accuracy, children = item
        path = forest.add_skill(name, parent=parent, quota=quota, iteration=1 if parent else 0)
        if accuracy is not None:
            # A plausible history: lower at iteration 1, the given value now.
            forest.record_accuracy(path, iteration=1, split="validation", value=round(accuracy * 0.8, 3), n=20)
            forest.record_accuracy(path, iteration=iteration, split="validation", value=accuracy, n=20)
        if quota:
            forest.record_generated(path, accepted=quota, rejected=1)
        for child in children:
            add(child, path)

    for root in spec:
        add(root, None)
    for i, leaf in enumerate(forest.leaves()):
        forest.assign(f"validation/{i}", leaf)
    return forest


def example_forest() -> SkillForest:
    """A realistic 3-level arithmetic forest: 3 roots, 18 skills."""
    return build_forest(ARITHMETIC)


def large_forest() -> SkillForest:
    """About 40 skills, including a skill explored into many leaf subskills."""
    explored: Spec = (
        "geometry", 0, 0.5, [
            (name, 2, acc, []) for name, acc in [
                ("area of triangles", 0.4), ("perimeter", 0.8), ("angles in polygons", None),
                ("circle circumference", 0.3), ("volume of prisms", 0.55),
                ("similar triangles", 0.25), ("pythagorean theorem", 0.62),
                ("coordinate distance", None),
            ]
        ],
    )  # fmt: skip
    algebra: Spec = (
        "algebra", 4, 0.45, [
            ("linear equations", 3, 0.6, [
                ("one variable", 0, 0.8, []),
                ("two variables", 4, 0.3, []),
            ]),
            ("inequalities", 2, 0.35, [("flipping the sign", 3, 0.2, [])]),
            ("factoring quadratics", 5, 0.15, []),
        ],
    )  # fmt: skip
    return build_forest([*ARITHMETIC, explored, algebra])


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    forest = large_forest() if "--large" in sys.argv else example_forest()
    out = Path(args[0] if args else "/tmp/forest_demo.png")
    print(draw_forest(forest, out, title=f"Skill forest, iteration 3 ({len(forest)} skills)"))
