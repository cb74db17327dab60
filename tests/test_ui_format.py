"""The chat UI's HTML: escaping, [n] links, highlighted quotes, names and messages.

Exact strings on purpose: these functions are the only thing between article text and the
browser, so a change in what they emit should be a conscious one.
"""

from __future__ import annotations

import pytest

from qa.types import Answer, Citation, IngestReport, Problem, Removed
from qa.ui import forms
from qa.ui import html as fmt
from qa.ui.library import MAX_NAME_CHARS, safe_filename

ARTICLE = (
    "The UN Security Council adopted four resolutions (822, 853, 874 and 884) that demand "
    "the withdrawal of the occupying forces."
)
QUOTE = "resolutions (822, 853, 874 and 884)"


def citation(n: int = 1, **changes: object) -> Citation:
    start = ARTICLE.index(QUOTE) + 100
    fields: dict[str, object] = {
        "n": n,
        "source": "corpus/000_597cfd3371608b94.txt",
        "title": "NATO rejects illegal elections",
        "date": "2020-04-01",
        "publisher": "Azernews",
        "quote": QUOTE,
        "start": start,
        "end": start + len(QUOTE),
        "chunk_id": "c1",
        "passage": ARTICLE,
        "passage_start": 100,
    }
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def answer(**changes: object) -> Answer:
    fields: dict[str, object] = {
        "question": "Which UN resolutions demand withdrawal?",
        "text": "Four resolutions (822, 853, 874 and 884) demand the withdrawal [1].",
        "answered": True,
        "citations": (citation(),),
        "query": "Which UN resolutions demand withdrawal?",
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def test_escape_turns_markup_into_text() -> None:
    assert fmt.escape('<script>window.__pwned=1</script> & "x"') == (
        "&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &quot;x&quot;"
    )
    assert fmt.escape("one\ntwo\r\n\nthree") == "one<br>two<br><br>three"


LINK1 = '<a class="qa-cite" href="#src-2-1" title="Show source 1">[1]</a>'
CITED1 = (
    f'<div class="qa-cited">{LINK1} NATO rejects illegal elections · Azernews · 2020-04-01</div>'
)
QUERY = '<div class="qa-query">Searched for: Which UN resolutions demand withdrawal?</div>'


def test_answer_links_cited_markers_only() -> None:
    html = fmt.format_answer(answer(text="A [1], not [7].", confidence=0.5), turn=2)
    assert html == (
        '<div class="qa-answer"><div class="qa-head">'
        '<span class="qa-verdict qa-weak">weak: check the source</span>'
        '<span class="qa-confidence">confidence 0.50</span></div>'
        f'<div class="qa-text">A {LINK1}, not [7].</div>{CITED1}{QUERY}</div>'
    )


def test_short_answer_first_in_bold_then_the_quote_and_its_source() -> None:
    quote = "The cease-fire agreement was signed in 1994."
    a = answer(text=f"{quote} [1]", short="1994", confidence=0.912)
    assert fmt.format_answer(a, turn=2) == (
        '<div class="qa-answer"><div class="qa-head"><strong class="qa-short">1994</strong>'
        '<span class="qa-verdict qa-well">well supported</span>'
        '<span class="qa-confidence">confidence 0.91</span></div>'
        f'<div class="qa-text">{quote} {LINK1}</div>{CITED1}{QUERY}</div>'
    )


@pytest.mark.parametrize(
    ("confidence", "kind", "words"),
    [
        (0.0, "qa-weak", "weak: check the source"),
        (0.699, "qa-weak", "weak: check the source"),
        (0.7, "qa-well", "well supported"),
        (1.0, "qa-well", "well supported"),
    ],
)
def test_the_verdict_is_the_answers_own_words(confidence: float, kind: str, words: str) -> None:
    a = answer(confidence=confidence)
    assert a.verdict == words
    assert fmt.verdict_kind(a) == kind
    assert f'<span class="qa-verdict {kind}">{words}</span>' in fmt.format_head(a)


def test_short_answer_and_source_names_are_escaped() -> None:
    a = answer(
        short="<b>Akbar</b> & co",
        confidence=0.85,
        citations=(citation(title="<script>t()</script>", publisher="A&B", date=None),),
    )
    html = fmt.format_answer(a, turn=1)
    assert '<strong class="qa-short">&lt;b&gt;Akbar&lt;/b&gt; &amp; co</strong>' in html
    assert (
        '<div class="qa-cited"><a class="qa-cite" href="#src-1-1" title="Show source 1">[1]</a>'
        " &lt;script&gt;t()&lt;/script&gt; · A&amp;B</div>"
    ) in html


def test_near_miss_is_labelled_not_in_the_corpus_above_the_closest_quote() -> None:
    quote = "More than 20,000 Azerbaijanis were killed."
    text = f"The corpus does not say that. The closest it says: “{quote}” [1]"
    a = answer(text=text, answered=False, near_miss=True, confidence=0.2, short="")
    assert fmt.format_answer(a, turn=2) == (
        '<div class="qa-answer qa-abstain qa-near-miss"><div class="qa-head">'
        '<span class="qa-verdict qa-near-miss">'
        "not in the corpus: the closest it says is quoted</span></div>"
        '<div class="qa-text">The corpus does not say that. The closest it says: '
        f"“{quote}” {LINK1}</div>{CITED1}{QUERY}</div>"
    )


def test_answer_escapes_article_text_and_has_no_blank_lines() -> None:
    text = "<img src=x onerror=alert(1)> says *this* $$x$$\n\nand <script>a()</script> [1]"
    html = fmt.format_answer(answer(text=text), turn=1)
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;a()&lt;/script&gt;" in html
    # One HTML block for the Markdown renderer: a blank line would end it.
    assert "\n" not in html


def test_unanswered_shows_the_plain_sentence_and_no_confidence() -> None:
    text = "The corpus does not say: none of the indexed articles answers this question."
    html = fmt.format_answer(answer(text=text, answered=False, citations=(), confidence=0.3), 3)
    assert html == (
        '<div class="qa-answer qa-abstain"><div class="qa-head">'
        '<span class="qa-verdict qa-none">not in the corpus</span></div>'
        f'<div class="qa-text">{text}</div>{QUERY}</div>'
    )
    assert fmt.format_sources(answer(answered=False, citations=()), 3) == (
        '<div class="qa-no-sources">No sources: the corpus does not answer this.</div>'
    )


def test_a_question_waiting_its_turn_says_so_and_is_not_an_answer() -> None:
    # Not "qa-answer": the browser tests count those as finished answers.
    assert fmt.format_waiting() == '<div class="qa-waiting">Waiting to be answered.</div>'


def test_removed_sentences_and_notice() -> None:
    one = fmt.format_answer(
        answer(removed=(Removed("Paris is <b>big</b>.", "not in the cited passage"),)), 1
    )
    assert (
        '<details class="qa-removed"><summary>1 unsupported sentence removed</summary>'
        "<ul><li>Paris is &lt;b&gt;big&lt;/b&gt;. "
        "<span class='qa-reason'>(not in the cited passage)</span></li></ul></details>"
    ) in one
    two = fmt.format_answer(answer(removed=(Removed("a", "r"), Removed("b", "r"))), 1)
    assert "<summary>2 unsupported sentences removed</summary>" in two
    notice = fmt.format_answer(answer(notice="llamacpp:smollm2 failed (timeout)"), 1)
    assert '<div class="qa-notice">llamacpp:smollm2 failed (timeout)</div>' in notice


def test_highlight_marks_the_quote_at_its_offsets() -> None:
    assert fmt.highlight(citation()) == (
        "The UN Security Council adopted four <mark>resolutions (822, 853, 874 and 884)</mark>"
        " that demand the withdrawal of the occupying forces."
    )


def test_highlight_escapes_inside_and_around_the_mark() -> None:
    passage = "<b>before</b> the <script>quote()</script> after & more"
    quote = "<script>quote()</script>"
    start = passage.index(quote)
    c = citation(passage=passage, quote=quote, start=start, end=start + len(quote), passage_start=0)
    assert fmt.highlight(c) == (
        "&lt;b&gt;before&lt;/b&gt; the <mark>&lt;script&gt;quote()&lt;/script&gt;</mark>"
        " after &amp; more"
    )


def test_highlight_with_wrong_offsets_finds_the_quote_or_shows_it_alone() -> None:
    shifted = citation(start=0, end=len(QUOTE), passage_start=0)
    assert fmt.highlight(shifted) == fmt.highlight(citation())
    missing = citation(quote="not <there>", start=0, end=11, passage_start=0)
    assert fmt.highlight(missing) == "<mark>not &lt;there&gt;</mark>"


def test_source_card() -> None:
    card = fmt.format_source_card(citation(n=2, title="A <i>title</i>", page=3), turn=4)
    assert card == (
        '<div class="qa-source" id="src-4-2"><div class="qa-source-head">'
        '<span class="qa-n">[2]</span> <span class="qa-title">A &lt;i&gt;title&lt;/i&gt;</span>'
        '</div><div class="qa-meta">Azernews · 2020-04-01 · <span class="qa-file">'
        "corpus/000_597cfd3371608b94.txt, p.&nbsp;3</span></div>"
        f'<blockquote class="qa-passage">{fmt.highlight(citation())}</blockquote></div>'
    )


def test_files_are_named_without_server_folders() -> None:
    assert fmt.display_file("corpus/a.txt") == "corpus/a.txt"
    assert fmt.display_file("/home/me/.local/share/qa/uploads/a b.md") == "a b.md"
    assert fmt.display_file("C:\\data\\x.pdf") == "x.pdf"


def test_sources_panel_latest_open_earlier_collapsed() -> None:
    assert "Ask a question" in fmt.format_sources_panel([])
    panel = fmt.format_sources_panel([("first <q>", "<p>S1</p>"), ("second", "<p>S2</p>")])
    assert panel == (
        '<div class="qa-sources"><div class="qa-sources-for">Sources for: second</div>'
        "<p>S2</p>"
        '<details class="qa-earlier"><summary>Earlier: first &lt;q&gt;</summary>'
        "<p>S1</p></details></div>"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("", None), ("  ", None), (None, None), (" 2020-04-01 ", "2020-04-01")]
)
def test_parse_date_accepts(value: str | None, expected: str | None) -> None:
    assert forms.parse_date(value, "Date from") == expected


