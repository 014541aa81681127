"""`make help` is the list of what the Makefile offers: every phony target, each with what it does."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.unit


def test_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (phony,) = re.findall(r"^\.PHONY: (.+)$", makefile, flags=re.MULTILINE)
    make = shutil.which("make")
    assert make, "make is a prerequisite of the project"
    listed = subprocess.run([make, "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    described = dict(re.findall(r"^  make (\S+)\s+(.+)$", listed, flags=re.MULTILINE))
    assert set(phony.split()) == set(described)
    assert {"format", "destroy"} <= set(described)
