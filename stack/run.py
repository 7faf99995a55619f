"""make run: the whole system on one machine (database, simulators, collectors, dashboard) until Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
from typing import NamedTuple

from db import cluster, migrate
from stack import demo, settings


class Service(NamedTuple):
    """A child process of make run."""

    name: str
    module: str
    env: dict[str, str]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def services(database_url: str) -> list[Service]:
    """What to start: each device's collector, preceded by its simulator when no device is configured."""
    ingest_url = settings.text("INGEST_DATABASE_URL") or settings.with_user(database_url, "energy_ingest")
    web_url = settings.text("WEB_DATABASE_URL") or settings.with_user(database_url, "energy_web")
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
    started.append(Service("dashboard", "web", {"WEB_DATABASE_URL": web_url}))
    return started


def start(service: Service) -> subprocess.Popen:
    """Start a service as a child process sharing our terminal."""
    print(f"starting {service.name}", flush=True)
    return subprocess.Popen([sys.executable, "-m", service.module], cwd=settings.ROOT,
                            env={**os.environ, **service.env})


def supervise(children: list[tuple[Service, subprocess.Popen]]) -> None:
    """Restart a child that exits, until Ctrl-C."""
    while True:
        time.sleep(1)
        for index, (service, process) in enumerate(children):
            if process.poll() is not None:
                print(f"{service.name} exited with {process.returncode}; restarting in 5 s", flush=True)
                time.sleep(5)
                children[index] = (service, start(service))


def stop(children: list[tuple[Service, subprocess.Popen]]) -> None:
    """Stop every child, politely first."""
    for _, process in children:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for _, process in children:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    """Run everything until Ctrl-C, then stop what was started."""
    local = None
    children: list[tuple[Service, subprocess.Popen]] = []
    try:
        settings.load_dotenv()
        url = settings.text("DATABASE_URL")
        if not url:
            local = cluster.local_cluster()
            if not cluster.start(local):
                local = None  # it was already running: leave it so
            url = cluster.local_cluster().url()
        for line in migrate.migrate(url):
            print(line)
        print(f"database: psql {settings.redacted(url)}   (or: make psql)", flush=True)
        demo.seed_history(url)
        for service in services(url):
            children.append((service, start(service)))
        supervise(children)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    except (cluster.ClusterError, migrate.MigrationError, settings.ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stop(children)
        if local:
            cluster.stop(local)
    return 0


if __name__ == "__main__":
    sys.exit(main())
