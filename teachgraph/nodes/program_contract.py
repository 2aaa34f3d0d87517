"""The generator contract: what the teacher writes, how it is run, and how seeds are chosen.

A generator is Python source defining ``generate(rng: random.Random) -> dict`` that returns
``{"question": str, "answer": str | number, "rationale": str (optional)}`` using the standard
library only. Many seeds are drawn in ONE sandbox process: a small harness execs the source and
prints one JSON line per seed (each seed drawn ``repeat`` times, to catch generators whose output
does not follow from the seed). Small models often call ``random.randint`` instead of
``rng.randint``: the harness provides ``random`` and seeds it with the same seed before each
draw, so such code is still deterministic. Every sandbox call of the engine goes through
:func:`run_in_sandbox`.

Seeds are derived from (run seed, skill, generator hash, iteration, purpose, draw index), so a
resumed run draws exactly the same items.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field, field_validator

from teachgraph.config import ValidationSettings
from teachgraph.nodes.sandbox import ProgramResult, run_programs
from teachgraph.providers.text_reply import TextReply, code_blocks, json_field
from teachgraph.sandbox import Sandbox

# Lines the harness prints start with this marker, so whatever the generator prints itself is ignored.
MARKER = "@@teachgraph-draw@@ "
MAX_QUESTION_CHARS = 4000
MAX_ANSWER_CHARS = 200

HARNESS = """
import json as _json, random as _random
_SEEDS = {seeds!r}
_REPEAT = {repeat}
_ns = {{k: v for k, v in globals().items() if not k.startswith("_")}}
_ns["__name__"] = "generator"
_ns["random"] = _random
try:
    exec(compile({source!r}, "<generator>", "exec"), _ns)
    _gen = _ns.get("generate")
    if not callable(_gen):
        raise NameError("the source defines no function generate(rng)")
except BaseException as _e:
    print({marker!r} + _json.dumps({{"setup_error": f"{{type(_e).__name__}}: {{_e}}"[:300]}}))
    raise SystemExit(0)
for _s in _SEEDS:
    _items, _err = [], None
    for _r in range(_REPEAT):
        try:
            _random.seed(_s)  # code that calls random.* instead of rng is seeded the same way
            _items.append(_json.dumps(_gen(_random.Random(_s)), sort_keys=True, default=str))
        except Exception as _e:
            _err = f"{{type(_e).__name__}}: {{_e}}"[:300]
            break
    print({marker!r} + _json.dumps({{"seed": _s, "items": _items, "error": _err}}), flush=True)
"""


def escape_raw_newlines(code: str) -> str:
    """``code`` with raw newlines inside one-line string literals written as ``\\n`` again.

    Small models writing code inside a JSON string often emit ``"\\n"`` where the code needs
    ``"\\\\n"``, so after JSON decoding a one-line literal such as ``f"{a}\\n"`` spans two lines
    and the program does not compile ("unterminated string literal"). A raw newline can never
    stand inside a one-line literal of valid Python, so escaping it restores the program the
    model meant. Only applied when the code does not compile as it is and does once repaired.
    """
    try:
        compile(code, "<generator>", "exec")
        return code
    except SyntaxError:
        pass
    out: list[str] = []
    quote, triple, i = "", False, 0
    while i < len(code):
        ch = code[i]
        if not quote:
            if ch == "#":  # a comment runs to the end of the line; quotes in it open nothing
                end = code.find("\n", i)
                end = len(code) if end < 0 else end
                out.append(code[i:end])
                i = end
                continue
            if ch in "'\"":
                triple = code[i : i + 3] == ch * 3
                quote = ch
                out.append(ch * 3 if triple else ch)
                i += 3 if triple else 1
                continue
        elif ch == "\\":  # an escape (or a continuation): keep it and the character after it
            out.append(code[i : i + 2])
            i += 2
            continue
        elif triple and code[i : i + 3] == quote * 3:
            out.append(quote * 3)
            quote, i = "", i + 3
            continue
        elif not triple and ch == quote:
            quote = ""
        elif not triple and ch == "\n":
            out.append("\\n")
            i += 1
            continue
        out.append(ch)
        i += 1
    repaired = "".join(out)
    try:
        compile(repaired, "<generator>", "exec")
    except SyntaxError:
        return code  # not this problem: the sandbox reports the real error
    return repaired


class GeneratorReply(TextReply):
    """The writer model's reply: one generator program, in a fenced ``python`` block, or only the
    ``answer = ...`` lines that complete the skeleton it was shown (:mod:`.program_skeleton`).

    A reply of JSON-era scripts, ``{"source": "..."}``, is read too.
    """

    reply_format: ClassVar[str] = "Reply with one ```python code block and nothing else."
    source: str = Field(
        max_length=4000,
        description="Python source defining generate(rng) that returns a dict with question and answer.",
    )

    @classmethod
    def from_text(cls, text: str) -> GeneratorReply:
        blocks = code_blocks(text)
        source = next((b for b in blocks if "def generate" in b), blocks[0] if blocks else None)
        if source is None:
            legacy = json_field(text, "source")
            if isinstance(legacy, str):
                source = legacy
            elif "def generate" in text or re.search(r"^\s*answer\s*=", text, flags=re.M):
                source = text.strip()
            else:
                raise ValueError("the reply holds no ```python code block defining generate(rng)")
        return cls(source=source)

    @field_validator("source")
    @classmethod
    def _compilable(cls, source: str) -> str:
        return escape_raw_newlines(source)


class CheckPrograms(TextReply):
    """The teacher's own solution programs for a few drawn questions (the independent check)."""

    reply_format: ClassVar[str] = (
        "Reply with one ```python code block per question, in the same order, each printing only the final answer."
    )
    programs: list[str] = Field(max_length=8, description="One Python program per question, printing its answer.")

    @classmethod
    def from_text(cls, text: str) -> CheckPrograms:
        programs = code_blocks(text)
        if not programs:
            legacy = json_field(text, "programs")
            if not isinstance(legacy, list):
                raise ValueError("the reply holds no ```python code blocks")
            programs = [str(p) for p in legacy]
        return cls(programs=programs)

    @field_validator("programs")
    @classmethod
    def _compilable(cls, programs: list[str]) -> list[str]:
        return [escape_raw_newlines(p) for p in programs]


