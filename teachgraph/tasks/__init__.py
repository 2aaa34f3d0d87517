"""Tasks the student is taught and measured on, and the registry that builds them by name.

Families: ``arithmetic`` (reasoning-gym generators as gold skills) and ``gsm8k`` (real GSM8K,
no skill labels). Build one with :func:`load_task`; list them with :func:`task_families`.
"""

from teachgraph.tasks.arithmetic import ARITHMETIC_SKILLS, ArithmeticParams, ArithmeticTask
from teachgraph.tasks.base import GoldSkill, Task, TaskConfig
from teachgraph.tasks.gsm8k import GSM8KParams, GSM8KTask
from teachgraph.tasks.registry import (
    TaskFamily,
    TaskFamilyInfo,
    load_task,
    register_task_family,
    task_families,
    task_family_names,
)

__all__ = [
    "ARITHMETIC_SKILLS",
    "ArithmeticParams",
    "ArithmeticTask",
    "GSM8KParams",
    "GSM8KTask",
    "GoldSkill",
    "Task",
    "TaskConfig",
    "TaskFamily",
    "TaskFamilyInfo",
    "load_task",
    "register_task_family",
    "task_families",
    "task_family_names",
]
