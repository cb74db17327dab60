"""Train the reader's LoRA adapter (`qa/data/reader.npz`) on SQuAD 2.0, cross-validated by article.

The pairs are the candidate sentences `eval/train_decision.py` collects through the real
pipeline (same cache): (question, sentence, holds a reference answer). The base model is the
bundled all-MiniLM-L6-v2, frozen; trained are rank-`--rank` LoRA updates of every attention
and feed-forward matrix, the layer norms and a one-unit head over the mean-pooled tokens.

With `--folds`, a reader is trained for each of the 5 folds of 2 articles on the other 8, and
the logits it gives the fold's candidates (articles it never saw) are cached: they are the
reader feature `eval/train_decision.py` fits and cross-validates the decision model on. Then
the shipped adapter is trained on all 10 articles.

    python eval/train_reader.py --folds            # out-of-fold logits, then qa/data/reader.npz
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from train_decision import CACHE, FOLDS, ROOT, SQUAD2, data_hash, folds_of, load_rows

from qa.config import Settings

OUT = ROOT / "qa" / "data" / "reader.npz"
SPAN_OUT = ROOT / "qa" / "data" / "span.npz"
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def train(
    pairs: list[tuple[str, str, Any]], *, epochs: float, rank: int, seed: int, task: str = "answers"
) -> bytes:
    """The adapter (npz bytes) trained on (question, sentence, target) pairs.

    task "answers": the target is 1 when the sentence answers, else 0 (a one-unit head over
    mean-pooled tokens, `head.*`); task "span": the target is the (start, end) character span
    of the answer in the sentence (start and end logits per token, `span.*`).
    """
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    from qa.embedders import bundled_model_path, has_fast_bf16
    from qa.reader import MAX_TOKENS

    bf16 = has_fast_bf16()  # ~1.7x faster training where the CPU has AMX or AVX-512 BF16
    torch.manual_seed(seed)
    rng = random.Random(seed)
    path = str(bundled_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    bert = AutoModel.from_pretrained(path)
    for p in bert.parameters():
        p.requires_grad = False
    alpha = 2.0 * rank
    adapters: dict[str, tuple[nn.Parameter, nn.Parameter]] = {}

    def wrap(name: str, base: nn.Linear) -> nn.Module:
        a = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        b = nn.Parameter(torch.zeros(base.out_features, rank))
        adapters[name] = (a, b)

        class LoRA(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.base, self.a, self.b = base, a, b

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.base(x) + (x @ self.a.T @ self.b.T) * (alpha / rank)

        return LoRA()

    for i, layer in enumerate(bert.encoder.layer):
        for target in TARGETS:
            *parents, leaf = target.split(".")
            owner = layer
            for p in parents:
                owner = getattr(owner, p)
            setattr(owner, leaf, wrap(f"encoder.layer.{i}.{target}", getattr(owner, leaf)))
        for ln in (layer.attention.output.LayerNorm, layer.output.LayerNorm):
            for p in ln.parameters():
                p.requires_grad = True
    head = nn.Linear(bert.config.hidden_size, 1 if task == "answers" else 2)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.01)
    batch = 32
    steps = max(1, int(len(pairs) * epochs / batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=5e-4, total_steps=steps, pct_start=0.1
    )
    loss_fn = nn.BCEWithLogitsLoss()
    bert.train()
    started, step = time.perf_counter(), 0
    while step < steps:
        order = pairs[:]
        rng.shuffle(order)
        # Batches of similar length pad less: sort within windows of 50 batches.
        for w in range(0, len(order), batch * 50):
            order[w : w + batch * 50] = sorted(order[w : w + batch * 50], key=lambda p: len(p[1]))
        batches = [order[i : i + batch] for i in range(0, len(order) - batch + 1, batch)]
        rng.shuffle(batches)
        for part in batches:
            if step >= steps:
                break
            x = tokenizer(
                [q for q, _, _ in part], [s for _, s, _ in part], return_tensors="pt",
                padding=True, truncation="only_second", max_length=MAX_TOKENS,
                return_offsets_mapping=task == "span",
            )  # fmt: skip
            offsets = x.pop("offset_mapping", None)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                hidden = bert(**x).last_hidden_state.float()
            if task == "answers":
                mask = x["attention_mask"].unsqueeze(-1).float()
                logits = head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)
                loss = loss_fn(logits, torch.tensor([float(y) for *_, y in part]))
            else:
                loss = _span_loss(head(hidden), x, offsets, [y for *_, y in part])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 200 == 0:
                rate = step * batch / (time.perf_counter() - started)
                print(f"  step {step}/{steps} loss {loss.item():.3f} ({rate:.0f} pairs/s)",
                      file=sys.stderr)  # fmt: skip
    weights: dict[str, np.ndarray] = {"lora_scale": np.array(alpha / rank, dtype="float32")}
    for name, (a, b) in adapters.items():
        weights[f"{name}.lora_A"] = a.detach().numpy().astype("float16")
        weights[f"{name}.lora_B"] = b.detach().numpy().astype("float16")
    for name, value in bert.state_dict().items():
        if "LayerNorm" in name and name.startswith("encoder."):
            weights[name] = value.detach().numpy().astype("float32")
    prefix = "head" if task == "answers" else "span"
    weights[f"{prefix}.weight"] = head.weight.detach().numpy().astype("float32")
    weights[f"{prefix}.bias"] = head.bias.detach().numpy().astype("float32")
    buffer = BytesIO()
    np.savez_compressed(buffer, **weights)
    return buffer.getvalue()


def _span_loss(logits: Any, x: Any, offsets: Any, spans: list[tuple[int, int]]) -> Any:
    """Cross-entropy of the start and end tokens, over the sentence's tokens only."""
    import torch

    starts, ends = [], []
    keep = torch.zeros(logits.shape[:2], dtype=torch.bool)
    for row, (a, b) in enumerate(spans):
        ids = x.sequence_ids(row)
        mine = [i for i, sid in enumerate(ids) if sid == 1]
        keep[row, mine] = True
        first = [i for i in mine if offsets[row][i][1] > a]
        last = [i for i in mine if offsets[row][i][0] < b]
        starts.append(first[0] if first else mine[0])
        ends.append(last[-1] if last else mine[-1])
    masked = logits.masked_fill(~keep.unsqueeze(-1), -1e4)
    ce = torch.nn.functional.cross_entropy
    return (ce(masked[:, :, 0], torch.tensor(starts)) + ce(masked[:, :, 1], torch.tensor(ends))) / 2


def references(path: Path) -> dict[str, list[str]]:
    """Question id -> its reference answers (an unanswerable one's plausible answers)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read(archive.namelist()[0]))
    return {
        q["id"]: [a["text"] for a in q.get("answers") or q.get("plausible_answers") or []]
        for article in data["data"]
        for paragraph in article["paragraphs"]
        for q in paragraph["qas"]
    }


def span_examples(rows: list[dict], path: Path) -> list[tuple[str, str, tuple[int, int]]]:
    """(question, sentence, answer span) for the candidate sentences holding a reference
    answer, and for those holding an unanswerable question's plausible answer (a span of the
    asked-for type: what a short answer must pick, even where the decision then refuses)."""
    spans = references(path)
    out = []
    for r in rows:
        for text in r["texts"]:
            found = [(text.find(a), a) for a in spans.get(r["id"], []) if a and a in text]
            if found:
                start, answer = min(found, key=lambda f: (f[0], -len(f[1])))
                out.append((r["question"], text, (start, start + len(answer))))
                break
    return out


def pairs_of(rows: list[dict]) -> list[tuple[str, str, int]]:
    return [
        (r["question"], t, y) for r in rows for t, y in zip(r["texts"], r["labels"], strict=True)
    ]


def logits_of(adapter: bytes, rows: list[dict]) -> dict[str, list[float]]:
    """Question id -> the reader's logit for each of its candidates (the shipped code path)."""
    from qa.reader import Reader

    reader = Reader(adapter)
    return {r["id"]: reader.logits(r["question"], r["texts"]) for r in rows}


