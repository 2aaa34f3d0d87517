"""The cost ledger: every teacher LLM call's tokens, priced per model, summed per node and run.

Prices are USD per 1M tokens, looked up by model label (``openai:gpt-4o-mini``) in a small
table that a run config extends or overrides (``prices:``). Keys are exact labels, bare model
names (``gpt-4o-mini``) or glob patterns (``scripted:*``); the most specific match wins.
Embedded and scripted models cost nothing. A model with no price is *unpriced*: its tokens are
counted, its cost is not, and the ledger lists it (a ``cost_budget`` refuses to start with one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class Price(BaseModel):
    """USD per 1M input and output tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0, description="USD per 1M input (prompt) tokens.")
    output: float = Field(ge=0, description="USD per 1M output (completion) tokens.")


# OpenAI list prices (standard tier, USD per 1M tokens) as of 2025-06 (openai.com/api/pricing);
# override or extend them in a config's `prices:` when they change, and for other providers.
DEFAULT_PRICES: dict[str, Price] = {
    "local:*": Price(input=0, output=0),
    "local-server:*": Price(input=0, output=0),
    "scripted:*": Price(input=0, output=0),
    "openai:gpt-4o": Price(input=2.50, output=10.00),
    "openai:gpt-4o-mini": Price(input=0.15, output=0.60),
    "openai:gpt-4.1": Price(input=2.00, output=8.00),
    "openai:gpt-4.1-mini": Price(input=0.40, output=1.60),
    "openai:gpt-4.1-nano": Price(input=0.10, output=0.40),
    "openai:o4-mini": Price(input=1.10, output=4.40),
}


class Usage(Protocol):
    """One LLM call's tokens (``teachgraph.state.LLMUsage`` has this shape)."""

    node: str
    model: str
    input_tokens: int
    output_tokens: int


def price_table(overrides: Mapping[str, Price] | None = None) -> dict[str, Price]:
    """The default prices with a config's ``prices:`` on top."""
    return {**DEFAULT_PRICES, **(overrides or {})}


def price_for(label: str, prices: Mapping[str, Price]) -> Price | None:
    """The price of model ``label``: exact label, then bare model name, then the longest matching
    glob pattern; None when nothing matches (unpriced)."""
    if label in prices:
        return prices[label]
    bare = label.split(":", 1)[-1]
    if bare in prices:
        return prices[bare]
    patterns = [p for p in prices if any(ch in p for ch in "*?[") and fnmatchcase(label, p)]
    return prices[max(patterns, key=len)] if patterns else None


def call_cost(input_tokens: int, output_tokens: int, price: Price) -> float:
    """USD for one call's tokens at ``price``."""
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def _empty() -> dict[str, Any]:
    return {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}


def _add(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    for key in ("calls", "input_tokens", "output_tokens"):
        total[key] += int(part.get(key, 0))
    total["cost_usd"] = round(total["cost_usd"] + float(part.get("cost_usd", 0.0)), 8)


def ledger(usage: Iterable[Usage], prices: Mapping[str, Price]) -> dict[str, Any]:
    """Totals of ``usage`` overall, ``by_node`` and ``by_model``, with the models left unpriced.

    The shape (JSON-ready) is what metrics.json records per round and for the run.
    """
    out: dict[str, Any] = {**_empty(), "by_node": {}, "by_model": {}, "unpriced_models": []}
    unpriced: set[str] = set()
    for u in usage:
        price = price_for(u.model, prices)
        if price is None:
            unpriced.add(u.model)
        line = {
            "calls": 1,
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cost_usd": call_cost(u.input_tokens, u.output_tokens, price) if price else 0.0,
        }
        _add(out, line)
        _add(out["by_node"].setdefault(u.node, _empty()), line)
        _add(out["by_model"].setdefault(u.model, _empty()), line)
    out["unpriced_models"] = sorted(unpriced)
    return out


def merge_ledgers(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One ledger summing several (the run's total from its rounds' ledgers)."""
    out: dict[str, Any] = {**_empty(), "by_node": {}, "by_model": {}, "unpriced_models": []}
    unpriced: set[str] = set()
    for part in parts:
        _add(out, part)
        for group in ("by_node", "by_model"):
            for name, line in (part.get(group) or {}).items():
                _add(out[group].setdefault(name, _empty()), line)
        unpriced.update(part.get("unpriced_models") or [])
    out["unpriced_models"] = sorted(unpriced)
    return out


def format_cost(value: float | None, unpriced: Iterable[str] = ()) -> str:
    """``$0.0123`` (``+ unpriced`` when some model had no price; ``-`` for no value)."""
    if value is None:
        return "-"
    text = f"${value:,.4f}" if value < 100 else f"${value:,.2f}"
    return text + (" + unpriced" if list(unpriced) else "")
