"""Every fault the fault server injects is a transient provider error: retried, then answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage

from teachgraph.nodes.skill_induction import SkillInduction
from teachgraph.providers import ModelSpec, resolve_model, structured_call
from teachgraph.providers.faults import RetrySettings
from teachgraph.testing import skill_induction_responder
from tests.faults.fault_server import TRANSIENT_FAULTS, FaultServer

FAST = RetrySettings(max_retries=3, initial_delay_s=0.001, max_delay_s=0.02, jitter_s=0.0)
PROMPT = [HumanMessage("Here are questions.\n[q1] What is 2+3?\n[q2] gcd of 4 and 6?")]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer(slow_s=1.2).start()
    try:
        yield srv
    finally:
        srv.stop()


def model(server: FaultServer):
    return resolve_model(ModelSpec.parse({"spec": f"openai-compatible:{server.url}#fault-model", "timeout_s": 0.5}))


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_each_fault_is_retried_and_the_answer_is_the_healthy_one(server: FaultServer, fault: str) -> None:
    healthy = structured_call(model(server), SkillInduction, PROMPT, retry=FAST)
    assert healthy.ok, healthy.error
    server.plan = [fault, fault]
    result = structured_call(model(server), SkillInduction, PROMPT, retry=FAST)
    assert result.ok, result.error
    assert (result.retries, result.attempts) == (2, 1)
    assert result.value == healthy.value
    assert (
        healthy.value is not None
        and healthy.value.model_dump()
        == SkillInduction.model_validate_json(skill_induction_responder(PROMPT)).model_dump()
    )


def test_401_is_fatal_at_once(server: FaultServer) -> None:
    server.mode = "401"
    result = structured_call(model(server), SkillInduction, PROMPT, retry=FAST)
    assert result.failure == "fatal" and result.retries == 0 and server.served["401"] == 1
    assert "AuthenticationError" in (result.error or "")


def test_server_down_is_a_provider_failure_after_the_retries(server: FaultServer) -> None:
    resolved = model(server)
    server.stop()
    result = structured_call(resolved, SkillInduction, PROMPT, retry=FAST)
    assert result.failure == "provider" and result.retries == 3
    assert "Connection error" in (result.error or "")
