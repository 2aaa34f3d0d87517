"""The student's answer format: the instruction on every question and the training target."""

from __future__ import annotations

from teachgraph.tasks.answers.extraction import _ANSWER_MARKER_RE

#: The instruction appended to every math question: the student's answer format.
ANSWER_INSTRUCTION = 'Finish your response with a final line of the form "Answer: <final answer>".'


def answer_prompt(question: str) -> str:
    """The student prompt for a math question: the question plus :data:`ANSWER_INSTRUCTION`."""
    return f"{question.rstrip()}\n\n{ANSWER_INSTRUCTION}"


def format_answer_target(answer: str, rationale: str | None = None) -> str:
    """A training target: rationale lines (if any), then ``Answer: <answer>`` as the last line.

    :func:`extract_answer` returns exactly ``answer`` (whitespace collapsed to one line) from the
    result: "Answer:" markers inside the rationale are defused first, because the first marker
    wins extraction. Raises ``ValueError`` for an empty answer.
    """
    one_line = " ".join(answer.split())
    if not one_line:
        raise ValueError("a training target needs a non-empty answer")
    lines = []
    if rationale is not None and rationale.strip():
        lines.append(_defuse_answer_markers(rationale.strip()))
    lines.append(f"Answer: {one_line}")
    return "\n".join(lines)


def _defuse_answer_markers(text: str) -> str:
    """``"The answer: 5"`` → ``"The answer is 5"``, so that the rationale cannot win extraction."""
    return _ANSWER_MARKER_RE.sub(lambda m: m.group(0).rstrip(":：* ").rstrip() + " is", text)
