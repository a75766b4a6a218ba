"""The code is linted and `ruff format`ted (110 columns), so `make test` and CI catch drift, not only `make lint`."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["saewidgets", "tests", "bench"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    out = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *TARGETS], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, (
        f"ruff {' '.join(command)} failed (run `make lint`; `ruff format` fixes format):\n"
        + out.stdout
        + out.stderr
    )
