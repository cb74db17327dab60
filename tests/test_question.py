"""Question analysis (answer type, key terms) and short answers, on the seed article's text."""

from __future__ import annotations

import pytest

from qa.question import analyse, kind_of
from qa.short import short_answer, typed_spans

CO_CHAIRS = (
    "The OSCE Minsk Group co-chaired by the United States, Russia and France has been mediating "
    "the Armenian-Azerbaijani conflict since the signing of the volatile cease-fire agreement "
    "in 1994."
)
KILLED = (
    "More than 20,000 Azerbaijanis were killed and around one million were displaced as a "
    "result of the large-scale hostilities."
)
POSTED = (
    "NATO's Deputy Assistant Secretary General for Political Affairs and Special Representative "
    "for the Caucasus and Central Asia James Appathurai wrote on his Facebook page on March 31."
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Azerbaijanis were killed in the hostilities?", "number"),
        ("In what year was the cease-fire signed?", "date"),
        ("When was the cease-fire agreement signed?", "date"),
        ("Which three nations lead the mediation effort?", "list"),
        ("Which countries co-chair the OSCE Minsk Group?", "list"),
        ("Which UN Security Council resolutions demand withdrawal?", "list"),
        ("Where were the elections that NATO rejected held?", "place"),
        ("Which organization rejected the elections?", "organisation"),
        ("Who wrote the Facebook post rejecting the elections?", "person"),
        ("Who is the author of the article about NATO rejecting the elections?", "author"),
        ("Which outlet published the article on the Karabakh elections?", "publisher"),
        ("When was the article about the Karabakh elections published?", "published"),
        ("What have the Minsk Group's efforts resulted in?", "other"),
        # Words that start like the header's ("authority", "authorised") are not about it.
        ("How much did the port authority approve for the Kelvaro bridge?", "number"),
        ("Who authorised the Kelvaro bridge?", "person"),
        ("What does the Western alliance back when it comes to Georgia?", "other"),
        ("Roughly how many people lost their homes?", "number"),
    ],
)
def test_answer_type_from_the_question_words(question: str, kind: str) -> None:
    assert kind_of(question) == kind


def test_key_terms_are_the_names_numbers_and_dates_of_the_question() -> None:
    q = analyse("Did NATO reject the Abkhazia elections on 12 March 1999 three times?")
    assert q.names == ("nato", "abkhazia")
    assert q.dates == ("march", "1999")
    assert q.numbers == ("12",)
    assert q.key_terms == ("nato", "abkhazia", "12", "march", "1999")
    assert analyse("Which three nations lead the effort?").count == 3
    assert analyse("Why did NATO not accept the results?").negated
    assert not analyse("Why did NATO reject the results?").negated


@pytest.mark.parametrize(
    ("question", "sentence", "short"),
    [
        ("Which countries co-chair the OSCE Minsk Group?", CO_CHAIRS,
         "the United States, Russia and France"),
        ("When was the cease-fire agreement signed?", CO_CHAIRS, "1994"),
        ("How many Azerbaijanis were killed in the hostilities?", KILLED, "20,000"),
        ("On what date did Appathurai post NATO's statement?", POSTED, "March 31"),
        ("Who wrote on his Facebook page on March 31?", POSTED, "James Appathurai"),
        ("Which group has been mediating the conflict?", CO_CHAIRS, "OSCE Minsk Group"),
        ("Which UN resolutions demand withdrawal?",
         "Armenia has failed to abide by the UN Security Council resolutions (822, 853, 874 and "
         "884) that demand the withdrawal of Armenian military forces.", "822, 853, 874 and 884"),
    ],
)  # fmt: skip
def test_short_answer_is_the_typed_span_nearest_the_question(
    question: str, sentence: str, short: str
) -> None:
    span = short_answer(analyse(question), sentence)
    assert span is not None
    assert sentence[span[0] : span[1]] == short


def test_no_short_answer_when_the_sentence_lacks_the_type() -> None:
    # "In what year" and a sentence without a year: nothing to pick.
    assert short_answer(analyse("In what year did the Minsk Group make progress?"), KILLED) is None
    # A name the question already holds is not an answer.
    assert (
        short_answer(analyse("Who co-chairs the OSCE Minsk Group?"), "The OSCE Minsk Group.")
        is None
    )
    assert typed_spans("It happened in the early 1990s and again on 12 May 1999.", "date") == [
        (15, 30), (44, 55),
    ]  # fmt: skip


def test_a_capitalised_first_word_is_a_name_unless_it_is_an_adverb() -> None:
    assert analyse("Roughly how many people lost their homes?").names == ()
    assert analyse("NATO rejected which elections?").names == ("nato",)
    assert analyse("Kelly wrote which post?").names == ("kelli",)
