"""How every program of the project ends: an expected error is one line on stderr and exit code 2, never a traceback.

Every entry point (collectors, importers, simulators, dashboard, make migrate, make run, the local cluster, make
status, backup, restore, install and upgrade, the system packages) runs its main() through run(), which also makes
SIGTERM stop the program the way Ctrl-C does.
"""

import argparse
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

import psycopg

EXIT_EXPECTED = 2  # as argparse exits on a bad option


class ExpectedError(Exception):
    """A problem the user can fix (a setting, an unreachable database, a busy port); the message says which."""


# Errors that come from the environment rather than from the code: what the database says (unreachable, a missing
# privilege or extension), a port in use, a file that cannot be written.
EXPECTED = (ExpectedError, psycopg.Error, OSError)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (an ExpectedError), not usage and exit."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing usage: run() prints one line."""
        raise ExpectedError(f"{message} (see --help)")


def no_arguments(prog: str, description: str) -> None:
    """The command line of a program that takes none: --help says what it does, anything else is refused."""
    Parser(prog=prog, description=description).parse_args()


def one_line(error: BaseException) -> str:
    """The first line of an error's message (psycopg adds hints on the lines after it)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def stop_like_ctrl_c(_signum, _frame) -> None:
    """SIGTERM takes the path of Ctrl-C, so that asyncio programs cancel their tasks and clean up."""
    signal.raise_signal(signal.SIGINT)


def run(main: Callable[[], int | None]) -> NoReturn:
    """Run an entry point and exit with its code: 0 when stopped, 2 with one line for an expected error."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    try:
        code = main()
    except KeyboardInterrupt:
        code = 0
    except EXPECTED as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        code = EXIT_EXPECTED
    sys.exit(code or 0)
