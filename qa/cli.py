"""The `qa` command: the only module that reads flags and the environment.

Everything heavy is imported inside the commands: importing torch or Chroma at the top would
make every command, even `qa --help`, wait seconds for them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qa.config import Settings

EXIT_PARTIAL = 1
EXIT_ERROR = 2


def _quiet_network() -> None:
    # Nothing may phone home: models come from packages, Chroma and Gradio stay silent.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


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
            "--decision-model",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Answer-or-abstain model (eval/train_decision.py) [env QA_DECISION_MODEL; "
            "the shipped one].",
        ),
        click.option(
            "--abstain-below",
            type=click.FloatRange(0, 1),
            help="Answer only when P(the quote answers) is at least this [env "
            "QA_ABSTAIN_BELOW; the decision model's threshold].",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_settings(verbose: bool = False, **flags: Any) -> Settings:
    """Settings from the environment, overridden by the flags given."""
    _quiet_network()
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def main() -> None:
    """Ask questions about your news articles; every answer cites the passage it came from."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--max-file-mb",
    default=20.0,
    show_default=True,
    help="Skip files larger than this (they are reported).",
)
@store_options
def ingest(paths: tuple[Path, ...], max_file_mb: float, verbose: bool, **flags: Any) -> None:
    """Index PATHS (files or folders); unchanged articles cost nothing."""
    settings = make_settings(verbose, **flags)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from qa.ingest import IngestBusy
    from qa.ingest import ingest as run_ingest
    from qa.store import StoreError

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("reading the files, loading the model", total=None)

        def progress(done: int, total: int, message: str) -> None:
            # At 0 the message says what is to embed; after each batch, the last file embedded.
            description = message if done == 0 else f"embedding {message}"
            bar.update(task, completed=done, total=total, description=description)

        try:
            report = run_ingest(
                paths, settings, progress, max_file_bytes=int(max_file_mb * 1_000_000)
            )
        except (IngestBusy, StoreError) as e:
            fail(str(e))
            return
    for problem in report.duplicates:
        click.echo(f"duplicate: {problem}")
    for problem in report.failed:
        click.secho(f"failed: {problem}", fg="yellow", err=True)
    click.echo(report.summary())
    if report.partial:
        sys.exit(EXIT_PARTIAL)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.option("-k", type=int, help="Passages to retrieve [env QA_K; 5].")
