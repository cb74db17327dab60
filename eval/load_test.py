"""A bounded load test of the chat UI: N clients asking questions at once through Gradio's API.

Starts `qa serve` on a free loopback port over a freshly ingested corpus, waits for it, asks one
warm-up question (the model loads then), and runs `--clients` threads for `--seconds`, each with
its own Gradio session holding a conversation (a follow-up included) through the `/ask` endpoint
the chat uses. A request is an error when the call fails, times out, the chat shows an error
message, or the answer lacks what the question's answer must contain. Prints the figures, writes
them as JSON, stops the server, and exits 1 if there was any error.

    python eval/load_test.py                       # 20 clients for 60 s over corpus/
    python eval/load_test.py --clients 5 --seconds 10 --out /tmp/load.json

Everything stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UN = "Which UN resolutions demand withdrawal?"
CONVERSATIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    ((UN, "822, 853, 874 and 884"),),
    (
        ("Which group mediates the conflict?", "Minsk Group"),
        ("and who co-chairs it?", "United States, Russia and France"),
    ),
    (("What was the voter turnout in those elections?", "The corpus does not say"),),
)
"""(question, text the answer must contain) turns; each conversation is one browser session."""
REQUEST_TIMEOUT_S = 120.0


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.errors[error] += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: Path, port: int, corpus: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    cmd = [
        sys.executable,
        "-m",
        "qa.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        str(store),
        "--ingest",
        str(corpus),
    ]
    with log.open("wb") as out:
        # A session of its own, so stopping it stops whatever it started.
        return subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> float:
    import httpx

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"qa serve exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"qa serve did not answer on {url} within {timeout:.0f} s")


def ask(client: Any, question: str, expected: str) -> str | None:
    """One question through the chat's `/ask` endpoint; the error, or None if it went right."""
    job = client.submit(question, 5, "extractive", [], "", "", api_name="/ask")
    _, chat, _ = job.result(timeout=REQUEST_TIMEOUT_S)
    reply = chat[-1]
    content = reply["content"]
    text = (
        " ".join(part.get("text", "") for part in content)
        if isinstance(content, list)
        else (str(content))
    )
    if reply["role"] != "assistant":
        return "no reply in the chat"
    if "qa-error" in text:
        return "the chat shows an error"
    if expected not in text:
        return f"wrong answer to {question!r}"
    return None


def client_loop(number: int, url: str, deadline: float, tally: Tally) -> None:
    """One user: conversations one after another, each in a fresh session, until the deadline."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": REQUEST_TIMEOUT_S})
    except Exception as e:
        tally.record(0.0, f"connect: {type(e).__name__}")
        return
    turn = number  # clients start at different conversations
    while time.monotonic() < deadline:
        for question, expected in CONVERSATIONS[turn % len(CONVERSATIONS)]:
            if time.monotonic() >= deadline:
                break
            started = time.monotonic()
            try:
                error = ask(client, question, expected)
            except Exception as e:  # a failed or timed-out call is a figure, not a crash
                error = f"{type(e).__name__}: {str(e)[:80]}"
            tally.record(time.monotonic() - started, error)
        client.reset_session()
        turn += 1
    client.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        store = args.store or Path(tmp) / "store"
        log = Path(tmp) / "serve.log"
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        proc = start_server(store, port, args.corpus, log)
        try:
            startup = wait_until_up(url, proc, log, args.startup_timeout)
            warm = Client(url, verbose=False, httpx_kwargs={"timeout": REQUEST_TIMEOUT_S})
            started = time.monotonic()
            error = ask(warm, *CONVERSATIONS[0][0])
            warmup = time.monotonic() - started
            warm.close()
            if error:
                raise SystemExit(f"the warm-up question failed: {error}")

            tally = Tally()
            began = time.monotonic()
            deadline = began + args.seconds
            threads = [
                threading.Thread(target=client_loop, args=(n, url, deadline, tally), daemon=True)
                for n in range(args.clients)
            ]
            for t in threads:
                t.start()
            for (
                t
            ) in threads:  # each request is bounded, so each thread ends soon after the deadline
                t.join(timeout=args.seconds + REQUEST_TIMEOUT_S + 60)
            elapsed = time.monotonic() - began
            hung = sum(t.is_alive() for t in threads)
        finally:
            stop_server(proc)
            if args.server_log:
                args.server_log.write_bytes(log.read_bytes())
    latencies = sorted(tally.latencies)
    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 1),
        "requests": len(latencies),
        "errors": sum(tally.errors.values()) + hung,
        "error_kinds": dict(tally.errors) | ({"client still running": hung} if hung else {}),
        "p50_s": round(percentile(latencies, 50), 3),
        "p95_s": round(percentile(latencies, 95), 3),
        "max_s": round(latencies[-1], 3) if latencies else None,
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "server_startup_s": round(startup, 1),
        "warmup_s": round(warmup, 1),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=ROOT / "corpus",
        help="Folder ingested before serving [corpus/].",
    )
    parser.add_argument("--store", type=Path, help="Index folder [a temporary one].")
    parser.add_argument("--server-log", type=Path, help="Keep qa serve's output here.")
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "eval" / "load_test.json",
        help="Where the figures are written [eval/load_test.json].",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be at least 1 and --seconds positive")

    figures = run(args)
    for key in (
        "clients",
        "seconds",
        "elapsed_s",
        "requests",
        "errors",
        "p50_s",
        "p95_s",
        "max_s",
        "requests_per_s",
        "server_startup_s",
        "warmup_s",
    ):
        print(f"{key:>17}: {figures[key]}")
    if figures["error_kinds"]:
        print(f"{'error kinds':>17}: {figures['error_kinds']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    sys.exit(1 if figures["errors"] else 0)


if __name__ == "__main__":
    main()
