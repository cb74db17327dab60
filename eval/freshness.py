"""How soon every front end answers from what an ingest job changed on a shared Chroma server.

Starts a real `chroma run` on a free loopback port and N front-end processes, each with an index
folder of its own (`qa.index.store.open_index` against the server: its cache built, then polled
every `QA_SYNC_S`, 2 s by default). An ingest job (`qa ingest --chroma-url`, its own folder) adds an
article with a rare name; each front end reports when its keyword search (what a question reads)
first finds it. Then the job deletes the article and each reports when it stops finding it.
Prints the delays from the end of each ingest process and writes them as JSON.

    python eval/freshness.py                      # 4 front ends, 5 rounds
    python eval/freshness.py --front-ends 8 --rounds 10 --out /tmp/fresh.json

Everything stays on 127.0.0.1 with the fake embedder (freshness does not depend on the model).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RARE = "Quilvenbrock"
ARTICLE = f" date 2024-02-11 By Harbour Ledger\n\nOdalric {RARE} asked for emergency funds.\n"
FRONT_END = """
import sys, time
from pathlib import Path
from qa.config import Settings
from qa.index.store import open_index
url, folder, rounds = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
index = open_index(Settings(store_dir=folder, chroma_url=url, embedder="fake:hash",
                            sync_s=float(sys.argv[4])))
print("ready", flush=True)
for _ in range(rounds):
    for present in (True, False):
        while bool(index.keyword_search(sys.argv[5], 5)) != present:
            time.sleep(0.02)
        print("seen" if present else "gone", time.time(), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--front-ends", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sync-s", type=float, default=2.0, help="QA_SYNC_S of the front ends")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "freshness.json")
    args = parser.parse_args()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    with tempfile.TemporaryDirectory(prefix="qa-fresh-") as tmp:
        work = Path(tmp)
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                chroma,
                "run",
                "--path",
                str(work / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        front_ends: list[subprocess.Popen[str]] = []
        try:
            _wait_for(f"{url}/api/v2/heartbeat")
            arts = work / "arts"
            arts.mkdir()
            (arts / "first.txt").write_text("The council met on Tuesday.\n", encoding="utf-8")
            job = [
                sys.executable,
                "-m",
                "qa.cli",
                "ingest",
                "--embedder",
                "fake:hash",
                "--chroma-url",
                url,
                "--store",
                str(work / "job"),
                str(arts),
            ]
            subprocess.run(job, check=True, capture_output=True, env=env)
            for n in range(args.front_ends):
                front_ends.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-c",
                            FRONT_END,
                            url,
                            str(work / f"front-{n}"),
                            str(args.rounds),
                            str(args.sync_s),
                            RARE,
                        ],
                        stdout=subprocess.PIPE,
                        text=True,
                        env=env,
                    )
                )
            for p in front_ends:
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            delays: dict[str, list[float]] = {"add": [], "delete": []}
            for _ in range(args.rounds):
                for kind in ("add", "delete"):
                    if kind == "add":
                        (arts / "rare.txt").write_text(ARTICLE, encoding="utf-8")
                    else:
                        (arts / "rare.txt").unlink()
                    subprocess.run(job, check=True, capture_output=True, env=env)
                    ended = time.time()
                    for p in front_ends:
                        assert p.stdout is not None
                        _, at = p.stdout.readline().split()
                        delays[kind].append(max(0.0, float(at) - ended))
        finally:
            for p in [*front_ends, server]:
                p.kill()
                p.wait()
    every = delays["add"] + delays["delete"]
    figures: dict[str, Any] = {
        "front_ends": args.front_ends,
        "rounds": args.rounds,
        "sync_s": args.sync_s,
        "max_s": round(max(every), 2),
        "mean_s": round(sum(every) / len(every), 2),
        "add_max_s": round(max(delays["add"]), 2),
        "delete_max_s": round(max(delays["delete"]), 2),
    }
    for key, value in figures.items():
        print(f"{key:>14}: {value}")
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    sys.exit(0 if figures["max_s"] <= 10 else 1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"chroma run did not answer on {url}") from None
            time.sleep(0.2)


if __name__ == "__main__":
    main()
