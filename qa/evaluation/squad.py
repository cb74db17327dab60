"""SQuAD v1.1 as a retrieval benchmark: its articles as documents, its questions as cases.

Each of the dev set's 48 Wikipedia articles is written as a `.txt` file (its paragraphs
separated by blank lines, no title line, so every reference answer span is verbatim in the
file) and ingested into a temporary store; a fixed-seed sample of its questions is asked
through `answer()`. A retrieval hit is a passage of the question's own article that contains
a reference answer. The naive LangChain pipeline (RecursiveCharacterTextSplitter 1000/200,
HuggingFaceEmbeddings on the same bundled model, Chroma `similarity_search`) can run beside
it in the same process on the same files and questions.

Example:
    >>> run = run_squad(Path("../shared/bench/squad-v1.1/dev-v1.1.json.zip"), limit=100,
    ...                 baseline="naive")
    >>> run.side_by_side()["naive"]["hit@5"]
    0.88
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.config import Settings
from qa.evaluation import metrics
from qa.evaluation.dataset import Case
from qa.evaluation.evaluate import EvalReport, evaluate
from qa.evaluation.hits import source_hits
from qa.types import Progress

log = logging.getLogger(__name__)

BASELINES = ("naive",)
RETRIEVE_K = 10
"""Passages retrieved per question, so MRR@10 sees ten ranks (the naive pipeline's k too)."""


@dataclass(frozen=True)
class SquadArticle:
    """One SQuAD article: its file name, text, and questions as evaluation cases."""

    file_name: str
    text: str
    cases: tuple[Case, ...]
    title: str = ""


@dataclass(frozen=True)
class SquadRun:
    """Our pipeline's full report, and the side-by-side figures with the baseline."""

    report: EvalReport
    qa: dict[str, float]
    naive: dict[str, float] | None = None

    def side_by_side(self) -> dict[str, dict[str, float]]:
        """`{"qa": {...}, "naive": {...}}` (naive only when it ran)."""
        return {"qa": self.qa} | ({"naive": self.naive} if self.naive is not None else {})


def _file_name(number: int, title: str) -> str:
    return f"{number:02d}_{re.sub(r'[^A-Za-z0-9.-]+', '_', title).strip('_')}.txt"


def load_squad(zip_path: Path | str) -> list[SquadArticle]:
    """The articles of a SQuAD v1.1 or v2.0 JSON (zipped or plain), in file order.

    SQuAD 2.0's unanswerable questions (`is_impossible`) become cases with `answerable=False`.
    """
    path = Path(zip_path)
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith(".json")]
                if not names:
                    raise ValueError(f"{path}: no .json file inside the zip")
                data = json.loads(archive.read(names[0]))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable SQuAD file ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: not SQuAD v1.1 JSON (expected a top-level 'data' list)")
    articles: list[SquadArticle] = []
    for number, entry in enumerate(data["data"]):
        file_name = _file_name(number, entry["title"])
        cases = [
            Case(
                id=qa["id"],
                question=qa["question"],
                answers=tuple(dict.fromkeys(a["text"] for a in qa["answers"])),
                answerable=not qa.get("is_impossible", False),
                kind="unanswerable" if qa.get("is_impossible", False) else "squad",
                source=file_name,
            )
            for paragraph in entry["paragraphs"]
            for qa in paragraph["qas"]
        ]
        text = "\n\n".join(p["context"].strip() for p in entry["paragraphs"]) + "\n"
        articles.append(SquadArticle(file_name, text, tuple(cases), entry["title"]))
    return articles


def unread(articles: Sequence[SquadArticle], settings: Settings) -> list[SquadArticle]:
    """The articles the reader was not trained on (their questions are fair to ask)."""
    from qa.answering.reader import reader_record

    trained = reader_record(settings.reader_model).articles
    return [a for a in articles if a.title not in trained]


def sample_cases(articles: Sequence[SquadArticle], limit: int, seed: int = 0) -> list[Case]:
    """`limit` questions drawn without replacement by `random.Random(seed)` (all if fewer)."""
    pool = [case for article in articles for case in article.cases]
    return random.Random(seed).sample(pool, min(limit, len(pool)))


