"""The systemd units of an installation, generated from the configuration: one per configured collector, the
dashboard, the nightly backup and its timer, and a target that groups them."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from string import Template

from stack import cli, settings

TEMPLATES = Path(__file__).with_name("templates")
USER = "brs5-energy"
STATE_DIR = Path("/var/lib") / USER  # StateDirectory=brs5-energy/... in the templates
SPOOL_DIR = STATE_DIR / "spool"
BACKUP_DIR = STATE_DIR / "backups"
TARGET = "brs5-energy.target"
UNIT_DIR = Path("/etc/systemd/system")
ENV_FILE = settings.ROOT / ".env"
SYSTEM_ENV = Path("/etc/brs5-energy.env")
# Collectors as data: (unit suffix, module, what it reads, the setting that says it is configured).
COLLECTORS = (
    ("dsmr", "ingest.dsmr", "DSMR collector (Fluvius meter through a smartmeterBridge)", "DSMR_HOST"),
    ("sun2000", "ingest.sun2000", "SUN2000 collector (Huawei inverter over Modbus TCP)", "SUN2000_HOST"),
    ("fusionsolar", "ingest.fusionsolar", "FusionSolar collector (Huawei cloud)", "FUSIONSOLAR_USER"),
)
UNSAFE_PATH = re.compile(r"[\s%$\\\"']")  # what systemd would expand or split in a path


class UnitError(cli.ExpectedError):
    """The units cannot be generated for this checkout or configuration."""


@dataclass(frozen=True)
class Database:
    """How the services reach PostgreSQL: the systemd unit to start first (none for a remote server), and the
    connection of the nightly backup when it is not DATABASE_URL."""

    unit: str = ""
    backup_url: str = ""


@dataclass(frozen=True)
class Site:
    """Where the installation lives: the checkout (whose virtual environment runs the programs), the account the
    services run as, and the settings files (a later one wins)."""

    root: Path = settings.ROOT
    user: str = USER
    env_files: tuple[Path, ...] = (ENV_FILE, SYSTEM_ENV)


def systemd_version() -> int:
    """The installed systemd's version number (0 when there is none)."""
    try:
        first = subprocess.run(["systemctl", "--version"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return 0
    match = re.match(r"systemd (\d+)", first)
    return int(match.group(1)) if match else 0


def restart_policy(version: int) -> str:
    """Restart on failure with a growing delay where systemd can (254 and later), a fixed one before."""
    if version >= 254:
        return "Restart=on-failure\nRestartSec=2\nRestartSteps=8\nRestartMaxDelaySec=5min\n"
    return "Restart=on-failure\nRestartSec=10\n"


def configured_dir(name: str, default: Path, root: Path) -> Path | None:
    """A directory setting made absolute against the checkout, or None when unset or the state directory."""
    value = settings.text(name)
    if not value:
        return None
    path = root / value
    return None if path == default else path


def render(template: str, **values: str) -> str:
    """Fill a template, trimming what empty values leave behind (trailing spaces, runs of blank lines)."""
    text = Template((TEMPLATES / template).read_text()).substitute(values)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def writable(path: Path | None) -> str:
    """The line that lets a unit write a directory configured outside its state directory."""
    return f"ReadWritePaths={path}" if path else ""


def protect_home(root: Path) -> str:
    """Home directories hidden, or read-only when the checkout lives in one."""
    homes = (Path("/home"), Path("/root"), Path("/run/user"))
    return "read-only" if any(root.is_relative_to(home) for home in homes) else "yes"


def generate(database: Database, site: Site = Site(), version: int | None = None) -> dict[str, str]:
    """Unit file name -> contents, for the configuration in the environment."""
    root = site.root
    for path in (root, *site.env_files):
        if UNSAFE_PATH.search(str(path)):
            raise UnitError(f"the path {path} has a space or one of % $ \\ \" ': move the checkout, e.g. to /opt")
    spool, backups = configured_dir("SPOOL_DIR", SPOOL_DIR, root), configured_dir("BACKUP_DIR", BACKUP_DIR, root)
    common = render("common.conf", user=site.user, root=str(root), protect_home=protect_home(root),
                    spool_dir=str(SPOOL_DIR), backup_dir=str(BACKUP_DIR),
                    env_files="\n".join(f"EnvironmentFile=-{path}" for path in site.env_files))
    shared = dict(root=str(root), python=str(root / ".venv" / "bin" / "python"), database_unit=database.unit,
                  common=common, restart=restart_policy(systemd_version() if version is None else version))
    units = {}
    for suffix, module, description, setting in COLLECTORS:
        if settings.text(setting):
            units[f"{USER}-{suffix}.service"] = render("collector.service", **shared, module=module,
                                                      description=description, write_paths=writable(spool))
    units[f"{USER}-web.service"] = render("web.service", **shared)
    backup_env = f"Environment=BACKUP_DATABASE_URL={database.backup_url}" if database.backup_url else ""
    units[f"{USER}-backup.service"] = render("backup.service", **shared, backup_env=backup_env,
                                             write_paths=writable(backups))
    units[f"{USER}-backup.timer"] = render("backup.timer")
    units[TARGET] = render("brs5-energy.target", root=str(root))
    return units


def collectors(units: dict[str, str] | list[str]) -> list[str]:
    """The collector units among unit names."""
    names = {f"{USER}-{suffix}.service" for suffix, *_ in COLLECTORS}
    return [name for name in units if name in names]
