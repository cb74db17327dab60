"""Time SmolLM2-135M-Instruct in-process: load time, time to first token, tokens per second.

Runs the real answer prompt (`qa.answering.prompt.build_messages`, with the answer grammar) over the
seed article's paragraphs for a few questions, through the same LangChain chat model the
answerer uses. "cold" clears llama.cpp's prompt cache first (the whole prompt is evaluated);
"warm" keeps it: the instructions and worked examples, shared by every question, are reused
as in a long-running `qa serve` (each question gets the passages in another order). The load
average is printed with the figures: on a shared machine it moves them more than anything.

Usage: python eval/bench_llm.py [--model llamacpp:smollm2] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before llama.cpp loads OpenMP
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answering.prompt import answer_grammar, build_messages, prompt_order
from qa.config import Settings
from qa.models.llamacpp import LlamaCppChat, load_llama
from qa.models.registry import get_chat_model
from qa.types import Chunk, Passage

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "Which UN resolutions demand withdrawal?",
    "Who co-chairs the OSCE Minsk Group?",
    "How many Azerbaijanis were killed?",
)


def seed_passages() -> list[Passage]:
    path = next((ROOT / "corpus").glob("000_*.txt"))
    text = path.read_text(encoding="utf-8")
    out, pos = [], 0
    for para in text.split("\n"):
        start = text.index(para, pos)
        pos = start + len(para)
        if len(para) < 200:
            continue  # header lines and one-line paragraphs
        chunk = Chunk(
            id=f"p{len(out)}",
            article_id="seed",
            source=str(path),
            index=len(out),
            text=para,
            start=start,
            end=pos,
            title="NATO rejects elections",
            date="2020-04-01",
            publisher="Azernews",
        )
        out.append(Passage(chunk, 1.0))
    return out[:5]


def one_run(model: LlamaCppChat, question: str, passages: list[Passage], cold: bool) -> dict:
    llama, _ = load_llama(model.model_path)
    if cold:
        llama.reset()
    shown = [passages[i] for i in prompt_order(passages)]
    messages = build_messages(question, shown)
    started = time.perf_counter()
    first = None
    pieces = 0
    for chunk in model.stream(messages, grammar=answer_grammar(len(shown))):
        if chunk.text:
            pieces += 1
            if first is None:
                first = time.perf_counter()
    done = time.perf_counter()
    first = first or done
    prompt_tokens = llama.n_tokens - pieces
    return {
        "question": question,
        "prompt_tokens": prompt_tokens,
        "ttft_s": first - started,
        "generated_tokens": pieces,
        "decode_tok_s": (pieces - 1) / (done - first) if pieces > 1 and done > first else 0.0,
        "prompt_tok_s": prompt_tokens / (first - started),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="llamacpp:smollm2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    model = get_chat_model(args.model, Settings())
    if not isinstance(model, LlamaCppChat):
        raise SystemExit(f"{args.model}: only in-process llamacpp: models are timed here")
    started = time.perf_counter()
    load_llama(model.model_path)
    load_s = time.perf_counter() - started
    passages = seed_passages()
    rows = []
    for _ in range(args.runs):
        for cold in (True, False):
            for i, q in enumerate(QUESTIONS):
                # Each question gets the passages in another order, as retrieval would rank
                # them differently: only the instructions and examples are shared.
                ranked = passages[i:] + passages[:i]
                rows.append(
                    {"cache": "cold" if cold else "warm", **one_run(model, q, ranked, cold)}
                )
    load = os.getloadavg()
    print(
        f"{args.model}: loaded in {load_s:.2f}s; {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    summary = {"model": args.model, "load_s": load_s, "loadavg": load}
    for cache in ("cold", "warm"):
        part = [r for r in rows if r["cache"] == cache]
        med = {
            k: statistics.median(r[k] for r in part)
            for k in ("prompt_tokens", "ttft_s", "prompt_tok_s", "generated_tokens", "decode_tok_s")
        }
        summary[cache] = med
        print(
            f"{cache:>5}: prompt {med['prompt_tokens']:.0f} tokens, time to first token "
            f"{med['ttft_s']:.2f}s ({med['prompt_tok_s']:.0f} prompt tok/s), "
            f"{med['generated_tokens']:.0f} tokens generated at {med['decode_tok_s']:.1f} tok/s "
            f"(medians of {len(part)})"
        )
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
