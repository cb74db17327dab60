"""The `qa` command: the only module that reads flags and the environment.

Everything heavy is imported inside the commands: importing torch or Chroma at the top would
make every command, even `qa --help`, wait seconds for them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from qa.cli.bench import bench
from qa.cli.common import (
    EXIT_PARTIAL,
    answer_options,
    fail,
    make_settings,
    open_index_with_bar,
    progress_bar,
    read_history,
    store_options,
)
from qa.cli.evaluate import eval_command


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
    from qa import crash_points
    from qa.index.store import StoreError
    from qa.ingestion.job import IngestBusy
    from qa.ingestion.job import ingest as run_ingest

    def describe(done: int, message: str) -> str:
        # At 0 the message says what is to embed; after each batch, the last file embedded.
        return message if done == 0 else f"embedding {message}"

    # The crash tests' kill point (qa.crash_points); never set outside them.
    crash_points.arm(os.environ.get("QA_TEST_KILL_AT"))
    with progress_bar("reading the files, loading the model", describe) as progress:
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
    "--as-of",
    help="Answer as known on YYYY-MM-DD: from articles published up to then, the newest first.",
)
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
    as_of: str | None,
    history_file: Any,
    verbose: bool,
    **flags: Any,
) -> None:
    """Answer QUESTION from the indexed articles, with citations."""
    settings = make_settings(verbose, k=k, **flags)
    from qa.answering.pipeline import QuestionError, stream
    from qa.index.store import StoreError
    from qa.types import Answer, Filters

    history = read_history(history_file) if history_file else []
    filters = Filters(tuple(publisher), date_from, date_to)
    final: Answer | None = None
    streamed = ""
    try:
        open_index_with_bar(settings)
        for piece in stream(question, history, settings=settings, filters=filters, as_of=as_of):
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
    for side in final.conflicts:
        click.secho(f"[{side.n}] {side.short}: {side.publisher or side.source}, "
                    f"{side.date or 'undated'}", bold=True)  # fmt: skip
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
    from qa.index.store import StoreError

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
    from qa.index.store import StoreError

    try:
        index = open_index_with_bar(settings)
        if rebuild:
            with progress_bar() as progress:
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
        from qa.index.store import StoreError
        from qa.ingestion.job import IngestBusy
        from qa.ingestion.job import ingest as run_ingest

        try:
            report = run_ingest(ingest_paths, settings)
        except (IngestBusy, StoreError) as e:
            fail(str(e))
            return
        for problem in report.failed:
            click.secho(f"failed: {problem}", fg="yellow", err=True)
        click.echo(report.summary())
    if settings.chroma_url:  # this machine's cache of the server, built before serving
        from qa.index.store import StoreError

        try:
            open_index_with_bar(settings)
        except StoreError as e:
            fail(str(e))
            return
    from qa.ui.launch import launch

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


main.add_command(eval_command)
main.add_command(bench)


if __name__ == "__main__":
    main()
