"""make run: the whole system on one machine (database, simulators, collectors, dashboard) until stopped.

Ctrl-C, SIGTERM and SIGHUP all stop every child, then the local cluster when this run started it. Each child runs in
a process group of its own, so it gets one stop signal, from here, and never a second one from the terminal; a lock
file keeps a second make run in the same checkout from starting duplicates.
"""

import ctypes
import fcntl
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psycopg

from db import cluster, migrate
from stack import cli, demo, settings

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 5  # for a child to stop after SIGTERM before it is killed
RESTART_SECONDS = 5
LOCK_FILE = settings.ROOT / ".local" / "run.pid"
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
PRIVATE_PORTS_FROM = 20000  # above the well-known and most registered services' ports
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


class Service(NamedTuple):
    """A child process of make run."""

    name: str
    module: str
    env: dict[str, str]


class Stop(Exception):
    """A stop signal arrived; its name is the message."""


class StopSignals:
    """Turns SIGINT, SIGTERM and SIGHUP into Stop, held back while a child is being started so none goes untracked."""

    def __init__(self):
        self.received: str | None = None
        self.holding = False
        for sig in STOP_SIGNALS:
            if not (sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN):  # nohup make run: keep on
                signal.signal(sig, self.handle)

    def handle(self, signum, _frame) -> None:
        """Remember the signal; raise Stop now unless a child is being started."""
        self.received = signal.Signals(signum).name
        if not self.holding:
            raise Stop(self.received)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Delay Stop until the block is done."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.received:
            raise Stop(self.received)

    @staticmethod
    def ignore() -> None:
        """While stopping, another Ctrl-C must not cut the cleanup short (it takes a few seconds at most)."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


@contextmanager
def only_run(path=LOCK_FILE) -> Iterator[None]:
    """Hold a lock on the file for the whole run (the kernel releases it however we end); a second run is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise cli.ExpectedError(f"make run is already running in this checkout (pid {handle.read().strip()}): "
                                    "stop it first (Ctrl-C in its terminal)") from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def free_port() -> int:
    """A loopback port nobody listens on now, outside the range the kernel gives outgoing connections.

    A port from that range can become the local end of a connection (a collector's, to the database) in the seconds
    before the service meant to listen on it starts; below it, only a listener can take it.
    """
    for port in random.sample(range(PRIVATE_PORTS_FROM, ephemeral_ports_from()), 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free loopback port")


def ephemeral_ports_from() -> int:
    """The first port the kernel may give an outgoing connection (Linux; the IANA range elsewhere)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def services() -> list[Service]:
    """What to start: each device's collector, preceded by its simulator when no device is configured."""
    ingest_url = settings.database_url("energy_ingest")
    started = []
    for source, host_key, port_key, simulator in (
        ("dsmr", "DSMR_HOST", "DSMR_PORT", "ingest.simulators.dsmr_bridge"),
        ("sun2000", "SUN2000_HOST", "SUN2000_PORT", "ingest.simulators.sun2000"),
    ):
        device = {"INGEST_DATABASE_URL": ingest_url}
        if not settings.text(host_key):
            port = str(free_port())
            started.append(Service(f"{source} simulator", simulator, {"SIMULATOR_PORT": port}))
            device |= {host_key: "127.0.0.1", port_key: port}
        started.append(Service(f"{source} collector", f"ingest.{source}", device))
    if settings.text("FUSIONSOLAR_USER"):
        started.append(Service("fusionsolar collector", "ingest.fusionsolar", {"INGEST_DATABASE_URL": ingest_url}))
    started.append(Service("dashboard", "web", {"WEB_DATABASE_URL": settings.database_url("energy_web")}))
    return started


def stop_with_parent() -> None:
    """In the child, before it runs the service: the kernel sends it SIGTERM when make run dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(service: Service) -> subprocess.Popen:
    """Start a service as a child process sharing our output, in a process group of its own."""
    print(f"starting {service.name}", flush=True)
    return subprocess.Popen([sys.executable, "-m", service.module], cwd=settings.ROOT,
                            env={**os.environ, **service.env}, process_group=0, preexec_fn=stop_with_parent)


def supervise(children: list[tuple[Service, subprocess.Popen]], signals: StopSignals) -> None:
    """Restart a child that exits, until a stop signal. A child that exits with the code of an expected error has
    said in one line what the user must fix (a setting, a spool another collector holds, a port in use): a restart
    would only repeat that line, so the run ends instead."""
    while True:
        time.sleep(1)
        for index, (service, process) in enumerate(children):
            if process.poll() is None:
                continue
            if process.returncode == cli.EXIT_EXPECTED:
                raise cli.ExpectedError(f"{service.name} cannot run (its error is above): fix that and start "
                                        "make run again")
            print(f"{service.name} exited with {process.returncode}; restarting in {RESTART_SECONDS} s", flush=True)
            time.sleep(RESTART_SECONDS)
            with signals.held():
                children[index] = (service, start(service))


def stop(children: list[tuple[Service, subprocess.Popen]]) -> None:
    """Ask every child to stop (SIGTERM, which they take as Ctrl-C), then kill the groups of those still running."""
    for _, process in children:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for service, process in children:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{service.name} did not stop within {GRACE_SECONDS} s: killed", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def catch_up(url: str) -> None:
    """Aggregate what is due now rather than at the next pg_cron tick (after a downtime, or the demo's history)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CALL energy.run_aggregations()")
    print("aggregation: caught up", flush=True)


def main() -> int:
    """Run everything until a stop signal, then stop what was started."""
    cli.no_arguments("python -m stack.run", "make run: the local database, the simulators, the collectors and the "
                     "dashboard, until Ctrl-C.")
    settings.load_dotenv()
    url = settings.setting("DATABASE_URL", settings.connection_url)
    with only_run():
        signals = StopSignals()
        children: list[tuple[Service, subprocess.Popen]] = []
        local = None if url else cluster.local_cluster()
        ours = local is not None and cluster.server_pid(local) is None  # a cluster we start, we stop
        try:
            if local:
                cluster.start(local)
            for line in migrate.migrate(url or local.url()):
                print(line)
            print(f"database: psql {settings.redacted(url or local.url())}   (or: make psql)", flush=True)
            demo.seed_history()
            catch_up(url or local.url())
            for service in services():
                with signals.held():
                    children.append((service, start(service)))
            supervise(children, signals)
        except Stop as received:
            print(f"\nstopping ({received})", flush=True)
        finally:
            signals.ignore()
            stop(children)
            if ours:
                cluster.stop(local)
    return 0


if __name__ == "__main__":
    cli.run(main)
