"""`qa serve` with a login (QA_USERNAME/QA_PASSWORD): nothing is answered before logging in."""

from __future__ import annotations

import http.cookiejar
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import ROOT, WAIT_S, free_port, running

pytestmark = pytest.mark.server

STARTUP_S = 600  # ingests corpus/ with the real embedder first: a minute on a loaded machine
ASK = {"data": ["Which UN resolutions demand withdrawal?"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("auth-store")
    port = free_port()
    env = os.environ | {"QA_USERNAME": "ann", "QA_PASSWORD": "s3cret-pass", "HF_HUB_OFFLINE": "1"}
    log = store / "serve.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--ingest", "corpus"]
    command += ["--store", str(store), "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(
        "qa serve", command, ready_url=url + "/", log=log, timeout_s=STARTUP_S, env=env, cwd=ROOT
    ):
        yield url
    assert "s3cret-pass" not in log.read_text(errors="replace")


def post(
    opener: urllib.request.OpenerDirector, url: str, body: bytes, kind: str
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind})
    try:
        with opener.open(request, timeout=WAIT_S) as response:
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
