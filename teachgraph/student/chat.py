"""Chat-template rendering shared by generation and training.

Training must show the model exactly the token sequence it later sees at generation time:
``render_prompt`` (the chat template with the assistant header appended) for the prompt, then
the target, then the end-of-turn token. Both sides use these functions so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teachgraph.errors import StudentError

IGNORE_INDEX = -100  # label value that torch's cross-entropy (and HF models) skip


@dataclass(frozen=True)
class EncodedPair:
    """One training example as token ids; ``labels`` is ``IGNORE_INDEX`` on prompt tokens."""

    input_ids: list[int]
    labels: list[int]

    @property
    def target_tokens(self) -> int:
        """How many tokens carry loss."""
        return sum(label != IGNORE_INDEX for label in self.labels)


def render_prompt(tokenizer: Any, prompt: str) -> str:
    """The chat-formatted text of one user message, ending with the assistant header."""
    if not getattr(tokenizer, "chat_template", None):
        raise StudentError(
            "the student's tokenizer has no chat template; use a chat/instruct model "
            "(e.g. smollm2-135m-instruct) or a model directory whose tokenizer defines one"
        )
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
    )
    if not isinstance(text, str):  # defensive: some versions return a list for one conversation
        raise StudentError(f"apply_chat_template returned {type(text).__name__}, not text")
    return text


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that ends an assistant turn (``<|im_end|>`` for ChatML); generation stops there."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise StudentError("the student's tokenizer has no end-of-sequence token")
    return int(eos)


def encode_pair(tokenizer: Any, prompt: str, target: str, max_length: int) -> EncodedPair | None:
    """Tokenise one (prompt, target) pair for causal-LM training with the prompt masked.

    The sequence is truncated on the right to ``max_length``; ``None`` when no target token
    survives (a prompt longer than ``max_length`` teaches nothing).
    """
    # add_special_tokens=False: the chat template already contains every special token; the
    # tokenizer's own BOS insertion would add a token generation never sees.
    prompt_ids = tokenizer(render_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    target_ids = [*target_ids, end_of_turn_id(tokenizer)]  # learn to stop, too
    input_ids = [*prompt_ids, *target_ids][:max_length]
    labels = [*([IGNORE_INDEX] * len(prompt_ids)), *target_ids][:max_length]
    if all(label == IGNORE_INDEX for label in labels):
        return None
    return EncodedPair(input_ids=input_ids, labels=labels)
