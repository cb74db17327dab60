"""Shared fixtures: a real index of corpus/ built once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch or llama.cpp loads OpenMP

from qa.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = "000_597cfd3371608b94.txt"


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sources are shown relative to the working directory, as a user running `qa` sees them.
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store holding corpus/ ingested with the real bundled embedder and a real Chroma."""
    from qa.ingest import ingest

    store = tmp_path_factory.mktemp("corpus-store")
    settings = Settings(store_dir=store)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        report = ingest([Path("corpus")], settings)
    finally:
        os.chdir(cwd)
    assert report.failed == [], report.failed
    return settings


@pytest.fixture
def article_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the seed article, for tests that change files."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ROOT / "corpus" / SEED, folder / SEED)
    return folder
