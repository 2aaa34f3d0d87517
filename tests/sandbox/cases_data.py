"""Hostile programs after secrets, files, escapes and the network (see corpus.py)."""

from __future__ import annotations

from .corpus import Case, all_denied, count, ends

DATA_CASES = [
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
        lambda r: ends(r) and count(r, "visible") <= 4 and "pytest" not in r["output"],
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
    Case(
        "namespaces_of_its_own",
        """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, flag in (("user", 0x10000000), ("mount", 0x00020000), ("net", 0x40000000), ("pid", 0x20000000)):
    print("unshare", name, libc.unshare(flag))
print("END")""",
        lambda r: ends(r) and r["output"].count(" -1") == 4,
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
]
