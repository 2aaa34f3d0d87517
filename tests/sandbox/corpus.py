"""The hostile corpus: programs a compromised teacher could write, each with its own containment check.

Every program gets ``attempt(label, fn)``, which prints ``label GOT <value>`` or ``label denied
<error>``, and most end by printing ``END`` so a check cannot pass because the program crashed
early. ``$name`` placeholders are filled from the fixtures (ports, planted paths, host pids).
On top of each case's own check, every case is held to the corpus-wide ones in test_hostile.py:
no planted key or secret in anything it printed, planted files intact, parent and sentinel
alive, no listener reached, no process left behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ATTEMPT = """
def attempt(label, fn):
    try:
        got = fn()
    except BaseException as err:
        print(label, "denied", type(err).__name__, flush=True)
        return None
    print(label, "GOT", repr(got)[:300], flush=True)
    return got
"""
Reply = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    check: Callable[[Reply], bool]
    timeout_s: float = 4.0
    memory_mb: int = 512


def ends(r: Reply) -> bool:
    return r["ok"] and r["output"].rstrip().endswith("END")


def all_denied(r: Reply) -> bool:
    return ends(r) and " GOT " not in r["output"]


def timed_out(r: Reply) -> bool:
    return not r["ok"] and "timed out" in r["error"]


def count(r: Reply, label: str) -> int:
    match = re.search(rf"{label} (\d+)", r["output"])
    assert match, r
    return int(match.group(1))


CASES = [
    # --- secrets in other processes' environments -------------------------------------------
    Case(
        "environ_of_every_visible_process",
        """
import os
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    attempt(pid, lambda: open(f'/proc/{pid}/environ', 'rb').read())
print("END")""",
        ends,
    ),
    Case(
        "environ_of_the_parent_by_host_pid",
        """
import os
attempt("ppid", lambda: open(f'/proc/{os.getppid()}/environ', 'rb').read())
attempt("host pid", lambda: open('/proc/$parent_pid/environ', 'rb').read())
print("END")""",
        ends,
    ),
    Case(
        "own_environment_is_empty",
        "import os\nprint(sorted(os.environ))\nprint('END')",
        lambda r: ends(r) and "OPENAI" not in r["output"],
    ),
    Case(
        "only_its_own_processes_are_visible",
        """
import os
pids = [p for p in os.listdir('/proc') if p.isdigit()]
for pid in pids:
    attempt(pid, lambda: open(f'/proc/{pid}/cmdline', 'rb').read())
print("visible", len(pids))
print("END")""",
        lambda r: ends(r) and count(r, "visible") <= 3 and "pytest" not in r["output"],
    ),
    Case(
        "search_the_whole_filesystem_for_the_key",
        """
import os
hits = []
for top, dirs, files in os.walk('/'):
    if top.startswith(('/proc', '/dev', '/usr/lib')) or 'python3.' in top:
        dirs[:] = []
        continue
    for name in files:
        try:
            data = open(os.path.join(top, name), 'rb').read(1 << 20)
        except OSError:
            continue
        if b'sk-' + b'planted-' in data or b'planted-' + b'secret-' in data:  # not matching itself
            hits.append(os.path.join(top, name))
print("FOUND", hits)
print("END")""",
        lambda r: ends(r) and "FOUND []" in r["output"],
        timeout_s=10,
    ),
    # --- reading files outside the work directory --------------------------------------------
    Case(
        "list_the_home_directories",
        """
import os
attempt("home", lambda: os.listdir(os.path.expanduser('~')))
attempt("/root", lambda: os.listdir('/root'))
attempt("/home", lambda: os.listdir('/home'))
print("END")""",
        lambda r: ends(r) and "tg-planted" not in r["output"],
    ),
    Case("read_a_file_in_home", "attempt('home file', lambda: open('$home_file').read())\nprint('END')", all_denied),
    Case(
        "read_etc_passwd_and_shadow",
        """
attempt("passwd", lambda: open('/etc/passwd').read())
attempt("shadow", lambda: open('/etc/shadow').read())
attempt("hosts", lambda: open('/etc/hosts').read())
print("END")""",
        all_denied,
    ),
    Case(
        "read_the_run_directory",
        """
import os
attempt("file", lambda: open('$run_file').read())
attempt("dir", lambda: os.listdir('$run_dir'))
print("END")""",
        all_denied,
    ),
    Case("read_the_host_tmp", "attempt('tmp', lambda: open('$tmp_file').read())\nprint('END')", all_denied),
    Case("read_the_teachgraph_source", "attempt('src', lambda: open('$repo_file').read())\nprint('END')", all_denied),
    Case(
        "through_proc_links_of_other_processes",
        """
import os
attempt("parent cwd", lambda: os.listdir('/proc/$parent_pid/cwd'))
attempt("ppid root", lambda: open(f'/proc/{os.getppid()}/root/etc/passwd').read())
attempt("pid1 cwd", lambda: os.listdir('/proc/1/cwd/'))
attempt("parent fds", lambda: os.listdir(f'/proc/{os.getppid()}/fd'))
print("END")""",
        lambda r: ends(r) and "pyproject.toml" not in r["output"] and "root:x:0" not in r["output"],
    ),
    # --- writing and deleting outside -----------------------------------------------------------
    Case(
        "write_outside",
        """
