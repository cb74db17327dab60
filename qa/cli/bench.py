"""`qa bench`: ingest and answer speed, side by side with the naive LangChain pipeline; the
evaluation tooling (`qa.evaluation`) is imported inside the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qa.cli.common import fail, make_settings, progress_bar


@click.command()
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

    from qa.evaluation.bench import SQUAD_ZIP, bench_table, default_cache, run_bench

    squad = None if no_squad else squad_zip or SQUAD_ZIP
    if squad is not None and not squad.exists():
        fail(f"{squad}: no such file; pass --squad PATH to dev-v1.1.json.zip, or --no-squad")

    def describe(_done: int, message: str) -> str:
        return message[-50:]

    with progress_bar("bench", describe) as progress:
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
