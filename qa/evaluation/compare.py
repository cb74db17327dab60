"""Judging evaluation reports: `--fail-under` thresholds, and two reports compared.

Example:
    >>> check_fail_under({"hit@5": 0.85}, parse_fail_under(["hit@5=0.9"]))
    ['hit@5 = 0.850, under 0.9']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.evaluation.evaluate import SCORES, TIMES


def parse_fail_under(specs: Sequence[str]) -> dict[str, float]:
    """`["hit@5=0.9", ...]` as `{"hit@5": 0.9}`; a malformed spec raises `ValueError`."""
    thresholds: dict[str, float] = {}
    for spec in specs:
        metric, sep, raw = spec.partition("=")
        metric = metric.strip()
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not sep or not metric or value != value:
            raise ValueError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. hit@5=0.9")
        if metric in TIMES:
            raise ValueError(
                f"--fail-under {spec!r}: {metric} is a time (lower is better); "
                f"thresholds apply to scores: {', '.join(SCORES)}"
            )
        if metric not in SCORES:
            raise ValueError(
                f"--fail-under {spec!r}: unknown metric {metric!r}; use one of {', '.join(SCORES)}"
            )
        thresholds[metric] = value
    return thresholds


def check_fail_under(means: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """One message per metric under its threshold; empty when all are met.

    A threshold on a metric the report lacks is a failure too, so a typo cannot pass CI.
    """
    failures: list[str] = []
    for metric, threshold in thresholds.items():
        if metric not in means:
            failures.append(f"{metric}: not in this report (it has {', '.join(means)})")
        elif means[metric] < threshold:
            failures.append(f"{metric} = {means[metric]:.3f}, under {threshold:g}")
    return failures


@dataclass(frozen=True)
class Delta:
    """One metric in two reports."""

    metric: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a


@dataclass(frozen=True)
class Comparison:
    """What changed from report A to report B."""

    a: str
    b: str
    deltas: tuple[Delta, ...]
    fixed: tuple[str, ...]
    """Ids of answerable cases whose answer contains a reference in B but not in A."""
    broken: tuple[str, ...]
    """Ids of answerable cases right in A and wrong in B."""


def _read_report(source: Path | str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(source, Mapping):
        return "", dict(source)
    path = Path(source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable JSON report ({e})") from e
    if not isinstance(data, dict) or not ("means" in data or "qa" in data):
        raise ValueError(f"{path}: not an evaluation report (no 'means' or 'qa' key)")
    return str(path), data


def _means_and_cases(data: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    if "means" not in data:  # a SQuAD side-by-side: compare our pipeline's figures
        qa = data["qa"]
        return {k: v for k, v in qa.items() if isinstance(v, int | float)}, {}
    contains = {
        c["id"]: c["scores"]["contains"] for c in data.get("cases", ()) if "contains" in c["scores"]
    }
    return dict(data["means"]), contains


def compare(a: Path | str | Mapping[str, Any], b: Path | str | Mapping[str, Any]) -> Comparison:
    """Metric deltas (B - A) between two JSON reports, and the cases that flipped."""
    a_name, a_data = _read_report(a)
    b_name, b_data = _read_report(b)
    a_means, a_cases = _means_and_cases(a_data)
    b_means, b_cases = _means_and_cases(b_data)
    deltas = tuple(Delta(m, a_means[m], b_means[m]) for m in a_means if m in b_means)
    common = [i for i in a_cases if i in b_cases]
    return Comparison(
        a=a_name,
        b=b_name,
        deltas=deltas,
        fixed=tuple(i for i in common if b_cases[i] > a_cases[i]),
        broken=tuple(i for i in common if b_cases[i] < a_cases[i]),
    )
