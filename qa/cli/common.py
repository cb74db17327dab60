"""What every `qa` command shares: its options, settings from flags and environment, errors,
and the progress bar.

Only the CLI (and the UI launcher it calls) reads the environment; library functions take a
`Settings`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qa.config import Settings
from qa.offline import FOR_SERVICES, offline_env
from qa.types import Progress

EXIT_PARTIAL = 1
EXIT_ERROR = 2


def read_history(file: Any) -> list[tuple[str, str]]:
    """[[question, answer], ...] from a JSON file, or a UsageError naming the file and why."""
    name = getattr(file, "name", "history")
    try:
        turns = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise click.UsageError(f"{name}: not JSON ({e})") from e
    ok = isinstance(turns, list) and all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in turns
    )
    if not ok:
        raise click.UsageError(f"{name}: expected a list of [question, answer] string pairs")
    return [(q, a) for q, a in turns]


def store_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares; each falls back to its QA_* environment variable."""
    options = [
        click.option(
            "--store",
            "store_dir",
            type=click.Path(path_type=Path),
            help="Index folder [env QA_STORE_DIR; default ~/.local/share/qa].",
        ),
        click.option(
            "--chroma-url",
            help="Use a Chroma server, e.g. http://127.0.0.1:8000 [env QA_CHROMA_URL].",
        ),
        click.option("--collection", help="Collection name [env QA_COLLECTION; 'articles']."),
        click.option("--embedder", help="Embedding backend [env QA_EMBEDDER]."),
        click.option("-v", "--verbose", is_flag=True, help="Log what happens."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def answer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options choosing the answerer; the API key is read from the environment only."""
    options = [
        click.option(
            "--answerer",
            help="extractive, llamacpp:smollm2, llamacpp:PATH.gguf, openai:MODEL, ollama:MODEL "
            "[env QA_ANSWERER; extractive].",
        ),
        click.option(
            "--openai-base-url",
            help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 [env "
            "QA_OPENAI_BASE_URL]; the key comes from QA_OPENAI_API_KEY or OPENAI_API_KEY.",
        ),
        click.option("--ollama-url", help="Ollama server [env QA_OLLAMA_URL; :11434]."),
        click.option(
            "--llm-timeout",
            "llm_timeout_s",
            type=float,
            help="Seconds a generative answer may take before the extractive one is "
            "shown [env QA_LLM_TIMEOUT_S; 60].",
        ),
        click.option(
            "--reader-model",
            type=click.Path(path_type=Path, dir_okay=False),
            help="The reader's adapter (eval/train_reader.py; its .json record beside it) "
            "[env QA_READER_MODEL; the shipped one].",
        ),
        click.option(
            "--abstain-below",
            type=click.FloatRange(0, 1),
            help="Answer only when the reader's confidence is at least this [env "
            "QA_ABSTAIN_BELOW; the reader's threshold].",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_settings(verbose: bool = False, **flags: Any) -> Settings:
    """Settings from the environment, overridden by the flags given."""
    offline_env(FOR_SERVICES)  # nothing may phone home
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return Settings.from_env(**flags)
    except ValueError as e:
        raise click.UsageError(str(e)) from e


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(code)


def _same(_done: int, message: str) -> str:
    return message


@contextmanager
def progress_bar(
    first: str = "",
    describe: Callable[[int, str], str] = _same,
    console: Any = None,
) -> Iterator[Progress]:
    """A transient progress bar on stderr (or on `console`), shown only on a terminal, as a
    progress(done, total, message) callback; `describe(done, message)` words each update."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    shown = console.is_terminal if console is not None else sys.stderr.isatty()
    with Bar(*columns, console=console, transient=True, disable=not shown) as bar:
        task = bar.add_task(first, total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=describe(done, message))

        yield progress


def open_index_with_bar(settings: Settings) -> Any:
    """The index; the first open against a server builds this machine's cache, with a bar."""
    from qa.index.store import open_index

    if not settings.chroma_url:
        return open_index(settings)
    with progress_bar() as progress:
        return open_index(settings, progress)
