"""make install, uninstall and upgrade: the project as systemd services on a home server.

Every change to the system is a shell command: run as root, or printed when the rights are missing, so what is
printed is exactly what would run. Settings come from /etc/brs5-energy.env, then the checkout's .env, as in the
units (where the later EnvironmentFile wins, as the first value loaded wins here).
"""

import importlib
import os
import shlex
import subprocess
from collections.abc import Callable

import psycopg

from db import migrate
from stack import cli, health, postgres, settings, system, units

STAGING = settings.ROOT / ".local" / "services"  # generated files, installed from here by the commands
PROGRAMS = ("ingest.dsmr", "ingest.sun2000", "ingest.fusionsolar", "web", "stack.backup")


class InstallError(cli.ExpectedError):
    """The installation cannot go on; the message says why and what to do."""


def load_configuration() -> None:
    """The system's settings first, then the checkout's (or ENV_FILE): the first value loaded wins. A file this
    account may not read is an error, except under systemd, which has passed its settings already (EnvironmentFile=)."""
    for path in (units.SYSTEM_ENV, None):  # None: the checkout's, or ENV_FILE's, as every program reads it
        try:
            settings.load_dotenv(path)
        except PermissionError:
            if not os.environ.get("INVOCATION_ID"):
                raise settings.ConfigError(f"cannot read {path or settings.env_file()}: run it with sudo") from None


def admins() -> list[str]:
    """The system accounts that administer the database: root, postgres, and who ran sudo."""
    sudo_user = os.environ.get("SUDO_USER")
    return ["root", "postgres"] + ([sudo_user] if sudo_user and sudo_user != "root" else [])


def configured_url() -> str | None:
    """DATABASE_URL, checked; None when unset, which make install answers with a cluster of its own."""
    return settings.setting("DATABASE_URL", settings.connection_url)


def database() -> tuple[str, units.Database]:
    """The owner's connection, and what the units need to know of the database."""
    url = configured_url()
    if not postgres.is_ours(url):
        return url, units.Database()
    port = postgres.port()
    return postgres.url("postgres", port), units.Database(postgres.UNIT, postgres.url("energy_backup", port))


def remove_steps(names: list[str]) -> list[str]:
    """Commands that stop, disable and remove units."""
    stop = ["--now"] if health.systemd_running() else []
    return [shlex.join(["systemctl", "disable", *stop, *names]),
            shlex.join(["rm", "-f", *(str(units.UNIT_DIR / name) for name in names)])]


def unit_steps(generated: dict[str, str]) -> tuple[list[str], list[str]]:
    """Commands that install the changed units and remove stale ones; and the names of the changed units."""
    steps, changed = [], []
    (STAGING / "units").mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        (STAGING / "units" / name).write_text(text)
        if not postgres.unchanged(units.UNIT_DIR / name, text):
            changed.append(name)
            steps.append(shlex.join(["install", "-m", "0644", str(STAGING / "units" / name), str(units.UNIT_DIR)]))
    stale = [name for name in health.installed_units() if name not in generated]
    if stale:
        steps += remove_steps(stale)
    if (changed or stale) and health.systemd_running():
        steps.append("systemctl daemon-reload")
    return steps, changed


