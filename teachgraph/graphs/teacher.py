"""Teacher graph builders: ``open_ended()``, ``skill_list()``, ``skill_tree()``.

Each returns an *uncompiled* ``StateGraph`` so you can add, replace or remove nodes before
compiling (see ``examples/custom_graph.py``). One invocation is one teacher step: evaluated
instances in, validated training examples and the updated skill forest out.

``with_state=False`` builds the no-state baseline of the same environment: the student's
predictions and correctness are blanked before any teacher node runs, and error analysis is
left out, so the teacher sees the task's questions but never the student's results.

``engine`` picks the ``data_writing`` node: ``"examples"`` (the writer model writes each
example) or ``"programs"`` (it writes generator programs that are validated and drawn from,
:mod:`teachgraph.nodes.program_writing`), which adds ``top_up`` before validation (a branch's
shortfall drawn from the generators that worked, :mod:`teachgraph.nodes.program_top_up`) and
``difficulty_probe`` after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph

from teachgraph.errors import UnknownNameError
from teachgraph.nodes.allocation import allocation, open_ended_targets, rebalance
from teachgraph.nodes.data_writing import data_writing, fan_out_jobs
from teachgraph.nodes.difficulty_probe import difficulty_probe
from teachgraph.nodes.error_analysis import error_analysis
from teachgraph.nodes.policies import Policy
from teachgraph.nodes.policy import make_policy_node, route_after_policy
from teachgraph.nodes.program_top_up import top_up
from teachgraph.nodes.program_writing import program_writing
from teachgraph.nodes.review import human_review
from teachgraph.nodes.skill_induction import skill_induction
from teachgraph.nodes.subskill_exploration import subskill_exploration
from teachgraph.nodes.validation import validation
from teachgraph.state import ExplorationInput, TeacherContext, TeacherInput, TeacherOutput, TeacherState, WritingInput


def make_observe(with_state: bool) -> Callable[[TeacherState], dict[str, Any]]:
    """Entry node: decide what the teacher may see of the student's results."""

    def observe(state: TeacherState) -> dict[str, Any]:
        """Pass the student's results through, or blank them for the no-state baseline."""
        evaluated = state.get("evaluated", [])
        if not with_state:
            evaluated = [
                e.model_copy(
                    update={
                        "prediction": "",
                        "correct": False,
                        "score": 0.0,
                        "extracted_answer": None,
                        "feedback": None,
                    }
                )
                for e in evaluated
            ]
        return {"with_state": with_state, "evaluated": evaluated}

    return observe


WRITERS: dict[str, Callable[..., dict[str, Any]]] = {"examples": data_writing, "programs": program_writing}


def _base(with_state: bool, review: bool = False, engine: str = "examples") -> StateGraph:
    if engine not in WRITERS:
        raise UnknownNameError("engine", engine, list(WRITERS))
    graph = StateGraph(
        TeacherState, context_schema=TeacherContext, input_schema=TeacherInput, output_schema=TeacherOutput
    )
    graph.add_node("observe", make_observe(with_state))
    graph.add_edge(START, "observe")
    graph.add_node("data_writing", WRITERS[engine], input_schema=WritingInput)
    graph.add_node("validation", validation)
    if engine == "programs":  # the branches' shortfall, drawn from the generators that worked
        graph.add_node("top_up", top_up)
        graph.add_edge("data_writing", "top_up")
        graph.add_edge("top_up", "validation")
    else:
        graph.add_edge("data_writing", "validation")
    # After validation: a person's review (an interrupt; see nodes/review.py), then, for the
    # program engine, the student's difficulty probe of the generators that survived.
    last = "validation"
    if review:
        graph.add_node("human_review", human_review)
        graph.add_edge(last, "human_review")
        last = "human_review"
    if engine == "programs":
        graph.add_node("difficulty_probe", difficulty_probe)
        graph.add_edge(last, "difficulty_probe")
        last = "difficulty_probe"
    graph.add_edge(last, END)
    return graph


def _after_planning(graph: StateGraph, planner: str) -> None:
    graph.add_conditional_edges(planner, fan_out_jobs, ["data_writing", "validation"])


def _analysis_then(graph: StateGraph, with_state: bool, nxt: str) -> None:
    """observe -> error_analysis -> nxt, or observe -> nxt without state."""
    if with_state:
        graph.add_node("error_analysis", error_analysis)
        graph.add_edge("observe", "error_analysis")
        graph.add_edge("error_analysis", nxt)
    else:
        graph.add_edge("observe", nxt)


def open_ended(*, with_state: bool = True, review: bool = False, engine: str = "examples") -> StateGraph:
    """Open-ended environment: the teacher sees evaluated instances (errors first) and writes
    examples that fix the errors it finds: error_analysis -> targets -> data_writing -> validation."""
    graph = _base(with_state, review, engine)
    graph.add_node("open_ended_targets", open_ended_targets)
    _analysis_then(graph, with_state, "open_ended_targets")
    _after_planning(graph, "open_ended_targets")
    return graph


def skill_list(*, with_state: bool = True, review: bool = False, engine: str = "examples") -> StateGraph:
    """Skill-list environment: per-skill accuracy over induced skills; the teacher spends a budget
    across skills: error_analysis -> skill_induction -> allocation -> data_writing -> validation."""
    graph = _base(with_state, review, engine)
    graph.add_node("skill_induction", skill_induction)
    graph.add_node("allocation", allocation)
    _analysis_then(graph, with_state, "skill_induction")
    graph.add_edge("skill_induction", "allocation")
    _after_planning(graph, "allocation")
    return graph


def skill_tree(
    *, with_state: bool = True, policy: Policy | None = None, review: bool = False, engine: str = "examples"
) -> StateGraph:
    """Skill-tree environment: a forest of skills and subskills; per skill the policy explores
    (new subskills) or exploits (rebalances quotas):
    error_analysis -> skill_induction -> policy -> [subskill_exploration] -> rebalance -> data_writing -> validation.

    Args:
        with_state: False builds the no-state baseline.
        policy: A policy callable overriding the one named in the settings (see ``nodes.policies``).
        review: Add ``human_review`` after validation (``teacher.review``; see ``nodes.review``).
        engine: ``examples`` or ``programs`` (see the module docstring).
    """
    graph = _base(with_state, review, engine)
    graph.add_node("skill_induction", skill_induction)
    graph.add_node("policy", make_policy_node(policy))
    graph.add_node("subskill_exploration", subskill_exploration, input_schema=ExplorationInput)
    graph.add_node("rebalance", rebalance)
    _analysis_then(graph, with_state, "skill_induction")
    graph.add_edge("skill_induction", "policy")
    graph.add_conditional_edges("policy", route_after_policy, ["subskill_exploration", "rebalance"])
    graph.add_edge("subskill_exploration", "rebalance")
    _after_planning(graph, "rebalance")
    return graph


BUILDERS: dict[str, Callable[..., StateGraph]] = {
    "open_ended": open_ended,
    "skill_list": skill_list,
    "skill_tree": skill_tree,
}


def build_teacher(environment: str, *, with_state: bool = True, **kwargs: Any) -> StateGraph:
    """The builder for ``environment`` (``open_ended``, ``skill_list`` or ``skill_tree``);
    ``review=True`` adds the human review step."""
    if environment not in BUILDERS:
        raise UnknownNameError("environment", environment, list(BUILDERS))
    return BUILDERS[environment](with_state=with_state, **kwargs)


__all__ = ["BUILDERS", "TeacherContext", "build_teacher", "open_ended", "skill_list", "skill_tree"]
