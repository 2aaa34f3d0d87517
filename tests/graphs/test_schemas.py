"""Every LLM output schema of the teacher nodes compiles into a llama.cpp grammar (local models)."""

from __future__ import annotations

import json

import pytest

from teachgraph.nodes.allocation import Allocation
from teachgraph.nodes.data_writing import WrittenBatch, batch_schema
from teachgraph.nodes.error_analysis import MAX_CITED, analysis_schema
from teachgraph.nodes.policy import PolicyDecision
from teachgraph.nodes.skill_induction import SkillInduction
from teachgraph.nodes.subskill_exploration import SubskillProposal
from teachgraph.providers.structured import grammar_schema
from teachgraph.state import ErrorAnalysis

SCHEMAS = [ErrorAnalysis, analysis_schema(16, 4), SkillInduction, SubskillProposal, WrittenBatch, batch_schema(4), PolicyDecision, Allocation]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_schema_compiles_to_a_llama_cpp_grammar(schema):
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema)), verbose=False)
    assert grammar is not None
    assert "maxLength" not in json.dumps(grammar_schema(schema))


def test_error_analysis_grammar_cites_only_shown_ids_and_a_few_per_group():
    """Unbounded, the local teacher listed ids q1, q5, ... q93 of 16 shown until max_tokens."""
    schema = grammar_schema(analysis_schema(16, 4))
    group = schema["$defs"]["ErrorGroup"]["properties"]["instance_ids"]
    assert group["items"]["enum"] == [f"q{n}" for n in range(1, 17)] and group["maxItems"] == MAX_CITED
    assert schema["properties"]["groups"]["maxItems"] == 4
    assert grammar_schema(analysis_schema(3, 2))["$defs"]["ErrorGroup"]["properties"]["instance_ids"]["maxItems"] == 3
    # Parsing stays lenient (the node drops unknown ids), so providers without a grammar fail nothing.
    parsed = analysis_schema(3, 2).model_validate({"groups": [{"name": "a", "description": "b", "instance_ids": ["q9"]}]})
    assert isinstance(parsed, ErrorAnalysis)
