"""Tasks the student is taught and measured on, and the registry that builds them by name.

Families: ``arithmetic`` (reasoning-gym generators as gold skills), ``gsm8k`` (real GSM8K,
no skill labels), the code families ``humaneval`` and ``algorithmic_code`` (``tasks.code``), and the VQA
families ``easy_vqa`` and ``shape_scenes`` (``tasks.vqa``). Build one with :func:`load_task`; list them with :func:`task_families`.
"""

from teachgraph.tasks.arithmetic import ARITHMETIC_SKILLS, ArithmeticParams, ArithmeticTask
from teachgraph.tasks.base import GoldSkill, RunsCode, Task, TaskConfig, score_all, teacher_text
from teachgraph.tasks.code import AlgorithmicCodeParams, AlgorithmicCodeTask, CodeTask, HumanEvalParams, HumanEvalTask
from teachgraph.tasks.gsm8k import GSM8KParams, GSM8KTask
from teachgraph.tasks.registry import (
    TaskFamily,
    TaskFamilyInfo,
    family_engine_problem,
    family_executes_code,
    family_has_images,
    load_task,
    register_task_family,
    task_families,
    task_family_names,
)

__all__ = [
    "ARITHMETIC_SKILLS",
    "AlgorithmicCodeParams",
    "AlgorithmicCodeTask",
    "ArithmeticParams",
    "ArithmeticTask",
    "CodeTask",
    "GSM8KParams",
    "GSM8KTask",
    "GoldSkill",
    "HumanEvalParams",
    "HumanEvalTask",
    "RunsCode",
    "Task",
    "TaskConfig",
    "TaskFamily",
    "TaskFamilyInfo",
    "family_engine_problem",
    "family_executes_code",
    "family_has_images",
    "load_task",
    "register_task_family",
    "score_all",
    "task_families",
    "task_family_names",
    "teacher_text",
]
