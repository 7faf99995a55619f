"""The one configuration layer: .env read as python-dotenv reads it, the same checks and messages from every source,
one line and exit code 2 from every entry point, each role's URL decided in one place, tests free of .env."""

import os
import shutil
import subprocess
import sys

import pytest

from stack import settings
from tests.procs import checkout_copy

ENTRY_POINTS = ["ingest.dsmr", "ingest.sun2000", "ingest.fusionsolar", "ingest.simulators.dsmr_bridge",
                "ingest.simulators.sun2000", "web", "db.migrate", "db.cluster", "stack.run"]
# The programs that take a command or files, with one that reaches the configuration.
WITH_ARGUMENTS = [("ingest.fluvius", ["export.csv"]), ("ingest.prices", ["prices.csv"]), ("stack.backup", ["dump"]),
                  ("stack.status", []), ("stack.services", ["upgrade"])]
COLLECTORS = ["ingest.dsmr", "ingest.sun2000", "ingest.simulators.dsmr_bridge", "ingest.simulators.sun2000"]
# Enough for every collector to get past its own required options.
DEVICES = {"DSMR_HOST": "127.0.0.1", "SUN2000_HOST": "127.0.0.1", "FUSIONSOLAR_URL": "https://fusionsolar.invalid",
           "FUSIONSOLAR_USER": "me", "FUSIONSOLAR_SYSTEM_CODE": "secret"}