@answer_options
@click.option("--publisher", multiple=True, help="Only articles of this publisher (repeatable).")
@click.option("--since", "date_from", help="Only articles dated on or after YYYY-MM-DD.")
@click.option("--until", "date_to", help="Only articles dated on or before YYYY-MM-DD.")
@click.option(
    "--history",
    "history_file",
    type=click.File(),
    help="JSON file of earlier [question, answer] pairs, for a follow-up.",
)
@store_options
def ask(
    question: str,
    as_json: bool,
    k: int | None,
    publisher: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    history_file: Any,
    verbose: bool,
    **flags: Any,
) -> None:
    """Answer QUESTION from the indexed articles, with citations."""
    settings = make_settings(verbose, k=k, **flags)
    from qa.chain import QuestionError, stream
    from qa.store import StoreError
    from qa.types import Answer, Filters

    history = read_history(history_file) if history_file else []
    filters = Filters(tuple(publisher), date_from, date_to)
    final: Answer | None = None
    streamed = ""
    try:
        open_index_with_bar(settings)
        for piece in stream(question, history, settings=settings, filters=filters):
            if isinstance(piece, Answer):
                final = piece
            elif not as_json:
                streamed += piece
                click.echo(piece, nl=False)
    except (QuestionError, StoreError, ValueError) as e:
        fail(str(e))
        return
    assert final is not None
    if as_json:
        click.echo(json.dumps(final.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo()
    if " ".join(streamed.split()) != " ".join(final.text.split()):
        # A generated answer streams before its check; the checked text is what counts.
        click.secho("Checked answer:", bold=True)
        click.echo(final.text)
    if final.notice:
        click.secho(final.notice, fg="yellow", err=True)
    if final.short:
        click.secho(f"Short answer: {final.short}", bold=True)
    click.secho(f"({final.verdict}; confidence {final.confidence:.2f})", dim=True)
    if final.query != final.question:
        click.secho(f"(searched: {final.query})", dim=True)
    for c in final.citations:
        where = f", page {c.page}" if c.page else ""
        click.echo(
            f"[{c.n}] {c.title} - {c.publisher or '?'}, {c.date or 'undated'} "
            f"({c.source}{where}, chars {c.start}-{c.end})"
        )
    for r in final.removed:
        click.secho(f"removed: {r.sentence} ({r.reason})", dim=True)


@main.command(name="list")
@store_options
def list_articles(verbose: bool, **flags: Any) -> None:
    """List the indexed articles."""
    settings = make_settings(verbose, **flags)
    from qa.store import StoreError

    try:
        index = open_index_with_bar(settings)
    except StoreError as e:
        fail(str(e))
        return
    articles = index.articles()
    for a in articles:
        click.echo(
            f"{a.date or '          '}  {a.publisher or '-':<16}  {a.chunks:>4} chunks"
            f"  {a.source}  {a.title}"
        )
    click.echo(f"{len(articles)} articles, {index.count()} chunks in {index.where}")


@main.command()
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build this machine's cache again from the Chroma server (on disk: the keyword index).",
)
@store_options
def doctor(rebuild: bool, verbose: bool, **flags: Any) -> None:
    """Check that Chroma, the ledger and the keyword index agree (and, against a server, that
    this machine's cache holds what the server's manifest names)."""
    settings = make_settings(verbose, **flags)
    from qa.store import StoreError

    try:
        index = open_index_with_bar(settings)
        if rebuild:
            with _bar() as progress:
                index.rebuild(progress)
        index.reconcile()
        problems = index.verify()
    except StoreError as e:
        fail(str(e))
        return
    for name, ids in problems.items():
        click.echo(f"{name}: {len(ids)}" + (f" (e.g. {ids[:3]})" if ids else ""))
    if any(problems.values()):
        sys.exit(EXIT_PARTIAL)


@contextmanager
def _bar() -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr (when it is a terminal), as a progress(done, total, message)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        yield progress


def open_index_with_bar(settings: Settings) -> Any:
    """The index; the first open against a server builds this machine's cache, with a bar."""
    from qa.store import open_index

    if not settings.chroma_url:
        return open_index(settings)
    with _bar() as progress:
        return open_index(settings, progress)


@main.command()
@click.option("--host", envvar="QA_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="QA_PORT", default=7860, show_default=True, type=int)
@click.option("--share", is_flag=True, help="Ask Gradio for a public link (off by default).")
@click.option(
    "--ingest",
    "ingest_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Ingest these files or folders before serving.",
)
@answer_options
@store_options
def serve(
    host: str, port: int, share: bool, ingest_paths: tuple[Path, ...], verbose: bool, **flags: Any
) -> None:
    """Open the chat UI in the browser (login with QA_USERNAME/QA_PASSWORD when set)."""
    settings = make_settings(verbose, **flags)
    if ingest_paths:
        from qa.ingest import IngestBusy
        from qa.ingest import ingest as run_ingest
        from qa.store import StoreError

        try:
            report = run_ingest(ingest_paths, settings)
        except (IngestBusy, StoreError) as e:
            fail(str(e))
            return
        for problem in report.failed:
            click.secho(f"failed: {problem}", fg="yellow", err=True)
        click.echo(report.summary())
    if settings.chroma_url:  # this machine's cache of the server, built before serving
        from qa.store import StoreError

        try:
            open_index_with_bar(settings)
        except StoreError as e:
            fail(str(e))
            return
    from qa.ui import launch

    user, password = os.environ.get("QA_USERNAME"), os.environ.get("QA_PASSWORD")
    auth = (user, password) if user and password else None
    if host not in ("127.0.0.1", "localhost") and auth is None:
        click.secho(
            "warning: serving beyond localhost without a login (set QA_USERNAME and QA_PASSWORD)",
            fg="yellow",
            err=True,
        )
    app = launch(settings, host=host, port=port, share=share, auth=auth)
    click.echo(f"qa is serving the chat: open {app.local_url} (Ctrl+C stops it)")
    if app.share_url:
        click.echo(f"public link: {app.share_url}")
    app.block_thread()


@main.command(name="eval")
@click.option(
    "--dataset",
    type=click.Path(path_type=Path),
    default=Path("eval/questions.jsonl"),
    show_default=True,
    help="JSONL cases: question, answers, evidence, answerable, ...",
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    default=Path("corpus"),
    show_default=True,
    help="Articles the dataset asks about (ingested first).",
)
@click.option(
    "--squad",
    "squad_zip",
    type=click.Path(path_type=Path),
    help="Evaluate on SQuAD v1.1 instead (its 48 articles in a temporary store).",
)
@click.option(
    "--squad2",
    "squad2_path",
    type=click.Path(path_type=Path),
    help="Evaluate answer-or-abstain on a SQuAD 2.0 file (its articles in a temporary store).",
)
@click.option(
    "--questions-from",
    help="With --squad2: ask only about these articles (comma-separated titles); all indexed.",
)
@click.option(
    "--distractors",
    type=click.Path(path_type=Path),
    help="Also run the dataset with these articles indexed beside the corpus (a folder, or a "
    "SQuAD zip) and report the cases whose decision or cited sentence changed.",
)
@click.option("--limit", type=int, help="SQuAD questions (seed 0) [v1.1: 1000; v2.0: all].")
@click.option(
    "--baseline",
    type=click.Choice(["naive"]),
    help="Also run the naive LangChain pipeline, side by side (SQuAD).",
)
@click.option(
    "--compare",
    "compare_paths",
    nargs=2,
    type=click.Path(path_type=Path),
    help="Show the deltas between two JSON reports, A then B.",
)
@click.option(
    "--fail-under",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Exit 1 when a mean falls short (repeatable), e.g. hit@5=0.9.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("eval/reports"),
    show_default=True,
    help="Folder for the JSON, Markdown and PNG reports.",
)
@click.option("-k", type=int, help="Passages to retrieve.")
@answer_options
@store_options
def eval_command(
    dataset: Path,
    corpus: Path,
    squad_zip: Path | None,
    squad2_path: Path | None,
    questions_from: str | None,
    distractors: Path | None,
    limit: int | None,
    baseline: str | None,
    compare_paths: tuple[Path, Path] | None,
    fail_under: tuple[str, ...],
    as_json: bool,
    out: Path,
    k: int | None,
    verbose: bool,
    **flags: Any,
) -> None:
    """Score answers against reference answers (default: eval/questions.jsonl over corpus/).

    Without --store the corpus is ingested into a temporary index, so the figures do not
    depend on what else you have indexed.
    """
    from rich.console import Console

    from qa import report as reports
    from qa.evaluate import check_fail_under, compare, parse_fail_under

    console = Console(stderr=as_json)
    try:
        thresholds = parse_fail_under(fail_under)
    except ValueError as e:
        fail(str(e))
        return
    if compare_paths:
        try:
            comparison = compare(*compare_paths)
        except ValueError as e:
            fail(str(e))
            return
        console.print(reports.compare_table(comparison))
        return
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        if flags.get("store_dir") is None and not flags.get("chroma_url"):
            flags["store_dir"] = Path(tmp)
        settings = make_settings(verbose, k=k, **flags)
        try:
            result, side_by_side = _run_eval(
                settings,
                dataset,
                corpus,
                squad_zip,
                squad2_path,
                questions_from,
                distractors,
                limit,
                baseline,
                console,
            )
        except ValueError as e:
            fail(str(e))
            return
    files = reports.write_reports(result, out)
    curve = result.extra.pop("curve", None)
    if curve is not None:
        from qa.squad2 import write_curve_chart

        png = files.chart.with_name(f"{files.chart.stem}-threshold.png")
        chart = write_curve_chart(curve, result.extra["threshold"], png)
        console.print(f"threshold chart: {chart}")
    data = result.to_dict() | ({"side_by_side": side_by_side} if side_by_side else {})
    if as_json:
        click.echo(json.dumps(side_by_side or data, indent=2, ensure_ascii=False))
    else:
        console.print(reports.cases_table(result))
        console.print(reports.means_table(result))
        if side_by_side:
            console.print(reports.squad_table(side_by_side))
        if "stability" in result.extra:
            console.print(reports.stability_table(result.extra["stability"]))
        console.print(f"reports: {files.json}, {files.markdown}, {files.chart}")
    failures = check_fail_under(result.means, thresholds)
    for failure in failures:
        click.secho(f"fail-under: {failure}", fg="red", err=True)
    if failures:
        sys.exit(EXIT_PARTIAL)


def _run_eval(
    settings: Settings,
    dataset: Path,
    corpus: Path,
    squad_zip: Path | None,
    squad2_path: Path | None,
    questions_from: str | None,
    distractors: Path | None,
    limit: int | None,
    baseline: str | None,
    console: Any,
) -> tuple[Any, dict[str, Any] | None]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from qa.dataset import load_dataset
    from qa.evaluate import evaluate
    from qa.ingest import ingest as run_ingest

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("evaluating", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=str(message)[-40:])

        if squad_zip is not None:
            from qa.squad import run_squad

            run = run_squad(
                squad_zip,
                limit=limit or 1000,
                settings=settings,
                baseline=baseline,
                progress=progress,
            )
            return run.report, run.side_by_side()
        if squad2_path is not None:
            from qa.squad2 import run_squad2

            only = [t.strip() for t in (questions_from or "").split(",") if t.strip()]
            report, curve = run_squad2(
                squad2_path, settings, limit=limit, questions_from=only, progress=progress
            )
            report.extra["curve"] = curve
            return report, None
        cases = load_dataset(dataset)
        if distractors is not None:
            from qa.stability import run_with_distractors

            report = run_with_distractors(
                cases, corpus, distractors, settings, dataset=str(dataset), progress=progress
            )
            return report, None
        ingested = run_ingest([corpus], settings)
        if ingested.failed:
            console.print(f"[yellow]ingest: {ingested.summary()}")
        return evaluate(cases, settings, dataset=str(dataset), progress=progress), None


@main.command()
@click.option(
    "--squad",
    "squad_zip",
    type=click.Path(path_type=Path),
    help="SQuAD v1.1 dev zip [default ../shared/bench/squad-v1.1/dev-v1.1.json.zip].",
)
@click.option("--no-squad", is_flag=True, help="Skip the SQuAD side-by-side.")
@click.option(
    "--chunks",
    default=100_000,
    show_default=True,
    help="Passages in the generated corpus (0 skips it).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path),
    help="Where the generated corpus and its index are kept [~/.cache/qa/bench-N].",
)
@click.option("--questions", default=200, show_default=True, help="Planted questions to time.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--embedder", help="Embedding backend [env QA_EMBEDDER].")
@click.option("--chroma-url", help="Build the generated index on a Chroma server.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def bench(
    squad_zip: Path | None,
    no_squad: bool,
    chunks: int,
    cache_dir: Path | None,
    questions: int,
    as_json: bool,
    verbose: bool,
    **flags: Any,
) -> None:
    """Measure ingest and answer speed (SQuAD vs naive LangChain, and N generated passages)."""
    settings = make_settings(verbose, **flags)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from qa.bench import SQUAD_ZIP, bench_table, default_cache, run_bench

    squad = None if no_squad else squad_zip or SQUAD_ZIP
    if squad is not None and not squad.exists():
        fail(f"{squad}: no such file; pass --squad PATH to dev-v1.1.json.zip, or --no-squad")
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("bench", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message[-50:])

        figures = run_bench(
            squad,
            chunks,
            cache_dir or default_cache(chunks),
            settings,
            progress,
            questions=questions,
        )
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
    else:
        Console().print(bench_table(figures))


if __name__ == "__main__":
    main()