def write_articles(articles: Sequence[SquadArticle], folder: Path) -> list[Path]:
    """Write each article as `<folder>/<file_name>`; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in articles:
        path = folder / article.file_name
        path.write_text(article.text, encoding="utf-8")
        paths.append(path)
    return paths


def run_naive(
    articles: Sequence[SquadArticle],
    cases: Sequence[Case],
    work_dir: Path,
    progress: Progress | None = None,
) -> dict[str, float]:
    """The naive LangChain pipeline on the same articles and questions; its figures.

    The model is loaded before the clock starts, as ours is, so `ingest_s` is splitting,
    embedding and indexing only.
    """
    # Late imports: LangChain, Chroma and torch are only needed when the baseline runs.
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from qa.models.embedders import bundled_model_path
    from qa.offline import offline_env

    offline_env()
    embeddings = HuggingFaceEmbeddings(
        model_name=str(bundled_model_path()), model_kwargs={"device": "cpu"}
    )
    embeddings.embed_query("warm up")
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = splitter.split_documents(
        [Document(page_content=a.text, metadata={"source": a.file_name}) for a in articles]
    )
    if progress:
        progress(0, len(cases), f"naive: embedding {len(documents)} chunks")
    store = Chroma.from_documents(
        documents,
        embeddings,
        collection_name="naive",
        persist_directory=str(work_dir / "naive-chroma"),
        client_settings=ChromaSettings(anonymized_telemetry=False),
    )
    ingest_s = time.perf_counter() - started
    hit1, hit5, rr, times = [], [], [], []
    for done, case in enumerate(cases, start=1):
        started = time.perf_counter()
        found = store.similarity_search(case.question, k=RETRIEVE_K)
        times.append((time.perf_counter() - started) * 1000)
        flags = source_hits(
            case, [d.metadata["source"] for d in found], [d.page_content for d in found]
        )
        hit1.append(metrics.hit_at_k_flags(flags, 1))
        hit5.append(metrics.hit_at_k_flags(flags, 5))
        rr.append(metrics.reciprocal_rank_flags(flags, 10))
        if progress:
            progress(done, len(cases), f"naive: {case.id}")
    return {
        "ingest_s": ingest_s,
        "hit@1": sum(hit1) / len(cases),
        "hit@5": sum(hit5) / len(cases),
        "mrr@10": sum(rr) / len(cases),
        "query_p50_ms": metrics.percentile(times, 50),
        "chunks": float(len(documents)),
        "questions": float(len(cases)),
    }


def run_squad(
    zip_path: Path | str,
    *,
    limit: int = 1000,
    seed: int = 0,
    settings: Settings | None = None,
    baseline: str | None = None,
    max_articles: int | None = None,
    progress: Progress | None = None,
) -> SquadRun:
    """Ingest SQuAD's articles into a temporary store and evaluate a sample of its questions.

    Args:
        zip_path: `dev-v1.1.json.zip` (or the unzipped JSON).
        limit: how many questions to sample.
        seed: the sampling seed (`random.Random(seed)`), fixed so runs compare.
        settings: models and retrieval settings (default `Settings()`: the library reads no
            environment); the store and collection are replaced by a temporary one, and `k`
            raised to 10 so MRR@10 sees ten ranks.
        baseline: `"naive"` to run the naive LangChain pipeline too.
        max_articles: use only the first N articles (and their questions), for quick runs.
        progress: called with (done, total, message) through ingest, questions, baseline.
    """
    if baseline is not None and baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; choose one of {', '.join(BASELINES)}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    # Late: the ingest stack loads torch and Chroma.
    from qa.ingestion.job import ingest
    from qa.models.registry import embedder_for

    articles = load_squad(zip_path)[:max_articles]
    base = settings or Settings()
    # Every article is indexed; questions are asked only about those the reader never read.
    asked = unread(articles, base)
    cases = sample_cases(asked, limit, seed)
    with tempfile.TemporaryDirectory(prefix="qa-squad-") as tmp:
        work = Path(tmp)
        paths = write_articles(articles, work / "articles")
        run_settings = base.replace(
            store_dir=work / "store",
            chroma_url=None,
            collection="squad",
            k=max(base.k, RETRIEVE_K),
            fetch_k=max(base.fetch_k, RETRIEVE_K),
        )
        embedder_for(run_settings)  # load untimed
        started = time.perf_counter()
        ingested = ingest([work / "articles"], run_settings, progress)
        ingest_s = time.perf_counter() - started
        log.info("squad: %s", ingested.summary())
        if ingested.failed or len(ingested.added) != len(paths):
            raise RuntimeError(f"SQuAD ingest incomplete: {ingested.summary()}")
        report = evaluate(
            cases, run_settings, name="squad", dataset=str(zip_path), progress=progress
        )
        extra = {
            "seed": seed,
            "articles": len(articles),
            "skipped_articles": len(articles) - len(asked),
            "questions": len(cases),
            "chunks": ingested.chunks_embedded,
            "ingest_s": round(ingest_s, 2),
        }
        qa_figures = {
            "ingest_s": ingest_s,
            **{k: report.means[k] for k in ("hit@1", "hit@5", "mrr@10")},
            "query_p50_ms": report.means["retrieve_p50_ms"],
            "answer_p50_ms": report.means["latency_p50_ms"],
            **{k: report.means[k] for k in ("em", "f1", "contains")},
            "chunks": float(ingested.chunks_embedded),
            "questions": float(len(cases)),
            "skipped_articles": float(len(articles) - len(asked)),
        }
        naive = run_naive(articles, cases, work, progress) if baseline == "naive" else None
    side = {"qa": qa_figures} | ({"naive": naive} if naive is not None else {})
    report = dataclasses.replace(report, extra={**extra, "side_by_side": side})
    return SquadRun(report, qa_figures, naive)
