"""Hostile programs after other programs, processes, memory, time, output and signals (see corpus.py)."""

from __future__ import annotations

from .corpus import Case, all_denied, count, ends, survives, timed_out

PROCESS_CASES = [
    # --- other programs ----------------------------------------------------------------------------
    Case(
        "subprocess_shell",
        """
import subprocess
attempt("sh", lambda: subprocess.run(['sh', '-c', 'cat /etc/passwd'], capture_output=True))
attempt("bash", lambda: subprocess.run(['/bin/bash', '-c', 'id'], capture_output=True))
attempt("popen", lambda: subprocess.Popen('ls /', shell=True))
print("END")""",
        all_denied,
    ),
    Case(
        "os_system",
        """
import os
print("status", os.system('cat /etc/passwd; echo $$OPENAI_API_KEY; touch /tmp/$tag-system'))
print("END")""",
        lambda r: ends(r) and "status 0" not in r["output"] and "root:x" not in r["output"],
    ),
    Case(
        "exec_family",
        """
import os
attempt("execv sh", lambda: os.execv('/bin/sh', ['sh', '-c', 'id']))
attempt("execvp", lambda: os.execvp('bash', ['bash']))
attempt("execl", lambda: os.execl('/usr/bin/env', 'env'))
attempt("spawn", lambda: os.spawnv(os.P_WAIT, '/bin/ls', ['ls', '/']))
print("END")""",
        lambda r: ends(r) and "execv sh denied" in r["output"] and "execvp denied" in r["output"],
    ),
    Case(
        "a_child_python_is_contained_too",
        """
import subprocess, sys
child = "import os\\ntry:\\n    print(open('$run_file').read())\\nexcept OSError as e:\\n    print('child denied', e)\\nprint(os.getcwd())"
out = subprocess.run([sys.executable, '-I', '-S', '-c', child], capture_output=True, text=True)
print(out.stdout)
print("END")""",
        lambda r: ends(r) and "child denied" in r["output"] and "/sandbox" in r["output"],
    ),
    Case(
        "exec_into_python",
        """
import os, sys
os.execv(sys.executable, [sys.executable, '-I', '-c', "import os; print(sorted(os.environ)); print('END')"])""",
        lambda r: ends(r) and "OPENAI" not in r["output"],
    ),
    # --- processes, memory, time, output ---------------------------------------------------------------
    Case(
        "fork_bomb_is_bounded",
        """
import os, time
n = 0
try:
    while n < 10000:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as err:
    print("refused", type(err).__name__)
print("forks", n)
print("END")""",
        lambda r: ends(r) and count(r, "forks") < 16,
    ),
    Case(
        "exponential_fork_bomb",
        """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass""",
        lambda r: not r["ok"],
        timeout_s=3,
    ),
    Case(
        "thread_bomb_is_bounded",
        """
import threading, time
n = 0
try:
    while n < 10000:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        n += 1
except RuntimeError as err:
    print("refused", err)
print("threads", n)
print("END")""",
        lambda r: ends(r) and count(r, "threads") < 16,
    ),
    Case("memory_bomb_at_once", "attempt('4 GiB', lambda: len(bytearray(4 * 1024**3)))\nprint('END')", all_denied),
    Case(
        "memory_bomb_step_by_step",
        """
chunks = []
try:
    while True:
        chunks.append(bytearray(16 * 2**20))
except MemoryError:
    pass
print("megabytes", 16 * len(chunks))
print("END")""",
        lambda r: ends(r) and count(r, "megabytes") <= 256,
        memory_mb=256,
    ),
    Case("infinite_loop", "while True:\n    pass", timed_out, timeout_s=1),
    Case("sleep_past_the_timeout", "import time\ntime.sleep(120)", timed_out, timeout_s=1),
    Case(
        "detached_child_outlives_main",
        """
import os, time
if os.fork() == 0:
    os.setsid()
    time.sleep(60)
    open('/tmp/late', 'w').write('still here')
    os._exit(0)
print("END")""",
        ends,
    ),
    Case(
        "non_daemon_thread_outlives_main",
        """
import threading, time
threading.Thread(target=time.sleep, args=(120,)).start()
print("main done")""",
        timed_out,
        timeout_s=1.5,
    ),
    Case(
        "daemon_thread_outlives_main",
        """
import threading, time
def spin():
    while True:
        time.sleep(0.01)
threading.Thread(target=spin, daemon=True).start()
print("END")""",
        ends,
    ),
    Case(
        "gigabytes_of_output",
        "import sys\nwhile True:\n    sys.stdout.write('x' * 2**20)",
        lambda r: not r["ok"] and "printed more than" in r["error"],
    ),
    Case("gigabytes_on_stderr", "import sys\nwhile True:\n    sys.stderr.write('x' * 2**20)", timed_out, timeout_s=2),
    Case(
        "closes_its_output_and_keeps_running",
        "import os\nos.close(1)\nos.close(2)\nwhile True:\n    pass",
        timed_out,
        timeout_s=1,
    ),
    # --- signals, ptrace, ctypes ---------------------------------------------------------------------------
    Case(
        "signal_the_parent",
        """
import os, signal
attempt("ppid", lambda: os.kill(os.getppid(), signal.SIGKILL))
attempt("host pid", lambda: os.kill($parent_pid, signal.SIGKILL))
attempt("sentinel", lambda: os.kill($sentinel_pid, signal.SIGKILL))
print("END")""",
        survives,
    ),
    Case(
        "kill_minus_one",
        "import os, signal\nattempt('kill -1', lambda: os.kill(-1, signal.SIGKILL))\nprint('END')",
        survives,
    ),
    Case(
        "kill_every_pid",
        """
import os, signal
hit = 0
for pid in range(1, 70000):
    try:
        os.kill(pid, signal.SIGTERM if pid != os.getpid() else 0)
        hit += 1
    except OSError:
        pass
print("signalled", hit)
print("END")""",
        lambda r: ends(r) and count(r, "signalled") <= 3,
    ),
    Case(
        "ctypes_syscalls",
        """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(16, $parent_pid, None, None), libc.ptrace(16, $sentinel_pid, None, None), flush=True)
print("kill", libc.syscall(62, -1, 9), flush=True)
print("END")""",
        lambda r: "ptrace -1 -1" in r["output"],
    ),
    Case(  # it may stop its own supervisor inside the sandbox: that only costs it its own timeout
        "ptrace_its_own_supervisor",
        "import ctypes, os\nprint(ctypes.CDLL(None).ptrace(16, os.getppid(), None, None))\nprint('END')",
        lambda r: r["ok"] or timed_out(r),
        timeout_s=2,
    ),
    Case("ctypes_crash", "import ctypes\nctypes.string_at(0)", lambda r: not r["ok"] and "signal 11" in r["error"]),
    Case(
        "terminal_injection",
        """
import fcntl, termios
attempt("TIOCSTI stdin", lambda: fcntl.ioctl(0, termios.TIOCSTI, b'x'))
attempt("tty", lambda: open('/dev/tty', 'w'))
print("END")""",
        all_denied,
    ),
    Case(
        "devices_and_kernel_files",
        """
import os
for path in ('/dev/vda', '/dev/sda', '/dev/mem', '/dev/kmsg', '/proc/kcore'):
    attempt(path, lambda: open(path, 'rb').read(16))
attempt("sysrq", lambda: open('/proc/sysrq-trigger', 'w').write('h'))
attempt("sys", lambda: os.listdir('/sys'))
attempt("cgroup", lambda: os.listdir('/sys/fs/cgroup'))
print("END")""",
        all_denied,
    ),
]
