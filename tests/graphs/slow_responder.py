"""A scripted writer for the program engine that is slow on its independent checks, so a test can
kill a run while some writing branches are drawing and others are still waiting on the model."""

from __future__ import annotations

import time

from langchain_core.messages import BaseMessage

from teachgraph.testing import data_writing_responder

CHECK_DELAY_S = 1.5


def slow_data_writing(messages: list[BaseMessage]) -> str:
    """:func:`teachgraph.testing.data_writing_responder`, after a pause on independent checks."""
    if "For each question, write a Python 3 program" in "\n".join(str(m.content) for m in messages):
        time.sleep(CHECK_DELAY_S)
    return data_writing_responder(messages)
