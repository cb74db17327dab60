"""The grounding check on fixed answers, with the real bundled embedder and the seed article."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, SEED

from qa.answering.claims import (
    ABSTAIN,
    evidence_span,
    is_abstention,
    markers,
    missing_terms,
    split_answer,
)
from qa.answering.grounding import MIN_SIMILARITY, check
from qa.models.embedders import Embedder
from qa.models.registry import get_embedder
from qa.types import Chunk, Passage

ARTICLE = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")


def paragraph(startswith: str) -> Passage:
    """The seed article's paragraph starting with `startswith`, as a retrieved passage."""
    start = ARTICLE.index(startswith)
    end = ARTICLE.find("\n", start)
    end = len(ARTICLE) if end == -1 else end
    chunk = Chunk(
        id=f"seed-{start}",
        article_id="seed",
        source=f"corpus/{SEED}",
        index=0,
        text=ARTICLE[start:end],
        start=start,
        end=end,
        title="NATO rejects illegal elections in Nagorno-Karabakh",
        date="2020-04-01",
        publisher="Azernews",
        author="Akbar Mammadov",
    )
    return Passage(chunk=chunk, score=1.0)


MINSK = paragraph("The OSCE Minsk Group")  # holds "resolutions (822, 853, 874 and 884)"
NATO = paragraph("NATO has rejected")
WAR = paragraph("Azerbaijan and Armenia are locked")
PASSAGES = (MINSK, NATO, WAR)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder("sentence-transformers:all-MiniLM-L6-v2")


def test_a_supported_paraphrase_survives(embedder: Embedder) -> None:
    text = (
        "Armenia has not complied with the UN Security Council resolutions 822, 853, 874 "
        "and 884, which call for its troops to leave the occupied lands [1]."
    )
    r = check(text, PASSAGES, embedder)
    assert [s.text for s in r.kept_sentences] == [text]
    assert r.removed == ()
    assert r.citations_used == (0,)
    (support,) = r.kept_sentences[0].supports
    assert support.passage == 0
    assert support.similarity >= MIN_SIMILARITY
    assert "resolutions (822, 853, 874 and 884)" in MINSK.chunk.text[support.start : support.end]


def test_a_number_missing_from_the_cited_passage_is_removed(embedder: Embedder) -> None:
    good = "The OSCE Minsk Group is co-chaired by the United States, Russia and France [1]."
    bad = "The cease-fire agreement was signed in 1995 [1]."
    r = check(f"{good} {bad}", PASSAGES, embedder)
    assert [s.text for s in r.kept_sentences] == [good]
    assert [(x.sentence, x.reason) for x in r.removed] == [(bad, "'1995' does not occur in [1]")]


def test_a_name_missing_from_the_cited_passage_is_removed(embedder: Embedder) -> None:
    # Germany is in none of the passages; the United States is in [1] but not in [2].
    r = check(
        "Germany co-chairs the OSCE Minsk Group [1]. NATO rejected the elections, "
        "as did the United States [2].",
        PASSAGES,
        embedder,
    )
    assert [x.reason for x in r.removed] == [
        "'Germany' does not occur in [1]",
        "'United', 'States' do not occur in [2]",
    ]
    assert r.kept_sentences == ()


def test_a_sentence_citing_a_passage_that_was_not_given_is_removed(embedder: Embedder) -> None:
    bad = "The Minsk Group is co-chaired by the United States, Russia and France [7]."
    r = check(bad, PASSAGES, embedder)
    assert r.kept_sentences == ()
    assert [(x.sentence, x.reason) for x in r.removed] == [
        (bad, "cites [7], which was not given (passages 1-3)")
    ]


def test_a_sentence_without_a_citation_is_removed(embedder: Embedder) -> None:
    r = check("The Minsk Group is co-chaired by Russia.", PASSAGES, embedder)
    assert [x.reason for x in r.removed] == ["cites no passage"]


