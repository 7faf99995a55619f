"""The project-local cluster: starts with pg_cron, survives a stale lock file, explains a busy port."""

import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import psycopg
import pytest

from db import cluster
from tests.procs import free_port, wait_for


@pytest.fixture
def local(monkeypatch):
    """A local cluster in a fresh directory the server account can reach, on a free port."""
    base = Path(tempfile.mkdtemp(prefix="brs5-cluster-"))
    base.chmod(0o755)
    monkeypatch.setenv("LOCAL_DB_DIR", str(base / "postgres"))
    monkeypatch.setenv("LOCAL_DB_PORT", str(free_port()))
    subject = cluster.local_cluster()
    yield subject
    cluster.stop(subject)
    shutil.rmtree(base, ignore_errors=True)


def test_starts_with_pg_cron_and_stops(local):
    assert cluster.start(local) is True
    assert cluster.start(local) is False  # already running
    with psycopg.connect(local.url()) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('shared_preload_libraries', 'cron.database_name', 'cron.use_background_workers')"))
    assert settings == {"shared_preload_libraries": "pg_cron", "cron.database_name": "energy",
                        "cron.use_background_workers": "on"}
    cluster.stop(local)
    assert cluster.server_pid(local) is None


def test_a_stale_lock_file_from_a_killed_server_is_removed(local, capsys):
    cluster.start(local)
    pid = cluster.server_pid(local)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not cluster.alive(pid), what="the server to die")
    assert (local.data_dir / "postmaster.pid").exists()
    assert cluster.start(local) is True
    assert "its server (pid" in capsys.readouterr().err
    with psycopg.connect(local.url()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_busy_port_gets_one_clear_line(local):
    with socket.create_server(("127.0.0.1", local.port)), pytest.raises(cluster.ClusterError) as raised:
        cluster.start(local)
    assert str(raised.value) == (f"port {local.port} is in use by another program: "
                                 "set LOCAL_DB_PORT to a free port in .env")
