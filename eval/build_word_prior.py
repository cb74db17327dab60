"""Build `qa/data/stem_prior.tsv.gz`: how common each of our stems is in English.

English word frequencies come from the `wordfreq` package (Speer et al., many sources: Wikipedia,
subtitles, news, books, web text, Twitter, Reddit). Each of its 200,000 most common words is
folded and stemmed as `qa.text` does; a stem's frequency is the sum over its words, written as
a Zipf value (log10 of uses per billion words) times 100. Only stems used at least once per
hundred million words are kept (Zipf >= 1.0), which keeps the file small; rarer stems get the
prior's maximum weight anyway.

    pip install wordfreq==3.1.1 && python eval/build_word_prior.py
"""

from __future__ import annotations

import gzip
import hashlib
import math
from collections import defaultdict
from pathlib import Path

from qa.text import STOPWORDS, tokens

OUT = Path(__file__).resolve().parent.parent / "qa" / "data" / "stem_prior.tsv.gz"
WORDS = 200_000
MIN_ZIPF = 1.0


def main() -> None:
    from importlib.metadata import version

    import wordfreq

    freq: dict[str, float] = defaultdict(float)
    for word in wordfreq.top_n_list("en", WORDS):
        toks = tokens(word)
        if len(toks) != 1 or toks[0].is_number or toks[0].word in STOPWORDS:
            continue
        freq[toks[0].stem] += wordfreq.word_frequency(word, "en")
    rows = []
    for term in sorted(freq):
        zipf = math.log10(freq[term] * 1e9)
        if zipf >= MIN_ZIPF:
            rows.append(f"{term}\t{round(zipf * 100)}")
    data = ("\n".join(rows) + "\n").encode("utf-8")
    OUT.write_bytes(gzip.compress(data, mtime=0))
    digest = hashlib.sha256(data).hexdigest()[:16]
    print(f"{OUT}: {len(rows)} stems from wordfreq {version('wordfreq')} top {WORDS}")
    print(f"sha256 of the tsv {digest}; {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
