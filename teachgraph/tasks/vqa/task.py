"""What the VQA task families share: image prompts, one-word answers and their scoring."""

from __future__ import annotations

from teachgraph.domain import SPLITS, Score, Split, TaskInstance
from teachgraph.tasks.answers import format_answer_target
from teachgraph.tasks.vqa.answer_words import canonical_answer, reply_answer
from teachgraph.tasks.vqa.images import split_image
from teachgraph.tasks.vqa.teaching import teacher_text

__all__ = ["VQA_INSTRUCTION", "VQATask"]

#: Appended to every question: the answer format :meth:`VQATask.score` reads.
VQA_INSTRUCTION = 'Look at the image. Answer with one word or number, as a final line "Answer: <answer>".'


class VQATask:
    """Base of the VQA families: an instance's prompt starts with its image reference
    (:mod:`teachgraph.tasks.vqa.images`), its answer is one word.

    Subclasses provide ``name``, ``_splits`` (split -> instances) and ``gold_skills``.
    """

    name: str
    _splits: dict[Split, list[TaskInstance]]

    def instances(self, split: Split) -> list[TaskInstance]:
        """All instances of ``split``."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return list(self._splits[split])

    def split_sizes(self) -> dict[Split, int]:
        """Instances per split."""
        return {s: len(self._splits[s]) for s in SPLITS}

    def student_prompt(self, question: str) -> str:
        """The prompt (image reference first, kept as is), then :data:`VQA_INSTRUCTION`."""
        image, text = split_image(question)
        marker = question[: len(question) - len(text)] if image is not None else ""
        return f"{marker}{text.rstrip()}\n\n{VQA_INSTRUCTION}"

    def teacher_text(self, prompt: str) -> str:
        """The prompt as the teacher's models see it: the image reference replaced by a short
        description (a scene's objects with their centres), then the question."""
        return teacher_text(prompt)

    def format_target(self, answer: str, rationale: str | None = None) -> str:
        """Rationale lines (if any), then ``Answer: <answer>``."""
        return format_answer_target(answer, rationale)

    def score(self, instance: TaskInstance, prediction: str) -> Score:
        """Correct when the reply's one answer word equals the reference's, after case,
        punctuation, filler words, synonyms and number words are normalised
        (:mod:`teachgraph.tasks.vqa.answer_words`)."""
        expected = canonical_answer(instance.answer)
        got = reply_answer(prediction)
        if got is None:
            return Score(
                correct=False,
                score=0.0,
                extracted_answer=None,
                feedback='no one-word answer found; end with a line "Answer: <one word or number>"',
            )
        correct = got == expected
        return Score(
            correct=correct,
            score=1.0 if correct else 0.0,
            extracted_answer=got,
            feedback=None if correct else f"expected {instance.answer}, got {got}",
        )

    def answers_equal(self, a: str, b: str) -> bool:
        """Whether two answers are the same word once normalised (``"Yes"`` and ``"yeah"``; ``"3"`` and ``"three"``)."""
        ca, cb = canonical_answer(a), canonical_answer(b)
        if ca is None or cb is None:
            return " ".join(a.lower().split()) == " ".join(b.lower().split())
        return ca == cb
