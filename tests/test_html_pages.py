"""Saved news pages through trafilatura: the story and its metadata in, the page's clutter out."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from test_loaders import load_one, write

from qa.config import Settings
from qa.index.store import open_index
from qa.ingestion import html_page
from qa.ingestion.html_page import Page
from qa.ingestion.job import ingest
from qa.ingestion.loaders import LoadError, load_file

# A page laid out in <div>s, with no <article> or <main>: metadata only in JSON-LD (two
# authors, a later dateModified) and a canonical link.
NO_ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Flood barrier holds as river peaks | The Riverside Courier</title>
<link rel="canonical" href="https://courier.example.org/news/2023/03/14/flood-barrier-holds">
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Flood barrier holds as river peaks at record height",
 "datePublished": "2023-03-14T06:45:00+01:00", "dateModified": "2023-03-16T10:00:00+01:00",
 "author": [{"@type": "Person", "name": "Marta Kowalczyk"},
            {"@type": "Person", "name": "Tomas Berg"}],
 "publisher": {"@type": "Organization", "name": "The Riverside Courier"}}
</script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({"page": "article"});</script>
</head>
<body>
<div id="cookie-banner" class="cookie-consent">
  <p>We use cookies to improve your experience and to show personalised advertising.
  By clicking Accept all you agree to our use of cookies.</p>
  <button>Accept all</button> <a href="/privacy">Manage preferences</a>
</div>
<div class="site-header">
  <div class="logo"><a href="/">The Riverside Courier</a></div>
  <ul class="menu">
    <li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
    <li><a href="/business">Business</a></li><li><a href="/opinion">Opinion</a></li>
    <li><a href="/subscribe">Subscribe today for just 1 euro a week</a></li>
  </ul>
</div>
<div class="breadcrumbs"><a href="/">Home</a> › <a href="/news">News</a> ›
  <a href="/news/local">Local</a></div>
<div class="container">
  <div class="story">
    <h1 class="story-title">Flood barrier holds as river peaks at record height</h1>
    <div class="byline">By Marta Kowalczyk and Tomas Berg, 14 March 2023</div>
    <div class="story-body">
      <p>The new flood barrier on the River Wend held through the night as the water reached
      6.2 metres, the highest level since records began in 1871, the county council said on
      Tuesday.</p>
      <p>Engineers had warned that the barrier, completed last autumn at a cost of 48 million
      euros, had never been tested at more than five metres. About 3,400 homes in the lower
      town would have flooded without it, according to the council's own estimate.</p>
      <p>"We watched the gauges every fifteen minutes," said Aleksander Nowak, the council's
      chief engineer. "At two in the morning the river simply stopped rising."</p>
      <p>Residents of Mill Street, which flooded three times in the past decade, gathered on
      the embankment at dawn. Several said they had moved furniture upstairs as a precaution.</p>
      <p>The council will review the barrier's performance at a meeting on
      <time datetime="2023-03-20">Monday 20 March</time>, before the next high tides.</p>
    </div>
    <div class="share">Share this article: <a href="#">Facebook</a> <a href="#">Email</a></div>
  </div>
  <div class="related">
    <h3>Related stories</h3>
    <ul>
      <li><a href="/news/a">Council approves budget for new library wing</a></li>
      <li><a href="/news/b">Rail strike called off after late-night talks</a></li>
      <li><a href="/news/c">Ten things to do this weekend in the valley</a></li>
    </ul>
  </div>
  <div class="comments" id="comments">
    <h3>Comments (2)</h3>
    <div class="comment"><p class="comment-author">riverwatcher</p>
      <p>Money well spent, the old wall would never have coped with this.</p></div>
    <div class="comment"><p class="comment-author">Jan_K</p>
      <p>Shame nobody mentions who paid for the last three clean-ups on Mill Street.</p></div>
  </div>
</div>
<div class="site-footer">
  <p>© 2023 Riverside Media Group. All rights reserved.</p>
  <a href="/terms">Terms and conditions</a> <a href="/contact">Contact us</a>
</div>
</body>
</html>
"""

