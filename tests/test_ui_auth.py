"""`qa serve` with a login (QA_USERNAME/QA_PASSWORD): nothing is answered before logging in."""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.server

STARTUP_S = 180
ASK = {"data": ["Which UN resolutions demand withdrawal?"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("auth-store")
    port = free_port()
    env = os.environ | {"QA_USERNAME": "ann", "QA_PASSWORD": "s3cret-pass", "HF_HUB_OFFLINE": "1"}
    log = store / "serve.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--ingest", "corpus"]
    command += ["--store", str(store), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"qa serve did not start in {STARTUP_S}s:\n{log.read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "s3cret-pass" not in Path(log).read_text(errors="replace")


def post(
    opener: urllib.request.OpenerDirector, url: str, body: bytes, kind: str
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def login(opener: urllib.request.OpenerDirector, url: str, password: str) -> tuple[int, str]:
    form = urllib.parse.urlencode({"username": "ann", "password": password}).encode()
    return post(opener, url + "/login", form, "application/x-www-form-urlencoded")


def ask(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, str]:
    return post(opener, url + "/gradio_api/call/ask", json.dumps(ASK).encode(), "application/json")


def test_questions_need_a_login(server: str) -> None:
    stranger = urllib.request.build_opener()
    status, body = ask(stranger, server)
    assert status == 401
    assert json.loads(body)["detail"]["error"] == "Not authenticated"


def test_a_wrong_password_is_refused_and_the_right_one_lets_questions_in(server: str) -> None:
    jar = http.cookiejar.CookieJar()
    user = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    assert login(user, server, "wrong")[0] == 400
    assert ask(user, server)[0] == 401
    assert login(user, server, "s3cret-pass") == (200, '{"success":true}')
    status, body = ask(user, server)
    assert status == 200
    assert json.loads(body)["event_id"]
