"""The systemd units of an installation: systemd-analyze accepts them, they follow the configuration, and each
one's ExecStart, run exactly as the unit says (account, environment files, working directory), makes the
readings of the simulators reach the dashboard. systemd is installed here but is not PID 1, so the tests do what
systemd would do before ExecStart rather than start the units."""

import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stack import postgres, services, units
from stack.settings import ROOT
from tests.procs import free_port, start, stop, wait_for

ACCOUNT = "nobody"  # an unprivileged account every Debian system has
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SETTINGS = ("DATABASE_URL", "DSMR_HOST", "DSMR_PORT", "SUN2000_HOST", "SUN2000_PORT", "FUSIONSOLAR_USER",
            "SPOOL_DIR", "BACKUP_DIR", "BACKUP_DATABASE_URL", "WEB_PORT")


@pytest.fixture
def configure(monkeypatch):
    """Set exactly the given settings (every other one of SETTINGS unset), as install reads them."""
    def apply(**values: str):
        for name in SETTINGS:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return apply


def service_section(text: str) -> dict[str, list[str]]:
    """The [Service] settings of a unit: name -> values in order (a setting may repeat)."""
    entries, section = defaultdict(list), None
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries[key].append(value)
    return entries


def verify(directory: Path) -> subprocess.CompletedProcess:
    """systemd-analyze verify of every unit in directory."""
    return subprocess.run(["systemd-analyze", "verify", *sorted(map(str, directory.iterdir()))],
                          capture_output=True, text=True, check=False)


