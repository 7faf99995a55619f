"""Start the project's programs as real processes for the tests, and wait for conditions without fixed sleeps."""

import os
import signal
import subprocess
import sys
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
