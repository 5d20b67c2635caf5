"""Child processes in their own process groups, with logs in files and no orphans."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

_PR_SET_PDEATHSIG = 1


@dataclass
class ManagedProcess:
    """A started component: its name, pid (= process group id) and log file."""

    name: str
    pid: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        """Whether the process still runs."""
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid)

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, for fault-injection tests."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, *, grace_s: float = 10.0) -> None:
        """SIGTERM the whole group, SIGKILL it after `grace_s`."""
        stop_group(self.pid, grace_s=grace_s)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=1)


def spawn(
    name: str,
    argv: list[str],
    *,
    env: dict[str, str],
    log: Path,
    cwd: Path | None = None,
    tie_to_parent: bool,
) -> ManagedProcess:
    """Start `argv` in a new session with output to `log`.

    With `tie_to_parent`, the kernel signals the child when this process dies, so
    a killed test run or demo leaves nothing behind; `genai up` leaves it off so
    the stack outlives the command. The kernel ties the child to the calling *thread*:
    start components from a thread that outlives them (the main thread), or they are
    stopped when that thread ends.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        popen = subprocess.Popen(  # noqa: S603 - argv is built by us, never a shell string
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup(tie_to_parent=tie_to_parent),
        )
    return ManagedProcess(name=name, pid=popen.pid, log=log, popen=popen)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends, so a Ctrl-C cannot land between starting
    a child and recording it (which would orphan the child)."""
    deferred = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_group(pid: int, *, grace_s: float) -> None:
    """Terminate process group `pid`, escalating to SIGKILL."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie of ours)."""
    if not _exists(os.kill, pid):
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    return True


def _group_alive(pgid: int) -> bool:
    if not _exists(os.killpg, pgid):
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    # The leader may just have been reaped while other members still run; ask again.
    return _exists(os.killpg, pgid)


def _exists(send: Callable[[int, int], None], target: int) -> bool:
    """Signal 0 to a pid or group: does it exist (ours or not)?"""
    try:
        send(target, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _child_setup(*, tie_to_parent: bool) -> Callable[[], None]:
    """What the child runs between fork and exec."""

    def setup() -> None:
        # The signal mask survives exec: undo `signals_deferred`, or the child would
        # never see SIGTERM.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        if tie_to_parent:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup
