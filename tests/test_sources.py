"""Articles that agree, disagree or update each other, through the real pipeline.

`tests/news/` holds short invented news articles in pairs from different outlets and dates:
a bridge collapse whose injured count differs (41 against 57), a mayoral election won by two
different people, a library opening on two different dates, a marathon crowd given as "20,000"
and "some twenty thousand", and, beside the seed article (1 April 2020: "around one million
were displaced"), an invented later article (20 November 2020) updating that figure.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, SEED

from qa import Settings, answer
from qa.ingestion.job import ingest
from qa.types import Side

NEWS = ROOT / "tests" / "news"


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("news")
    shutil.copytree(NEWS, folder / "news")
    shutil.copy(ROOT / "corpus" / SEED, folder / "news" / SEED)
    settings = Settings(store_dir=folder / "store")
    report = ingest([folder / "news"], settings)
    assert report.failed == [] and len(report.added) == 10
    return settings


def sides(a: object) -> list[tuple[str, str | None, str | None, int]]:
    return [(s.short, s.publisher, s.date, s.n) for s in a.conflicts]  # type: ignore[attr-defined]


def test_a_number_the_articles_disagree_on_is_reported_with_both_sides(news: Settings) -> None:
    a = answer("How many people were injured when the Kelvaro footbridge collapsed?",
               settings=news)  # fmt: skip
    assert a.answered
    assert sides(a) == [
        ("57", "Coastal Wire", "2023-05-04", 1),
        ("41", "Harbour Herald", "2023-05-02", 2),
    ]
    assert a.text == (
        "The sources differ: Coastal Wire (4 May 2023) says 57 [1]; "
        "Harbour Herald (2 May 2023) says 41 [2]."
    )
    first, second = a.citations
    assert first.source.endswith("kelvaro-wire.txt") and "57 people were injured" in first.quote
    assert second.source.endswith("kelvaro-herald.txt") and "41 people were injured" in second.quote
    assert a.verdict == "the sources differ"
    assert all(isinstance(s, Side) for s in a.conflicts)


def test_a_name_and_a_date_the_articles_disagree_on(news: Settings) -> None:
    won = answer("Who won the mayoral election in Dunmore?", settings=news)
    assert [(s.short, s.publisher) for s in won.conflicts] == [
        ("Ruben Castell", "Valley Courier"),
        ("Tessa Okafor", "Dunmore Post"),
    ]
    opened = answer("When did the Linden Street library open?", settings=news)
    assert [(s.short, s.date) for s in opened.conflicts] == [
        ("12 March", "2021-03-14"),
        ("3 March", "2021-03-05"),
    ]


def test_articles_agreeing_in_other_words_give_one_answer_citing_both(news: Settings) -> None:
    a = answer("How many spectators watched the Riverside marathon?", settings=news)
    assert a.answered and a.conflicts == ()
    assert {c.source.rsplit("/", 1)[1] for c in a.citations} == {
        "marathon-record.txt",
        "marathon-daily.txt",
    }
    assert a.text.startswith(f"{a.according_to}: ")
    assert a.according_to in (
        "According to Riverside Record on 15 April 2024",
        "According to Riverside Daily on 16 April 2024",
    )


def test_a_follow_up_after_a_conflict_is_searched_with_the_conversation(news: Settings) -> None:
    question = "How many people were injured when the Kelvaro footbridge collapsed?"
    first = answer(question, settings=news)
    follow = answer("and who promised an inquiry?", history=[(question, first.text)],
                    settings=news)  # fmt: skip
    assert question in follow.query
    assert follow.answered and follow.short == "Mayor Ilse Varga"
    assert follow.citations[0].source.endswith("kelvaro-wire.txt")


def test_every_answer_says_who_said_it_and_when(news: Settings) -> None:
    a = answer("Which UN resolutions demand withdrawal?", settings=news)
    assert a.according_to == "According to Azernews on 1 April 2020"
    assert a.text.startswith("According to Azernews on 1 April 2020: ")
    assert a.text.endswith("[1]")
    assert a.to_dict()["according_to"] == a.according_to


def test_a_later_article_updating_the_seed(news: Settings) -> None:
    past = answer("How many people were displaced by the hostilities?", settings=news)
    assert [(s.publisher, s.date) for s in past.conflicts] == [
        ("Caspian Monitor", "2020-11-20"),
        ("Azernews", "2020-04-01"),
    ]
    now = answer("How many people are displaced now?", settings=news)
    assert now.answered and now.conflicts == ()
    assert now.as_of == "2020-11-20"
    assert now.text.startswith("As of 20 November 2020, according to Caspian Monitor")
    assert now.short == "about two million"
    then = answer("How many people were displaced?", settings=news, as_of="2020-06-30")
    assert then.as_of == "2020-04-01"
    assert then.citations[0].source.endswith(SEED)
    assert "around one million" in then.short