NO_ARTICLE_BODY = [
    "Flood barrier holds as river peaks at record height",
    "The new flood barrier on the River Wend held through the night as the water reached 6.2"
    " metres, the highest level since records began in 1871, the county council said on"
    " Tuesday.",
    "Engineers had warned that the barrier, completed last autumn at a cost of 48 million euros,"
    " had never been tested at more than five metres. About 3,400 homes in the lower town would"
    " have flooded without it, according to the council's own estimate.",
    '"We watched the gauges every fifteen minutes," said Aleksander Nowak, the council\'s chief'
    ' engineer. "At two in the morning the river simply stopped rising."',
    "Residents of Mill Street, which flooded three times in the past decade, gathered on the"
    " embankment at dawn. Several said they had moved furniture upstairs as a precaution.",
    # The text of a <time> inside a sentence stays (trafilatura alone drops it).
    "The council will review the barrier's performance at a meeting on Monday 20 March, before"
    " the next high tides.",
]

NO_ARTICLE_CLUTTER = [
    "We use cookies",
    "Accept all",
    "Manage preferences",
    "Subscribe today",
    "Sport",
    "Opinion",
    "Home",
    "Local",
    "By Marta Kowalczyk and Tomas Berg",
    "Share this article",
    "Facebook",
    "Related stories",
    "Council approves budget",
    "Rail strike called off",
    "Ten things to do",
    "Comments (2)",
    "riverwatcher",
    "Money well spent",
    "Shame nobody mentions",
    "Riverside Media Group",
    "Terms and conditions",
    "Contact us",
    "dataLayer",
]

# A page with <main> and <article>, metadata in <meta> tags, a consent manager's banner, a
# newsletter box and share links inside the article, comments and related links after it.
ARTICLE_PAGE = """<!doctype html>
<html lang="en"><head>
<title>Port strike ends after pay deal - Harbour Herald</title>
<meta property="og:title" content="Port strike ends after dockers accept pay deal">
<meta property="og:site_name" content="Harbour Herald">
<meta property="og:url" content="https://harbourherald.example.com/business/port-strike-ends">
<meta property="article:published_time" content="2022-09-30T17:05:00Z">
<meta name="author" content="By Samuel Okafor">
</head><body>
<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk" role="dialog">
<p id="onetrust-policy-text">This site uses cookies and related technologies for site
operation, analytics and third party advertising.</p>
<button id="onetrust-accept-btn-handler">I Accept</button></div></div>
<header class="masthead"><a href="/">Harbour Herald</a>
<nav><ul><li><a href="/news">Latest news</a></li><li><a href="/business">Business</a></li>
<li><a href="/weather">Weather forecast</a></li></ul></nav></header>
<main>
<article>
<h1>Port strike ends after dockers accept pay deal</h1>
<p class="byline">By Samuel Okafor</p>
<p>Dockers at the Port of Eastmouth voted on Friday to accept a 9 per cent pay rise, ending a
strike that had halted container traffic for eleven days.</p>
<p>The union said 71 per cent of its members backed the offer in a ballot that closed at noon.
Cranes were expected to resume work on the night shift.</p>
<div class="newsletter-signup"><p>Get the morning briefing in your inbox every weekday.</p>
<form><input type="email"><button>Sign up</button></form></div>
<p>Shipping companies had diverted at least forty vessels to other ports since the walkout
began on September 19, according to the port authority.</p>
<p>The port handles roughly a quarter of the country's container imports, and retailers had
warned of empty shelves before the Christmas season if the dispute dragged on.</p>
<div class="social-share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
</article>
<section id="comments" class="comments-area"><h2>12 comments</h2>
<ol class="comment-list"><li class="comment"><div class="comment-body">
<p>About time, the shelves in my local shop were half empty.</p></div></li>
<li class="comment"><div class="comment-body">
<p>Nine per cent is less than inflation, they should have held out.</p></div></li></ol>
</section>
<aside class="related-articles"><h2>More from Business</h2><ul>
<li><a href="/business/1">Bakery chain opens twenty new stores</a></li>
<li><a href="/business/2">Interest rates held at four per cent</a></li></ul></aside>
</main>
<footer><p>Harbour Herald is part of Coastal Media Ltd. Registered in England No. 0123456.</p>
</footer>
</body></html>
"""

