"""The project-local PostgreSQL cluster (pg_cron preloaded) used when DATABASE_URL is not set.

It listens on a Unix socket in its own data directory, which only the server account may enter, and no TCP port;
peer authentication lets in only the account that runs the project (and the server account), as the roles the
project's programs use. Started as root, the server runs as the unprivileged account that owns PostgreSQL on Debian,
because PostgreSQL refuses to run as root; its data then lives outside the checkout when that account cannot enter it.
"""

import hashlib
import itertools
import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from stack import cli, settings
from stack.system import PG_MAJOR

DATABASE = "energy"
SUPERUSER = "postgres"
SERVER_ACCOUNT = "postgres"
DEFAULT_PORT = 54329
LOGIN_ROLES = (SUPERUSER, "energy_ingest", "energy_web")  # the roles the project's programs connect as
IDENT_MAP = "brs5"
SOCKET_PATH_MAX = 107  # bytes of a Unix socket path (sun_path) without its terminating NUL


class ClusterError(cli.ExpectedError):
    """The local cluster cannot be started or reached."""


@dataclass(frozen=True)
class LocalCluster:
    """Where the local cluster lives and how to reach it."""

    data_dir: Path
    port: int
    bindir: Path

    def url(self, user: str = SUPERUSER, database: str = DATABASE) -> str:
        """The connection URL for a role of the local cluster: its socket directory (percent-encoded) as host."""
        return f"postgresql://{user}@{quote(str(self.data_dir), safe='')}:{self.port}/{database}"

    @property
    def socket(self) -> Path:
        """The server's Unix socket."""
        return self.data_dir / f".s.PGSQL.{self.port}"

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
    cluster = LocalCluster(data_dir, settings.setting("LOCAL_DB_PORT", settings.port, DEFAULT_PORT), bindir())
    if len(os.fsencode(cluster.socket)) > SOCKET_PATH_MAX:
        raise ClusterError(f"the server's socket {cluster.socket} would be longer than {SOCKET_PATH_MAX} bytes: "
                           "set LOCAL_DB_DIR to a shorter path")
    return cluster


def run(command: list[str], what: str) -> None:
    """Run a server command, turning a failure into a one-line error."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ClusterError(f"{what} failed: {detail[-1] if detail else 'no output'}")


def create_data_dir(path: Path) -> None:
    """Create the data directory and the parents it lacks. As root, exactly those directories go to the server
    account: a directory the project did not create never changes owner, and one it cannot use is refused."""
    created = list(itertools.takewhile(lambda p: not p.exists(), [path, *path.parents]))
    if running_as_root():
        account = pwd.getpwnam(SERVER_ACCOUNT)
        if not created and path.stat().st_uid != account.pw_uid:
            owner = pwd.getpwuid(path.stat().st_uid).pw_name
            raise ClusterError(f"LOCAL_DB_DIR {path} exists and belongs to {owner}: name a directory that does not "
                               f"exist yet, or give this one to {SERVER_ACCOUNT} yourself")
        reachable = path.parents[len(created) - 1] if created else path
        if not server_account_can_enter(reachable):
            raise ClusterError(f"the {SERVER_ACCOUNT} account cannot enter {reachable}: set LOCAL_DB_DIR "
                               f"to a place it can reach")
    path.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        for directory in created:
            os.chown(directory, account.pw_uid, account.pw_gid)
    path.chmod(0o700)


def initialise(cluster: LocalCluster) -> None:
    """Create the cluster's data directory with initdb (no trust: pg_hba.conf is written before every start)."""
    create_data_dir(cluster.data_dir)
    run(as_server([str(cluster.bindir / "initdb"), "-D", str(cluster.data_dir), "-U", SUPERUSER,
                   "--auth-local=peer", "--auth-host=reject", "-E", "UTF8", "--locale=C.UTF-8"]), "initdb")


def conf_string(value: str) -> str:
    """A value quoted for postgresql.conf."""
    return "'" + value.replace("'", "''") + "'"


def local_accounts() -> list[str]:
    """The operating-system accounts that may connect: the one running the project, and the server account."""
    accounts = [pwd.getpwuid(os.geteuid()).pw_name]
    return [*accounts, SERVER_ACCOUNT] if running_as_root() else accounts


def write_config(cluster: LocalCluster) -> None:
    """(Re)write the settings and the authentication rules the project needs: socket only, peer authentication."""
    conf = cluster.data_dir / "postgresql.conf"
    include = "include_if_exists = 'brs5-energy.conf'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")
    (cluster.data_dir / "brs5-energy.conf").write_text(
        "# Written by db/cluster.py on every start: edit LOCAL_DB_PORT in .env instead.\n"
        f"port = {cluster.port}\n"
        "listen_addresses = ''\n"  # no TCP: only the socket, in a directory only the server account may enter
        f"unix_socket_directories = {conf_string(str(cluster.data_dir))}\n"
        "unix_socket_permissions = 0700\n"
        "shared_preload_libraries = 'pg_cron'\n"
        f"cron.database_name = '{DATABASE}'\n"
        "cron.use_background_workers = on\n"
    )
    (cluster.data_dir / "pg_hba.conf").write_text(
        "# Written by db/cluster.py on every start: the Unix socket only, for the accounts in pg_ident.conf.\n"
        f"local all all peer map={IDENT_MAP}\n")
    (cluster.data_dir / "pg_ident.conf").write_text(
        "# Written by db/cluster.py on every start: which local account may connect as which role.\n"
        + "".join(f"{IDENT_MAP} {account} {role}\n" for account in local_accounts() for role in LOGIN_ROLES))


def alive(pid: int) -> bool:
    """Whether pid is a running (not zombie) PostgreSQL server process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    name, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
    return name in ("postgres", "postmaster") and state != "Z"


def server_pid(cluster: LocalCluster) -> int | None:
    """The pid of the running server, removing the lock files left behind by a killed one (the server itself
    would take a zombie's pid for a live server)."""
    pid_file = cluster.data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    if alive(pid):
        return pid
    print(f"removing {pid_file}: its server (pid {pid}) is gone", file=sys.stderr)
    for lock in (pid_file, *cluster.data_dir.glob(".s.PGSQL.*.lock")):
        lock.unlink(missing_ok=True)
    return None


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
        if not cluster.socket.exists():
            raise ClusterError("the local cluster runs with an older configuration (no socket in its directory): "
                               "stop it with make db-stop, then start again")
        return False
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
    parser = cli.Parser(prog="python -m db.cluster", description="The local PostgreSQL cluster of make run.")
    parser.add_argument("command", nargs="?", choices=("start", "stop", "status", "url", "psql"), default="status")
    command = parser.parse_args(argv).command
    settings.load_dotenv()
    if command == "psql" and settings.text("DATABASE_URL"):
        os.execvp("psql", ["psql", settings.database_url()])
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
    else:
        start(cluster)
        os.execvp("psql", ["psql", cluster.url()])
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]))
