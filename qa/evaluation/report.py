"""Evaluation reports: rich tables for the terminal, JSON + Markdown files and a PNG chart.

Nothing here prints: the CLI prints the tables these functions build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.evaluation.compare import Comparison
from qa.evaluation.evaluate import SCORES, TIMES, EvalReport

if TYPE_CHECKING:
    from rich.table import Table

CASE_COLUMNS = ("hit@1", "hit@5", "mrr@10", "f1", "contains", "contains_all", "citation_precision")
"""Per-case scores shown in the tables (short headers below)."""

_HEADERS = {
    "hit@1": "hit@1",
    "hit@5": "hit@5",
    "mrr@10": "RR",
    "f1": "F1",
    "contains": "ok",
    "contains_all": "all",
    "citation_precision": "cite P",
}

SQUAD_KEYS = ("ingest_s", "hit@1", "hit@5", "mrr@10", "query_p50_ms")
"""The figures of the SQuAD side-by-side, in table order."""


@dataclass(frozen=True)
class ReportFiles:
    """Where `write_reports` put the files."""

    json: Path
    markdown: Path
    chart: Path


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _metric(name: str, value: float) -> str:
    return f"{value:.0f}" if name in TIMES else f"{value:.3f}"


def _verdict(row: Any) -> str:
    if not row.answerable:
        return "abstained (right)" if not row.answered else "answered (should abstain)"
    if not row.answered:
        return "abstained (should answer)"
    return "right" if row.scores.get("contains") == 1.0 else "wrong"


def cases_table(report: EvalReport) -> Table:
    """One row per case: id, kind, verdict, scores, latency."""
    from rich.table import Table

    table = Table(title=f"{report.name}: {len(report.cases)} cases", show_lines=False)
    for header in ("id", "kind", "verdict"):
        table.add_column(header, no_wrap=True)
    for name in CASE_COLUMNS:
        table.add_column(_HEADERS[name], justify="right")
    table.add_column("ms", justify="right")
    for row in report.cases:
        verdict = _verdict(row)
        style = "green" if verdict in ("right", "abstained (right)") else "red"
        table.add_row(
            row.id,
            row.kind,
            f"[{style}]{verdict}[/{style}]",
            *(_fmt(row.scores.get(name)) for name in CASE_COLUMNS),
            f"{row.latency_ms:.0f}",
        )
    return table


def means_table(report: EvalReport) -> Table:
    """The mean of every metric (latency as percentiles, in milliseconds)."""
    from rich.table import Table

    table = Table(title=f"{report.name}: means")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report.means.items():
        table.add_row(name, _metric(name, value))
    return table


def compare_table(comparison: Comparison) -> Table:
    """Metric deltas B - A, green when B is better."""
    from rich.table import Table

    table = Table(title=f"{comparison.a or 'A'} -> {comparison.b or 'B'}")
    for header in ("metric", "A", "B", "delta"):
        table.add_column(header, justify="left" if header == "metric" else "right")
    for d in comparison.deltas:
        lower_better = d.metric in TIMES or d.metric.endswith(("_ms", "_s"))
        better = d.delta < 0 if lower_better else d.delta > 0
        style = "green" if better else "red" if d.delta else "dim"
        table.add_row(
            d.metric,
            _metric(d.metric, d.a),
            _metric(d.metric, d.b),
            f"[{style}]{d.delta:+.3f}[/{style}]",
        )
    return table


def squad_table(side_by_side: Mapping[str, Mapping[str, float]]) -> Table:
    """`{"qa": {...}, "naive": {...}}` as one row per figure, one column per pipeline."""
    from rich.table import Table

    table = Table(title="SQuAD v1.1 dev: qa vs naive LangChain")
    table.add_column("figure")
    for pipeline in side_by_side:
        table.add_column(pipeline, justify="right")
    for key in SQUAD_KEYS:
        cells = [side_by_side[p].get(key) for p in side_by_side]
        table.add_row(key, *(_fmt(c, 1 if key.endswith(("_ms", "_s")) else 3) for c in cells))
    return table


def stability_table(stability: Mapping[str, Any]) -> Table:
    """The cases whose decision or cited sentence changed once distractors were indexed."""
    from rich.table import Table

    table = Table(
        title=(
            f"with {stability['distractor_articles']} distractor articles: "
            f"{stability['kept_decision']:.1%} of {stability['cases']} cases kept their decision, "
            f"{stability['kept_citation']:.1%} of {stability['answered_both']} answered both "
            "times kept their cited sentence"
        )
    )
    for column in ("id", "changed", "before", "after"):
        table.add_column(column, overflow="fold")
    for c in stability["changes"]:
        table.add_row(c["id"], c["what"], c["before"][:80], c["after"][:80])
    return table


def to_markdown(report: EvalReport, chart_name: str | None = None) -> str:
    """The report as Markdown: settings, means, then one row per case."""
    lines = [f"# Evaluation: {report.name}", ""]
    lines.append(f"Dataset `{report.dataset or '-'}`, {len(report.cases)} cases, {report.created}.")
    lines.append("")
    lines.append("Settings: " + ", ".join(f"{k}={v}" for k, v in report.settings.items()))
    lines += ["", "## Means", "", "| metric | value |", "| --- | ---: |"]
    lines += [f"| {name} | {_metric(name, v)} |" for name, v in report.means.items()]
    side_by_side = report.extra.get("side_by_side")
    for key, value in report.extra.items():
        if key != "side_by_side":
            lines.append(f"| {key} | {value} |")
    if isinstance(side_by_side, Mapping):
        pipelines = list(side_by_side)
        lines += ["", "## Side by side", "", "| figure | " + " | ".join(pipelines) + " |"]
        lines.append("| --- |" + " ---: |" * len(pipelines))
        for key in SQUAD_KEYS:
            cells = [_fmt(side_by_side[p].get(key), 1 if key.endswith(("_ms", "_s")) else 3)
                     for p in pipelines]  # fmt: skip
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    if chart_name:
        lines += ["", f"![metrics]({chart_name})"]
    headers = ["id", "kind", "verdict", *(_HEADERS[n] for n in CASE_COLUMNS), "ms", "question"]
    lines += ["", "## Cases", "", "| " + " | ".join(headers) + " |"]
    lines.append("| " + " | ".join("---" for _ in headers) + " |")
    for row in report.cases:
        cells = [
            row.id,
            row.kind,
            _verdict(row),
            *(_fmt(row.scores.get(n)) for n in CASE_COLUMNS),
            f"{row.latency_ms:.0f}",
            row.question.replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_chart(report: EvalReport, path: Path) -> Path:
    """A bar chart of the score means (0-1) with latency percentiles in the title."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; must precede pyplot
    import matplotlib.pyplot as plt

    names = [n for n in SCORES if n in report.means]
    values = [report.means[n] for n in names]
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    bars = ax.bar(names, values, color="#4C72B0")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=2, fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("mean")
    times = ", ".join(f"{n} {report.means[n]:.0f}" for n in TIMES if n in report.means)
    ax.set_title(f"{report.name}: {len(report.cases)} cases\n{times}", fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_reports(report: EvalReport, out_dir: Path, stem: str | None = None) -> ReportFiles:
    """Write `<stem>.json`, `<stem>.md` and `<stem>.png` into `out_dir`.

    The default stem is the report's name and creation time, e.g. `corpus-20260101T120000`,
    so successive runs sit side by side for `compare`.
    """
    if stem is None:
        stamp = report.created[:19].replace("-", "").replace(":", "")
        stem = f"{report.name}-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        json=out_dir / f"{stem}.json",
        markdown=out_dir / f"{stem}.md",
        chart=out_dir / f"{stem}.png",
    )
    files.json.write_text(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_chart(report, files.chart)
    files.markdown.write_text(to_markdown(report, files.chart.name), encoding="utf-8")
    return files