def test_a_sentence_far_from_the_cited_passage_is_removed(embedder: Embedder) -> None:
    # Every name occurs in [1], but the passage says nothing of the kind.
    r = check("The United States sells Armenian cognac in France [1].", PASSAGES, embedder)
    (removed,) = r.removed
    found = re.fullmatch(
        r"not close to any sentence of \[1\] \(similarity (0\.\d{3}) < 0\.50\)", removed.reason
    )
    assert found, removed.reason
    assert float(found.group(1)) < 0.4


def test_citations_are_reported_in_order_of_first_use(embedder: Embedder) -> None:
    text = (
        "More than 20,000 Azerbaijanis were killed in the war [3]. "
        "NATO does not accept the results of the elections in Nagorno-Karabakh [2]. "
        "Around one million people were displaced [3]."
    )
    r = check(text, PASSAGES, embedder)
    assert r.removed == ()
    assert r.citations_used == (2, 1)
    assert r.faithfulness_before == 1.0


def test_the_abstention_sentence_needs_no_citation(embedder: Embedder) -> None:
    r = check(ABSTAIN, PASSAGES, embedder)
    assert r.abstained
    assert r.removed == ()
    assert r.claim_count == 0
    assert is_abstention("The passages do not mention the turnout.")
    assert not is_abstention("The passages say Russia co-chairs the group [1].")


def test_mark_mode_keeps_unsupported_sentences_and_still_reports_them(
    embedder: Embedder,
) -> None:
    good = "The OSCE Minsk Group is co-chaired by the United States, Russia and France [1]."
    bad = "The cease-fire agreement was signed in 1995 [1]."
    r = check(f"{good} {bad}", PASSAGES, embedder, mode="mark")
    assert [(s.text, s.supported) for s in r.kept_sentences] == [(good, True), (bad, False)]
    assert [x.reason for x in r.removed] == ["'1995' does not occur in [1]"]
    assert (r.faithfulness_before, r.faithfulness_after) == (0.5, 0.5)


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    assert split_answer("Russia co-chairs it. [1] France too. [1][2]") == [
        "Russia co-chairs it. [1]",
        "France too. [1][2]",
    ]
    assert markers("A [2, 3] and [2] again [1].") == (2, 3, 1)


def test_numbers_and_dates_are_compared_normalised() -> None:
    # "20000" is "20,000"; the passage's date 2020-04-01 reads as April 1, 2020.
    assert missing_terms("20000 Azerbaijanis were killed [3].", [WAR]) == []
    assert missing_terms("On April 1, 2020, Azernews reported it [3].", [WAR]) == []
    assert missing_terms("On May 1, 2020 it ended [3].", [WAR]) == ["May"]


def test_the_quote_holds_every_number_and_name_of_the_sentence() -> None:
    # The closest sentence of WAR to this claim is the first (the occupation); the number is
    # in the second: the quote must run over both, and no further.
    first_end = WAR.chunk.text.index("1990s.") + len("1990s.")
    claim = "More than 20,000 Azerbaijanis were killed in the war of the early 1990s [1]."
    a, b = evidence_span(claim, WAR, (0, first_end))
    assert WAR.chunk.text[a:b] == (
        "Azerbaijan and Armenia are locked in a conflict over Azerbaijan’s Nagorno-Karabakh "
        "breakaway region, which along with seven adjacent regions was occupied by Armenian "
        "forces in a war in the early 1990s. More than 20,000 Azerbaijanis were killed and "
        "around one million were displaced as a result of the large-scale hostilities."
    )
    # A claim whose numbers stand in one sentence quotes that sentence alone.
    one = "Around one million people were displaced by the hostilities [1]."
    a, b = evidence_span(one, WAR, (0, first_end))
    assert WAR.chunk.text[a:b].startswith("More than 20,000") and b == len(WAR.chunk.text)
    # Terms from the header only (the publisher) leave the closest span as it is.
    assert evidence_span("Azernews reported it [1].", WAR, (0, first_end)) == (0, first_end)
