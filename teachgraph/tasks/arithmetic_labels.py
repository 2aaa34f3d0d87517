"""Gold answers recomputed where reasoning-gym's are wrong.

reasoning-gym 0.1.25's ``basic_arithmetic`` builds expressions without parentheses
(``_generate_simple_task``, used whenever ``allow_parentheses`` is false, as in our easy preset)
and computes their answer left to right: ``"6 - 5 * 2"`` is labelled ``2``, not ``-4``. Measured on
the strategies benchmark's splits: 11 of 100 test and 18 of 170 train items. A student taught
those labels learns a wrong rule, and a teacher whose generator computes ``6 - 5 * 2`` correctly
is scored against it, so the task relabels every ``basic_arithmetic`` item from its expression
with the usual precedence (``/`` is floor division, as reasoning-gym's harder expressions use).
"""

from __future__ import annotations

import ast

__all__ = ["expression_value"]

_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a // b,  # reasoning-gym evaluates "/" as "//" (eval_floordiv)
    ast.FloorDiv: lambda a, b: a // b,
}


def expression_value(expression: str) -> int:
    """The value of an integer expression with ``+ - * /``, parentheses and unary minus.

    Raises:
        ValueError: anything else (names, calls, floats), or a division by zero.
    """

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            try:
                return _OPERATORS[type(node.op)](value(node.left), value(node.right))
            except ZeroDivisionError:
                raise ValueError(f"division by zero in {expression!r}") from None
        raise ValueError(f"not an integer expression: {expression!r}")

    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"not an integer expression: {expression!r}") from None
    return value(tree.body)