@pytest.mark.parametrize("value", ["2020-13-01", "2020-02-30", "April 1", "2020-4-1", "20200401"])
def test_parse_date_rejects_with_the_value_and_the_format(value: str) -> None:
    with pytest.raises(ValueError) as e:
        forms.parse_date(value, "Date to")
    assert str(e.value) == (
        f"Date to {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2020-04-01, "
        "or leave it empty"
    )


def test_date_range_in_order() -> None:
    assert forms.parse_date_range("2020-01-01", "") == ("2020-01-01", None)
    with pytest.raises(ValueError, match=r"^Date from \(2021-01-01\) is after date to"):
        forms.parse_date_range("2021-01-01", "2020-01-01")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../evil.txt", "evil.txt"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.md", "win.md"),
        ("/abs/path/a.pdf", "a.pdf"),
        ("a b(1).txt", "a_b_1_.txt"),
        ("Café Ünïcode.md", "Café_Ünïcode.md"),
        (".hidden.txt", "hidden.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("x;rm -rf ~.html", "x_rm_-rf_.html"),
        ("a\x00b.txt", "a_b.txt"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_safe_filename_shortens_but_keeps_the_extension() -> None:
    name = safe_filename("x" * 300 + ".jsonl")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith("x.jsonl")


def test_ingest_report_lists_every_failure_as_file_and_reason() -> None:
    report = IngestReport(
        added=["uploads/good.txt"],
        failed=[Problem("/srv/qa/uploads/bad.txt", "binary data, not text (b'\\x00\\x01')")],
        duplicates=[Problem("uploads/copy.txt", "same text as corpus/a.txt")],
    )
    rejected = [Problem("tool.exe", "unsupported type '.exe'")]
    html = forms.format_ingest_report(report, rejected)
    assert html == (
        '<div class="qa-report qa-partial"><div class="qa-summary">'
        f"{fmt.escape(report.summary())}; 1 refused before ingest (type or size)</div>"
        '<div class="qa-failed">Not ingested:<ul>'
        "<li><code>tool.exe</code>: unsupported type &#x27;.exe&#x27;</li>"
        "<li><code>bad.txt</code>: binary data, not text (b&#x27;\\x00\\x01&#x27;)</li>"
        "</ul></div>"
        '<div class="qa-duplicates">Already indexed under another name:<ul>'
        "<li><code>uploads/copy.txt</code>: same text as corpus/a.txt</li></ul></div></div>"
    )


def test_messages_are_escaped() -> None:
    assert fmt.format_error("bad <x>") == '<div class="qa-answer qa-error">bad &lt;x&gt;</div>'
    assert forms.format_message("3 <articles>", "info") == (
        '<div class="qa-message qa-info">3 &lt;articles&gt;</div>'
    )
    assert fmt.format_question("<b>hi</b>") == (
        '<div class="qa-question">&lt;b&gt;hi&lt;/b&gt;</div>'
    )
