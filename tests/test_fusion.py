"""The two fusions of dense and keyword rankings (`qa.index.retrieval`: `rrf` and `convex`)."""

from __future__ import annotations

from qa.index.retrieval import RRF_K, convex, rrf

DENSE = [("a", 1.0), ("b", 0.5), ("c", 0.0)]
KEYWORD = [("b", 4.0), ("d", 2.0)]


def test_rrf_sums_one_over_k_plus_rank() -> None:
    assert RRF_K == 60
    assert rrf(DENSE, KEYWORD) == {
        "a": 1 / 61,
        "b": 1 / 62 + 1 / 61,
        "c": 1 / 63,
        "d": 1 / 62,
    }


def test_rrf_reads_ranks_not_scores() -> None:
    assert rrf([("x", 0.001), ("y", 1000.0)]) == {"x": 1 / 61, "y": 1 / 62}
    assert rrf() == {}
    assert rrf([], []) == {}


def test_convex_weighs_min_max_normalised_scores() -> None:
    assert convex(DENSE, KEYWORD, 0.3) == {
        "a": 0.3,
        "b": 0.3 * 0.5 + 0.7,
        "c": 0.0,
        "d": 0.0,
    }
    assert convex(DENSE, KEYWORD, 0.3)["b"] == 0.85


def test_convex_with_one_ranking_or_none() -> None:
    assert convex([], KEYWORD, 0.3) == {"b": 0.7, "d": 0.0}
    assert convex(DENSE, [], 1.0) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert convex([], [], 0.3) == {}


def test_convex_equal_scores_all_normalise_to_zero() -> None:
    # max == min: the span falls back to 1, so no division by zero and no preference.
    assert convex([("a", 0.7), ("b", 0.7)], [("a", 2.0)], 0.3) == {"a": 0.0, "b": 0.0}
