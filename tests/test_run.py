"""make run's supervisor under real signals: every child and the cluster it started stop, without a traceback;
a second make run in the same checkout is refused in one line."""

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from db import cluster
from tests.procs import checkout_copy, descendants, free_port, processes, start, stop, wait_for, working_in

# What the log says once everything runs: both simulators answer, both collectors store, the dashboard serves.
READY = ("ingest.dsmr: connected to the bridge", "ingest.sun2000: inverter SUN2000", "dashboard: http://")
SERVICES = 5  # two simulators, two collectors, the dashboard


@pytest.fixture(scope="module")
def checkout():
    """A copy of the checkout: its .local (lock file, cluster, spool) is the test's, not the developer's."""
    copy = checkout_copy()
    yield copy
    cluster.stop(cluster.LocalCluster(copy / ".local" / "postgres", 0, cluster.bindir()))  # after a failed test
    shutil.rmtree(copy.parent, ignore_errors=True)


def answers(url: str) -> bool:
    """Whether the URL answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def as_from_a_terminal() -> None:
    """In the child: SIGHUP as a terminal session has it, even when the tests themselves run under nohup."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture
def stack(checkout, tmp_path):
    """make run, started from the copy in a session of its own (as from a terminal), with everything up."""
    log, web_port = tmp_path / "run.log", free_port()
    env = {**os.environ, "LOCAL_DB_PORT": str(free_port()), "WEB_PORT": str(web_port)}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "stack.run"], cwd=checkout, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=as_from_a_terminal)
    try:
        wait_for(lambda: all(line in log.read_text() for line in READY) and answers(
            f"http://127.0.0.1:{web_port}/healthz"), timeout=180, every=0.5, what=f"make run to be up ({log})")
        yield process, log, env
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def server_pid(checkout: Path) -> int | None:
    """The pid of the local cluster's server in the copy."""
    return cluster.server_pid(cluster.LocalCluster(checkout / ".local" / "postgres", 0, cluster.bindir()))


@pytest.mark.parametrize(("stop_signal", "to_group"), [
    (signal.SIGTERM, False),  # kill PID, systemd
    (signal.SIGHUP, True),    # the terminal closed: the kernel signals its foreground process group
    (signal.SIGINT, True),    # Ctrl-C: the terminal signals its foreground process group
], ids=["SIGTERM", "SIGHUP", "Ctrl-C"])
def test_a_stop_signal_stops_every_child_then_the_cluster(stack, checkout, stop_signal, to_group):
    process, log, _ = stack
    children = descendants(process.pid)
    server = server_pid(checkout)
    assert len(children) == SERVICES and server
    started = children | {server} | descendants(server)

    if to_group:
        os.killpg(process.pid, stop_signal)
    else:
        process.send_signal(stop_signal)

    assert process.wait(timeout=60) == 0
    assert not started & set(processes())
    assert working_in(checkout) == set()  # nothing left that runs from the checkout, the server included
    output = log.read_text()
    assert f"stopping ({stop_signal.name})" in output
    assert "Traceback" not in output and "Exception ignored" not in output, output


def test_a_second_make_run_says_so_in_one_line_and_starts_nothing(stack, checkout):
    process, _, env = stack
    before = descendants(process.pid)
    second = subprocess.run([sys.executable, "-m", "stack.run"], cwd=checkout, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert second.returncode == 2
    assert second.stderr == (f"error: make run is already running in this checkout (pid {process.pid}): "
                             "stop it first (Ctrl-C in its terminal)\n")
    assert second.stdout == ""
    assert descendants(process.pid) == before and process.poll() is None


def test_an_unreachable_database_gets_one_line(checkout):
    result = subprocess.run([sys.executable, "-m", "stack.run"], cwd=checkout, capture_output=True, text=True,
                            timeout=60, check=False,
                            env={**os.environ, "DATABASE_URL": "postgresql://owner:secret@127.0.0.1:1/energy"})
    assert result.returncode == 2
    assert result.stderr.startswith('error: connection failed: connection to server at "127.0.0.1", port 1 failed')
    assert len(result.stderr.splitlines()) == 1 and "secret" not in result.stderr
    assert working_in(checkout) == set()


def test_the_children_stop_even_when_make_run_is_killed(stack, checkout):
    process, _, _ = stack
    children = descendants(process.pid)
    assert len(children) == SERVICES
    process.kill()
    process.wait()
    wait_for(lambda: not children & set(processes()), what="the children to stop with their parent")
    assert server_pid(checkout)  # the cluster outlives a killed make run (the next one uses it as it finds it)
    cluster.stop(cluster.LocalCluster(checkout / ".local" / "postgres", 0, cluster.bindir()))


def test_a_collector_that_cannot_run_ends_the_run_in_one_line_instead_of_restarting(checkout, tmp_path):
    spool = tmp_path / "spool"  # held by a collector started outside make run, as by a systemd unit
    holder = start("ingest.dsmr", "--host", "127.0.0.1", "--port", str(free_port()), "--spool-dir", str(spool),
                   "--database-url", "postgresql://energy_ingest@127.0.0.1:1/nowhere", log=tmp_path / "holder.log")
    log = tmp_path / "run.log"
    try:
        wait_for(lambda: (spool / "dsmr.jsonl.lock").exists() and (spool / "dsmr.jsonl.lock").read_text().strip(),
                 what="the other collector's spool lock")
        env = {**os.environ, "LOCAL_DB_PORT": str(free_port()), "WEB_PORT": str(free_port()), "SPOOL_DIR": str(spool)}
        with log.open("wb") as output:
            process = subprocess.Popen([sys.executable, "-m", "stack.run"], cwd=checkout, env=env, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=180)
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        assert holder.poll() is None  # the other collector is left alone
    finally:
        stop(holder)
    output = log.read_text()
    refusal = f"error: spool {spool / 'dsmr.jsonl'} is in use by another collector (pid {holder.pid})"
    assert code == 2
    assert output.count(refusal) == 1 and "restarting" not in output  # said once, never restarted
    assert output.splitlines()[-1] == ("error: dsmr collector cannot run (its error is above): fix that and start "
                                       "make run again")
    assert "Traceback" not in output
    assert working_in(checkout) == set()  # every child stopped, and the cluster this run started
