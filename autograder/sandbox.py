"""Run one submission's notebooks in an isolated, resource-limited process.

With bubblewrap (``bwrap``) on the PATH, the runner starts in fresh user, PID,
network, IPC and mount namespaces whose file system holds only the system
folders, the Python installation and this project's packages, all read-only,
plus the submission's private working copy: no course ``source/``, no other
submission, no gradebook, and no network beyond its own loopback. Without
bubblewrap the runner is still a separate process with the same resource
limits and a private working copy, but it can read the file system and reach
the network; :func:`detect` says so, and the CLI prints it.

Limits: a time limit per cell and per notebook (enforced inside by the runner,
and from outside by killing the sandbox), address space (memory), file size,
number of processes (a pids cgroup when running as root, ``RLIMIT_NPROC``
otherwise) and output size.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import autograder
import course

#: Seconds allowed on top of the notebook time limit for kernel start and teardown.
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


@dataclass(frozen=True)
class SandboxRun:
    """What came back from one sandboxed run."""

    executed: dict[str, str]  # notebook file name -> executed notebook JSON
    returncode: int | None
    killed: bool
    seconds: float
    stderr: str


class Sandbox:
    """Runs ``autograder.runner`` on a private working copy.

    Parameters
    ----------
    isolation
        ``"bubblewrap"`` or ``"process"`` (resource limits only).
    """

    def __init__(self, isolation: str) -> None:
        if isolation not in ("bubblewrap", "process"):
            raise ValueError(f"unknown isolation {isolation!r}: use 'bubblewrap' or 'process'")
        self.isolation = isolation

    @property
    def description(self) -> str:
        if self.isolation == "bubblewrap":
            return "sandbox: bubblewrap (private file system, no network, resource limits)"
        return (
            "sandbox: WARNING bubblewrap (bwrap) not found; submissions run as separate processes "
            "with resource limits only, and can read the file system and reach the network. "
            "Install it (Debian/Ubuntu: apt-get install bubblewrap) for full isolation."
        )

    def run(
        self, notebooks: dict[str, str], limits: Limits, files: dict[str, bytes] | None = None
    ) -> SandboxRun:
        """Execute ``notebooks`` (file name -> notebook JSON) and return the executed JSON."""
        with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
            workdir = Path(tmp) / "submission"
            workdir.mkdir()
            for name, data in (files or {}).items():
                (workdir / name).parent.mkdir(parents=True, exist_ok=True)
                (workdir / name).write_bytes(data)
            for name, text in notebooks.items():
                (workdir / name).write_text(text)
            spec = {"notebooks": list(notebooks), **asdict(limits)}
            spec_path = workdir / f".autograder-{uuid.uuid4().hex}.json"
            spec_path.write_text(json.dumps(spec))
            argv = [sys.executable, "-m", "autograder.runner", str(spec_path)]
            if self.isolation == "bubblewrap":
                argv = bubblewrap_argv(workdir) + argv
            started = time.monotonic()
            returncode, killed, stderr = _run(argv, workdir, limits)
            executed = {}
            for name in notebooks:
                out = workdir / f"{name}.executed"
                if out.is_file():
                    executed[name] = out.read_text()
            return SandboxRun(executed, returncode, killed, time.monotonic() - started, stderr)


def detect() -> Sandbox:
    """The strongest sandbox this machine offers."""
    bwrap = shutil.which("bwrap")
    if bwrap:
        probe = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return Sandbox("bubblewrap")
    return Sandbox("process")


def _readonly_roots() -> list[Path]:
    """Folders the runner needs: system, Python, the virtualenv and our packages."""
    roots = {Path(p) for p in ("/usr", "/etc", "/opt") if Path(p).exists()}
    roots |= {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    for package in (course, autograder):
        roots.add(Path(package.__file__).resolve().parent)
    return sorted(roots)


def bubblewrap_argv(workdir: Path) -> list[str]:
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for root in _readonly_roots():
        argv += ["--ro-bind", str(root), str(root)]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir), "--hostname", "sandbox"]
    return argv + ["--"]


def _environment(workdir: Path) -> dict[str, str]:
    home = str(workdir)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime",
        "IPYTHONDIR": f"{home}/.ipython",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }


class _PidsCgroup:
    """A pids cgroup (v1) capping the processes of one run, when we may create one."""

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
            procs = (self.path / "cgroup.procs").read_text().split()
            for pid in procs:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.05)


def _run(argv: list[str], workdir: Path, limits: Limits) -> tuple[int | None, bool, str]:
    cgroup = _PidsCgroup(limits.max_processes)
    stderr_path = workdir.parent / "stderr.txt"
    try:
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                argv,
                cwd=workdir,
                env=_environment(workdir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=cgroup.add,
            )
            killed = False
            try:
                proc.wait(timeout=limits.notebook_timeout + STARTUP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                killed = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
    finally:
        cgroup.remove()
    with open(stderr_path, "rb") as f:
        f.seek(max(0, stderr_path.stat().st_size - 4000))
        tail = f.read().decode("utf-8", "replace")
    return (None if killed else proc.returncode), killed, tail