ARTICLE_BODY = [
    "Port strike ends after dockers accept pay deal",
    "Dockers at the Port of Eastmouth voted on Friday to accept a 9 per cent pay rise, ending a"
    " strike that had halted container traffic for eleven days.",
    "The union said 71 per cent of its members backed the offer in a ballot that closed at noon."
    " Cranes were expected to resume work on the night shift.",
    "Shipping companies had diverted at least forty vessels to other ports since the walkout"
    " began on September 19, according to the port authority.",
    "The port handles roughly a quarter of the country's container imports, and retailers had"
    " warned of empty shelves before the Christmas season if the dispute dragged on.",
]

ARTICLE_CLUTTER = [
    "uses cookies",
    "I Accept",
    "Latest news",
    "Weather forecast",
    "By Samuel Okafor",
    "morning briefing",
    "Sign up",
    "Share on",
    "12 comments",
    "About time",
    "less than inflation",
    "More from Business",
    "Bakery chain",
    "Interest rates held",
    "Coastal Media",
    "Registered in England",
]


def test_page_without_article_element(tmp_path: Path) -> None:
    article = load_one(write(tmp_path / "flood.html", NO_ARTICLE_PAGE))
    assert article.text.split("\n\n") == NO_ARTICLE_BODY
    for clutter in NO_ARTICLE_CLUTTER:
        assert clutter not in article.text, clutter
    assert (article.title, article.author, article.date, article.publisher, article.url) == (
        "Flood barrier holds as river peaks at record height",
        "Marta Kowalczyk, Tomas Berg",
        "2023-03-14",  # datePublished, not dateModified
        "The Riverside Courier",
        "https://courier.example.org/news/2023/03/14/flood-barrier-holds",
    )
    assert article.body_start == 0 and article.page_starts == ()


def test_page_with_article_main_comments_and_consent_banner(tmp_path: Path) -> None:
    article = load_one(write(tmp_path / "port.html", ARTICLE_PAGE))
    assert article.text.split("\n\n") == ARTICLE_BODY
    for clutter in ARTICLE_CLUTTER:
        assert clutter not in article.text, clutter
    assert (article.title, article.author, article.date, article.publisher, article.url) == (
        "Port strike ends after dockers accept pay deal",
        "Samuel Okafor",
        "2022-09-30",
        "Harbour Herald",
        "https://harbourherald.example.com/business/port-strike-ends",
    )


def test_the_old_reading_would_have_kept_the_clutter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What these tests guard against: without trafilatura's main text the pages are read whole
    # as before (and that is also the fallback when trafilatura finds nothing).
    monkeypatch.setattr(html_page, "read_page", lambda html, source: Page())
    flood = load_one(write(tmp_path / "flood.html", NO_ARTICLE_PAGE))
    assert "We use cookies" in flood.text and "Money well spent" in flood.text
    port = load_one(write(tmp_path / "port.html", ARTICLE_PAGE))
    assert "morning briefing" in port.text and "Share on Facebook" in port.text
    # ...and the metadata comes from the <meta> tags and <title> alone.
    assert (flood.title, flood.author, flood.date, flood.publisher) == (
        "Flood barrier holds as river peaks | The Riverside Courier",
        None,
        "2023-03-20",  # the first <time> on the page: the meeting, not the publication
        None,
    )
    assert (port.title, port.author, port.date, port.publisher) == (
        "Port strike ends after dockers accept pay deal",
        "Samuel Okafor",
        "2022-09-30",
        "Harbour Herald",
    )


