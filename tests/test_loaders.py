"""Loaders on small real files of every supported format, and finding files in folders."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from qa.ingestion.loaders import (
    SUPPORTED_SUFFIXES,
    LoadError,
    display_source,
    find_files,
    load_file,
    normalize_date,
    title_from_text,
)
from qa.types import Article, Problem

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_597cfd3371608b94.txt"

HEADER_TXT = (
    " date 2020-04-01 By Azernews\n"
    "\n"
    "By Akbar Mammadov\n"
    "\n"
    "NATO has rejected the illegal elections held in Azerbaijan's occupied Nagono-Karabakh"
    " region.\n"
    "\n"
    "A second paragraph.\n"
)


def make_pdf(pages: list[str], *, info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF written by hand: one Helvetica line per line of each page's text."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        ops = " ".join(f"({line}) Tj 0 -16 Td" for line in text.split("\n") if line)
        stream = f"BT /F1 12 Tf 72 720 Td {ops} ET".encode()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    trailer = b"/Root 1 0 R"
    if info:
        objects.append(f"<< {' '.join(f'/{k} ({v})' for k, v in info.items())} >>".encode())
        trailer += b" /Info %d 0 R" % len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def load_one(path: Path) -> Article:
    articles, problems = load_file(path, source=path.name)
    assert problems == []
    assert len(articles) == 1
    return articles[0]


def test_public_constants_and_error() -> None:
    assert SUPPORTED_SUFFIXES == (
        ".txt",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".pdf",
        ".json",
        ".jsonl",
    )
    error = LoadError("corpus/x.pdf", "not a PDF")
    assert (error.source, error.reason, str(error)) == (
        "corpus/x.pdf",
        "not a PDF",
        "corpus/x.pdf: not a PDF",
    )
    assert str(pickle.loads(pickle.dumps(error))) == "corpus/x.pdf: not a PDF"


def test_txt_with_header(tmp_path: Path) -> None:
    article = load_one(write(tmp_path / "a.txt", HEADER_TXT))
    assert article == Article(
        source="a.txt",
        text=HEADER_TXT,
        title="NATO has rejected the illegal elections held in Azerbaijan's occupied…",
        date="2020-04-01",
        publisher="Azernews",
        author="Akbar Mammadov",
        body_start=HEADER_TXT.index("NATO"),
    )


def test_txt_header_without_author_keeps_crlf(tmp_path: Path) -> None:
    content = "date 2021-02-03 By Caspian News\r\n\r\nPrices rose. Then fell.\r\n"
    article = load_one(write(tmp_path / "b.txt", content))
    assert article.text == content  # line endings are not normalized
    assert (article.date, article.publisher, article.author) == ("2021-02-03", "Caspian News", None)
    assert (article.title, article.body_start) == ("Prices rose", content.index("Prices"))


def test_plain_txt(tmp_path: Path) -> None:
    content = "Mr. Smith met the U.S. envoy on Monday. They talked.\n"
    article = load_one(write(tmp_path / "plain.txt", content))
    assert article == Article(
        source="plain.txt", text=content, title="Mr. Smith met the U.S. envoy on Monday"
    )


def test_seed_article() -> None:
    articles, problems = load_file(SEED)
    assert problems == []
    [article] = articles
    assert (article.date, article.publisher, article.author) == (
        "2020-04-01",
        "Azernews",
        "Akbar Mammadov",
    )
    assert article.title.startswith("NATO has rejected the illegal elections held in Azerbaijan")
    assert article.text == SEED.read_text(encoding="utf-8")
    assert article.text[article.body_start :].startswith("NATO has rejected")
    assert article.source == "corpus/000_597cfd3371608b94.txt"  # tests run in the repo root


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    content = (
        "---\n"
        "title: Water levels fall\n"
        "date: 2022-07-09\n"
        "author: [Ann Lee, Bo Chan]\n"
        "publisher: The Daily\n"
        "url: https://example.com/water\n"
        "---\n"
        "\n"
        "# A heading that is not the title\n"
        "\n"
        "Levels fell.\n"
    )
    article = load_one(write(tmp_path / "w.md", content))
    assert article == Article(
        source="w.md",
        text=content,
        title="Water levels fall",
        date="2022-07-09",
        publisher="The Daily",
        author="Ann Lee, Bo Chan",
        url="https://example.com/water",
        body_start=content.index("# A heading"),
    )


def test_markdown_title_from_heading_or_sentence(tmp_path: Path) -> None:
    heading = load_one(write(tmp_path / "h.markdown", "Intro line.\n\n# Big News\n\nBody.\n"))
    assert (heading.title, heading.body_start, heading.date) == ("Big News", 0, None)
    plain = load_one(write(tmp_path / "p.md", "---\n---\nJust text. More.\n"))
    assert (plain.title, plain.body_start) == ("Just text", 8)


HTML = """<!doctype html>
<html><head><title>Fallback title | Site</title>
<meta property="og:title" content="Dam opens after ten years">
<meta property="article:published_time" content="2021-06-05T08:30:00+04:00">
<meta name="author" content="Leyla Aliyeva">
<meta property="og:site_name" content="Caspian Daily">
<link rel="canonical" href="https://example.com/dam">
<style>p { color: red }</style><script>var tracking = "SCRIPT TEXT";</script></head>
<body><nav><a href="/">Home</a> NAV TEXT</nav><header>HEADER TEXT</header>
<article><h1>Dam opens</h1>
<p>The dam opened on <b>Friday</b>,
   officials said.</p>
