"""`qa eval`: the evaluation tooling (`qa.evaluation`), imported inside the command so that the
other commands and `qa --help` never load it (`qa bench` is in `qa.cli.bench`)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from qa.cli.common import (
    EXIT_PARTIAL,
    answer_options,
    fail,
    make_settings,
    progress_bar,
    store_options,
)
from qa.config import Settings


@click.command(name="eval")
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

    from qa.evaluation import report as reports
    from qa.evaluation.compare import check_fail_under, compare, parse_fail_under

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
        from qa.evaluation.squad2 import write_curve_chart

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
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.evaluate import evaluate
    from qa.ingestion.job import ingest as run_ingest

    def describe(_done: int, message: str) -> str:
        return str(message)[-40:]

    with progress_bar("evaluating", describe, console) as progress:
        if squad_zip is not None:
            from qa.evaluation.squad import run_squad

            run = run_squad(
                squad_zip,
                limit=limit or 1000,
                settings=settings,
                baseline=baseline,
                progress=progress,
            )
            _say_skipped(console, run.report.extra)
            return run.report, run.side_by_side()
        if squad2_path is not None:
            from qa.evaluation.squad2 import run_squad2

            only = [t.strip() for t in (questions_from or "").split(",") if t.strip()]
            report, curve = run_squad2(
                squad2_path, settings, limit=limit, questions_from=only, progress=progress
            )
            if curve is not None:
                report.extra["curve"] = curve
            _say_skipped(console, report.extra)
            return report, None
        cases = load_dataset(dataset)
        if distractors is not None:
            from qa.evaluation.stability import run_with_distractors

            report = run_with_distractors(
                cases, corpus, distractors, settings, dataset=str(dataset), progress=progress
            )
            return report, None
        ingested = run_ingest([corpus], settings)
        if ingested.failed:
            console.print(f"[yellow]ingest: {ingested.summary()}")
        return evaluate(cases, settings, dataset=str(dataset), progress=progress), None


def _say_skipped(console: Any, extra: dict[str, Any]) -> None:
    skipped = extra.get("skipped_articles", 0)
    if skipped:
        console.print(
            f"skipped the questions of {skipped} of {extra['articles']} articles: the reader "
            "was trained on them (they stay indexed)"
        )
