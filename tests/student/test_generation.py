"""The fast greedy decoder's pieces: the shared prefix, stopping rules."""

from __future__ import annotations

from teachgraph.student import HFStudent, StudentConfig, build_student
from teachgraph.student.chat import render_prompt
from teachgraph.student.generation import greedy_generate, shared_prefix_length


def test_shared_prefix_length_leaves_a_token_per_row() -> None:
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2  # the last token goes through the batch
    assert shared_prefix_length([[7, 1], [8, 1]]) == 0
    assert shared_prefix_length([[4]]) == 0
    assert shared_prefix_length([]) == 0


def test_greedy_generate_stops_at_eos_and_budget(tiny_config: StudentConfig) -> None:
    student = build_student(tiny_config)
    assert isinstance(student, HFStudent)
    tokenizer = student.tokenizer
    ids = [tokenizer(render_prompt(tokenizer, p), add_special_tokens=False)["input_ids"] for p in ["a", "bb b", "c"]]
    model = student._base
    free = greedy_generate(model, ids, eos_id=-1, pad_id=tokenizer.pad_token_id, max_new_tokens=5, batch_size=2)
    assert [len(t) for t in free] == [5, 5, 5]  # no EOS possible: every row runs to the budget
    # Declare each row's 3rd token the end-of-turn token: that row stops before it, others go on.
    stop = free[1][2]
    stopped = greedy_generate(model, ids, eos_id=stop, pad_id=tokenizer.pad_token_id, max_new_tokens=5, batch_size=2)
    for full, cut in zip(free, stopped, strict=True):
        expected = full[: full.index(stop)] if stop in full else full
        assert cut == expected
    assert greedy_generate(model, [], eos_id=stop, pad_id=0, max_new_tokens=5, batch_size=2) == []
