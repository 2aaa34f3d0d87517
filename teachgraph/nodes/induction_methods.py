"""How skill_induction asks the model for skills: by structure, or DataEnvGym's two stages.

Both assign every pending instance to exactly one root skill of the forest (what they cannot
place goes to the visible :data:`FALLBACK_SKILL` bucket) and never create more than
``max_skills`` roots. The ``direct`` method lives in :mod:`teachgraph.nodes.skill_induction`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from teachgraph.domain import EvaluatedInstance
from teachgraph.nodes.llm import NodeCalls, bounded, messages
from teachgraph.skills import SkillForest
from teachgraph.skills.names import name_key
from teachgraph.skills.structure import group_frames, nearest_frame, question_frame
from teachgraph.state import TeacherContext

NODE = "skill_induction"
FALLBACK_SKILL = "other"
FRAMES_KEY = "question_frames"
"""Forest graph attribute (``forest.graph.graph``): question frame -> the root skill it was given,
so a later question with a known frame goes to the same skill without a model call."""
LABEL_CHUNK = 30  # questions per labelling call (two_stage): the labels must fit in max_tokens
EXAMPLES_PER_GROUP = 3
QUESTION_CHARS = 160


@dataclass
class Induced:
    """What one induction pass cost and left over."""

    calls: NodeCalls
    fallbacks: int = 0


def assign_fallback(forest: SkillForest, instances: list[EvaluatedInstance], iteration: int) -> int:
    """Put every instance of ``instances`` that has no skill into the fallback bucket; return how many."""
    count = 0
    for e in instances:
        if e.instance.id not in forest.assignments:
            path = forest.find(FALLBACK_SKILL) or forest.add_skill(
                FALLBACK_SKILL,
                description="Questions the teacher did not assign to a named skill.",
                iteration=iteration,
            )
            forest.assign(e.instance.id, path)
            count += 1
    return count


def existing_skills_text(forest: SkillForest) -> str:
    """The prompt paragraph listing the skills already in the forest (empty when there are none)."""
    roots = [r for r in forest.roots() if r != FALLBACK_SKILL]
    if not roots:
        return ""
    lines = "\n".join(f"- {forest.node(p).name}: {forest.node(p).description}" for p in roots)
    return f"Skills already in use (reuse these names when they fit):\n{lines}\n\n"


def _add_or_find(forest: SkillForest, name: str, description: str, iteration: int, max_skills: int) -> str | None:
    """The root named ``name`` (created if there is room), or None."""
    name = " ".join(name.replace("/", " or ").split())
    if not name:
        return None
    path = forest.find(name)
    if path is None and len(forest.roots()) < max_skills:
        path = forest.add_skill(name, description=description, iteration=iteration)
    return path


def _question(e: EvaluatedInstance) -> str:
    return " ".join(e.instance.prompt.split())[:QUESTION_CHARS]


# --- structure: group by frame, the model names the groups ------------------------------------

NAME_USER = """Questions from a {task} task, grouped by how they are worded. For each group: its id, \
its size{results}, and example questions.

{groups}

