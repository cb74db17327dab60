"""A deterministic generator of news-like articles with planted facts, for benchmarks at scale.

Article `i` of seed `s` is a pure function of `(s, i)`: sentences composed from templates and
small vocabularies by `random.Random(f"{s}:{i}")`, in the seed corpus's `.txt` convention
(` date YYYY-MM-DD By Publisher`, `By Author`, paragraphs). Lengths vary from one paragraph to
a few dozen. Every article carries one planted fact about a project whose invented name is
unique to it (`Kelvaro bridge`); other articles mention the same project in passing, and
sentences of the same shape about unnamed projects recur everywhere, so the fact's question has
distractors. The questions are written as an evaluation dataset (`questions.jsonl`, the format
of `qa.evaluation.dataset.load_dataset`), with the planted sentence as evidence.

`generate()` writes articles until a chunk counter says the target is reached, skips files
whose content is already right (so an interrupted run resumes without touching them) and
writes `corpus.json` last, which later runs read instead of generating again.

Example:
    >>> corpus = generate(Path("/tmp/gen"), 50, count_chunks=lambda text: 1)
    >>> corpus.articles, len(corpus.cases)
    (50, 50)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.articles import article, file_name
from qa.evaluation.dataset import Case

log = logging.getLogger(__name__)

VERSION = "1"
"""Bump when the text changes: a cached corpus of another version is generated again."""


@dataclass(frozen=True)
class GeneratedCorpus:
    """A generated corpus on disk: its folder, size and planted questions."""

    folder: Path
    articles: int
    chunks: int
    """Chunks the counter gave (what ingest will make, when the counter is the chunker)."""
    cases: tuple[Case, ...]

    @property
    def articles_dir(self) -> Path:
        """The folder to ingest: the articles only, without the manifest and questions."""
        return self.folder / "articles"


def generate(
    folder: Path,
    chunks: int,
    count_chunks: Callable[[str], int],
    *,
    seed: int = 0,
    signature: str = "",
    progress: Callable[[int, int, str], None] | None = None,
) -> GeneratedCorpus:
    """Write articles into `folder` until `count_chunks` sums to at least `chunks`.

    Args:
        folder: gets `articles/` (in sub-folders of `SHARD` articles), `questions.jsonl`
            and, once complete, `corpus.json`.
        chunks: how many chunks the corpus should make.
        count_chunks: chunks one article's text makes (the real chunker, in `qa.evaluation.bench`).
        seed: varies every article.
        signature: what `count_chunks` depends on (chunk size...), kept in `corpus.json`; a
            cached corpus made under another signature is generated again.
        progress: called with (chunks so far, target, file name).
    """
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "corpus.json"
    wanted = {"version": VERSION, "seed": seed, "target": chunks, "signature": signature}
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if {k: data.get(k) for k in wanted} == wanted:
            return _cached(folder, data)
        log.info("%s: made by another generator or settings; generating again", folder)
    total, cases, written = 0, [], 0
    i = 0
    while total < chunks:
        text, fact = article(i, seed)
        name = file_name(i)
        written += _write_if_changed(folder / "articles" / name, text)
        total += count_chunks(text)
        cases.append(
            Case(
                id=f"gen-{i:06d}",
                question=fact.question,
                answers=(fact.answer,),
                evidence=fact.sentence,
                kind="planted",
            )
        )
        i += 1
        if progress and i % 200 == 0:
            progress(min(total, chunks), chunks, name)
    _remove_extra(folder / "articles", i)
    lines = [json.dumps(_case_json(c), ensure_ascii=False) for c in cases]
    _atomic_write(folder / "questions.jsonl", "\n".join(lines) + "\n")
    _atomic_write(manifest, json.dumps(wanted | {"articles": i, "chunks": total}, indent=1))
    log.info("generated %d articles (%d chunks; %d files written) in %s", i, total, written, folder)
    return GeneratedCorpus(folder, i, total, tuple(cases))


def _cached(folder: Path, data: dict[str, object]) -> GeneratedCorpus:
    from qa.evaluation.dataset import load_dataset

    cases = load_dataset(folder / "questions.jsonl")
    return GeneratedCorpus(
        folder, int(str(data["articles"])), int(str(data["chunks"])), tuple(cases)
    )


def _case_json(case: Case) -> dict[str, object]:
    return {
        "id": case.id,
        "question": case.question,
        "answers": list(case.answers),
        "evidence": case.evidence,
        "kind": case.kind,
    }


def _write_if_changed(path: Path, text: str) -> int:
    """Write `text` unless the file holds it already; 1 if written. Unchanged files keep their
    mtime, so an ingest that resumes does not even read them."""
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return 0
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, text)
    return 1


def _atomic_write(path: Path, text: str) -> None:
    # A killed run leaves either the old file or the new one, never half of one.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _remove_extra(folder: Path, articles: int) -> None:
    """Drop articles numbered past the end (left by a run with a larger target)."""
    for path in folder.glob("[0-9][0-9][0-9]/[0-9][0-9][0-9][0-9][0-9][0-9].txt"):
        if int(path.stem) >= articles:
            path.unlink()