def span_scores(adapter: bytes, rows: list[dict], path: Path) -> dict[str, float]:
    """Mean token F1 of short answers in the right sentence (answerable questions whose
    candidates hold one): the span reader, the typed rules of `qa.short`, and both (rules
    for dates and numbers, the reader otherwise), by question kind and over all."""
    from collections import defaultdict

    from qa.evaluation.metrics import token_f1
    from qa.question import analyse
    from qa.reader import SpanReader
    from qa.short import short_answer

    reader = SpanReader(adapter)
    refs = references(path)
    scores: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if not r["answerable"] or 1 not in r["labels"]:
            continue
        sentence = r["texts"][r["labels"].index(1)]
        asked = analyse(r["question"])
        learned = reader.span(r["question"], sentence)
        ruled = short_answer(asked, sentence)
        both = ruled if ruled and asked.kind in ("date", "number") else learned
        for name, span in (("reader", learned), ("rules", ruled), ("both", both)):
            f1 = token_f1(sentence[span[0] : span[1]] if span else sentence, refs[r["id"]])
            scores[name].append(f1)
            scores[f"{name}/{asked.kind}"].append(f1)
    return {k: sum(v) / len(v) for k, v in sorted(scores.items())}


def oof_path(path: Path, epochs: float, rank: int) -> Path:
    return CACHE / f"reader-oof-{data_hash(path)}-e{epochs:g}-r{rank}.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad2", type=Path, default=SQUAD2)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", action="store_true", help="cross-validate first")
    parser.add_argument("--folds-out", type=Path, help="keep each fold's adapter here")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--task", choices=("answers", "span"), default="answers")
    args = parser.parse_args()

    rows = load_rows(args.squad2, Settings(), refresh=False)
    if args.task == "span":
        span_main(rows, args)
        return
    if args.folds:
        oof: dict[str, list[float]] = {}
        for fold, (train_rows, test_rows, names) in enumerate(folds_of(rows)):
            print(f"fold {fold}: reading {', '.join(names)}", file=sys.stderr)
            adapter = train(pairs_of(train_rows), epochs=args.epochs, rank=args.rank,
                            seed=args.seed)  # fmt: skip
            if args.folds_out:
                args.folds_out.mkdir(parents=True, exist_ok=True)
                (args.folds_out / f"reader-fold{fold}.npz").write_bytes(adapter)
            oof.update(logits_of(adapter, test_rows))
        target = oof_path(args.squad2, args.epochs, args.rank)
        target.write_text(json.dumps(oof))
        print(f"out-of-fold logits for {len(oof)} questions: {target}")
    if not args.no_write:
        adapter = train(pairs_of(rows), epochs=args.epochs, rank=args.rank, seed=args.seed)
        OUT.write_bytes(adapter)
        print(f"wrote {OUT} ({len(adapter):,} bytes; {FOLDS} folds, epochs {args.epochs:g}, "
              f"rank {args.rank}; data sha256 {data_hash(args.squad2)})")  # fmt: skip


def span_main(rows: list[dict], args: argparse.Namespace) -> None:
    """Cross-validate and train the span reader (`qa/data/span.npz`)."""
    if args.folds:
        pooled: dict[str, list[float]] = {}
        for fold, (train_rows, test_rows, names) in enumerate(folds_of(rows)):
            print(f"fold {fold}: short answers of {', '.join(names)}", file=sys.stderr)
            examples = span_examples(train_rows, args.squad2)
            adapter = train(examples, epochs=args.epochs, rank=args.rank, seed=args.seed,
                            task="span")  # fmt: skip
            for k, v in span_scores(adapter, test_rows, args.squad2).items():
                pooled.setdefault(k, []).append(v)
        print("held-out short-answer F1 in the right sentence (mean over folds):")
        for k, v in pooled.items():
            print(f"  {k:24s} {sum(v) / len(v):.3f}")
    if not args.no_write:
        examples = span_examples(rows, args.squad2)
        adapter = train(examples, epochs=args.epochs, rank=args.rank, seed=args.seed, task="span")
        SPAN_OUT.write_bytes(adapter)
        digest = data_hash(args.squad2)
        print(f"wrote {SPAN_OUT} ({len(adapter):,} bytes from {len(examples)} spans; "
              f"epochs {args.epochs:g}, rank {args.rank}; data {digest})")  # fmt: skip


if __name__ == "__main__":
    main()