def test_page_trafilatura_cannot_read_falls_back_to_the_whole_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A bare fragment is no HTML document to trafilatura: it returns nothing.
    fragment = '<p>The ferry to Kirra <a href="/timetable">resumes</a> on Monday.</p>'
    assert html_page.read_page(fragment, "ferry.html") == Page()
    with caplog.at_level(logging.INFO, logger="qa.ingestion.html_page"):
        article = load_one(write(tmp_path / "ferry.html", fragment))
    assert (article.text, article.title) == (
        "The ferry to Kirra resumes on Monday.",
        "The ferry to Kirra resumes on Monday",
    )
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("qa.ingestion.html_page", "INFO", "ferry.html: trafilatura cannot parse the page as HTML"),
    ]


def test_trafilatura_failing_on_a_page_does_not_lose_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import trafilatura

    def fail(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "bare_extraction", fail)
    article = load_one(write(tmp_path / "port.html", ARTICLE_PAGE))
    assert article.text.startswith("Port strike ends after dockers accept pay deal\n\nBy Samuel")
    assert "Share on Facebook" in article.text  # read whole, as before
    assert [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "qa.ingestion.html_page"
    ] == [
        (
            "WARNING",
            "port.html: trafilatura failed (RecursionError: maximum recursion depth exceeded)",
        )
    ]


def test_page_with_no_main_text_keeps_its_error_and_logs_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    page = "<html><head><script>var a = 1;</script></head><body><script>go()</script></body>"
    path = write(tmp_path / "s.html", page)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        with pytest.raises(LoadError) as error:
            load_file(path, source="s.html")
    assert str(error.value) == "s.html: no readable text (only scripts/markup)"
    assert caught == []
    # trafilatura's own messages ("discarding data: None") stay below the console's WARNING.
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("qa.")] == [
        "s.html: trafilatura found no main text"
    ]
    assert capfd.readouterr() == ("", "")


# bs4 (the old reading, which the link-only file falls back to) warns: the text looks like a URL.
@pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
def test_reading_pages_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert load_one(write(tmp_path / "flood.html", NO_ARTICLE_PAGE)).text.split("\n\n") == (
        NO_ARTICLE_BODY
    )
    # htmldate downloads a string that looks like a URL; trafilatura hands it a parsed tree.
    url = "https://courier.example.org/news/2023/03/14/flood-barrier-holds"
    assert load_one(write(tmp_path / "link.html", url)).text == url


def test_importing_qa_does_not_import_trafilatura() -> None:
    code = "import sys, qa, qa.cli.main, qa.ingestion.loaders; print('trafilatura' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_page_ingested_end_to_end_leaves_the_clutter_out(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    write(folder / "flood.html", NO_ARTICLE_PAGE)
    settings = Settings(store_dir=tmp_path / "store", embedder="fake:hash")
    report = ingest([folder], settings)
    assert report.failed == []
    index = open_index(settings)
    ids = index.chunk_ids()
    assert ids
    chunks = list(index.chunks(ids).values())
    documents = index.collection.get(ids=ids, include=["documents"])["documents"]
    assert sorted(documents) == sorted(c.text for c in chunks)
    for chunk in chunks:
        for clutter in NO_ARTICLE_CLUTTER:
            assert clutter not in chunk.text, clutter
        assert (chunk.title, chunk.author, chunk.date, chunk.publisher) == (
            "Flood barrier holds as river peaks at record height",
            "Marta Kowalczyk, Tomas Berg",
            "2023-03-14",
            "The Riverside Courier",
        )
    assert "River Wend held through the night" in " ".join(c.text for c in chunks)
    assert index.keyword_search("cookies", 5) == []
    assert index.keyword_search("riverwatcher", 5) == []
    assert index.keyword_search("Wend", 5) != []
