"""What every math task shares: cached splits, the ``Answer:`` prompt and training-target format."""

from __future__ import annotations

from teachgraph.domain import SPLITS, Score, Split, TaskInstance
from teachgraph.tasks import answers


class MathTask:
    """Base for tasks whose answers end in ``Answer: <final answer>``.

    Subclasses provide ``_splits`` (split -> instances, built once) plus ``score``,
    ``answers_equal`` and ``gold_skills``.
    """

    _splits: dict[Split, list[TaskInstance]]

    def instances(self, split: Split) -> list[TaskInstance]:
        """All instances of ``split`` (built on first use, then cached)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return list(self._splits[split])

    def student_prompt(self, question: str) -> str:
        """The question followed by the instruction to end with ``Answer: <final answer>``."""
        return answers.answer_prompt(question)

    def format_target(self, answer: str, rationale: str | None = None) -> str:
        """Rationale lines (if given), then ``Answer: <answer>``: what ``score`` reads."""
        return answers.format_answer_target(answer, rationale)

    @staticmethod
    def no_answer(form: str = "final answer") -> Score:
        """The score of a prediction with no extractable final answer, saying how to give one."""
        return Score(
            correct=False,
            score=0.0,
            extracted_answer=None,
            feedback=f"no final answer found; end with a line 'Answer: <{form}>'",
        )
