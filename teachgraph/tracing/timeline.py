"""``teachgraph trace``: a readable, filterable timeline of a run's decision events.

``--skill`` matches two kinds of skill: the teacher's *induced* skills (the paths of the skill
forest, which events carry in their ``skill`` field) and the task's *gold* skills (its own labels,
e.g. ``arithmetic/gcd``, which evaluations report accuracy for and forest nodes may stand for).
The table says which one each row matched. A filter that names nothing in the run (a node,
kind, skill or iteration the trace never mentions) is an error that lists what there is.
Numbers are rounded for reading and long lists (instance ids) are summarised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teachgraph.errors import DataNotFoundError, UnknownNameError
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir

_SKIP = {"response", "question", "source"}
# Progress-only events ("a call begins"): the llm_call after each says everything they do.
HIDDEN_KINDS = {"llm_start"}
MAX_LIST = 4  # items of a list shown before "… N more"
MAX_NAMES = 30  # known names listed in an unknown-name error


# --- formatting ---------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A value as a reader wants it: floats to 3 significant digits, long lists summarised."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, dict):
        items = [f"{k}: {fmt(v)}" for k, v in list(value.items())[: 2 * MAX_LIST]]
        more = len(value) - len(items)
        return "{" + ", ".join(items) + (f", … {more} more" if more > 0 else "") + "}"
    if isinstance(value, list | tuple):
        if len(value) <= MAX_LIST:
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        shown = ", ".join(fmt(v) for v in value[:3])
        return f"[{len(value)} items: {shown}, … {len(value) - 3} more]"
    return str(value)


def _ids(ids: Sequence[Any]) -> str:
    head = ", ".join(str(i) for i in ids[:3])
    return f"{len(ids)} instance(s): {head}" + (", …" if len(ids) > 3 else "")


def describe(event: TraceEvent, *, gold: Iterable[str] | None = None) -> str:
    """One line per event: the fields that explain the decision (rich markup, data escaped).

    ``gold``: when the row matched gold skills, an evaluation shows only their accuracies.
    """
    d = event.data
    e = escape
    if event.kind == "llm_call":
        status = "ok" if d.get("ok") else f"[red]FAILED[/]: {e(str(d.get('error')))}"
        queued = f" ({fmt(d['queued_s'])} s of it queued)" if d.get("queued_s") else ""
        return (
            f"{e(str(d.get('model')))} {e(str(d.get('purpose', '')))}: {status}; {d.get('input_tokens')} in / "
            f"{d.get('output_tokens')} out tokens, {fmt(d.get('latency_s'))} s{queued}, {d.get('attempts')} attempt(s)"
        )
    if event.kind == "decision":
        extra = ""
        if d.get("action") == "explore":
            extra = f" {d.get('num_new')} new subskill(s), quota {d.get('new_quota')} each"
        elif isinstance(d.get("quotas"), dict) and d["quotas"]:
            extra = " quotas " + ", ".join(f"{k}={v}" for k, v in d["quotas"].items())
        return f"[cyan]{e(str(d.get('action', d.get('policy'))))}[/]{e(extra)} — reason: {e(str(d.get('reason', '')))} ({e(str(d.get('policy', '')))} policy)"
    if event.kind == "verdict":
        detail = f"[red]{e(str(d.get('reason')))}[/] {e(str(d.get('detail', '')))}"
        mark = "[green]accepted[/]" if d.get("accepted") else detail
        return f"{mark}: {e(str(d.get('question', ''))[:90])}"
    if event.kind == "evaluation":
        per_skill = d.get("per_skill") if isinstance(d.get("per_skill"), dict) else {}
        if gold is not None:
            per_skill = {k: v for k, v in per_skill.items() if k in set(gold)}
        skills = ", ".join(f"{k} {fmt(v)}" for k, v in per_skill.items())
        where = f"n={d.get('n')}, {fmt(d.get('seconds'))} s"
        return e(f"{d.get('split')} accuracy {fmt(d.get('accuracy'))} ({where})" + (f"; {skills}" if skills else ""))
    if event.kind == "generator":
        return _describe_generator(d)
    if event.kind == "drawn":
        return e(
            f"generator {d.get('generator')}: kept {d.get('kept')} of quota {d.get('quota')} from {d.get('seeds')} "
            f"draws ({d.get('duplicates')} duplicates, {d.get('contaminated', 0)} eval items, {d.get('errors')} errors"
            + (f", {d['refused']} refused by the task)" if d.get("refused") else ")")
            + (f"; {d['error']}" if d.get("error") else "")
        )
    if event.kind == "probe" and "generator" in d:
        easy = " [red]too easy: retired[/]" if d.get("too_easy") else ""
        return f"generator {e(str(d.get('generator')))}: student accuracy {fmt(d.get('accuracy'))} on {d.get('n')} of its questions{easy}"
    if event.kind == "analysis" and isinstance(d.get("groups"), list):
        groups = [g for g in d["groups"] if isinstance(g, dict)]
        parts = [f"{g.get('name')} ({_ids(g.get('instance_ids') or [])}): {g.get('description', '')}" for g in groups]
        return e(f"{len(groups)} group(s): " + "; ".join(parts))
    return e("; ".join(f"{k}={fmt(v)}" for k, v in d.items() if k not in _SKIP))


def _describe_generator(d: dict[str, Any]) -> str:
    """A generator's validation verdict: accepted (with its measurements) or the rejection reason."""
    stats = d.get("stats") if isinstance(d.get("stats"), dict) else {}
    attempt = f" (repair {d.get('attempt')})" if d.get("attempt") else ""
    name = escape(str(d.get("generator")))
    if d.get("accepted"):
        # A task that computes answers itself (VQA) refuses some draws and needs no independent check.
        refused = f", {stats['refused']} refused by the task" if stats.get("refused") else ""
        check = (
            f"independent check {stats.get('agreed')}/{stats.get('checked')}"
            if stats.get("checked")
            else "answers computed by the task"
        )
        return (
            f"[green]accepted[/] generator {name}{attempt}: {fmt(stats.get('distinct_share', 0))} distinct "
            f"of {stats.get('seeds')} seeds{refused}, {check}"
        )
    sample = f" — {d.get('sample')}" if d.get("sample") else ""
    return f"[red]{escape(str(d.get('reason')))}[/] generator {name}{attempt}: {escape(str(d.get('detail')) + sample)}"