def write(generated: dict[str, str], directory: Path) -> Path:
    """The units as files."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        (directory / name).write_text(text)
    return directory


@pytest.mark.parametrize("version", [252, 254])
def test_every_unit_passes_systemd_analyze_verify(configure, tmp_path, version):
    configure(DSMR_HOST="192.168.1.50", SUN2000_HOST="192.168.200.1", FUSIONSOLAR_USER="api-user",
              SPOOL_DIR="/srv/spool")
    database = units.Database("postgresql@15-brs5-energy.service", "postgresql://energy_backup@/energy")
    generated = units.generate(database, version=version)
    assert sorted(generated) == ["brs5-energy-backup.service", "brs5-energy-backup.timer",
                                 "brs5-energy-dsmr.service", "brs5-energy-fusionsolar.service",
                                 "brs5-energy-sun2000.service", "brs5-energy-web.service", "brs5-energy.target"]
    result = verify(write(generated, tmp_path))
    installed = int(subprocess.run(["systemctl", "--version"], capture_output=True, text=True).stdout.split()[1])
    if version > installed:  # newer settings are reported as unknown by an older systemd, and only those
        assert result.stderr.count("Unknown key") == 2 * 4, result.stderr  # RestartSteps, RestartMaxDelaySec x4
    else:
        assert result.returncode == 0 and result.stderr == "" and result.stdout == ""


def test_units_follow_the_configuration(configure):
    configure(SUN2000_HOST="192.168.200.1", DATABASE_URL="postgresql://owner:pw@db.lan/energy")
    generated = units.generate(units.Database(), version=252)
    assert "brs5-energy-dsmr.service" not in generated and "brs5-energy-fusionsolar.service" not in generated
    sun2000 = service_section(generated["brs5-energy-sun2000.service"])
    assert sun2000["ExecStart"] == [f"{ROOT}/.venv/bin/python -m ingest.sun2000"]  # never a simulator
    assert sun2000["User"] == ["brs5-energy"] and sun2000["WorkingDirectory"] == [str(ROOT)]
    assert sun2000["EnvironmentFile"] == [f"-{ROOT}/.env", "-/etc/brs5-energy.env"]
    assert sun2000["StateDirectory"] == ["brs5-energy/spool"] and "ReadWritePaths" not in sun2000
    assert "SPOOL_DIR=/var/lib/brs5-energy/spool" in sun2000["Environment"][1]
    assert sun2000["Restart"] == ["on-failure"] and sun2000["RestartSec"] == ["10"]
    assert sun2000["ProtectSystem"] == ["strict"] and sun2000["NoNewPrivileges"] == ["yes"]
    assert "postgresql@" not in generated["brs5-energy-sun2000.service"]  # a server of the user's own
    assert "BACKUP_DATABASE_URL" not in generated["brs5-energy-backup.service"]
    assert service_section(generated["brs5-energy-web.service"])["ExecStart"] == [f"{ROOT}/.venv/bin/python -m web"]


def test_a_checkout_path_systemd_would_mangle_is_refused(configure):
    configure(DSMR_HOST="10.0.0.2")
    with pytest.raises(units.UnitError, match="has a space"):
        units.generate(units.Database(), units.Site(root=Path("/home/pi/my energy")), version=252)


def test_install_without_root_prints_the_commands_and_changes_nothing(configure, tmp_path, monkeypatch, capsys):
    configure(DSMR_HOST="192.168.1.50")
    monkeypatch.setattr(units, "UNIT_DIR", tmp_path / "system")
    monkeypatch.setattr(services, "STAGING", tmp_path / "staging")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(postgres, "CONF_DIR", tmp_path / "etc-postgresql" / "15" / "brs5-energy")  # a fresh machine

    with pytest.raises(services.InstallError, match="not root: nothing was changed by make install"):
        services.main(["install"])

    out = capsys.readouterr().out
    assert "install needs root: run  sudo make install" in out
    assert "useradd --system --user-group" in out and "pg_createcluster --port" in out
    assert f"{ROOT}/.venv/bin/python -m db.migrate" in out
    assert f"{tmp_path}/staging/units/brs5-energy-dsmr.service {tmp_path}/system" in out
    assert not (tmp_path / "system").exists()
    assert (tmp_path / "staging" / "units" / "brs5-energy-dsmr.service").is_file()  # what the commands install


def as_account(account: str, command: list[str]) -> list[str]:
    """The command as systemd runs it for User=account: its uid, gid and groups, no new privileges."""
    return ["setpriv", f"--reuid={account}", f"--regid={pwd.getpwnam(account).pw_gid}", "--init-groups",
            "--no-new-privs", *command]


def environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd reads an EnvironmentFile."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


def exec_environment(section: dict[str, list[str]], account: str) -> dict[str, str]:
    """What systemd puts in the environment of ExecStart: its own variables, Environment=, then each
    EnvironmentFile= (a later one wins; a leading - means it may be missing)."""
    entry = pwd.getpwnam(account)
    env = {"PATH": SYSTEMD_PATH, "USER": account, "LOGNAME": account, "HOME": entry.pw_dir, "SHELL": entry.pw_shell}
    for assignments in section.get("Environment", []):
        env |= dict(item.split("=", 1) for item in shlex.split(assignments))
    for name in section.get("EnvironmentFile", []):
        path = Path(name.removeprefix("-"))
        if path.exists() or not name.startswith("-"):
            env |= environment_file(path)
    return env


def run_unit(text: str, log: Path) -> subprocess.Popen:
    """Start a unit's ExecStart as systemd would, its output going to log."""
    section = service_section(text)
    account = section["User"][0]
    handle = log.open("ab")
    return subprocess.Popen(as_account(account, shlex.split(section["ExecStart"][0])),
                            cwd=section["WorkingDirectory"][0], env=exec_environment(section, account),
                            stdout=handle, stderr=subprocess.STDOUT)


def get_json(url: str) -> dict:
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def fresh(moment: str | None, seconds: float = 30) -> bool:
    """Whether an ISO time is at most seconds old."""
    return moment is not None and (datetime.now(UTC) - datetime.fromisoformat(moment)).total_seconds() < seconds