<p>It cost &euro;5 million.<br>Work began in 2011.</p>
<ul><li>One</li><li>Two</li></ul><!-- a comment --><script>alert("IN ARTICLE")</script>
</article><aside>ASIDE TEXT</aside><footer>FOOTER TEXT</footer></body></html>
"""


def test_html(tmp_path: Path) -> None:
    article = load_one(write(tmp_path / "dam.html", HTML))
    assert article == Article(
        source="dam.html",
        text="Dam opens\n\nThe dam opened on Friday, officials said.\n\n"
        "It cost €5 million.\nWork began in 2011.\n\nOne\n\nTwo",
        title="Dam opens after ten years",
        date="2021-06-05",
        publisher="Caspian Daily",
        author="Leyla Aliyeva",
        url="https://example.com/dam",
    )


def test_html_without_meta_uses_title_time_and_body(tmp_path: Path) -> None:
    content = (
        "<html><head><title>Plain page</title></head><body><nav>Menu</nav>"
        "<div>First block.</div><div>Second <time datetime='2019-12-31'>block</time>.</div>"
        "<form>Search</form></body></html>"
    )
    article = load_one(write(tmp_path / "p.htm", content))
    assert (article.text, article.title, article.date, article.author, article.publisher) == (
        "First block.\n\nSecond block.",
        "Plain page",
        "2019-12-31",
        None,
        None,
    )


def test_pdf_two_pages(tmp_path: Path) -> None:
    pdf = make_pdf(
        ["Page one text.\nSecond line here.", "The treaty was signed on page two."],
        info={"Title": "Two pages", "Author": "Ann Author", "CreationDate": "D:20200401120000Z"},
    )
    article = load_one(write(tmp_path / "two.pdf", pdf))
    assert article == Article(
        source="two.pdf",
        text="Page one text.\nSecond line here.\n\nThe treaty was signed on page two.",
        title="Two pages",
        date="2020-04-01",
        author="Ann Author",
        page_starts=(0, 34),
    )
    assert article.page_at(article.text.index("Second line")) == 1
    assert article.page_at(article.text.index("treaty")) == 2


def test_pdf_without_metadata_titles_from_text(tmp_path: Path) -> None:
    article = load_one(write(tmp_path / "bare.pdf", make_pdf(["Bare words only."])))
    assert (article.title, article.date, article.author, article.page_starts) == (
        "Bare words only",
        None,
        None,
        (0,),
    )


RECORDS = [
    {"title": "One", "text": "First body.", "date": "2020-01-02", "url": "https://e.com/1"},
    {"body": "Second body. More.", "source": {"name": "Reuters"}, "author": "Kim"},
    {"content": "Third body.", "publisher": "AP", "date": "not a date"},
]


@pytest.mark.parametrize("data", [RECORDS, {"articles": RECORDS}], ids=["list", "articles-object"])
def test_json_records(tmp_path: Path, data: object) -> None:
    articles, problems = load_file(write(tmp_path / "r.json", json.dumps(data)), source="r.json")
    assert problems == []
    assert articles == [
        Article(
            source="r.json#1",
            text="First body.",
            title="One",
            date="2020-01-02",
            url="https://e.com/1",
        ),
        Article(
            source="r.json#2",
            text="Second body. More.",
            title="Second body",
            publisher="Reuters",
            author="Kim",
        ),
        Article(source="r.json#3", text="Third body.", title="Third body", publisher="AP"),
    ]


def test_json_single_record_and_bad_records(tmp_path: Path) -> None:
    one, _ = load_file(write(tmp_path / "one.json", '{"text": "Solo."}'), source="one.json")
    assert one == [Article(source="one.json#1", text="Solo.", title="Solo")]
    data = [{"text": "Good."}, 5, {"title": "no body"}, {"text": ["a"]}, {"body": "  "}]
    articles, problems = load_file(write(tmp_path / "m.json", json.dumps(data)), source="m.json")
    assert [a.source for a in articles] == ["m.json#1"]
    assert problems == [
        Problem("m.json", "record 2: a number, not an object"),
        Problem("m.json", "record 3: no 'text' or 'body' field"),
        Problem("m.json", "record 4: 'text' is a list, not a string"),
        Problem("m.json", "record 5: 'body' is empty"),
    ]


def test_jsonl(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "Line one\u2028still one.", "title": "T1", "publisher": "P"}),
        "",
        json.dumps({"body": "Line three.", "date": "March 3, 2023"}),
    ]
    articles, problems = load_file(
        write(tmp_path / "x.jsonl", "\n".join(lines) + "\n"), source="x.jsonl"
    )
    assert problems == []
    assert articles == [
        Article(source="x.jsonl#1", text="Line one\u2028still one.", title="T1", publisher="P"),
        Article(source="x.jsonl#3", text="Line three.", title="Line three", date="2023-03-03"),
    ]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Markets fell sharply on Monday. Analysts blamed rates.",
            "Markets fell sharply on Monday",
        ),
        ("  \n\nWhy? Because.", "Why?"),
        ("“It is over,” he said. Then left.", "“It is over,” he said"),
        ("No full stop\n\nSecond paragraph.", "No full stop"),
        (
            "word " * 30,
            "word word word word word word word word word word word word word word word…",
        ),
        ("x" * 100, "x" * 79 + "…"),
        ("   ", ""),
    ],
)
def test_title_from_text(text: str, title: str) -> None:
    assert title_from_text(text) == title
    assert len(title) <= 80


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-04-01", "2020-04-01"),
        ("April 1, 2020", "2020-04-01"),
        ("Wed, 01 Apr 2020 10:00:00 GMT", "2020-04-01"),
        ("2021-06-05T23:30:00-05:00", "2021-06-05"),
        ("D:20200401120000+02'00'", "2020-04-01"),
        ("01/04/2020", "2020-01-04"),
        ("April 2020", None),
        ("2020", None),
        ("2020-13-45", None),
        ("yesterday", None),
        ("", None),
        (20200401, None),
        (None, None),
    ],
)
def test_normalize_date(value: object, expected: str | None) -> None:
    assert normalize_date(value) == expected


def test_display_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "elsewhere" / "a b.txt"
    monkeypatch.chdir(ROOT)
    assert display_source(Path("corpus/x.txt")) == "corpus/x.txt"
    assert display_source(ROOT / "corpus" / "x.txt") == "corpus/x.txt"
    assert display_source(outside) == outside.as_posix()
    monkeypatch.chdir(tmp_path)
    assert display_source(outside) == "elsewhere/a b.txt"


def test_find_files_walks_folders_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [
        "docs/b.md",
        "docs/a.txt",
        "docs/sub/c.JSON",
        "docs/sub/z.pdf",
        "docs/.hidden.txt",
        "docs/.git/d.txt",
        "docs/image.png",
        "docs/notes",
        "single.html",
        "other.xyz",
    ]:
        write(tmp_path / name, "x")
    (tmp_path / "docs" / "link.txt").symlink_to(tmp_path / "docs" / "a.txt")
    paths = [
        Path("docs"),
        Path("single.html"),
        Path("docs/a.txt"),
        Path("other.xyz"),
        Path("nope.txt"),
    ]
    found, problems = find_files(paths)
    assert [p.as_posix() for p in found] == [
        "docs/a.txt",
        "docs/b.md",
        "docs/sub/c.JSON",
        "docs/sub/z.pdf",
        "single.html",
    ]
    supported = ", ".join(SUPPORTED_SUFFIXES)
    assert problems == [
        Problem("other.xyz", f"unsupported file type '.xyz' (supported: {supported})"),
        Problem("nope.txt", "no such file or folder"),
    ]


def test_find_files_takes_named_hidden_file_and_same_folder_once(tmp_path: Path) -> None:
    write(tmp_path / "d" / ".secret.md", "x")
    write(tmp_path / "d" / "a.txt", "x")
    (tmp_path / "alias").symlink_to(tmp_path / "d")
    found, problems = find_files(
        [tmp_path / "d" / ".secret.md", tmp_path / "d", tmp_path / "alias"]
    )
    assert found == [tmp_path / "d" / ".secret.md", tmp_path / "d" / "a.txt"]
    assert problems == []
