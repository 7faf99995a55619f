"""The project-local PostgreSQL cluster (pg_cron preloaded) used when DATABASE_URL is not set.

Started as root, the server runs as the unprivileged account that owns PostgreSQL on Debian, because PostgreSQL
refuses to run as root; its data then lives outside the checkout when that account cannot enter it.
"""

import hashlib
import os
import pwd
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from stack import settings
from stack.system import PG_MAJOR

DATABASE = "energy"
SUPERUSER = "postgres"
SERVER_ACCOUNT = "postgres"
DEFAULT_PORT = 54329


class ClusterError(Exception):
    """The local cluster cannot be started or reached."""


@dataclass(frozen=True)
class LocalCluster:
    """Where the local cluster lives and how to reach it."""

    data_dir: Path
    port: int
    bindir: Path

    def url(self, user: str = SUPERUSER, database: str = DATABASE) -> str:
        """The connection URL for a role of the local cluster (trust authentication on loopback)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.data_dir / "server.log"


def running_as_root() -> bool:
    """True when the server must be run as the unprivileged account."""
    return os.geteuid() == 0


def as_server(command: list[str]) -> list[str]:
    """The command, run as the server account when we are root (exec'd, so signals reach the server)."""
    if not running_as_root():
        return command
    return ["setpriv", f"--reuid={SERVER_ACCOUNT}", f"--regid={SERVER_ACCOUNT}", "--init-groups", *command]


def server_account_can_enter(path: Path) -> bool:
    """Whether the server account can reach a directory (every parent must be searchable)."""
    return subprocess.run(as_server(["test", "-x", str(path)]), check=False).returncode == 0


def bindir() -> Path:
    """The PostgreSQL server binaries."""
    path = Path(settings.text("PG_BINDIR", f"/usr/lib/postgresql/{PG_MAJOR}/bin"))
    if not (path / "postgres").exists():
        raise ClusterError(f"no PostgreSQL server in {path}: run make run again (it installs it) or set PG_BINDIR")
    return path


def default_data_dir() -> Path:
    """Data under the checkout, or under /var/tmp when the server account cannot enter the checkout."""
    inside = settings.ROOT / ".local" / "postgres"
    if not running_as_root() or server_account_can_enter(settings.ROOT):
        return inside
    tag = hashlib.sha1(str(settings.ROOT).encode()).hexdigest()[:10]
    return Path("/var/tmp") / f"brs5-energy-{tag}" / "postgres"


def local_cluster() -> LocalCluster:
    """The local cluster as configured by LOCAL_DB_DIR and LOCAL_DB_PORT."""
    data_dir = Path(settings.text("LOCAL_DB_DIR") or default_data_dir()).resolve()
    return LocalCluster(data_dir, settings.port("LOCAL_DB_PORT", DEFAULT_PORT), bindir())


def run(command: list[str], what: str) -> None:
    """Run a server command, turning a failure into a one-line error."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ClusterError(f"{what} failed: {detail[-1] if detail else 'no output'}")


def initialise(cluster: LocalCluster) -> None:
    """Create the cluster's data directory with initdb."""
    cluster.data_dir.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        account = pwd.getpwnam(SERVER_ACCOUNT)
        os.chown(cluster.data_dir.parent, account.pw_uid, account.pw_gid)
        os.chown(cluster.data_dir, account.pw_uid, account.pw_gid)
    cluster.data_dir.chmod(0o700)
    run(as_server([str(cluster.bindir / "initdb"), "-D", str(cluster.data_dir), "-U", SUPERUSER,
                   "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]), "initdb")


def write_config(cluster: LocalCluster) -> None:
    """(Re)write the settings the project needs, included from postgresql.conf."""
    conf = cluster.data_dir / "postgresql.conf"
    include = "include_if_exists = 'brs5-energy.conf'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")
    (cluster.data_dir / "brs5-energy.conf").write_text(
        "# Written by db/cluster.py on every start: edit LOCAL_DB_PORT in .env instead.\n"
        f"port = {cluster.port}\n"
        "listen_addresses = '127.0.0.1'\n"
        "unix_socket_directories = ''\n"  # TCP only: socket paths under a deep checkout can be too long
        "shared_preload_libraries = 'pg_cron'\n"
        f"cron.database_name = '{DATABASE}'\n"
        "cron.use_background_workers = on\n"
    )


def alive(pid: int) -> bool:
    """Whether pid is a running (not zombie) PostgreSQL server process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    name, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
    return name in ("postgres", "postmaster") and state != "Z"


def server_pid(cluster: LocalCluster) -> int | None:
    """The pid of the running server, removing a lock file left behind by a killed one."""
    pid_file = cluster.data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    if alive(pid):
        return pid
    print(f"removing {pid_file}: its server (pid {pid}) is gone", file=sys.stderr)
    pid_file.unlink()
    return None


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def create_database(cluster: LocalCluster) -> None:
    """Create the project database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.url(database="postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def start(cluster: LocalCluster) -> bool:
    """Start the cluster (creating it first if needed); False when it was already running."""
    if not (cluster.data_dir / "PG_VERSION").exists():
        print(f"creating a local PostgreSQL cluster in {cluster.data_dir}", flush=True)
        initialise(cluster)
    if server_pid(cluster):
        return False
    if not port_is_free(cluster.port):
        raise ClusterError(
            f"port {cluster.port} is in use by another program: set LOCAL_DB_PORT to a free port in .env")
    write_config(cluster)
    run(as_server([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-l", str(cluster.log_file),
                   "-w", "-t", "60", "start"]), f"starting PostgreSQL (see {cluster.log_file})")
    create_database(cluster)
    return True


def stop(cluster: LocalCluster) -> None:
    """Stop the cluster if it runs (fast shutdown: open sessions are ended, data is safe)."""
    if server_pid(cluster):
        run(as_server([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "fast", "-w", "stop"]),
            "stopping PostgreSQL")


def main(argv: list[str]) -> int:
    """python -m db.cluster start|stop|status|url|psql."""
    command = argv[0] if argv else "status"
    try:
        settings.load_dotenv()
        cluster = local_cluster()
        if command == "start":
            start(cluster)
            print(f"local PostgreSQL running: {cluster.url()}")
        elif command == "stop":
            stop(cluster)
            print("local PostgreSQL stopped")
        elif command == "status":
            pid = server_pid(cluster)
            print(f"local PostgreSQL {'running, pid ' + str(pid) if pid else 'stopped'} ({cluster.data_dir})")
        elif command == "url":
            print(cluster.url())
        elif command == "psql":
            url = settings.text("DATABASE_URL")
            if not url:
                start(cluster)
                url = cluster.url()
            os.execvp("psql", ["psql", url])
        else:
            print("usage: python -m db.cluster start|stop|status|url|psql", file=sys.stderr)
            return 2
    except (ClusterError, settings.ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
