"""Every LLM output schema of the teacher nodes compiles into a llama.cpp grammar (local models)."""

from __future__ import annotations

import json

import pytest

from teachgraph.nodes.allocation import Allocation
from teachgraph.nodes.data_writing import WrittenBatch, batch_schema
from teachgraph.nodes.policy import PolicyDecision
from teachgraph.nodes.skill_induction import SkillInduction
from teachgraph.nodes.subskill_exploration import SubskillProposal
from teachgraph.providers.structured import grammar_schema
from teachgraph.state import ErrorAnalysis

SCHEMAS = [ErrorAnalysis, SkillInduction, SubskillProposal, WrittenBatch, batch_schema(4), PolicyDecision, Allocation]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_schema_compiles_to_a_llama_cpp_grammar(schema):
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema)), verbose=False)
    assert grammar is not None
    assert "maxLength" not in json.dumps(grammar_schema(schema))