def install_plan() -> list[str]:
    """Every command make install runs, in order."""
    if not any(settings.text(setting) for *_, setting in units.COLLECTORS):
        print("note: no device configured (DSMR_HOST, SUN2000_HOST, FUSIONSOLAR_USER): installing the dashboard only")
    owner, db = database()
    generated = units.generate(db)  # first: a checkout it cannot serve stops the install before any change
    steps = []
    if absent := system.missing(system.RUN_PACKAGES if db.unit else [f"postgresql-client-{system.PG_MAJOR}"]):
        steps.append("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                     f"--no-install-recommends {' '.join(absent)}")
    user, root, env = units.USER, shlex.quote(str(settings.ROOT)), shlex.quote(str(units.ENV_FILE))
    steps.append(f"getent passwd {user} >/dev/null || useradd --system --user-group --home-dir {units.STATE_DIR} "
                 f"--no-create-home --shell /usr/sbin/nologin {user}")
    steps.append(f"setpriv --reuid={user} --regid={user} --clear-groups test -r {root}/web/__init__.py -a -x "
                 f"{root}/.venv/bin/python || {{ echo 'error: the account {user} cannot read {root}: make it "
                 "readable (chmod o+rx on it and its parents) or move the checkout, e.g. to /opt' >&2; exit 1; }")
    if db.unit:
        steps += postgres.steps(STAGING / "postgresql", user, admins())
    if not configured_url():
        steps.append(f"printf '%s\\n' '' '# make install: the dedicated PostgreSQL cluster {postgres.NAME}' "
                     f"{shlex.quote('DATABASE_URL=' + owner)} >> {env}")
    steps.append(f"[ ! -e {env} ] || {{ chgrp {user} {env} && chmod g+r,o-rwx {env}; }}")  # it may hold secrets
    steps.append(f"{root}/.venv/bin/python -m db.migrate")
    for name in ("SPOOL_DIR", "BACKUP_DIR"):
        if directory := settings.text(name):
            steps.append(shlex.join(["install", "-d", "-o", user, "-g", user, str(settings.ROOT / directory)]))
    install_units, changed = unit_steps(generated)
    steps += install_units
    # enable works without a running systemd too: it only makes the links that start the units at boot
    steps.append(shlex.join(["systemctl", "enable", *(n for n in generated if not n.endswith("-backup.service"))]))
    if health.systemd_running():
        if restart := [n for n in changed if not n.endswith(("-backup.service", ".target"))]:
            steps.append(shlex.join(["systemctl", "try-restart", *restart]))
        steps.append(f"systemctl start {units.TARGET}")
    return steps


def run_steps(steps: list[str]) -> None:
    """Run each command as root, echoed; stop at the first that fails."""
    for step in steps:
        print(f"+ {step}", flush=True)
        result = subprocess.run(["sh", "-ec", step], check=False)
        if result.returncode:
            raise InstallError(f"this step failed (exit status {result.returncode}); nothing after it ran")


def perform(steps: list[str], what: str) -> None:
    """Run the steps as root, or print them for someone who can."""
    if os.geteuid() == 0:
        run_steps(steps)
        return
    print(f"{what} needs root: run  sudo make {what}  or, as root, these commands:")
    for step in steps:
        print(f"  {step}")
    raise InstallError(f"not root: nothing was changed by make {what}")


def install() -> None:
    """make install."""
    perform(install_plan(), "install")
    if not health.systemd_running():
        print("systemd is not running here (not PID 1): the units are installed and start at the next boot")
    print(f"installed; make status shows how it runs, the dashboard listens on "
          f"http://{settings.text('WEB_HOST', '127.0.0.1')}:{settings.text('WEB_PORT', '8080')}/")


def uninstall() -> None:
    """make uninstall: remove the units, keep the database, the spools and the backups."""
    installed = health.installed_units()
    if not installed:
        print("no brs5-energy units installed")
        return
    steps = remove_steps(installed)
    if health.systemd_running():
        steps.append("systemctl daemon-reload")
    perform(steps, "uninstall")
    print(f"removed the units; kept the database, {units.STATE_DIR} (spools, backups) and the account "
          f"{units.USER}. To remove them too: pg_dropcluster --stop {system.PG_MAJOR} {postgres.NAME}; "
          f"rm -r {postgres.CONF_DIR} {units.STATE_DIR}; userdel {units.USER}")


def upgrade(url: str, installed: list[str], run: Callable[[list[str]], None] = run_steps) -> None:
    """Migrate while the old programs keep running, then restart them on the new code, collectors first.

    The migration runs in one transaction: readers keep their view of the old schema until it commits, and a
    collector's write that fails meanwhile goes to its spool, replayed after the restart. A failed migration
    restarts nothing, so the old programs keep running on the old schema. A stopped collector reads nothing
    from its device, so the collectors stop only for their restart."""
    try:
        for module in PROGRAMS:  # new code that does not even import must not replace running code
            importlib.import_module(module)
    except Exception as error:
        raise InstallError(f"the new code does not load ({type(error).__name__}: {error}): nothing was changed") \
            from error
    try:
        for line in migrate.migrate(url, atomic=True):
            print(line)
    except (migrate.MigrationError, psycopg.Error) as error:
        raise InstallError(f"{cli.one_line(error)}; upgrade stopped before restarting anything: the services keep "
                           "running the version they started with") from error
    if not installed:
        print("no services installed: the database is up to date")
        return
    new_units = unit_steps(units.generate(database()[1]))[0]  # they take effect at the restart
    collectors = units.collectors(installed)
    web = [name for name in installed if name == f"{units.USER}-web.service"]
    if health.systemd_running():
        run(new_units + [shlex.join(["systemctl", "restart", *names]) for names in (collectors, web) if names])
    else:
        run(new_units)
        print(f"systemd is not running here: restart {', '.join(collectors + web)} yourself")


def upgrade_command() -> None:
    """make upgrade: as root when services are installed."""
    url = configured_url()
    if not url:
        raise InstallError("DATABASE_URL is not set (make install sets it); for the local cluster use make migrate")
    installed = health.installed_units()
    if installed and os.geteuid() != 0:
        raise InstallError("the services are installed: run  sudo make upgrade")
    upgrade(url, installed)


def main(argv: list[str] | None = None) -> int:
    """python -m stack.services install|uninstall|upgrade."""
    commands = {"install": install, "uninstall": uninstall, "upgrade": upgrade_command}
    parser = cli.Parser(prog="python -m stack.services",
                        description="Install, remove or upgrade the systemd services of an installation.")
    parser.add_argument("command", choices=commands)
    command = parser.parse_args(argv).command
    load_configuration()
    commands[command]()
    return 0


if __name__ == "__main__":
    cli.run(main)
