"""Start the project's programs as real processes for the tests, and wait for conditions without fixed sleeps."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stack.run import free_port  # noqa: F401 - the tests' one way to pick a port
from stack.settings import ROOT


def start(module: str, *args: str, log: Path, **env: str) -> subprocess.Popen:
    """Run python -m module with arguments, its output going to a log file."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                            env={**os.environ, "LOG_LEVEL": "INFO", **env})


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    """Stop a process (Ctrl-C by default) and return its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_for(condition, timeout: float = 30.0, every: float = 0.2, what: str = "condition"):
    """Poll until condition() is truthy; returns its value or fails after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def checkout_copy() -> Path:
    """A copy of the checkout in a fresh directory the server account can enter (no .venv, .git, .local, caches):
    programs run from it read its .env and keep their .local there, not in the developer's checkout."""
    base = Path(tempfile.mkdtemp(prefix="brs5-checkout-"))
    base.chmod(0o755)
    copy = base / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".local", ".env", "__pycache__", ".pytest_cache", ".ruff_cache", "artifacts"))
    return copy


def processes() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, working directory or '' when unreadable)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            state, parent = stat[stat.rindex(")") + 2:].split()[:2]
            if state == "Z":
                continue
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                cwd = ""
            found[int(entry.name)] = (int(parent), cwd)
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while we looked
    return found


def descendants(pid: int) -> set[int]:
    """The live processes below pid."""
    table, found, frontier = processes(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def working_in(directory: Path) -> set[int]:
    """The live processes whose working directory is directory or below it."""
    prefix = str(directory)
    return {pid for pid, (_, cwd) in processes().items() if cwd == prefix or cwd.startswith(prefix + "/")}