def run(module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run python -m module with only the given settings (and no .env)."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=settings.ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env={"PATH": os.environ["PATH"], "ENV_FILE": os.devnull, **env})


def unset_afterwards(monkeypatch, *names: str) -> None:
    """Make sure the names are unset now and after the test, whatever the test loads into the environment."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_dotenv_lines_read_as_in_a_shell(tmp_path, monkeypatch):
    unset_afterwards(monkeypatch, "DSMR_HOST", "SUN2000_PORT", "WEB_PASSWORD", "LOG_LEVEL", "SPOOL_DIR")
    monkeypatch.setenv("SPOOL_DIR", "/srv/spool")
    dotenv = tmp_path / "settings.env"
    dotenv.write_text("# the meter\n"
                      "export DSMR_HOST=192.0.2.7\n"
                      "SUN2000_PORT=6607   # the inverter's own access point\n"
                      "WEB_PASSWORD='pass # word'\n"
                      "SPOOL_DIR=/tmp/elsewhere\n")
    monkeypatch.setenv("ENV_FILE", str(dotenv))
    settings.load_dotenv()
    assert [os.environ.get(name) for name in ("DSMR_HOST", "SUN2000_PORT", "WEB_PASSWORD", "SPOOL_DIR")] == [
        "192.0.2.7", "6607", "pass # word", "/srv/spool"]  # the environment wins over the file


def test_a_line_that_is_not_a_setting_is_named_with_its_line_number(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DSMR_HOST=192.0.2.7\nthis is not a setting\n")
    monkeypatch.setenv("ENV_FILE", str(dotenv))
    with pytest.raises(settings.ConfigError) as raised:
        settings.load_dotenv()
    assert str(raised.value) == f"{dotenv}:2: expected KEY=VALUE, got 'this is not a setting'"


@pytest.mark.parametrize(("module", "args"), [(module, []) for module in ENTRY_POINTS] + WITH_ARGUMENTS)
def test_every_entry_point_reports_a_bad_settings_file_in_one_line(module, args, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("LOG_LEVEL=INFO\nthis is not a setting\n")
    result = run(module, *args, ENV_FILE=str(dotenv))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {dotenv}:2: expected KEY=VALUE, got 'this is not a setting'\n"


@pytest.mark.parametrize("module", [*ENTRY_POINTS, *(module for module, _ in WITH_ARGUMENTS), "stack.system"])
def test_every_program_answers_help_and_refuses_an_unknown_option_in_one_line(module):
    helped = run(module, "--help")
    assert (helped.returncode, helped.stderr) == (0, "")
    assert helped.stdout.startswith("usage: ")
    refused = run(module, "--no-such-option", **DEVICES)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("error: ") and refused.stderr.endswith(" (see --help)\n")
    assert refused.stderr.count("\n") == 1


def test_a_dashboard_host_that_does_not_resolve_is_one_line():
    result = run("web", WEB_HOST="no-such-host.invalid")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: WEB_HOST 'no-such-host.invalid': no address to listen on")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(("module", "args"), [
    ("ingest.dsmr", []), ("ingest.sun2000", []), ("ingest.fusionsolar", []), ("web", []), ("db.migrate", []),
    ("stack.run", []), ("db.cluster", ["psql"]), ("ingest.fluvius", ["export.csv"]), ("stack.backup", ["dump"]),
    ("stack.backup", ["restore", "energy.dump"]), ("stack.status", []), ("stack.services", ["upgrade"])])
def test_every_program_refuses_a_database_url_that_is_not_one_in_one_line(module, args):
    result = run(module, *args, DATABASE_URL="localhost:5432/energy", **DEVICES)
    assert result.returncode == 2
    assert result.stderr == ("error: DATABASE_URL must be a URL like postgresql://user@host:5432/energy, "
                             "got 'localhost:5432/energy'\n")


@pytest.mark.parametrize(("module", "option", "env", "value", "reason"), [
    ("ingest.sun2000", "--unit-id", "SUN2000_UNIT_ID", "300", "must be from 0 to 247"),
    ("ingest.sun2000", "--interval", "SUN2000_INTERVAL", "0", "must be above 0"),
    ("ingest.dsmr", "--port", "DSMR_PORT", "70000", "must be from 1 to 65535"),
    ("ingest.dsmr", "--silence-timeout", "DSMR_SILENCE_TIMEOUT", "soon", "must be a number"),
    ("ingest.dsmr", "--database-url", "INGEST_DATABASE_URL", "energy",
     "must be a URL like postgresql://user@host:5432/energy"),
    *[("ingest.fusionsolar", "--time-zone", "FUSIONSOLAR_TIME_ZONE", zone, "must be a time zone like Europe/Brussels")
      for zone in ("Mars/Olympus", "Europe")],  # Europe: a folder of the zone database, not a zone
    *[(module, "--log-level", "LOG_LEVEL", "loud", "must be one of DEBUG, INFO, WARNING, ERROR")
      for module in COLLECTORS],
])
def test_the_environment_and_the_command_line_get_the_same_check_and_message(module, option, env, value, reason):
    from_env = run(module, **DEVICES, **{env: value})
    from_command_line = run(module, option, value, **DEVICES)
    expected = f"error: {option} ({env}) {reason}, got {value!r}\n"
    assert (from_env.returncode, from_env.stderr) == (2, expected)
    assert (from_command_line.returncode, from_command_line.stderr) == (2, expected)


def test_a_log_level_in_any_case_is_understood(monkeypatch):
    from ingest import options

    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert options.Parser("test").parse_args([]).log_level == "DEBUG"
    assert options.Parser("test").parse_args(["--log-level", "Warning"]).log_level == "WARNING"


def test_a_default_written_as_text_is_read_as_the_same_text_given_by_hand(monkeypatch):
    from zoneinfo import ZoneInfo

    from ingest import fusionsolar, options

    unset_afterwards(monkeypatch, "FUSIONSOLAR_TIME_ZONE", "LOG_LEVEL")
    parser = options.Parser("test")
    parser.add_argument("--time-zone", action=options.EnvDefault, env="FUSIONSOLAR_TIME_ZONE",
                        default="Europe/Brussels", type=fusionsolar.zone)
    args = parser.parse_args([])
    assert args.time_zone == ZoneInfo("Europe/Brussels") and args.log_level == "INFO"


def test_help_names_the_environment_variable_of_every_option():
    help_text = " ".join(run("ingest.sun2000", "--help").stdout.split())
    for option, env in (("--host", "SUN2000_HOST"), ("--port", "SUN2000_PORT"), ("--unit-id", "SUN2000_UNIT_ID"),
                        ("--interval", "SUN2000_INTERVAL"), ("--timeout", "SUN2000_TIMEOUT"),
                        ("--connect-delay", "SUN2000_CONNECT_DELAY"), ("--pause", "SUN2000_PAUSE"),
                        ("--database-url", "INGEST_DATABASE_URL"), ("--spool-dir", "SPOOL_DIR"),
                        ("--log-level", "LOG_LEVEL")):
        assert option in help_text and f"[env {env}" in help_text


def test_each_role_url_comes_from_its_setting_then_database_url_then_the_local_cluster(monkeypatch, tmp_path):
    unset_afterwards(monkeypatch, "DATABASE_URL", "INGEST_DATABASE_URL", "WEB_DATABASE_URL")
    monkeypatch.setenv("LOCAL_DB_DIR", str(tmp_path / "pg"))
    monkeypatch.setenv("LOCAL_DB_PORT", "54444")
    socket_dir = str(tmp_path / "pg").replace("/", "%2F")
    assert settings.database_url("energy_web") == f"postgresql://energy_web@{socket_dir}:54444/energy"
    assert settings.database_url() == f"postgresql://postgres@{socket_dir}:54444/energy"

    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:secret@db.lan:5432/energy")
    assert settings.database_url() == "postgresql://owner:secret@db.lan:5432/energy"
    assert settings.database_url("energy_ingest") == "postgresql://energy_ingest@db.lan:5432/energy"

    monkeypatch.setenv("WEB_DATABASE_URL", "postgresql://energy_web:pw@web.lan/energy")
    assert settings.database_url("energy_web") == "postgresql://energy_web:pw@web.lan/energy"
    assert settings.database_url("energy_ingest") == "postgresql://energy_ingest@db.lan:5432/energy"


def test_the_web_tests_pass_with_a_dotenv_that_sets_a_password_in_the_checkout():
    copy = checkout_copy()
    try:
        (copy / ".env").write_text("WEB_PASSWORD=the-developers-own\nLOG_LEVEL=DEBUG\n")
        env = {name: value for name, value in os.environ.items() if name != "ENV_FILE"}
        read = subprocess.run([sys.executable, "-c", "import os; from stack import settings; "
                               "settings.load_dotenv(); print(os.environ['WEB_PASSWORD'])"],
                              cwd=copy, env=env, capture_output=True, text=True, timeout=60, check=True)
        assert read.stdout == "the-developers-own\n"  # the copy's programs do read that .env
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "tests/test_web.py", "tests/test_browser.py"],
                                cwd=copy, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stdout[-3000:]
        assert " passed" in result.stdout.splitlines()[-1] and "skipped" not in result.stdout.splitlines()[-1]
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


@pytest.mark.parametrize(("module", "args"), [("stack.status", []), ("stack.backup", ["dump"])])
def test_a_bad_setting_of_the_local_cluster_is_one_line_too(module, args):
    result = run(module, *args, LOCAL_DB_PORT="abc")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: LOCAL_DB_PORT must be an integer, got 'abc'\n"
