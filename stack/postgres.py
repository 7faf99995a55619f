"""The dedicated PostgreSQL cluster of an installation: a cluster of Debian's own PostgreSQL service
(pg_createcluster), with pg_cron preloaded and peer logins mapped to the project's roles, started at boot by
postgresql.service. Used when DATABASE_URL names no server of the user's own."""

import re
import shlex
import socket
from pathlib import Path
from string import Template

from psycopg.conninfo import conninfo_to_dict

from stack.system import PG_MAJOR

NAME = "brs5-energy"
DATABASE = "energy"
CONF_DIR = Path(f"/etc/postgresql/{PG_MAJOR}/{NAME}")
UNIT = f"postgresql@{PG_MAJOR}-{NAME}.service"
SOCKET_DIR = "/var/run/postgresql"
TEMPLATES = Path(__file__).with_name("templates")
# Database roles each system account may log in as: the administrators migrate (postgres) and read the views
# (make status); the services' account writes readings, serves the dashboard and takes the nightly dump.
ADMIN_ROLES = ("postgres", "energy_web")
SERVICE_ROLES = ("energy_ingest", "energy_web", "energy_backup")


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

def port_of(conf: Path) -> int | None:
    """The port a cluster's postgresql.conf sets."""
    try:
        match = re.search(r"^\s*port\s*=\s*(\d+)", conf.read_text(), flags=re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def port() -> int:
    """The cluster's port: the one it has, or the first one no other cluster or program uses."""
    if existing := port_of(CONF_DIR / "postgresql.conf"):
        return existing
    used = {port_of(conf) for conf in Path("/etc/postgresql").glob("*/*/postgresql.conf")}
    return next(p for p in range(5432, 5532) if p not in used and port_is_free(p))


def url(user: str, cluster_port: int) -> str:
    """A connection over the cluster's Unix socket, as a role (peer authentication, no password)."""
    return f"postgresql://{user}@/{DATABASE}?host={SOCKET_DIR}&port={cluster_port}"


def is_ours(database_url: str | None) -> bool:
    """Whether a DATABASE_URL is unset or names this cluster (as make install writes it into .env)."""
    if not database_url:
        return True
    params = conninfo_to_dict(database_url)
    return params.get("host") == SOCKET_DIR and str(params.get("port")) == str(port_of(CONF_DIR / "postgresql.conf"))


def files(service_user: str, admins: list[str]) -> dict[str, str]:
    """The cluster's configuration files (relative to its directory) and their contents."""
    pairs = [(admin, role) for admin in admins for role in ADMIN_ROLES]
    pairs += [(service_user, role) for role in SERVICE_ROLES]
    ident = "\n".join(f"{NAME:<12} {account:<16} {role}" for account, role in pairs)
    return {
        "conf.d/brs5-energy.conf": Template((TEMPLATES / "postgresql.conf").read_text()).substitute(database=DATABASE),
        "pg_hba.conf": (TEMPLATES / "pg_hba.conf").read_text(),
        "pg_ident.conf": Template((TEMPLATES / "pg_ident.conf").read_text()).substitute(lines=ident),
    }


def unchanged(target: Path, text: str) -> bool:
    """Whether a file already holds the text (False when it cannot be read)."""
    try:
        return target.read_text() == text
    except OSError:
        return False


def steps(staging: Path, service_user: str, admins: list[str]) -> list[str]:
    """Shell commands that create, configure and start the cluster and its database; each may run again."""
    cluster_port, pg = port(), f"{PG_MAJOR} {NAME}"
    commands = []
    if not CONF_DIR.exists():
        commands.append(f"pg_createcluster --port {cluster_port} --locale C.UTF-8 {pg}")
    changed = []
    for name, text in files(service_user, admins).items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text(text)
        if not unchanged(CONF_DIR / name, text):
            changed.append(name)
            commands.append(shlex.join(["install", "-D", "-m", "0640", "-o", "postgres", "-g", "postgres",
                                        str(staging / name), str(CONF_DIR / name)]))
    commands.append(f"pg_ctlcluster {pg} status >/dev/null || pg_ctlcluster {pg} start")
    if "conf.d/brs5-energy.conf" in changed and CONF_DIR.exists():
        commands.append(f"pg_ctlcluster {pg} restart")  # shared_preload_libraries needs a restart
    elif changed and CONF_DIR.exists():
        commands.append(f"pg_ctlcluster {pg} reload")
    sql = shlex.quote(str(Path(__file__).with_name("templates") / "cluster.sql"))
    commands.append(f"runuser -u postgres -- psql --port {cluster_port} --dbname postgres --quiet "
                    f"-v ON_ERROR_STOP=1 -v database={DATABASE} < {sql}")
    return commands
