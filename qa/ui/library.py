"""The chat UI's Library tab: the indexed articles, and uploads stored and ingested.

Kept apart from `qa.ui.app` (which builds the Gradio app) and free of Gradio, like `qa.ui.chat`:
uploads are copied under safe names into the index folder and go through `qa.ingestion.job.ingest`,
the same ingest the CLI runs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.index.store import open_index
from qa.ingestion.job import IngestBusy, ingest
from qa.ingestion.loaders import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES
from qa.types import IngestReport, Problem
from qa.ui import forms
from qa.ui import html as fmt

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES
MAX_UPLOAD_BYTES = DEFAULT_MAX_BYTES
"""Per file; the same limit the loaders apply to files they read."""
MAX_NAME_CHARS = 120
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\-]+")


def safe_filename(name: str, default: str = "upload") -> str:
    """An uploaded file's name reduced to a safe base name for the uploads folder.

    Drops any folder part (`../`, `/`, `\\`), replaces characters other than letters,
    digits, `.`, `-` and `_` with `_`, strips leading dots (no hidden or `..` names) and
    keeps the extension when shortening.

    Example:
        >>> safe_filename("../../etc/pass wd.txt")
        'pass_wd.txt'
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip("._ ")
    if not base:
        return default
    if len(base) > MAX_NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            base = stem[: MAX_NAME_CHARS - len(suffix) - 1] + "." + suffix
        else:
            base = base[:MAX_NAME_CHARS]
    return base


def library(settings: Settings) -> tuple[list[list[Any]], list[str], str]:
    """The indexed articles as table rows, the publishers, and a one-line status."""
    try:
        index = open_index(settings)
        articles = index.articles()
        publishers = index.publishers()
    except Exception as e:  # shown in the Library tab instead of a trace
        log.exception("reading the index failed")
        return [], [], forms.format_message(f"Cannot read the index: {e}", "error")
    rows = [
        [a.title, a.date or "", a.publisher or "", a.chunks, fmt.display_file(a.source)]
        for a in articles
    ]
    chunks = sum(a.chunks for a in articles)
    note = f"{len(articles)} articles, {chunks} passages indexed."
    return rows, publishers, forms.format_message(note)


def store_uploads(
    paths: Sequence[str | Path], upload_dir: Path
) -> tuple[list[Path], list[Path], list[Problem]]:
    """Copy uploaded files into `upload_dir` under safe names.

    Returns:
        (stored files, the subset newly written, files refused with the reason). A name
        already taken by different content gets a `-1`, `-2` ... suffix, so one user's
        upload never replaces another's.
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored: list[Path] = []
    written: list[Path] = []
    rejected: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        name = safe_filename(path.name)
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            rejected.append(
                Problem(
                    name,
                    f"unsupported type {suffix or '(none)'!r}; upload one of "
                    f"{', '.join(UPLOAD_SUFFIXES)}",
                )
            )
            continue
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            rejected.append(
                Problem(name, f"{size:,} bytes is over the {MAX_UPLOAD_BYTES:,}-byte upload limit")
            )
            continue
        dest, existing = _destination(upload_dir, name, path)
        if not existing:
            # Write next to the target, then rename: a half-copied file is never ingested.
            fd, tmp = tempfile.mkstemp(dir=upload_dir, prefix=".upload-")
            os.close(fd)
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
            written.append(dest)
        stored.append(dest)
    return stored, written, rejected


def _destination(upload_dir: Path, name: str, source: Path) -> tuple[Path, bool]:
    """Where to store `source`: (path, True if an identical file is already there)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = upload_dir / name, 0
    while candidate.exists():
        if candidate.read_bytes() == source.read_bytes():
            return candidate, True
        n += 1
        candidate = upload_dir / f"{stem}-{n}{suffix}"
    return candidate, False


def upload(
    paths: Sequence[str] | None,
    settings: Settings,
    upload_dir: Path,
    progress: Callable[..., object],
) -> str:
    """Store and ingest uploaded files; the HTML report of what happened."""
    if not paths:
        return ""
    progress(0.0, desc="Copying files")
    stored, written, rejected = store_uploads(paths, upload_dir)
    if not stored:
        return forms.format_rejected(rejected)

    def report_progress(done: int, total: int, message: str) -> None:
        progress((done, total) if total else 0.0, desc=message)

    try:
        report: IngestReport = ingest(stored, settings, report_progress)
    except IngestBusy as e:
        _remove(written)
        return forms.format_message(f"Not ingested: {e}", "error")
    except Exception as e:  # shown to the user; the index is left as is
        log.exception("ingesting uploads failed")
        _remove(written)
        return forms.format_message(f"Not ingested: {e}", "error")
    # A file that failed or duplicates an indexed article is not kept in the uploads folder.
    unused = {Path(p.source).name for p in (*report.failed, *report.duplicates)}
    _remove([p for p in written if p.name in unused])
    return forms.format_ingest_report(report, rejected)


def _remove(paths: Sequence[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
