"""The README's Layout table names exactly the top-level folders of the checkout, each in one sentence."""

import re
import subprocess

import pytest

from stack.settings import ROOT


def layout_table() -> dict[str, str]:
    """Folder -> what the README's Layout section says of it."""
    section = (ROOT / "README.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)/` \| (.+) \|$", section, flags=re.MULTILINE))


def tracked_folders() -> set[str]:
    """The top-level folders that hold a file git tracks."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {path.split("/", 1)[0] for path in files.split("\0") if "/" in path}


def test_the_layout_table_names_every_tracked_folder_and_no_other():
    assert set(layout_table()) == tracked_folders()


def test_each_folder_is_said_in_one_sentence():
    for folder, what in layout_table().items():
        assert what.endswith(".") and not re.search(r"\.\s+[A-Z`]", what.rstrip(".")), folder
