"""The evaluation metrics on hand-made cases whose values are known."""

from __future__ import annotations

import pytest

from qa.evaluation.metrics import (
    abstention_scores,
    answer_contains,
    citation_precision,
    citation_recall,
    contains_all,
    exact_match,
    hit_at_k,
    normalize_answer,
    percentile,
    quote_supports,
    reciprocal_rank,
    token_f1,
)

RESOLUTIONS_SENTENCE = (
    "The Minsk Group’s efforts have resulted in no progress and to this date, Armenia has "
    "failed to abide by the UN Security Council resolutions (822, 853, 874 and 884) that "
    "demand the withdrawal of Armenian military forces from the occupied territories of "
    "Azerbaijan."
)
CASUALTIES_SENTENCE = (
    "More than 20,000 Azerbaijanis were killed and around one million were displaced as a "
    "result of the large-scale hostilities."
)
EVIDENCE = "resolutions (822, 853, 874 and 884) that demand the withdrawal"
REFERENCES = ["822, 853, 874 and 884"]
REQUIRED = ["822", "853", "874", "884"]


def test_normalize_answer_is_squad_style() -> None:
    assert normalize_answer("  The  United States, Russia and France! ") == (
        "united states russia and france"
    )
    assert normalize_answer("Georgia’s “elections”") == "georgias elections"
    assert normalize_answer("More than 20,000") == "more than 20000"
    assert normalize_answer("An apple, a theory") == "apple theory"


def test_right_answer_scores_full_marks() -> None:
    assert exact_match("the 822, 853, 874 and 884", REFERENCES) == 1.0
    assert token_f1("822, 853, 874 and 884.", REFERENCES) == 1.0
    assert answer_contains(RESOLUTIONS_SENTENCE, REFERENCES) == 1.0
    assert contains_all(RESOLUTIONS_SENTENCE, REQUIRED) == 1.0


def test_whole_sentence_answer_is_contained_but_not_exact() -> None:
    assert exact_match(RESOLUTIONS_SENTENCE, REFERENCES) == 0.0
    # The sentence has 39 normalized tokens and holds all 5 of the reference: 2*5/(39+5).
    assert token_f1(RESOLUTIONS_SENTENCE, REFERENCES) == 10 / 44


def test_token_f1_takes_the_best_reference() -> None:
    # "osce minsk group mediates" vs "osce minsk group": precision 3/4, recall 1.
    assert token_f1("The OSCE Minsk Group mediates", ["NATO", "the OSCE Minsk Group"]) == 6 / 7
    assert token_f1("anything", []) == 0.0


def test_wrong_answer_scores_zero() -> None:
    assert exact_match(CASUALTIES_SENTENCE, REFERENCES) == 0.0
    # Only "and" is shared: 17 and 5 tokens, F1 = 2*1/(17+5), within one float rounding.
    assert token_f1(CASUALTIES_SENTENCE, REFERENCES) == pytest.approx(1 / 11, rel=1e-12)
    assert token_f1("Azerbaijanis were killed", REFERENCES) == 0.0
    assert answer_contains(CASUALTIES_SENTENCE, REFERENCES) == 0.0
    assert contains_all(CASUALTIES_SENTENCE, REQUIRED) == 0.0


def test_containment_is_on_whole_tokens() -> None:
    assert answer_contains("It was signed in 1994.", ["1994"]) == 1.0
    assert answer_contains("It was signed in 1994.", ["199"]) == 0.0
    assert answer_contains("published 2020-04-01", ["20"]) == 0.0
    assert answer_contains("anything", ["the"]) == 0.0  # normalizes to nothing


def test_list_answer_missing_one_part() -> None:
    prediction = "Resolutions 822, 853 and 874 demand the withdrawal."
    assert contains_all(prediction, REQUIRED) == 0.0
    assert answer_contains(prediction, REFERENCES) == 0.0
    assert contains_all(prediction, REQUIRED[:3]) == 1.0
    assert contains_all(prediction, []) == 1.0


def test_retrieval_hit_and_reciprocal_rank() -> None:
    passages = [CASUALTIES_SENTENCE, "NATO supports the OSCE Minsk Group.", RESOLUTIONS_SENTENCE]
    assert hit_at_k(passages, EVIDENCE, 1) == 0.0
    assert hit_at_k(passages, EVIDENCE, 3) == 1.0
    assert reciprocal_rank(passages, EVIDENCE) == 1 / 3
    assert reciprocal_rank(passages, EVIDENCE, k=2) == 0.0
    assert reciprocal_rank([], EVIDENCE) == 0.0


def test_retrieval_ignores_line_breaks_in_passages() -> None:
    wrapped = RESOLUTIONS_SENTENCE.replace(" (822, ", "\n(822,\n  ")
    assert hit_at_k([wrapped], EVIDENCE, 1) == 1.0


def test_retrieval_needs_evidence() -> None:
    with pytest.raises(ValueError, match="evidence is empty"):
        hit_at_k(["x"], "  ", 1)
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        hit_at_k(["x"], "x", 0)


def test_citations_right_and_wrong() -> None:
    right, wrong = RESOLUTIONS_SENTENCE, CASUALTIES_SENTENCE
    assert citation_precision([right], EVIDENCE, REFERENCES) == 1.0
    assert citation_precision([right, wrong], EVIDENCE, REFERENCES) == 0.5
    assert citation_precision([wrong], EVIDENCE, REFERENCES) == 0.0
    assert citation_recall([wrong, right], EVIDENCE, REFERENCES) == 1.0
    assert citation_recall([wrong], EVIDENCE, REFERENCES) == 0.0
    assert citation_precision([], EVIDENCE, REFERENCES) == 0.0
    assert citation_recall([], EVIDENCE, REFERENCES) == 0.0


def test_a_quote_inside_two_sentence_evidence_supports() -> None:
    evidence = "in the early 1990s. " + CASUALTIES_SENTENCE
    assert quote_supports(CASUALTIES_SENTENCE, evidence, ["seven"])
    assert not quote_supports("NATO supports the OSCE Minsk Group.", evidence, ["seven"])
    assert not quote_supports("", evidence, [])


def test_empty_evidence_supports_only_through_references() -> None:
    assert citation_precision([RESOLUTIONS_SENTENCE], "", REFERENCES) == 1.0
    assert citation_precision([CASUALTIES_SENTENCE], "", REFERENCES) == 0.0


def test_abstention_scores() -> None:
    pairs = [
        (False, False),  # unanswerable, abstained: right
        (False, True),  # unanswerable, answered: missed abstention
        (True, False),  # answerable, abstained: should have answered
        (True, True),
        (False, False),
    ]
    assert abstention_scores(pairs) == (2 / 3, 2 / 3)
    assert abstention_scores([(True, True)]) == (1.0, 1.0)
    assert abstention_scores([(True, False)]) == (0.0, 1.0)
    assert abstention_scores([(False, True)]) == (1.0, 0.0)


def test_percentile_interpolates_like_numpy() -> None:
    values = [40.0, 10.0, 20.0, 30.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == 38.5
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="percentile of no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"p must be 0\.\.100, got 101"):
        percentile(values, 101)
