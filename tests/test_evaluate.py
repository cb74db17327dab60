"""Evaluation: datasets, case scoring, thresholds, reports, comparison and the SQuAD adapter."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from qa.config import Settings
from qa.evaluation.compare import check_fail_under, compare, parse_fail_under
from qa.evaluation.dataset import Case, load_dataset
from qa.evaluation.evaluate import EvalReport, evaluate, score_case, summarize
from qa.evaluation.report import cases_table, means_table, squad_table, to_markdown, write_reports
from qa.evaluation.squad import load_squad, run_squad, sample_cases, write_articles
from qa.types import Answer, Chunk, Citation, Passage

ROOT = Path(__file__).resolve().parent.parent
SEED = "000_597cfd3371608b94.txt"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SQUAD_ZIP = ROOT.parent / "shared" / "bench" / "squad-v1.1" / "dev-v1.1.json.zip"
needs_squad = pytest.mark.skipif(not SQUAD_ZIP.exists(), reason=f"{SQUAD_ZIP} not present")

RESOLUTIONS = (
    "The Minsk Group’s efforts have resulted in no progress and to this date, Armenia has "
    "failed to abide by the UN Security Council resolutions (822, 853, 874 and 884) that "
    "demand the withdrawal of Armenian military forces from the occupied territories of "
    "Azerbaijan."
)
CASUALTIES = (
    "More than 20,000 Azerbaijanis were killed and around one million were displaced as a "
    "result of the large-scale hostilities."
)
UN_CASE = Case(
    id="q08",
    question="Which UN Security Council resolutions demand the withdrawal of Armenian forces?",
    answers=("822, 853, 874 and 884",),
    evidence="resolutions (822, 853, 874 and 884) that demand the withdrawal",
    kind="list",
    required=("822", "853", "874", "884"),
)
TURNOUT_CASE = Case(
    id="u01", question="What was the turnout?", answerable=False, kind="unanswerable"
)


def _chunk(n: int, text: str, source: str = "corpus/a.txt") -> Chunk:
    return Chunk(f"c{n}", "a", source, n, text, 0, len(text), "title")


def _citation(quote: str) -> Citation:
    return Citation(1, "corpus/a.txt", "title", None, None, quote, 0, len(quote), "c1")


def _answer(text: str, quotes: list[str], passages: list[str], answered: bool = True) -> Answer:
    return Answer(
        question="q",
        text=text,
        answered=answered,
        citations=tuple(_citation(q) for q in quotes),
        passages=tuple(Passage(_chunk(i, t), 1.0 / (i + 1)) for i, t in enumerate(passages)),
        timings_ms={"retrieve": 12.0},
    )


# --- the dataset ---------------------------------------------------------------------------


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = '{"id": "a", "question": "Who?", "answers": ["NATO"]}'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "b", "answers": ["x"]}', "line 3: 'question' missing"),
        ('{"question": "Who?", "answers": ["x"]}', "line 3: 'id' missing"),
        ('{"id": "b", "question": "Who?"', "line 3: not valid JSON (Expecting ',' delimiter"),
        ('["a"]', "line 3: expected a JSON object, got list"),
        ('{"id": "a", "question": "Who?", "answers": ["x"]}', "line 3: id 'a' already used"),
        (
            '{"id": "b", "question": "Who?", "answers": "NATO"}',
            "line 3: 'answers' must be a list of strings, got 'NATO'",
        ),
        (
            '{"id": "b", "question": "Who?", "answerable": true, "answers": []}',
            "line 3: an answerable case needs at least one entry in 'answers'",
        ),
        (
            '{"id": "b", "question": "Who?", "answers": ["x"], "history": [["q"]]}',
            "line 3: 'history' must be a list of [question, answer] pairs, got [['q']]",
        ),
        (
            '{"id": "b", "question": " ", "answers": ["x"]}',
            "line 3: 'question' must be a non-empty string, got ' '",
        ),
    ],
)
def test_bad_dataset_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, GOOD, "", line)
    with pytest.raises(ValueError) as error:
        load_dataset(path)
    assert str(error.value).startswith(f"{path} {message}")


def test_exact_dataset_error_message(tmp_path: Path) -> None:
    path = tmp_path / "eval" / "x.jsonl"
    path.parent.mkdir()
    path.write_text(GOOD + "\n" * 6 + '{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_dataset(path)
    assert str(error.value) == f"{path} line 7: 'question' missing"


def test_empty_and_missing_datasets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no cases in the dataset"):
        load_dataset(_write(tmp_path, "", "  "))
    with pytest.raises(ValueError, match="cannot read the dataset"):
        load_dataset(tmp_path / "missing.jsonl")


def test_dataset_defaults(tmp_path: Path) -> None:
    (case,) = load_dataset(_write(tmp_path, '{"id": "u", "question": "Turnout?", "answers": []}'))
    assert case == Case(id="u", question="Turnout?", answerable=False)


def test_the_corpus_dataset_is_sound() -> None:
    cases = load_dataset(QUESTIONS)
    article = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 44
    assert sum(not c.answerable for c in cases) >= 10
    assert kinds["unanswerable"] >= 10
    assert sum(bool(c.history) for c in cases) >= 6
    assert {"who", "what", "when", "where", "how_many", "list", "paraphrase", "two_sentence"} <= (
        set(kinds)
    )
    for case in cases:
        if case.answerable:
            assert case.evidence in article, case.id
            assert case.answers, case.id
            for part in case.required:
                assert part in article, (case.id, part)
        else:
            assert case.answers == () and case.evidence == "", case.id
    assert any("\n" in c.evidence or ". " in c.evidence for c in cases if c.kind == "two_sentence")


# --- scoring one case ----------------------------------------------------------------------


def test_right_answer_with_right_citation() -> None:
    reply = _answer(RESOLUTIONS + " [1]", [RESOLUTIONS], [CASUALTIES, RESOLUTIONS])
    result = score_case(UN_CASE, reply, latency_ms=40.0)
    assert result.scores == {
        "hit@1": 0.0,
        "hit@5": 1.0,
        "mrr@10": 0.5,
        "em": 0.0,
        "f1": 10 / 44,
        "short_em": 0.0,
        "short_f1": 10 / 44,  # no short span: the quote is scored
        "contains": 1.0,
        "contains_all": 1.0,
        "citation_precision": 1.0,
        "citation_recall": 1.0,
        "answerable_right": 1.0,
        "answerable_wrong": 0.0,
        "answerable_refused": 0.0,
        "conflict_invented": 0.0,  # answered, one source: no disagreement claimed
    }
    assert (result.answered, result.latency_ms, result.retrieve_ms) == (True, 40.0, 12.0)


def test_wrong_answer_with_wrong_citation() -> None:
    reply = _answer(CASUALTIES + " [1]", [CASUALTIES], [CASUALTIES])
    result = score_case(UN_CASE, reply, latency_ms=40.0)
    assert result.scores["hit@5"] == 0.0
    assert result.scores["contains"] == 0.0
    assert result.scores["contains_all"] == 0.0
    assert result.scores["citation_precision"] == 0.0
    assert result.scores["citation_recall"] == 0.0


def test_abstention_that_should_have_answered() -> None:
    reply = _answer("The corpus does not say.", [], [RESOLUTIONS], answered=False)
    result = score_case(UN_CASE, reply, latency_ms=40.0)
    assert result.scores["hit@1"] == 1.0
    assert (result.scores["em"], result.scores["f1"], result.scores["contains"]) == (0, 0, 0)
    assert result.scores["citation_recall"] == 0.0
    assert "citation_precision" not in result.scores


def test_faithfulness_is_scored_for_answered_generative_cases() -> None:
    from qa.evaluation.faithfulness import Faithfulness

    reply = _answer(RESOLUTIONS, [RESOLUTIONS], [RESOLUTIONS])
    # 4 sentences generated, 3 supported; the check removed the fourth.
    scores = score_case(UN_CASE, reply, 40.0, Faithfulness(4, 3, 3, 3)).scores
    assert (scores["faithfulness_before"], scores["faithfulness_after"]) == (0.75, 1.0)
    assert "faithfulness_before" not in score_case(UN_CASE, reply, 40.0).scores
    missed = _answer("no", [], [RESOLUTIONS], answered=False)
    assert (
        "faithfulness_before"
        not in score_case(UN_CASE, missed, 40.0, Faithfulness(1, 0, 0, 0)).scores
    )


def test_unanswerable_case_has_no_answer_scores() -> None:
    reply = _answer("The corpus does not say.", [], [CASUALTIES], answered=False)
    assert score_case(TURNOUT_CASE, reply, latency_ms=5.0).scores == {"unanswerable_abstained": 1.0}
    quoted = _answer(CASUALTIES + " [1]", [CASUALTIES], [CASUALTIES])
    assert score_case(TURNOUT_CASE, quoted, latency_ms=5.0).scores == {
        "unanswerable_abstained": 0.0
    }


def test_short_answer_is_scored_against_the_references() -> None:
    reply = dataclasses.replace(
        _answer(RESOLUTIONS + " [1]", [RESOLUTIONS], [RESOLUTIONS]), short="822, 853, 874 and 884"
    )
    scores = score_case(UN_CASE, reply, latency_ms=5.0).scores
    assert (scores["short_em"], scores["short_f1"]) == (1.0, 1.0)


def test_benchmark_hit_needs_the_right_article() -> None:
    case = Case(id="s", question="?", answers=("one million",), source="b.txt")
    reply = Answer(
        "q",
        "x",
        True,
        passages=(
            Passage(_chunk(0, CASUALTIES, source="tmp/a.txt"), 0.5),
            Passage(_chunk(1, CASUALTIES, source="tmp/b.txt"), 0.4),
        ),
    )
    assert score_case(case, reply, 1.0).scores["mrr@10"] == 0.5


def test_summarize_means_abstention_and_latency() -> None:
    right = score_case(UN_CASE, _answer(RESOLUTIONS, [RESOLUTIONS], [RESOLUTIONS]), 10.0)
    wrong = score_case(UN_CASE, _answer(CASUALTIES, [CASUALTIES], [CASUALTIES]), 30.0)
    missed = score_case(UN_CASE, _answer("no", [], [CASUALTIES], answered=False), 20.0)
    abstained = score_case(TURNOUT_CASE, _answer("no", [], [], answered=False), 40.0)
    means = summarize([right, wrong, missed, abstained])
    assert means["hit@1"] == 1 / 3
    assert means["contains"] == 1 / 3
    assert means["citation_precision"] == 0.5  # over the two answered cases
    assert means["citation_recall"] == 1 / 3
    assert means["abstention_precision"] == 0.5
    assert means["abstention_recall"] == 1.0
    assert means["latency_p50_ms"] == 25.0
    assert means["latency_p95_ms"] == 38.5
    assert means["retrieve_p50_ms"] == 12.0
    assert list(means)[:3] == ["hit@1", "hit@5", "mrr@10"]


# --- --fail-under ----------------------------------------------------------------------------


def test_parse_fail_under() -> None:
    assert parse_fail_under(["hit@5=0.9", " contains = 0.8"]) == {"hit@5": 0.9, "contains": 0.8}
    with pytest.raises(ValueError) as error:
        parse_fail_under(["hit@5"])
    assert str(error.value) == "--fail-under 'hit@5': expected METRIC=VALUE, e.g. hit@5=0.9"
    with pytest.raises(ValueError, match="expected METRIC=VALUE"):
        parse_fail_under(["hit@5=high"])
    with pytest.raises(ValueError, match="unknown metric 'hit@3'; use one of hit@1, hit@5"):
        parse_fail_under(["hit@3=0.5"])
    with pytest.raises(ValueError, match="latency_p95_ms is a time"):
        parse_fail_under(["latency_p95_ms=100"])


def test_fail_under_passes_and_fails() -> None:
    means = {"hit@5": 0.95, "contains": 0.7}
    assert check_fail_under(means, parse_fail_under(["hit@5=0.95", "contains=0.5"])) == []
    assert check_fail_under(means, parse_fail_under(["hit@5=0.96", "contains=0.7"])) == [
        "hit@5 = 0.950, under 0.96"
    ]
    assert check_fail_under(means, {"citation_recall": 0.5}) == [
        "citation_recall: not in this report (it has hit@5, contains)"
    ]


# --- reports ---------------------------------------------------------------------------------


def _report(name: str, contains: float) -> EvalReport:
    right = score_case(UN_CASE, _answer(RESOLUTIONS, [RESOLUTIONS], [RESOLUTIONS]), 10.0)
    if contains < 1:
        right = score_case(UN_CASE, _answer(CASUALTIES, [CASUALTIES], [CASUALTIES]), 10.0)
    abstained = score_case(TURNOUT_CASE, _answer("no", [], [], answered=False), 20.0)
    cases = (right, abstained)
    return EvalReport(name, "eval/x.jsonl", "2026-01-02T03:04:05+00:00", {"k": 5}, cases,
                      summarize(cases))  # fmt: skip


def test_reports_are_written(tmp_path: Path) -> None:
    report = _report("corpus", 1.0)
    files = write_reports(report, tmp_path / "reports")
    assert files.json.name == "corpus-20260102T030405.json"
    assert EvalReport.from_dict(json.loads(files.json.read_text(encoding="utf-8"))) == report
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "| contains | 1.000 |" in markdown
    assert "![metrics](corpus-20260102T030405.png)" in markdown
    assert "| q08 | list | right |" in markdown
    assert "| u01 | unanswerable | abstained (right) |" in markdown
    assert files.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert to_markdown(report).startswith("# Evaluation: corpus\n")


def test_markdown_shows_a_side_by_side() -> None:
    side = {"qa": {"hit@1": 0.8, "ingest_s": 40.0}, "naive": {"hit@1": 0.66, "ingest_s": 50.0}}
    report = _report("squad", 1.0)
    markdown = to_markdown(EvalReport(**{**report.__dict__, "extra": {"side_by_side": side}}))
    assert "| figure | qa | naive |" in markdown
    assert "| hit@1 | 0.800 | 0.660 |" in markdown
    assert "| ingest_s | 40.0 | 50.0 |" in markdown
    assert "| hit@5 | - | - |" in markdown


def test_rich_tables_render() -> None:
    from rich.console import Console

    console = Console(width=160, record=True)
    report = _report("corpus", 1.0)
    console.print(cases_table(report))
    console.print(means_table(report))
    console.print(squad_table({"qa": {"hit@1": 0.8, "ingest_s": 12.0}, "naive": {"hit@1": 0.6}}))
    text = console.export_text()
    assert "q08" in text and "abstained (right)" in text
    assert "abstention_recall" in text
    assert "0.800" in text and "0.600" in text and "12.0" in text


def test_compare_reports(tmp_path: Path) -> None:
    a = write_reports(_report("corpus", 0.0), tmp_path, stem="a").json
    b = write_reports(_report("corpus", 1.0), tmp_path, stem="b").json
    comparison = compare(a, b)
    deltas = {d.metric: d.delta for d in comparison.deltas}
    assert deltas["contains"] == 1.0
    assert deltas["abstention_recall"] == 0.0
    assert comparison.fixed == ("q08",) and comparison.broken == ()
    assert compare(b, a).broken == ("q08",)
    side = {"qa": {"hit@1": 0.5, "ingest_s": 10.0}, "naive": {"hit@1": 0.4}}
    assert {d.metric: d.delta for d in compare(side, side).deltas} == {"hit@1": 0, "ingest_s": 0}
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="not an evaluation report"):
        compare(tmp_path / "bad.json", b)


# --- end to end on the corpus ----------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_runs_cases_through_answer(corpus_settings: Settings) -> None:
    cases = {c.id: c for c in load_dataset(QUESTIONS)}
    chosen = [cases["q08"], cases["q07"], next(c for c in cases.values() if not c.answerable)]
    seen: list[tuple[int, int, str]] = []
    report = evaluate(
        chosen, corpus_settings, dataset=str(QUESTIONS), progress=lambda *a: seen.append(a)
    )
    assert [r.id for r in report.cases] == ["q08", "q07", chosen[2].id]
    assert seen == [(1, 3, "q08"), (2, 3, "q07"), (3, 3, chosen[2].id)]
    un = report.cases[0]
    assert un.answered and un.scores["contains"] == 1.0 and un.scores["contains_all"] == 1.0
    assert un.scores["hit@5"] == 1.0 and un.scores["citation_recall"] == 1.0
    assert not report.cases[2].answered
    assert report.means["abstention_recall"] == 1.0
    assert report.settings["k"] == corpus_settings.k
    assert report.means["retrieve_p50_ms"] > 0


# --- SQuAD ----------------------------------------------------------------------------------


@needs_squad
def test_squad_loads_and_samples_deterministically(tmp_path: Path) -> None:
    articles = load_squad(SQUAD_ZIP)
    assert len(articles) == 48
    assert sum(len(a.cases) for a in articles) == 10570
    assert articles[0].file_name == "00_Super_Bowl_50.txt"
    first = articles[0].cases[0]
    assert first.source == "00_Super_Bowl_50.txt" and first.answers
    for case in articles[0].cases:
        assert all(answer in articles[0].text for answer in case.answers)
    sample = sample_cases(articles, 10, seed=0)
    assert [c.id for c in sample] == [c.id for c in sample_cases(articles, 10, seed=0)]
    assert len({c.id for c in sample}) == 10
    assert len(sample_cases(articles[:1], 10**6)) == len(articles[0].cases)
    (path,) = write_articles(articles[:1], tmp_path)
    assert path.read_text(encoding="utf-8") == articles[0].text


def test_squad_errors(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"version": "1.1"}', encoding="utf-8")
    with pytest.raises(ValueError, match="expected a top-level 'data' list"):
        load_squad(tmp_path / "x.json")
    with pytest.raises(ValueError, match="unknown baseline 'smart'; choose one of naive"):
        run_squad(tmp_path / "x.json", baseline="smart")


@needs_squad
@pytest.mark.slow
def test_squad_slice_side_by_side(tmp_path: Path) -> None:
    run = run_squad(
        SQUAD_ZIP,
        limit=10,
        max_articles=3,
        baseline="naive",
        settings=Settings(store_dir=tmp_path / "unused"),
    )
    assert len(run.report.cases) == 10
    assert run.report.extra["articles"] == 3 and run.report.extra["questions"] == 10
    sources = {"00_Super_Bowl_50.txt", "01_Warsaw.txt", "02_Normans.txt"}
    assert {c.source for c in sample_cases(load_squad(SQUAD_ZIP)[:3], 10)} <= sources
    side = run.side_by_side()
    assert list(side) == ["qa", "naive"]
    for figures in side.values():
        assert {"ingest_s", "hit@1", "hit@5", "mrr@10", "query_p50_ms"} <= set(figures)
        assert 0 <= figures["hit@1"] <= figures["hit@5"] <= 1
        assert figures["questions"] == 10
    assert run.qa["hit@5"] >= 0.7
    assert run.naive is not None and run.naive["hit@5"] >= 0.5
    assert not (tmp_path / "unused").exists()
    assert run.report.extra["side_by_side"] == side
