"""`qa bench`'s measurements taken in a fresh process: answering latency, hit@5 and peak memory
over a built index, a new front end's cache built from a server, and the cold start of `qa ask`.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.evaluation import metrics
from qa.evaluation.dataset import Case
from qa.offline import variables


def query_figures(settings: Settings, cases: Sequence[Case]) -> dict[str, Any]:
    """Latency, hit@5 and peak memory of answering `cases`; run it in a fresh process."""
    from qa.answering.pipeline import answer
    from qa.index.retrieval import retrieve
    from qa.index.store import open_index
    from qa.models.registry import embedder_for

    settings = settings.replace(k=max(settings.k, 5), fetch_k=max(settings.fetch_k, 5))
    index = open_index(settings)
    embedder = embedder_for(settings)
    answer(cases[0].question, settings=settings)  # warm: first-query costs are cold_start_ms
    retrieve_ms, hits = [], []
    for case in cases:
        started = time.perf_counter()
        found = retrieve(case.question, index, embedder, settings)
        retrieve_ms.append((time.perf_counter() - started) * 1000)
        flags = metrics.relevant_flags([p.chunk.text for p in found.passages], case.evidence)
        hits.append(metrics.hit_at_k_flags(flags, 5))
    answer_ms, right = [], []
    for case in cases:
        started = time.perf_counter()
        reply = answer(case.question, settings=settings)
        answer_ms.append((time.perf_counter() - started) * 1000)
        text = re.sub(r"\s*\[\d+\]", "", reply.text) if reply.answered else ""
        right.append(metrics.answer_contains(text, case.answers))
    return {
        "questions": len(cases),
        "retrieve_p50_ms": round(metrics.percentile(retrieve_ms, 50), 1),
        "retrieve_p95_ms": round(metrics.percentile(retrieve_ms, 95), 1),
        "answer_p50_ms": round(metrics.percentile(answer_ms, 50), 1),
        "answer_p95_ms": round(metrics.percentile(answer_ms, 95), 1),
        "hit@5": round(sum(hits) / len(hits), 3),
        "answer_contains": round(sum(right) / len(right), 3),
        "peak_rss_mb": round(max_rss_mb(), 1),
    }


def cache_figures(settings: Settings, cases: Sequence[Case]) -> dict[str, Any]:
    """A new front end: its cache built from the server, then `cases` answered; run it in a
    fresh process (the peak RSS is the whole process's)."""
    from qa.index.store import close_indexes, open_index

    with tempfile.TemporaryDirectory(prefix="qa-front-end-") as tmp:
        fresh = settings.replace(store_dir=Path(tmp))
        models = settings.store_dir / "models"
        if models.exists():  # an exported model is not exported again
            (Path(tmp) / "models").symlink_to(models)
        started = time.perf_counter()
        index = open_index(fresh)
        build_s = time.perf_counter() - started
        passages, build_rss = index.count(), max_rss_mb()
        timed = query_figures(fresh, cases)
        close_indexes()
    return {
        "cache_build_s": round(build_s, 1),
        "cache_passages": passages,
        "cache_build_rss_mb": round(build_rss, 1),
        "cache_peak_rss_mb": timed["peak_rss_mb"],
        "cache_hit@5": timed["hit@5"],
        "cache_answer_contains": timed["answer_contains"],
        "cache_answer_p50_ms": timed["answer_p50_ms"],
    }


def cold_start(settings: Settings, questions: Sequence[str]) -> float:
    """Median milliseconds from spawning `qa ask` to the first byte of its answer."""
    args = [
        "--store",
        str(settings.store_dir),
        "--collection",
        settings.collection,
        "--embedder",
        settings.embedder,
    ]
    if settings.chroma_url:
        args += ["--chroma-url", settings.chroma_url]
    env = os.environ | variables(["HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY"])
    times = []
    for question in questions:
        started = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "ask", question, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as process:
            assert process.stdout is not None
            first = process.stdout.read(1)
            times.append((time.perf_counter() - started) * 1000)
            _, err = process.communicate(timeout=120)
        if process.returncode != 0 or not first:
            raise RuntimeError(f"`qa ask` failed ({process.returncode}): {err.decode()[-500:]}")
    return round(statistics.median(times), 1)


def max_rss_mb() -> float:
    """This process's peak resident memory so far (ru_maxrss, in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
