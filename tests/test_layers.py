"""The package's layers: no module imports from a layer above its own (docs/architecture.md, "Layers").

An AST walk over every module under ``teachgraph/`` (imports inside functions and under
``TYPE_CHECKING`` included, relative imports resolved): each import of a ``teachgraph`` module must
land in the importer's own layer or one below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import teachgraph

PACKAGE = Path(teachgraph.__file__).parent

# Lowest first. A module may import from its own layer and the layers before it.
LAYERS: list[tuple[str, set[str]]] = [
    # Vocabulary with no teachgraph imports at all.
    ("core", {"domain", "errors", "costs", "redaction", "failpoints", "cache", "text", "stats"}),
    # The parts a teacher works with, and the run configuration that names them.
    (
        "parts",
        {"config", "progress", "testing", "providers", "tasks", "skills", "student", "tracing", "sandbox", "views"},
    ),
    # Records and contexts shared by nodes and graphs.
    ("state", {"state"}),
    ("nodes", {"nodes"}),
    ("graphs", {"graphs"}),
    # Entry points: running an episode, dry runs, the review console, the command line.
    ("app", {"runner", "dryrun", "review_console", "cli"}),
]
RANK = {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Absolute names of the ``teachgraph`` modules that ``source`` (module ``module``) imports."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
    return {n for n in found if n == "teachgraph" or n.startswith("teachgraph.")}


def _layer(module: str) -> str | None:
    """The top-level part of a ``teachgraph`` module name (``teachgraph.nodes.llm`` -> ``nodes``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_top_level_part_has_a_layer() -> None:
    parts = {_layer(_module_name(p)) for p in MODULES} - {None}
    assert parts - set(RANK) == set(), "add new top-level modules/packages to LAYERS (and docs/architecture.md)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_up_the_layers(path: Path) -> None:
    own = _layer(_module_name(path))
    if own is None:  # teachgraph/__init__.py: the public facade may name anything
        return
    upward = [
        name
        for name in sorted(_imports(path.read_text(), _module_name(path), is_package=path.name == "__init__.py"))
        if (target := _layer(name)) is not None and RANK[target] > RANK[own]
    ]
    assert upward == [], f"{own} ({LAYERS[RANK[own]][0]}) imports from a layer above it: {upward}"


def test_the_check_sees_upward_imports() -> None:
    """The walker itself: upward imports at module level, in a function and relative are all found."""
    source = (
        "from teachgraph.graphs.teacher import build_teacher\n"
        "import teachgraph.cli\n"
        "def f():\n    from ..runner import run_episode\n    from . import llm\n"
    )
    found = _imports(source, "teachgraph.nodes.probe")
    assert found == {"teachgraph.graphs.teacher", "teachgraph.cli", "teachgraph.runner", "teachgraph.nodes"}
    assert [RANK[_layer(n)] > RANK["nodes"] for n in sorted(found)] == [True, True, False, True]


def test_the_skill_model_does_not_import_its_pictures() -> None:
    """skills/ is the domain model; matplotlib drawing lives above it in views/."""
    for path in sorted((PACKAGE / "skills").rglob("*.py")):
        found = _imports(path.read_text(), _module_name(path), is_package=path.name == "__init__.py")
        assert not [n for n in found if _layer(n) == "views"], path
        assert "matplotlib" not in path.read_text(), path
