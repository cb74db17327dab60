"""Settings: one rule for fetch_k, the same from Python, the environment and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from qa.config import Settings
from qa.ingestion.job import ingest

REFUSED = r"^fetch_k \(10\) must be at least k \(50\)$"


def test_fetch_k_left_alone_follows_k() -> None:
    assert Settings().fetch_k == 40
    assert Settings(k=50).fetch_k == 50
    assert Settings.from_env({"QA_K": "50"}).fetch_k == 50
    assert Settings.from_env({}, k=50).fetch_k == 50
    assert Settings().replace(k=50).fetch_k == 50
    assert Settings(k=50).replace(k=3).fetch_k == 40
    assert Settings(k=50).replace(store_dir=Path("/tmp/elsewhere")).fetch_k == 50


def test_fetch_k_set_explicitly_is_kept() -> None:
    assert Settings(k=5, fetch_k=12).fetch_k == 12
    assert Settings(k=50, fetch_k=60).fetch_k == 60
    assert Settings(fetch_k=45).replace(k=10).fetch_k == 45
    assert Settings().replace(fetch_k=20).replace(k=10).fetch_k == 20
    assert Settings.from_env({"QA_FETCH_K": "25"}).fetch_k == 25


def test_fetch_k_set_below_k_is_refused() -> None:
    with pytest.raises(ValueError, match=REFUSED):
        Settings(k=50, fetch_k=10)
    with pytest.raises(ValueError, match=REFUSED):
        Settings(fetch_k=10).replace(k=50)
    with pytest.raises(ValueError, match=REFUSED):
        Settings.from_env({"QA_FETCH_K": "10"}, k=50)


def bridges(folder: Path, n: int) -> Path:
    """`n` one-passage articles that all match the same question."""
    folder.mkdir()
    for i in range(n):
        (folder / f"bridge{i:02}.txt").write_text(
            f"date 2024-03-{i % 28 + 1:02} By Test Post\n\n"
            f"Bridge number {i} over the river was painted green by crew {i * 7}.\n",
            encoding="utf-8",
        )
    return folder


def test_qa_ask_with_k_above_the_default_fetch_k_answers(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", embedder="fake:hash")
    report = ingest([bridges(tmp_path / "articles", 60)], settings)
    assert (len(report.added), report.failed) == (60, [])
    command = [sys.executable, "-m", "qa.cli", "ask", "--json", "-k", "50"]
    command += ["--store", str(settings.store_dir), "--embedder", "fake:hash"]
    command += ["Which bridge was painted green?"]
    env = {k: v for k, v in os.environ.items() if k not in ("QA_K", "QA_FETCH_K")}

    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["passages"]) == 50

    refused = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env | {"QA_FETCH_K": "10"}
    )
    assert refused.returncode == 2
    assert "Error: fetch_k (10) must be at least k (50)" in refused.stderr
