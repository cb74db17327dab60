"""Which questions ask about an article itself (its author, outlet or date): those go to its
header, every other question to the reader."""

from __future__ import annotations

import pytest

from qa.answering.question import analyse, kind_of


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is the author of the article about NATO rejecting the elections?", "author"),
        ("Who wrote the article on the Karabakh elections?", "author"),
        ("Which outlet published the article on the Karabakh elections?", "publisher"),
        ("When was the article about the Karabakh elections published?", "published"),
        # Words that start like the header's ("authority", "authorised") are not about it.
        ("How much did the port authority approve for the Kelvaro bridge?", "other"),
        ("Who authorised the Kelvaro bridge?", "other"),
        ("Who wrote the Facebook post rejecting the elections?", "other"),
        ("When was the cease-fire agreement signed?", "other"),
    ],
)
def test_header_questions_are_told_apart(question: str, kind: str) -> None:
    assert kind_of(question) == kind
    assert analyse(question).asks_header is (kind != "other")


def test_terms_are_the_content_stems() -> None:
    assert analyse("Which outlet published the cease-fire article?").terms == (
        "outlet",
        "publish",
        "ceasefir",
        "articl",
    )
