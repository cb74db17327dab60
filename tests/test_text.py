"""The text module: one tokenizer and stemmer for the keyword index and the answerer."""

from __future__ import annotations

from pathlib import Path

from qa.config import Settings
from qa.index.store import Index
from qa.text import query_terms, term_set, terms, tokens
from qa.types import Chunk


def test_tokens_fold_case_accents_possessives_and_thousands() -> None:
    toks = tokens("NATO's cease-fire: 20,000 Azerbaijanis’s, Müller, 3.5%")
    assert [t.word for t in toks] == [
        "nato", "cease", "fire", "20000", "azerbaijanis", "muller", "3.5",
    ]  # fmt: skip
    assert [t.stem for t in toks][-4:] == ["20000", "azerbaijani", "muller", "3.5"]
    text = "NATO's cease-fire"
    assert [text[t.start : t.end] for t in tokens(text)] == ["NATO's", "cease", "fire"]


def test_compounds_meet_in_every_spelling() -> None:
    # The index holds the parts and the catenation of a hyphenated compound.
    assert terms("the volatile cease-fire agreement") == [
        "volatil", "ceas", "fire", "agreement", "ceasefir",
    ]  # fmt: skip
    spellings = ("ceasefire", "cease-fire", "cease fire")
    sentences = [term_set(f"The {s} was signed in 1994.") for s in spellings]
    for question in spellings[:2]:
        # A question's compound is one term, found in a sentence spelling it any way.
        assert query_terms(f"When was the {question} signed?") == ["ceasefir", "sign"]
        assert all("ceasefir" in words for words in sentences)
    # Two words stay two words, found where the sentence has both.
    assert query_terms("When was the cease fire signed?") == ["ceas", "fire", "sign"]
    assert [{"ceas", "fire"} <= words for words in sentences] == [False, True, True]


def test_keyword_index_finds_a_compound_in_another_spelling(tmp_path: Path) -> None:
    index = Index(Settings(store_dir=tmp_path, embedder="fake:hash"))
    chunk = Chunk(
        id="a-0000", article_id="a", source="a.txt", index=0, title="t", start=0, end=52,
        text="The volatile cease-fire agreement was signed in 1994.",
    )  # fmt: skip
    import numpy as np

    row = {
        "source": "a.txt", "path": str(tmp_path / "a.txt"), "key": "a", "text_hash": "h",
        "title": "t", "date": None, "publisher": None, "author": None, "url": None,
        "size": 1, "mtime_ns": 1, "chunks": 1, "header": "",
    }  # fmt: skip
    index.put_article(row, [chunk], np.ones((1, 64), dtype="float32") / 8)
    for query in ("ceasefire", "cease-fire", "cease fire", "Ceasefires"):
        assert [cid for cid, _ in index.keyword_search(query, 5)] == ["a-0000"], query
    assert index.doc_freqs(["ceasefir", "ceas", "1994"]) == {"ceasefir": 1, "ceas": 1, "1994": 1}