import os, sys
attempt("run dir", lambda: open('$run_dir/escape.txt', 'w').write('x'))
attempt("home", lambda: open('/root/escape.txt', 'w').write('x'))
attempt("root", lambda: open('/escape.txt', 'w').write('x'))
attempt("prefix", lambda: open(sys.prefix + '/escape.txt', 'w').write('x'))
open('/tmp/$tag-escape.txt', 'w').write('x')  # the sandbox's own /tmp: fine, and gone afterwards
print("END")""",
        all_denied,
    ),
    Case(
        "delete_outside",
        """
import os, shutil
attempt("run file", lambda: os.remove('$run_file'))
attempt("home file", lambda: os.remove('$home_file'))
attempt("tmp file", lambda: os.remove('$tmp_file'))
attempt("run dir", lambda: shutil.rmtree('$run_dir'))
print("END")""",
        all_denied,
    ),
    Case(
        "change_the_interpreter",
        """
import os, sys
attempt("append stdlib", lambda: open(os.__file__, 'a').write('#'))
attempt("chmod python", lambda: os.chmod(sys.executable, 0o777))
attempt("rename stdlib", lambda: os.rename(os.__file__, os.__file__ + '.x'))
attempt("write lib", lambda: open('/usr/lib/escape', 'w'))
print("END")""",
        all_denied,
    ),
    Case(
        "fill_the_work_directory",
        """
n = 0
try:
    while n < 200:
        open(f'f{n}', 'wb').write(b'x' * 1000000)
        n += 1
except OSError as err:
    print("stopped", type(err).__name__)
print("megabytes", n)
print("END")""",
        lambda r: ends(r) and count(r, "megabytes") <= 17,
    ),
    Case(
        "fill_tmp",
        """
n = 0
try:
    while n < 200:
        open(f'/tmp/f{n}', 'wb').write(b'x' * 1000000)
        n += 1
except OSError as err:
    print("stopped", type(err).__name__)
print("megabytes", n)
print("END")""",
        lambda r: ends(r) and count(r, "megabytes") <= 17,
    ),
    Case("one_huge_file", "attempt('5 MB', lambda: open('big', 'w').write('x' * 5_000_000))\nprint('END')", all_denied),
    # --- escapes from the work directory ----------------------------------------------------------
    Case(
        "symlink_escape",
        """
import os
os.symlink('/etc/passwd', 'p')
os.symlink('$run_file', 'q')
os.symlink('/proc/$parent_pid/root/etc/passwd', 'r')
for name in 'pqr':
    attempt(name, lambda: open(name).read())
print("END")""",
        all_denied,
    ),
    Case(
        "dotdot_escape",
        """
import os
attempt("up", lambda: open('../../../../../../..$run_file').read())
attempt("cwd", lambda: open('/proc/self/cwd/../../../etc/passwd').read())
print("top", sorted(os.listdir('../../../..')))
print("END")""",
        lambda r: ends(r) and " GOT " not in r["output"] and "'work'" not in r["output"],
    ),
    Case(
        "mount_chroot_setuid",
        """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("mount", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())
print("umount", libc.umount2(b"/usr/lib", 2), ctypes.get_errno())
attempt("chroot", lambda: os.chroot('/tmp'))
attempt("setuid0", lambda: os.setuid(0))
attempt("setgid0", lambda: os.setgid(0))
print("END")""",
        lambda r: all_denied(r) and "mount -1" in r["output"] and "umount -1" in r["output"],
    ),
    # --- network -------------------------------------------------------------------------------
    Case(
        "tcp_to_a_host_listener",
        """
import socket
attempt("tcp", lambda: socket.create_connection(('127.0.0.1', $port), timeout=2))
print("END")""",
        all_denied,
    ),
    Case(
        "tcp_to_the_world",
        """
import socket
for host in ('1.1.1.1', '8.8.8.8', '10.0.0.1'):
    attempt(host, lambda: socket.create_connection((host, 80), timeout=1))
print("END")""",
        all_denied,
    ),
    Case(
        "udp_to_a_host_listener",
        """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    attempt("udp", lambda: s.sendto(b'leak', ('127.0.0.1', $udp_port)))
print("END")""",
        ends,
    ),  # the send may "work" on the sandbox's own loopback; test_hostile checks none arrived
    Case(
        "abstract_unix_socket_to_the_host",
        """
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
attempt("unix", lambda: s.connect('\\0$abstract'))
print("END")""",
        all_denied,
    ),
    Case("dns", "import socket\nattempt('dns', lambda: socket.getaddrinfo('pypi.org', 443))\nprint('END')", all_denied),
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
        ends,
    ),
    Case(
        "kill_minus_one",
        "import os, signal\nattempt('kill -1', lambda: os.kill(-1, signal.SIGKILL))\nprint('END')",
        ends,
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
print("kill", libc.syscall(62, -1, 9))
print("ptrace", libc.ptrace(16, os.getppid(), None, None), libc.ptrace(16, $parent_pid, None, None))
print("END")""",
        lambda r: ends(r) and "ptrace -1 -1" in r["output"],
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
