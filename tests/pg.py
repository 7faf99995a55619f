"""A throwaway PostgreSQL server for the tests (testing.postgresql) with pg_cron preloaded, also as root."""

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import testing.postgresql

from db import cluster

CRON_DATABASE = "test"  # testing.postgresql's own database
CRON_ARGS = [
    "-c shared_preload_libraries=pg_cron,plpgsql_check",
    f"-c cron.database_name={CRON_DATABASE}",
    "-c cron.use_background_workers=on",
    "-c max_worker_processes=32",
]


def start_server(preload_cron: bool = True, durable: bool = False,
                 options: tuple[str, ...] = ()) -> tuple[testing.postgresql.Postgresql, Path]:
    """Start a server (fsync off unless durable, as a production server has it; options: more -c name=value);
    returns it and its base directory (to remove after stop)."""
    base = Path(tempfile.mkdtemp(prefix="brs5-test-pg-"))
    bindir = cluster.bindir()
    programs = {name: str(bindir / name) for name in ("initdb", "postgres")}
    if cluster.running_as_root():
        # PostgreSQL refuses root: exec the programs as the server account, on a tree it owns.
        account = pwd.getpwnam(cluster.SERVER_ACCOUNT)
        for sub in ("", "data", "tmp"):
            (base / sub).mkdir(exist_ok=True)
            os.chown(base / sub, account.pw_uid, account.pw_gid)
        base.chmod(0o755)
        for name, program in programs.items():
            wrapper = base / f"{name}-as-server"
            wrapper.write_text(f'#!/bin/sh\nexec {" ".join(cluster.as_server([program]))} "$@"\n')
            wrapper.chmod(0o755)
            programs[name] = str(wrapper)
    server = testing.postgresql.Postgresql(
        base_dir=str(base),
        **programs,
        postgres_args=" ".join(["-h 127.0.0.1 -c logging_collector=off", *([] if durable else ["-F"]),
                                *(CRON_ARGS if preload_cron else []), *(f"-c {option}" for option in options)]),
    )
    return server, base


def stop_server(server: testing.postgresql.Postgresql, base: Path) -> None:
    """Stop the server and remove its files."""
    server.stop()
    shutil.rmtree(base, ignore_errors=True)
