"""Mutants of a reference solution: the same program with one small, plausible bug each.

Tests that still pass a mutant did not notice the bug. Teacher-written tests are checked against
a handful of mutants: the operators are the classic mutation-testing ones (a comparison, an
arithmetic or boolean operator, a constant off by one, ``True``/``False``, a dropped ``not``, a
loop's range shortened), applied one site at a time. Some mutants behave exactly like the original
(equivalent mutants), which is why validation asks that *most* mutants fail, not all.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

__all__ = ["mutants", "wrong_stub"]

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}


def wrong_stub(entry_point: str) -> str:
    """A trivially wrong solution: the function exists, takes anything, and returns ``None``."""
    return f"def {entry_point}(*args, **kwargs):\n    return None\n"


def _sites(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(node index in ``ast.walk`` order, what to change) for every place a mutation applies."""
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare):
            yield index, "compare"
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
            yield index, "binop"
        elif isinstance(node, ast.BoolOp):
            yield index, "boolop"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield index, "not"
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield index, "bool"
        elif isinstance(node, ast.Constant) and isinstance(node.value, int):
            yield index, "int"
        elif isinstance(node, ast.Return) and node.value is not None:
            yield index, "return"


def _mutate(node: ast.AST, kind: str, parent_of: dict[int, ast.AST]) -> bool:
    if kind == "compare" and isinstance(node, ast.Compare):
        node.ops[0] = _COMPARE_SWAPS.get(type(node.ops[0]), ast.Eq)()
    elif kind == "binop" and isinstance(node, ast.BinOp | ast.AugAssign):
        node.op = _BINOP_SWAPS[type(node.op)]()
    elif kind == "boolop" and isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "not" and isinstance(node, ast.UnaryOp):
        parent = parent_of.get(id(node))
        if parent is None:
            return False
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, node.operand)
                return True
            if isinstance(value, list) and node in value:
                value[value.index(node)] = node.operand
                return True
        return False
    elif kind == "bool" and isinstance(node, ast.Constant):
        node.value = not node.value
    elif kind == "int" and isinstance(node, ast.Constant):
        node.value = node.value + 1
    elif kind == "return" and isinstance(node, ast.Return):
        node.value = ast.Constant(value=None)
    else:
        return False
    return True


def mutants(source: str, limit: int = 8) -> list[str]:
    """Up to ``limit`` distinct mutants of ``source``, each with one mutation, spread over the program.

    Deterministic: the sites are taken in a fixed order, evenly spaced when there are more than
    ``limit``. A ``source`` that does not parse has no mutants.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    original = ast.unparse(tree)
    sites = list(_sites(tree))
    if len(sites) > limit * 2:
        step = len(sites) / (limit * 2)
        sites = [sites[int(k * step)] for k in range(limit * 2)]
    out: list[str] = []
    for index, kind in sites:
        mutant = copy.deepcopy(tree)
        nodes = list(ast.walk(mutant))
        parent_of = {id(child): parent for parent in nodes for child in ast.iter_child_nodes(parent)}
        if not _mutate(nodes[index], kind, parent_of):
            continue
        try:
            text = ast.unparse(ast.fix_missing_locations(mutant))
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError):
            continue
        if text != original and text not in out:
            out.append(text)
        if len(out) == limit:
            break
    return out
