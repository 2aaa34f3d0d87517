"""The sandbox for teacher-written programs: results come back, failures are reported cleanly."""

from __future__ import annotations

import os

import pytest

from teachgraph.nodes.sandbox import computes, run_program, run_programs
from teachgraph.sandbox import Sandbox


def test_result_is_the_last_printed_line():
    result = run_program("print('working...')\nprint(gcd(12, 18) * 2)")
    assert result.ok and result.result == "12"


def test_memory_bomb_is_stopped():
    result = run_program("x = bytearray(4 * 1024**3)\nprint(1)", memory_mb=256)
    assert not result.ok and "MemoryError" in result.error


def test_infinite_loop_times_out():
    result = run_program("while True:\n    pass", timeout_s=1)
    assert not result.ok and "timed out" in result.error


def test_cpu_limit_reads_as_a_timeout():
    # On a busy machine the kernel's CPU limit can kill a spinning program before the wall-clock
    # check wakes; the verdict must say "timed out", not "killed by signal 9".
    code = "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 1))\nwhile True:\n    pass"
    result = run_program(code, timeout_s=20)
    assert not result.ok and "timed out" in result.error and "CPU" in result.error


def test_environment_is_not_inherited(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-should-not-leak")
    result = run_program("import os\nprint(os.environ.get('OPENAI_API_KEY', 'absent'))")
    assert result.result == "absent"


def test_files_stay_in_a_throwaway_directory(tmp_path):
    result = run_program("open('note.txt', 'w').write('x')\nimport os\nprint(os.getcwd())")
    assert result.ok and not os.path.exists(result.result)  # the temp dir is gone


def test_big_file_writes_are_refused():
    result = run_program("open('big', 'w').write('x' * 5_000_000)\nprint('done')")
    assert not result.ok


def test_crash_and_syntax_errors_are_reported():
    assert "ZeroDivisionError" in run_program("print(1/0)").error
    assert "SyntaxError" in run_program("print(").error


def test_runs_many_in_order():
    results = run_programs([f"print({i} * 3)" for i in range(6)])
    assert [r.result for r in results] == [str(i * 3) for i in range(6)]


def test_constant_printing_programs_do_not_count_as_computing():
    assert not computes("print(18)")
    assert not computes("print('18')")
    assert computes("print(18 + 0)")
    assert computes("print(gcd(18, 36))")
    assert computes("n = [3, 1, 2]\nprint(sorted(n))")


BENIGN = [
    ("prelude: gcd and sqrt without imports", "print(gcd(84, 36) + int(sqrt(49)))", "19"),
    ("fractions", "print(Fraction(1, 3) + Fraction(1, 6))", "1/2"),
    ("itertools", "import itertools\nprint(sum(1 for _ in itertools.permutations(range(6))))", "720"),
    (
        "recursion",
        "import sys\nsys.setrecursionlimit(5000)\nf = lambda n: 0 if n == 0 else 1 + f(n - 1)\nprint(f(3000))",
        "3000",
    ),
    (
        "memoised recursion",
        "from functools import lru_cache\n@lru_cache(None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(200))",
        "280571172992510140037611932413038677189525",
    ),
    (
        "decimal",
        "from decimal import Decimal, getcontext\ngetcontext().prec = 30\nprint(Decimal(1) / Decimal(7))",
        "0.142857142857142857142857142857",
    ),
    ("statistics", "import statistics\nprint(statistics.median([3, 1, 4, 1, 5, 9, 2, 6]))", "3.5"),
    ("big integers", "print((3 ** 100000).bit_length())", "158497"),
    (
        "json and collections",
        "import json, collections\nprint(json.dumps(collections.Counter('banana').most_common(1)))",
        '[["a", 3]]',
    ),
    (
        "a few threads",
        "import threading\nout = []\nts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\n[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sum(out))",
        "6",
    ),
    ("unicode output", "print('π ≈ ' + format(pi, '.3f'))", "π ≈ 3.142"),
]


@pytest.mark.parametrize(("name", "code", "expected"), BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_programs_give_the_right_answer(name, code, expected):
    result = run_program(code)
    assert result.ok and result.result == expected, result


def test_stdin_reaches_the_program():
    result = run_program("import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))", stdin="1 2 3\n4")
    assert result.ok and result.result == "10"


def test_large_output_within_max_output():
    code = "import json\nfor i in range(20000):\n    print(json.dumps({'i': i, 'sq': i * i}))"
    result = run_program(code, max_output=2_000_000)
    assert result.ok and len(result.output.splitlines()) == 20000
    small = run_program(code)
    assert not small.ok and "printed more than 10000 bytes" in small.error


def test_the_sandbox_in_use_is_the_isolated_one_by_default():
    assert Sandbox().mode == "isolated" and Sandbox().check().startswith("bubblewrap")