@pytest.fixture
def state():
    """A state directory the service account can reach (pytest's own temporary tree is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="brs5-state-"))
    path.chmod(0o755)
    for name in ("spool", "backups"):  # StateDirectory=: made by systemd, owned by the unit's account
        (path / name).mkdir()
        os.chown(path / name, pwd.getpwnam(ACCOUNT).pw_uid, pwd.getpwnam(ACCOUNT).pw_gid)
    yield path
    shutil.rmtree(path)


def test_each_unit_runs_as_written_and_the_readings_reach_the_page(configure, db_url, tmp_path, state):
    dsmr_port, sun2000_port, web_port = free_port(), free_port(), free_port()
    config = {"DATABASE_URL": db_url, "DSMR_HOST": "127.0.0.1", "DSMR_PORT": str(dsmr_port),
              "SUN2000_HOST": "127.0.0.1", "SUN2000_PORT": str(sun2000_port), "SUN2000_INTERVAL": "1",
              "SUN2000_CONNECT_DELAY": "0.2", "WEB_PORT": str(web_port), "SPOOL_DIR": str(state / "spool"),
              "BACKUP_DIR": str(state / "backups")}
    env_file = tmp_path / "brs5-energy.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in config.items()))
    configure(**config)
    python = ROOT / ".venv" / "bin" / "python"
    reachable = subprocess.run(as_account(ACCOUNT, [str(python), "-c", "import web"]), cwd=ROOT, check=False)
    assert reachable.returncode == 0, f"{ACCOUNT} cannot run {python}: make install would refuse this checkout too"
    site = units.Site(user=ACCOUNT, env_files=(tmp_path / "missing.env", env_file))
    generated = units.generate(units.Database(), site, version=252)
    assert verify(write(generated, tmp_path / "units")).returncode == 0
    assert service_section(generated["brs5-energy-dsmr.service"])["ReadWritePaths"] == [str(state / "spool")]

    simulators = [start("ingest.simulators.dsmr_bridge", log=tmp_path / "bridge.log", SIMULATOR_PORT=str(dsmr_port)),
                  start("ingest.simulators.sun2000", "--meter", log=tmp_path / "inverter.log",
                        SIMULATOR_PORT=str(sun2000_port))]
    names = ["brs5-energy-dsmr.service", "brs5-energy-sun2000.service", "brs5-energy-web.service"]
    running = [run_unit(generated[name], tmp_path / f"{name}.log") for name in names]
    try:
        page = f"http://127.0.0.1:{web_port}"
        live = wait_for(lambda: (body := try_json(f"{page}/api/live")) and body["now"]
                        and fresh(body["now"]["grid_at"]) and fresh(body["now"]["solar_at"]) and body,
                        timeout=60, what="both sources on the dashboard")
        assert live["now"]["import_w"] is not None and live["now"]["solar_w"] is not None
        health = get_json(f"{page}/healthz")
        assert {s["source"]: s["stale"] for s in health["sources"]} == {"dsmr": False, "sun2000": False}
        assert health["database"] == "ok" and health["status"] == "ok"
        with urllib.request.urlopen(page, timeout=5) as response:
            assert b"chart-4.6.1.umd.min.js" in response.read()
        backup = run_unit(generated["brs5-energy-backup.service"], tmp_path / "backup.log")
        assert backup.wait(timeout=60) == 0, (tmp_path / "backup.log").read_text()
        dumps = list((state / "backups").glob("energy-*.dump"))
        assert len(dumps) == 1 and dumps[0].stat().st_uid == pwd.getpwnam(ACCOUNT).pw_uid
    finally:
        for process in running + simulators:
            stop(process, signal.SIGINT)  # KillSignal=SIGINT
    assert [process.returncode for process in running[:2]] == [0, 0]  # the collectors stop cleanly on SIGINT


def try_json(url: str) -> dict | None:
    """GET a JSON document, None while nothing answers."""
    try:
        return get_json(url)
    except OSError:
        return None