# --- filtering ----------------------------------------------------------------------------------


@dataclass
class SkillMatch:
    """What a ``--skill`` text matched: induced skill paths and gold skill names."""

    text: str
    induced: list[str] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    gold_paths: set[str] = field(default_factory=set)  # forest paths standing for a matched gold skill

    def matches(self, event: TraceEvent) -> str | None:
        """``"induced"``/``"gold"`` when ``event`` is about a matched skill, else ``None``."""
        if event.skill is not None and event.skill in self.induced:
            return "induced"
        if self.gold and event.kind == "evaluation":
            per_skill = event.data.get("per_skill")
            if isinstance(per_skill, dict) and set(per_skill) & set(self.gold):
                return "gold"
        if event.skill is not None and event.skill in self.gold_paths:
            return "gold"
        return None

    def explain(self) -> str:
        induced = ", ".join(self.induced[:8]) + (f", … {len(self.induced) - 8} more" if len(self.induced) > 8 else "")
        gold = ", ".join(self.gold)
        return (
            f"--skill {self.text!r} matches gold skill(s) (the task's labels): {gold or 'none'}; "
            f"induced skill(s) (the teacher's): {induced or 'none'}"
        )


@dataclass
class RunVocabulary:
    """The names a run's trace and forest use, to match filters against and list in errors."""

    nodes: list[str]
    kinds: list[str]
    iterations: list[int]
    induced: list[str]
    gold: list[str]
    gold_paths: dict[str, str]  # forest path -> the gold skill it stands for


def vocabulary(events: Sequence[TraceEvent], forests: dict[int, dict[str, Any]] | None = None) -> RunVocabulary:
    """Every node, kind, iteration, induced skill and gold skill the run mentions."""
    induced = {e.skill for e in events if e.skill}
    gold: set[str] = set()
    for e in events:
        if e.kind == "evaluation" and isinstance(e.data.get("per_skill"), dict):
            gold.update(str(k) for k in e.data["per_skill"])
    gold_paths: dict[str, str] = {}
    for forest in (forests or {}).values():
        for node in forest.get("nodes") or []:
            if isinstance(node, dict) and node.get("id"):
                induced.add(str(node["id"]))
                if node.get("gold_label"):
                    gold_paths[str(node["id"])] = str(node["gold_label"])
                    gold.add(str(node["gold_label"]))
    return RunVocabulary(
        nodes=sorted({e.node for e in events}),
        kinds=sorted({e.kind for e in events}),
        iterations=sorted({e.iteration for e in events}),
        induced=sorted(induced),
        gold=sorted(gold),
        gold_paths=gold_paths,
    )


