"""Installs the Debian packages the project needs when missing, or prints the exact command to run."""

import os
import shutil
import subprocess

from stack import cli

PG_MAJOR = 15
RUN_PACKAGES = [f"postgresql-{PG_MAJOR}", f"postgresql-{PG_MAJOR}-cron"]
TEST_PACKAGES = [*RUN_PACKAGES, f"postgresql-{PG_MAJOR}-plpgsql-check", "chromium"]


def missing(packages: list[str]) -> list[str]:
    """The packages of the list that dpkg does not report as installed."""
    absent = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in result.stdout:
            absent.append(package)
    return absent


def ensure(packages: list[str]) -> None:
    """Install the missing packages with apt-get when allowed, otherwise an error naming the command to run."""
    if not shutil.which("dpkg-query"):
        print(f"not a Debian system: make sure these are installed: {' '.join(packages)}")
        return
    absent = missing(packages)
    if not absent:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *absent]
    if os.geteuid() != 0:
        raise cli.ExpectedError(f"missing system packages: run  sudo apt-get update && sudo {' '.join(command)}")
    print(f"installing {' '.join(absent)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], command):
        if subprocess.run(step, env=env, check=False).returncode:
            raise cli.ExpectedError(f"{' '.join(step)} failed (its output is above)")


if __name__ == "__main__":
    def main() -> None:
        """Install what is missing of the Debian packages to run (or to test) the project."""
        parser = cli.Parser(prog="python -m stack.system", description=main.__doc__)
        parser.add_argument("purpose", nargs="?", choices=("run", "test"), default="run")
        ensure(TEST_PACKAGES if parser.parse_args().purpose == "test" else RUN_PACKAGES)
    cli.run(main)
