"""The price table and the ledger: lookups, sums, and a cost budget that refuses unpriced models."""

from __future__ import annotations

import pytest

from teachgraph.config import load_config
from teachgraph.costs import DEFAULT_PRICES, Price, ledger, merge_ledgers, price_for, price_table
from teachgraph.errors import ConfigError
from teachgraph.providers import ModelRouter
from teachgraph.runner import check_prices
from teachgraph.state import LLMUsage
from tests.controls.conftest import smoke_config


def test_price_lookup_prefers_exact_then_bare_name_then_longest_glob():
    prices = price_table({"gpt-4o-mini": Price(input=1, output=2), "openai:*": Price(input=9, output=9)})
    assert price_for("openai:gpt-4o-mini", prices) == DEFAULT_PRICES["openai:gpt-4o-mini"]  # exact label wins
    assert price_for("azure_openai:gpt-4o-mini", prices) == Price(input=1, output=2)  # bare model name
    assert price_for("openai:gpt-5-turbo", prices) == Price(input=9, output=9)  # glob
    assert price_for("local:qwen2.5-coder-1.5b-instruct", prices) == Price(input=0, output=0)
    assert price_for("anthropic:claude-x", prices) is None  # unpriced


def test_ledger_sums_per_node_and_model_and_merges_rounds():
    prices = price_table({"openai-compatible:*": Price(input=2, output=4)})
    usage = [
        LLMUsage(node="data_writing", model="openai:gpt-4o-mini", input_tokens=1_000_000, output_tokens=500_000),
        LLMUsage(node="data_writing", model="openai-compatible:q@h:1", input_tokens=10, output_tokens=0),
        LLMUsage(node="policy", model="mystery:model", input_tokens=7, output_tokens=3),
    ]
    one = ledger(usage, prices)
    assert one["calls"] == 3 and one["input_tokens"] == 1_000_017 and one["output_tokens"] == 500_003
    assert one["by_node"]["data_writing"]["cost_usd"] == pytest.approx(0.15 + 0.30 + 20e-6)
    assert one["by_model"]["mystery:model"]["cost_usd"] == 0.0
    assert one["unpriced_models"] == ["mystery:model"]
    total = merge_ledgers([one, one])
    assert total["calls"] == 6 and total["cost_usd"] == pytest.approx(2 * one["cost_usd"])
    assert total["by_node"]["policy"]["input_tokens"] == 14 and total["unpriced_models"] == ["mystery:model"]


def test_cost_budget_needs_a_price_for_every_teacher_model(tmp_path):
    path = smoke_config(tmp_path, "budget", loop={"cost_budget": 1.0})
    config = load_config(path)
    router = ModelRouter({"default": config.teacher.models["default"], "policy": "openai:gpt-9"})
    with pytest.raises(ConfigError, match=r"none for openai:gpt-9: add e\.g\. prices"):
        check_prices(config, router)
    check_prices(config, ModelRouter(config.teacher.models))  # scripted models cost 0 by default
