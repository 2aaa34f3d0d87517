"""The sandbox for teacher-written programs: hostile code fails cleanly, results come back."""

from __future__ import annotations

import os

from teachgraph.nodes.sandbox import computes, run_program, run_programs


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