{existing}Name the skill each group tests: a short, specific name (e.g. 'greatest common divisor') \
and a one-sentence description. Give each group its own name unless two groups clearly test the \
same skill; use at most {max_skills} different names."""


class GroupName(BaseModel):
    group: str = Field(max_length=20, description="Group id as shown, e.g. 'g1'.")
    name: str = Field(max_length=100, description="Short skill name.")
    description: str = Field(default="", max_length=300, description="One sentence.")


class GroupNames(BaseModel):
    """A skill name for every group of questions."""

    skills: list[GroupName] = Field(max_length=40)


def name_from_description(description: str) -> str:
    """A skill name made of its one-sentence description ("Students need to find the LCM of
    numbers correctly." -> "find the LCM of numbers")."""
    text = re.sub(
        r"^(the )?(students?|learners?)( will)? (needs?|must|should|has|have|to|can)( to)? ",
        "",
        " ".join(description.split()),
        flags=re.I,
    )
    text = re.sub(r"( correctly| accurately)?[.!]*$", "", text)
    return text[:80].strip() or description[:80]


def _name_clash(named: dict[str, GroupName], ids: list[str], forest: SkillForest, max_skills: int) -> list[str]:
    """Groups given one new name but described differently, while there is room for more skills.

    A small model tends to reuse its first name for every later group (measured: gcd, lcm and
    "state the final answer" questions all named "arithmetic problem solving", and asked again
    it named them so again), while its descriptions still tell them apart; identical
    descriptions are a deliberate merge. All but the first of these groups are then named by
    their descriptions (:func:`name_from_description`), at no further call.
    """
    by_name: dict[str, list[str]] = {}
    for gid in ids:
        if gid in named and forest.find(named[gid].name) is None:  # reusing a known skill is fine
            by_name.setdefault(name_key(named[gid].name), []).append(gid)
    distinct = len({name_key(named[g].name) for g in ids if g in named})
    if distinct >= min(len(ids), max_skills - len(forest.roots())):
        return []
    for members in sorted(by_name.values(), key=len, reverse=True):
        if len({" ".join(named[g].description.lower().split()) for g in members}) > 1:
            return members
    return []


def _group_text(k: int, members: list[EvaluatedInstance], show_results: bool) -> str:
    wrong = [e for e in members if not e.correct]
    # Failures first: the name should describe what the student gets wrong.
    shown = list(dict.fromkeys(_question(e) for e in [*wrong, *members]))[:EXAMPLES_PER_GROUP]
    results = f", student wrong on {len(wrong)}" if show_results else ""
    lines = [f"[g{k}] {len(members)} questions{results}:"]
    lines += [f"  - {q}" for q in shown]
    return "\n".join(lines)


def structure_assign(
    forest: SkillForest,
    runtime: Runtime[TeacherContext],
    pending: list[EvaluatedInstance],
    iteration: int,
    *,
    system: str,
    show_results: bool = True,
) -> Induced:
    """Assign by frame: known frames go to their skill; new frames are grouped and named by the model."""
    ctx, out = runtime.context, Induced(NodeCalls(runtime, NODE, iteration))
    max_skills = ctx.settings.max_skills
    known = {f: p for f, p in dict(forest.graph.graph.get(FRAMES_KEY, {})).items() if p in forest}
    new: list[tuple[EvaluatedInstance, str]] = []
    for e in pending:
        frame = question_frame(e.instance.prompt)
        if frame in known:
            forest.assign(e.instance.id, known[frame])
        else:
            new.append((e, frame))
    if new:
        labels = group_frames([f for _, f in new], max_groups=2 * max_skills)
        groups: dict[int, list[tuple[EvaluatedInstance, str]]] = {}
        for (e, frame), label in zip(new, labels, strict=True):
            groups.setdefault(label, []).append((e, frame))
        prompt = messages(
            system,
            NAME_USER.format(
                task=ctx.task.name,
                results=", how many the student answered wrongly" if show_results else "",
                groups="\n\n".join(
                    _group_text(k + 1, [e for e, _ in members], show_results) for k, members in groups.items()
                ),
                existing=existing_skills_text(forest),
                max_skills=max_skills,
            ),
        )
        schema = bounded(GroupNames, "skills", GroupName, len(groups))
        answer = out.calls.ask(schema, prompt, purpose="name groups")
        named = {g.group.strip().strip("[]").lower(): g for g in (answer.value.skills if answer.value else [])}
        ids = [f"g{k + 1}" for k in groups]
        for gid in _name_clash(named, ids, forest, max_skills)[1:]:  # the first keeps the name
            named[gid] = named[gid].model_copy(update={"name": name_from_description(named[gid].description)})
        for k, members in groups.items():
            given = named.get(f"g{k + 1}")
            path = None
            if given is not None:
                path = _add_or_find(forest, given.name, given.description, iteration, max_skills)
                if path is None and known:
                    # Named, but the forest is full: the skill whose questions are worded most alike.
                    frames = list(known)
                    best, score = nearest_frame(members[0][1], frames)
                    path = known[frames[best]] if score > 0 else None
            if path is None:
                continue  # unnamed: the fallback bucket below, frame not remembered (retried later)
            for e, frame in members:
                forest.assign(e.instance.id, path)
                known[frame] = path
        out.fallbacks += assign_fallback(forest, [e for e, _ in new], iteration)
    forest.graph.graph[FRAMES_KEY] = known
    return out


# --- two_stage (DataEnvGym): label every question, then group the labels ----------------------

LABEL_USER = """Here are questions from a {task} task. Each line: [id] question.

{questions}

For each question, name the one specific skill it tests, as a short lower-case snake_case name \
(e.g. greatest_common_divisor). Answer for EVERY id."""

GROUP_USER = """Questions of a {task} task were each labelled with the skill they test. The labels, \
with how many questions got each:

{labels}

{existing}Group these labels into at most {max_skills} categories that are mutually exclusive, \
cover every label, and are useful for writing practice material. Give each category a short name, \
a one-sentence description and its member labels, copied exactly."""


class Label(BaseModel):
    id: str = Field(max_length=200, description="Question id exactly as shown.")
    skill: str = Field(max_length=80, description="snake_case skill name.")


class Labels(BaseModel):
    """One fine skill label per question."""

    labels: list[Label] = Field(max_length=LABEL_CHUNK + 10)


class Category(BaseModel):
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=300)
    members: list[str] = Field(max_length=200, description="Labels of this category, copied exactly.")


