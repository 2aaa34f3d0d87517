"""What the direct writer asks for on a code task: problems with a reference solution and unit tests.

``data_writing`` uses this prompt and reply schema when the task is a
:class:`~teachgraph.tasks.code.CodeTask`. Code is asked for in fenced blocks, not JSON strings
(see :mod:`teachgraph.providers.text_reply`: a 1.5B teacher under llama.cpp's JSON grammar
loses the quotes at line ends). Each problem is three sections: ``### Problem``, ``### Solution``
(one ``python`` block) and ``### Tests`` (``assert`` statements, one test per statement).
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, Field

from teachgraph.providers.text_reply import TextReply, code_blocks
from teachgraph.tasks.code import split_tests

__all__ = ["SYSTEM", "USER", "CodeBatch", "WrittenCodeExample"]

SYSTEM = (
    "You are an expert teacher who writes Python programming exercises for a student model. Every "
    "exercise asks for one function, comes with a correct reference solution, and with unit tests that "
    "the solution passes and a wrong solution fails."
)

USER = """Write {n} NEW Python programming problems for the skill: {skill}{description}
{errors}{style}{avoid}
For each problem write these three sections, in this order:
### Problem
What the function must do, its signature (def name(arguments) -> type) and one example call.
### Solution
One ```python block: a correct, complete implementation (standard library only).
### Tests
One ```python block of 4 to 8 assert statements that call the function on different inputs,
edge cases included, so that a wrong implementation fails at least one."""

MAX_TEST_CHARS = 2000
_HEADING = re.compile(r"^[ \t]*#{1,4}[ \t]*(problem|solution|tests?)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)


class WrittenCodeExample(BaseModel):
    """One code example as the writer wrote it; validation runs the solution and the tests."""

    question: str = Field(default="", max_length=3000)
    answer: str = Field(default="", max_length=4000, description="The reference solution.")
    tests: list[str] = Field(default_factory=list, max_length=20)
    rationale: str = ""
    program: str = ""


class CodeBatch(TextReply):
    """A batch of code examples parsed from ``### Problem / ### Solution / ### Tests`` sections."""

    reply_format: ClassVar[str] = (
        "Reply with the sections '### Problem', '### Solution' (one ```python block) and '### Tests' "
        "(one ```python block of assert statements) for each problem, and nothing else."
    )
    examples: list[WrittenCodeExample] = Field(max_length=16)

    @classmethod
    def from_text(cls, text: str) -> CodeBatch:
        marks = [(m.group(1).lower().rstrip("s"), m.start(), m.end()) for m in _HEADING.finditer(text)]
        examples: list[WrittenCodeExample] = []
        current: dict[str, str] = {}
        for k, (kind, _, end) in enumerate(marks):
            body = text[end : marks[k + 1][1] if k + 1 < len(marks) else len(text)].strip()
            if kind == "problem" and current:
                examples.append(_example(current))
                current = {}
            current[kind] = body
        if current:
            examples.append(_example(current))
        examples = [e for e in examples if e.question or e.answer]
        if not examples:
            raise ValueError("the reply holds no '### Problem' section followed by '### Solution' and '### Tests'")
        return cls(examples=examples)


def _example(sections: dict[str, str]) -> WrittenCodeExample:
    solution = code_blocks(sections.get("solution", ""))
    tests = [t for block in code_blocks(sections.get("test", "")) for t in split_tests(block)]
    return WrittenCodeExample(
        question=sections.get("problem", "").strip()[:3000],
        answer=(solution[0] if solution else "")[:4000],
        tests=[t[:MAX_TEST_CHARS] for t in tests[:20]],  # a cut test does not parse: validation says so
    )