@dataclass
class Draw:
    """One seed's outcome: an item, or why there is none."""

    seed: int
    question: str = ""
    answer: str = ""
    rationale: str = ""
    error: str = ""
    nondeterministic: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class DrawBatch:
    """The draws of one or more harness runs, in seed order, or the error that stopped them."""

    draws: list[Draw] = field(default_factory=list)
    error: str = ""


def derive_seed(run_seed: int, skill: str, generator: str, iteration: int, purpose: str, index: int) -> int:
    """A 48-bit seed that depends only on what the draw is for (stable across processes)."""
    key = f"{run_seed}|{skill}|{generator}|{iteration}|{purpose}|{index}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def harness(source: str, seeds: list[int], repeat: int = 1) -> str:
    """The program that draws ``seeds`` from ``source`` and prints one marked JSON line each."""
    return HARNESS.format(seeds=list(seeds), repeat=repeat, source=source, marker=MARKER)


def run_in_sandbox(
    programs: list[str], settings: ValidationSettings, sandbox: Sandbox | None = None
) -> list[ProgramResult]:
    """The engine's only way into the sandbox: the run's ``sandbox`` (isolated when None)."""
    return run_programs(
        programs, timeout_s=settings.program_timeout_s, memory_mb=settings.program_memory_mb, sandbox=sandbox
    )


def _item(seed: int, text: str) -> Draw:
    try:
        item = json.loads(text)
    except json.JSONDecodeError:
        return Draw(seed, error="returned something that is not JSON-serialisable")
    if not isinstance(item, dict):
        return Draw(seed, error=f"returned a {type(item).__name__}, not a dict")
    question, answer = item.get("question"), item.get("answer")
    if not isinstance(question, str) or not question.strip():
        return Draw(seed, error="no 'question' string in the returned dict")
    if answer is None or isinstance(answer, dict | list | bool) or not str(answer).strip():
        return Draw(seed, error="no 'answer' (a string or number) in the returned dict")
    question, answer = question.strip(), str(answer).strip()
    if len(question) > MAX_QUESTION_CHARS or len(answer) > MAX_ANSWER_CHARS:
        return Draw(seed, error=f"question or answer too long ({len(question)} / {len(answer)} chars)")
    rationale = item.get("rationale")
    return Draw(seed, question=question, answer=answer, rationale=str(rationale).strip() if rationale else "")


def parse_output(result: ProgramResult, seeds: list[int]) -> tuple[dict[int, Draw], str]:
    """Draws found in one harness run (by seed) and the run's error, if it stopped early."""
    found: dict[int, Draw] = {}
    for record in result.marked_records(MARKER):
        if "setup_error" in record:
            return {}, f"does not load: {record['setup_error']}"
        seed = record.get("seed")
        if seed not in seeds:
            continue
        if record.get("error"):
            found[seed] = Draw(seed, error=f"raised {record['error']}")
            continue
        items = record.get("items") or []
        draw = _item(seed, items[0]) if items else Draw(seed, error="returned nothing")
        draw.nondeterministic = len(set(items)) > 1
        found[seed] = draw
    return found, ("" if result.ok else result.error)


def draw(
    source: str,
    seeds: list[int],
    settings: ValidationSettings,
    *,
    chunk: int,
    repeat: int = 1,
    sandbox: Sandbox | None = None,
) -> DrawBatch:
    """Draw ``seeds`` from ``source``, ``chunk`` seeds per sandbox process (chunks run in parallel).

    Seeds a process did not get to (its output was cut off at the sandbox's output limit) are
    drawn again in smaller processes; a process that crashed or timed out stops the batch.
    """
    pending, found = list(seeds), {}
    while pending:
        chunks = [pending[i : i + chunk] for i in range(0, len(pending), chunk)]
        results = run_in_sandbox([harness(source, c, repeat) for c in chunks], settings, sandbox)
        for c, result in zip(chunks, results, strict=True):
            got, error = parse_output(result, c)
            if error and not result.ok:
                return DrawBatch([found[s] for s in seeds if s in found], error=error)
            if error:
                return DrawBatch([], error=error)
            found.update(got)
        missing = [s for s in pending if s not in found]
        if len(missing) == len(pending):
            return DrawBatch([found[s] for s in seeds if s in found], error="printed no draw (output too large?)")
        pending, chunk = missing, max(1, chunk // 2)
    return DrawBatch([found[s] for s in seeds])
