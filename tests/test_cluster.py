"""The project-local cluster: starts with pg_cron, survives a stale lock file, lets in only the project's account
over its socket, and changes the owner of no directory it did not create."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
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


def test_only_the_account_running_the_project_gets_in_and_only_through_the_socket(local):
    cluster.start(local)
    # authentication passes for the project's roles (the server then finds that migrate has not created them)...
    with pytest.raises(psycopg.OperationalError, match='role "energy_web" does not exist'):
        psycopg.connect(local.url("energy_web"))
    # ...and fails for any other role, even a superuser: nothing is trusted
    with psycopg.connect(local.url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE intruder LOGIN SUPERUSER")
    with pytest.raises(psycopg.OperationalError, match='Peer authentication failed for user "intruder"'):
        psycopg.connect(local.url("intruder"))
    with pytest.raises(ConnectionRefusedError):  # no TCP port at all
        socket.create_connection(("127.0.0.1", local.port), timeout=5).close()


@pytest.mark.skipif(not cluster.running_as_root(), reason="needs root to act as another account")
def test_another_local_account_cannot_connect_as_superuser(local):
    cluster.start(local)
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    for target in (local.url(), f"postgresql://postgres@127.0.0.1:{local.port}/energy"):
        result = subprocess.run([*as_nobody, "psql", "-w", target, "-c", "SELECT 1"], capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 2, result
        assert "Permission denied" in result.stderr or "Connection refused" in result.stderr, result.stderr


def owner(path: Path) -> str:
    """The account that owns path."""
    return pwd.getpwuid(path.stat().st_uid).pw_name


@pytest.fixture
def root_owned():
    """A directory owned by root that the server account can enter, like /var/lib."""
    base = Path(tempfile.mkdtemp(prefix="brs5-owner-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(not cluster.running_as_root(), reason="ownership changes only as root")
def test_only_the_directories_the_project_creates_change_owner(root_owned):
    cluster.create_data_dir(root_owned / "pg")  # as LOCAL_DB_DIR=/var/lib/pg: /var/lib stays root's
    assert (owner(root_owned), owner(root_owned / "pg")) == ("root", "postgres")
    assert (root_owned / "pg").stat().st_mode & 0o777 == 0o700

    cluster.create_data_dir(root_owned / "new" / "deeper" / "pg")  # every directory created is the server's
    assert [owner(root_owned / path) for path in ("new", "new/deeper", "new/deeper/pg")] == ["postgres"] * 3
    assert owner(root_owned) == "root"


@pytest.mark.skipif(not cluster.running_as_root(), reason="ownership changes only as root")
def test_a_directory_the_project_did_not_create_is_refused(root_owned):
    existing = root_owned / "pg"
    existing.mkdir()
    with pytest.raises(cluster.ClusterError) as raised:
        cluster.create_data_dir(existing)
    assert str(raised.value) == (f"LOCAL_DB_DIR {existing} exists and belongs to root: name a directory that does not "
                                 "exist yet, or give this one to postgres yourself")
    assert owner(existing) == "root" and existing.stat().st_mode & 0o777 == 0o755

    hidden = root_owned / "private"
    hidden.mkdir(mode=0o700)
    with pytest.raises(cluster.ClusterError, match=f"the postgres account cannot enter {hidden}: set LOCAL_DB_DIR"):
        cluster.create_data_dir(hidden / "pg")
    assert not (hidden / "pg").exists() and owner(hidden) == "root"
