"""A short run of the load test: several clients at once through the UI's HTTP API, no errors.

The full run (20 clients for 60 s) is `python eval/load_test.py`; its figures go to
eval/load_test.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_five_clients_for_ten_seconds_see_no_errors(tmp_path: Path) -> None:
    out_file = tmp_path / "load.json"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "eval" / "load_test.py"),
            "--clients",
            "5",
            "--seconds",
            "10",
            "--out",
            str(out_file),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    figures = json.loads(out_file.read_text())
    assert figures["errors"] == 0, figures["error_kinds"]
    assert figures["error_kinds"] == {}
    assert figures["clients"] == 5
    assert figures["requests"] >= 5  # every client got at least one answer
    assert figures["seconds"] == 10
    assert 10 <= figures["elapsed_s"] < 10 + 120 + 60  # it stopped by itself
    assert f"requests: {figures['requests']}" in out.stdout