class Categories(BaseModel):
    """Labels grouped into skill categories."""

    categories: list[Category] = Field(max_length=16)


def two_stage_assign(
    forest: SkillForest,
    runtime: Runtime[TeacherContext],
    pending: list[EvaluatedInstance],
    iteration: int,
    *,
    system: str,
) -> Induced:
    """Label each pending question with a fine skill, group the labels, assign by membership."""
    ctx, out = runtime.context, Induced(NodeCalls(runtime, NODE, iteration))
    label_of: dict[str, str] = {}  # instance id -> label key
    for start in range(0, len(pending), LABEL_CHUNK):
        chunk = pending[start : start + LABEL_CHUNK]
        prompt = messages(
            system,
            LABEL_USER.format(
                task=ctx.task.name,
                questions="\n".join(f"[q{n}] {_question(e)}" for n, e in enumerate(chunk, 1)),
            ),
        )
        schema = bounded(Labels, "labels", Label, len(chunk))
        answer = out.calls.ask(schema, prompt, purpose="label questions")
        if answer.value is None:
            continue
        by_alias = {f"q{n}": e.instance.id for n, e in enumerate(chunk, 1)}
        for lab in answer.value.labels:
            iid = by_alias.get(lab.id.strip().strip("[]"))
            if iid is not None and lab.skill.strip() and iid not in label_of:
                label_of[iid] = name_key(lab.skill)
    counts: dict[str, int] = {}
    for key in label_of.values():
        counts[key] = counts.get(key, 0) + 1
    if counts:
        prompt = messages(
            system,
            GROUP_USER.format(
                task=ctx.task.name,
                labels="\n".join(f"- {k.replace(' ', '_')} ({n})" for k, n in counts.items()),
                existing=existing_skills_text(forest),
                max_skills=ctx.settings.max_skills,
            ),
        )
        answer = out.calls.ask(Categories, prompt, purpose="group labels")
        path_of: dict[str, str] = {}
        for cat in answer.value.categories if answer.value else []:
            path = _add_or_find(forest, cat.name, cat.description, iteration, ctx.settings.max_skills)
            if path is not None:
                for member in cat.members:
                    path_of.setdefault(name_key(member), path)
        for e in pending:
            path = path_of.get(label_of.get(e.instance.id, ""))
            if path is not None:
                forest.assign(e.instance.id, path)
    out.fallbacks += assign_fallback(forest, pending, iteration)
    return out
