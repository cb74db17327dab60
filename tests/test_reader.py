"""The reader on the shipped adapter: spans with exact offsets, and odd passages and questions
read without an error (an answer or an abstention)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from qa.answering.reader import MAX_TOKENS, Reader, load_reader, reader_record, windows

ARTICLE = (ROOT / "corpus" / SEED).read_text(encoding="utf-8")
CO_CHAIRS = (
    "The OSCE Minsk Group co-chaired by the United States, Russia and France has been mediating "
    "the Armenian-Azerbaijani conflict since the signing of the volatile cease-fire agreement "
    "in 1994."
)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return load_reader()


def test_the_span_is_text_of_the_passage_at_its_offsets(reader: Reader) -> None:
    (r,) = reader.read("In what year was the cease-fire signed?", [CO_CHAIRS])
    assert CO_CHAIRS[r.start : r.end] == "1994"
    (r,) = reader.read("Which countries co-chair the OSCE Minsk Group?", [CO_CHAIRS])
    assert CO_CHAIRS[r.start : r.end].removeprefix("the ") == "United States, Russia and France"
    assert reader_record().confidence(r.score) >= reader_record().threshold


def test_a_passage_longer_than_a_window_is_read_in_overlapping_windows(reader: Reader) -> None:
    long = ARTICLE * 3
    question = "What are the numbers of the resolutions that demand withdrawal?"
    encoding = windows(reader.tokenizer, [question], [long])
    assert len(encoding["input_ids"]) > 3
    assert encoding["input_ids"].shape[1] <= MAX_TOKENS
    (r,) = reader.read(question, [long])
    assert long[r.start : r.end] == "822, 853, 874 and 884"
    assert r.start > len(ARTICLE)  # found in a later window, at its offset in the whole text


@pytest.mark.parametrize(
    "passage",
    [
        "",
        "   \n\n  ",
        "Die Bundesregierung hat am Montag neue Regeln für den Bahnverkehr beschlossen.",
        "| 2019 | 41 | 3.2 |\n| 2020 | 57 | 4.1 |\n| 2021 | 12 | 0.9 |",
        "!!! ??? ... ---",
    ],
)
def test_odd_passages_give_a_score_and_offsets_inside_them(reader: Reader, passage: str) -> None:
    (r,) = reader.read("How many people were injured?", [passage])
    assert 0 <= r.start <= r.end <= len(passage)
    assert not math.isnan(r.score)


def test_a_question_longer_than_the_window_is_cut(reader: Reader) -> None:
    question = "Which resolutions demand withdrawal? " + "and also " * 400
    (r,) = reader.read(question, [CO_CHAIRS])
    assert 0 <= r.start <= r.end <= len(CO_CHAIRS)


def test_an_adapter_that_cannot_be_read_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope\.npz: cannot read the adapter"):
        load_reader(tmp_path / "nope.npz")


def test_the_record_names_the_training_articles_and_threshold() -> None:
    record = reader_record()
    assert 0 < record.threshold < 1
    assert record.near_miss < record.threshold
    assert "Normans" in record.articles  # SQuAD 2.0 part 1
    assert "Super_Bowl_50" not in record.articles  # a SQuAD 1.1 development article


def test_odd_articles_and_a_long_question_through_the_pipeline(tmp_path: Path) -> None:
    from qa import answer, ingest
    from qa.config import Settings

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "table.txt").write_text(
        "Results by year\n\n"
        + "\n".join(f"| {2000 + i} | {i * 7} | {i * 3.5} |" for i in range(60))
    )
    (folder / "german.txt").write_text(
        "Die Bundesregierung hat am Montag neue Regeln für den Bahnverkehr beschlossen. "
        "Ab Juni sollen Fernzüge häufiger fahren, sagte der Verkehrsminister in Berlin."
    )
    (folder / "dots.txt").write_text("...\n\n---\n\n...")
    settings = Settings(store_dir=tmp_path / "store")
    ingest([folder], settings)
    for question in (
        "How many passengers travelled in 2031?",
        "Wann sollen Fernzüge häufiger fahren?",
        "What did the minister say? " + "Explain it in detail please. " * 60,
    ):
        a = answer(question, settings=settings)
        assert a.answered in (True, False)
        assert a.text
        if a.answered:
            c = a.citations[0]
            assert c.quote and c.quote in c.passage


def test_bf16_and_fp32_mark_the_same_spans(reader: Reader) -> None:
    """The fast path (bf16 autocast, chosen where the CPU has AVX-512 BF16 or AMX) and fp32
    (everywhere else) read alike: the same spans, scores within a fraction of a logit."""
    adapter = (ROOT / "qa" / "data" / "reader.npz").read_bytes()
    fp32, bf16 = Reader(adapter, bf16=False), Reader(adapter, bf16=True)
    questions = (
        "In what year was the cease-fire signed?",
        "Which countries co-chair the OSCE Minsk Group?",
        "Who mediates the conflict?",
        "What is the capital of Peru?",
    )
    for question in questions:
        (a,) = fp32.read(question, [CO_CHAIRS])
        (b,) = bf16.read(question, [CO_CHAIRS])
        assert (a.start, a.end) == (b.start, b.end), question
        assert abs(a.score - b.score) < 0.5, (question, a.score, b.score)
