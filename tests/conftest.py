"""Shared fixtures: a real index of corpus/ built once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch or llama.cpp loads OpenMP

from qa.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = "000_597cfd3371608b94.txt"
WAIT_S = 300.0
"""How long a test waits for a state that comes within seconds on a quiet machine: enough for a
slow one squeezed onto one core beside a busy job (issue 19); a passing run never waits it out."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--readme-screenshot",
        metavar="PATH",
        help="also save the browser test's picture of an answer here (scripts/screenshot)",
    )
    parser.addoption(
        "--sources-screenshot",
        metavar="PATH",
        help="also save the browser test's picture of a disagreement here (scripts/screenshot)",
    )


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sources are shown relative to the working directory, as a user running `qa` sees them.
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store holding corpus/ ingested with the real bundled embedder and a real Chroma."""
    from qa.ingestion.job import ingest

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


def wait_until(
    condition: Callable[[], object], what: str, timeout_s: float = WAIT_S, every_s: float = 0.05
) -> float:
    """Poll `condition()` until it is true; the seconds that took.

    Fails the test, saying `what` did not happen, once `timeout_s` have passed without it.
    """
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"{what}: not within {timeout_s:g} s")
        time.sleep(every_s)
    return time.monotonic() - started


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    ready_url: str,
    log: Path,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the server `name` until the block ends; ready once `ready_url` answers 200.

    Fails the test, with the server's log, if it exits or is not ready within `timeout_s`.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=None if env is None else dict(env),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                # A loaded machine may take seconds to answer: a short timeout would never see
                # a slow server ready.
                with urllib.request.urlopen(ready_url, timeout=30) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer on {ready_url} in {timeout_s:g}s:\n"
                            f"{log.read_text()}")  # fmt: skip
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chroma_binary() -> str:
    """The `chroma` command of this environment."""
    found = Path(sys.executable).parent / "chroma"
    if found.exists():
        return str(found)
    on_path = shutil.which("chroma")
    if on_path is None:
        pytest.fail("the `chroma` command is missing: pip install chromadb")
    return on_path


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """A real `chroma run` on a free port of 127.0.0.1 keeping its data in `folder`; its URL."""
    port = free_port()
    command = [chroma_binary(), "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running(
        "chroma run", command, ready_url=f"{url}/api/v2/heartbeat", log=folder / "server.log",
        timeout_s=WAIT_S,
    ):  # fmt: skip
        yield url