def match_skill(text: str, vocab: RunVocabulary) -> SkillMatch:
    """Induced and gold skills containing ``text`` (case-insensitive); :class:`UnknownNameError` if none."""
    needle = text.lower()
    match = SkillMatch(
        text=text,
        induced=[s for s in vocab.induced if needle in s.lower()],
        gold=[s for s in vocab.gold if needle in s.lower()],
    )
    # A forest node labelled with a matched gold skill is about that skill, and so are its subskills.
    roots = [p for p, g in vocab.gold_paths.items() if g in match.gold]
    match.gold_paths = {q for q in vocab.induced for p in roots if q == p or q.startswith(p + "/")}
    if not (match.induced or match.gold):
        raise UnknownNameError("skill", text, _capped([*vocab.gold, *vocab.induced]))
    return match


def _capped(names: list[str]) -> list[str]:
    return names if len(names) <= MAX_NAMES else [*names[:MAX_NAMES], f"… {len(names) - MAX_NAMES} more"]


def filter_events(
    events: list[TraceEvent],
    *,
    iteration: int | None = None,
    node: str | None = None,
    skill: str | SkillMatch | None = None,
    kind: str | None = None,
) -> list[TraceEvent]:
    """Events matching every given filter.

    ``skill``: a :class:`SkillMatch` (gold or induced), or text matched against the events'
    induced skill by substring. Progress-only kinds (:data:`HIDDEN_KINDS`) are left out unless
    ``kind`` asks for one.
    """
    return [
        e
        for e in events
        if (iteration is None or e.iteration == iteration)
        and (node is None or e.node == node)
        and (kind == e.kind if kind is not None else e.kind not in HIDDEN_KINDS)
        and (
            skill is None
            or (skill.matches(e) is not None if isinstance(skill, SkillMatch) else _contains(e.skill, skill))
        )
    ]


def _contains(event_skill: str | None, text: str) -> bool:
    return event_skill is not None and text.lower() in event_skill.lower()


def print_timeline(
    console: Console,
    run: Path,
    *,
    iteration: int | None = None,
    node: str | None = None,
    skill: str | None = None,
    kind: str | None = None,
) -> None:
    """Print the matching events as a table, after checking each filter names something in the run."""
    run_dir = RunDir(run)
    if not run_dir.trace_path.is_file():
        raise DataNotFoundError(f"no trace in {run} (expected {run_dir.trace_path})")
    events = run_dir.read_events()
    vocab = vocabulary(events, run_dir.read_forests() if skill is not None else None)
    if node is not None and node not in vocab.nodes:
        raise UnknownNameError("node", node, vocab.nodes)
    if kind is not None and kind not in vocab.kinds:
        raise UnknownNameError("event kind", kind, vocab.kinds)
    if iteration is not None and iteration not in vocab.iterations:
        raise UnknownNameError("iteration", str(iteration), [str(i) for i in vocab.iterations])
    match = match_skill(skill, vocab) if skill is not None else None
    if match is not None:
        console.print(escape(match.explain()), highlight=False)
    shown = filter_events(events, iteration=iteration, node=node, skill=match, kind=kind)
    table = Table(title=f"trace of {run_dir.run_id}: {len(shown)} event(s)", show_lines=False)
    for col in ("iter", "node", "kind", "skill", "what"):
        table.add_column(col, overflow="fold")
    for e in shown:
        how = match.matches(e) if match is not None else None
        label, gold = e.skill or "", None
        if match is not None and how == "gold":
            gold = match.gold
            label = f"{label} (gold: {', '.join(match.gold)})" if label else f"{', '.join(match.gold)} (gold)"
        elif how == "induced":
            label = f"{label} (induced)"
        table.add_row(str(e.iteration), e.node, e.kind, escape(label), describe(e, gold=gold))
    console.print(table)
