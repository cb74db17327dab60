"""Train the reader (`qa/data/reader.npz`): all-MiniLM-L6-v2 with LoRA and a span head, on SQuAD.

The examples are `eval/reader_data.py`'s (SQuAD v1.0 training articles, other-paragraph and
swapped-name unanswerables, SQuAD 2.0 part 1). Made for 2 cores: bfloat16 autocast where the
CPU multiplies it in hardware, batches of similar length, a checkpoint in `--run` every few
minutes, and a run that dies resumes from its last checkpoint when started again with the same
arguments. Every `--eval-every` examples the held-out training articles are read and a line
is added to `--run`/curve.jsonl (F1 on answerable windows, no-answer accuracy, examples seen).

    python eval/train_reader.py --run ~/.cache/qa/reader-r32          # train (or resume)
    python eval/train_reader.py --run ~/.cache/qa/reader-r32 --export  # write qa/data/reader.*
    python eval/train_reader.py --run /tmp/full --full --limit 8000    # full fine-tuning
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch
from reader_data import (
    PART1,
    ROOT,
    TRAIN,
    Example,
    data_hash,
    training_articles,
    training_set,
    validation_set,
)
from torch import nn

from qa.answering.reader import context_mask, windows
from qa.models.embedders import bundled_model_path, has_fast_bf16

TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
OUT = ROOT / "qa" / "data"


class LoRA(nn.Module):
    """A frozen Linear plus a trained low-rank update `b @ a` scaled by `scale`."""

    def __init__(self, base: nn.Linear, rank: int, scale: float) -> None:
        super().__init__()
        self.base, self.scale = base, scale
        self.a = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


class SpanModel(nn.Module):
    """The bundled MiniLM (LoRA-wrapped unless `rank` is 0: then every weight trains) and a
    start/end head."""

    def __init__(self, rank: int) -> None:
        super().__init__()
        from transformers import AutoModel

        self.bert = AutoModel.from_pretrained(str(bundled_model_path()))  # pooler unused
        self.rank = rank
        if rank:
            for p in self.bert.parameters():
                p.requires_grad = False
            for layer in self.bert.encoder.layer:
                for target in TARGETS:
                    *parents, leaf = target.split(".")
                    owner = layer
                    for name in parents:
                        owner = getattr(owner, name)
                    setattr(owner, leaf, LoRA(getattr(owner, leaf), rank, 2.0))
                for ln in (layer.attention.output.LayerNorm, layer.output.LayerNorm):
                    for p in ln.parameters():
                        p.requires_grad = True
        else:
            self.bert.embeddings.word_embeddings.weight.requires_grad = False
        self.head = nn.Linear(self.bert.config.hidden_size, 2)

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.bert(**batch).last_hidden_state
        out = self.head(hidden).float()
        return out[..., 0], out[..., 1]

    def adapter(self) -> dict[str, Any]:
        """What `qa.answering.reader.merge_adapter` reads: LoRA factors (fp16) or, fully fine-tuned,
        the changed encoder weights (fp16); layer norms and the head in fp32."""
        import numpy as np

        weights: dict[str, Any] = {"lora_scale": np.array(2.0, dtype="float32")}
        for name, module in self.bert.named_modules():
            if isinstance(module, LoRA):
                weights[f"{name}.lora_A"] = module.a.detach().numpy().astype("float16")
                weights[f"{name}.lora_B"] = module.b.detach().numpy().astype("float16")
        for name, value in self.bert.named_parameters():
            if not value.requires_grad or isinstance(value, LoRA):
                continue
            if name.endswith((".a", ".b")):
                continue
            clean = name.replace(".base.", ".")
            dtype = "float32" if "LayerNorm" in name or name.endswith("bias") else "float16"
            weights[clean] = value.detach().numpy().astype(dtype)
        weights["span.weight"] = self.head.weight.detach().numpy().astype("float32")
        weights["span.bias"] = self.head.bias.detach().numpy().astype("float32")
        return weights


def features(tokenizer: Any, examples: list[Example], batch: int = 512) -> list[tuple]:
    """(input ids, start token, end token) of every window; (0, 0) when it holds no answer."""
    out: list[tuple] = []
    for i in range(0, len(examples), batch):
        part = examples[i : i + batch]
        enc = windows(tokenizer, [e.question for e in part], [e.passage for e in part])
        mask = context_mask(enc)
        for w, n in enumerate(enc["overflow_to_sample_mapping"].tolist()):
            ids = enc["input_ids"][w][enc["attention_mask"][w].bool()].tolist()
            span = part[n].span
            start = end = 0
            if span is not None:
                offsets = enc["offset_mapping"][w].tolist()
                mine = [t for t in range(len(ids)) if mask[w, t]]
                if offsets[mine[0]][0] <= span[0] and offsets[mine[-1]][1] >= span[1]:
                    start = next(t for t in mine if offsets[t][1] > span[0])
                    end = max(t for t in mine if offsets[t][0] < span[1])
            sep = ids.index(tokenizer.sep_token_id)
            out.append((ids, sep, start, end, i + n))
    return out


Batch = dict[str, torch.Tensor]


def collate(rows: list[tuple], pad: int) -> tuple[Batch, torch.Tensor, torch.Tensor]:
    # Lengths rounded up to 16: fewer distinct shapes for oneDNN's kernels and the allocator
    # (with every length its own, the process grew by 2 GB in 20 minutes).
    length = -(-max(len(r[0]) for r in rows) // 16) * 16
    ids = torch.full((len(rows), length), pad, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, (row, sep, *_) in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        types[i, sep + 1 : len(row)] = 1
        mask[i, : len(row)] = 1
    batch = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
    return batch, torch.tensor([r[2] for r in rows]), torch.tensor([r[3] for r in rows])


def span_loss(model: SpanModel, batch: Batch, starts: torch.Tensor, ends: torch.Tensor) -> Any:
    s, e = model(batch)
    # The question's tokens and padding are never an answer; [CLS] (0) is "no answer".
    keep = batch["token_type_ids"].bool() & batch["attention_mask"].bool()
    keep[:, 0] = True
    s, e = s.masked_fill(~keep, -1e4), e.masked_fill(~keep, -1e4)
    ce = nn.functional.cross_entropy
    return (ce(s, starts) + ce(e, ends)) / 2


def order(n: int, batch: int, epoch: int, seed: int, lengths: list[int]) -> list[list[int]]:
    """Batches of one epoch: shuffled, sorted by length within windows of 50 batches."""
    rng = random.Random(seed * 1000 + epoch)
    idx = list(range(n))
    rng.shuffle(idx)
    for w in range(0, n, batch * 50):
        idx[w : w + batch * 50] = sorted(idx[w : w + batch * 50], key=lambda i: lengths[i])
    batches = [idx[i : i + batch] for i in range(0, n, batch)]
    rng.shuffle(batches)
    return batches


def evaluate(model: SpanModel, tokenizer: Any, examples: list[Example]) -> dict[str, float]:
    """Held-out F1 of the best span of answerable examples (no-answer ignored), and the share
    of each kind decided rightly at score difference 0."""
    from qa.answering.reader import best_spans
    from qa.evaluation.metrics import token_f1

    model.eval()
    right: dict[str, list[float]] = {}
    f1s: list[float] = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=_bf16()):
        for i in range(0, len(examples), 32):
            part = examples[i : i + 32]
            enc = windows(tokenizer, [e.question for e in part], [e.passage for e in part])
            inputs = {k: enc[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
            s, e = model(inputs)
            scores, first, last = best_spans(s.float(), e.float(), context_mask(enc))
            best: dict[int, tuple[float, str]] = {}
            for w, n in enumerate(enc["overflow_to_sample_mapping"].tolist()):
                off = enc["offset_mapping"][w]
                text = part[n].passage[int(off[int(first[w])][0]) : int(off[int(last[w])][1])]
                if n not in best or float(scores[w]) > best[n][0]:
                    best[n] = (float(scores[w]), text)
            for n, ex in enumerate(part):
                score, text = best[n]
                answered = score > 0
                if ex.span is not None:
                    f1s.append(token_f1(text, [ex.passage[ex.span[0] : ex.span[1]]]))
                right.setdefault(ex.kind, []).append(float(answered == (ex.span is not None)))
    model.train()
    out = {"span_f1": sum(f1s) / max(1, len(f1s))}
    out.update({f"right_{k}": sum(v) / len(v) for k, v in right.items()})
    return out


def _bf16() -> bool:
    return has_fast_bf16()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True, help="checkpoint folder (outside the repo)")
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--full", action="store_true", help="fine-tune every weight instead of LoRA")
    p.add_argument("--lr", type=float)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--limit", type=int, help="train on the first N examples only")
    p.add_argument("--other", type=float, default=0.3, help="other-paragraph share")
    p.add_argument("--swap", type=float, default=0.2, help="swapped-name share")
    p.add_argument("--part1-repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=16000, help="examples between evaluations")
    p.add_argument("--eval-size", type=int, default=1200)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--export", action="store_true", help="write the adapter to qa/data and stop")
    p.add_argument("--plot", type=Path, help="with --export: the learning curve as a PNG here")
    p.add_argument("--out", type=Path, default=OUT, help="with --export: the folder [qa/data]")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_path()))
    rank = 0 if args.full else args.rank
    model = SpanModel(rank)
    params = [q for q in model.parameters() if q.requires_grad]
    lr = args.lr or (5e-5 if args.full else 5e-4)
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    cache = args.run / "features.pt"
    if cache.exists():
        feats = torch.load(cache)
    else:
        examples = training_set(seed=args.seed, other=args.other, swap=args.swap,
                                part1_repeat=args.part1_repeat, limit=args.limit)  # fmt: skip
        started = time.perf_counter()
        feats = features(tokenizer, examples)
        torch.save(feats, cache)
        print(f"{len(examples)} examples, {len(feats)} windows "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip
    lengths = [len(f[0]) for f in feats]
    per_epoch = math.ceil(len(feats) / args.batch)
    total = int(per_epoch * args.epochs)
    warm = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    state_path = args.run / "state.pt"
    step, curve = 0, []
    if state_path.exists():
        state = torch.load(state_path, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, curve = state["step"], state["curve"]
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    if args.export:
        export(model, args, curve)
        if args.plot:
            plot(curve, args.plot)
        return
    validation = validation_set()[: args.eval_size]

    def save() -> None:
        trained = {k: v for k, v in model.state_dict().items() if _trained(model, k)}
        tmp = state_path.with_suffix(".tmp")
        state = {"model": trained, "optimizer": optimizer.state_dict(),
                 "schedule": schedule.state_dict(), "step": step, "curve": curve}  # fmt: skip
        torch.save(state, tmp)
        tmp.replace(state_path)

    bf16 = _bf16()
    model.train()
    last_save = started = time.perf_counter()
    first_step = step
    pad = tokenizer.pad_token_id
    while step < total:
        epoch, at = divmod(step, per_epoch)
        batches = order(len(feats), args.batch, epoch, args.seed, lengths)
        for rows in batches[at:]:
            if step >= total:
                break
            batch, starts, ends = collate([feats[i] for i in rows], pad)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = span_loss(model, batch, starts, ends)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            seen = step * args.batch
            if step % 50 == 0:
                rate = (step - first_step) * args.batch / (time.perf_counter() - started)
                print(f"step {step}/{total} loss {loss.item():.3f} {rate:.1f} windows/s",
                      file=sys.stderr, flush=True)  # fmt: skip
            if seen // args.eval_every != (seen - args.batch) // args.eval_every or step == total:
                figures = evaluate(model, tokenizer, validation)
                curve.append({"windows": seen, **figures})
                print(json.dumps(curve[-1]), file=sys.stderr, flush=True)
                with (args.run / "curve.jsonl").open("a") as f:
                    f.write(json.dumps(curve[-1]) + "\n")
            if time.perf_counter() - last_save > args.checkpoint_minutes * 60 or step == total:
                save()
                last_save = time.perf_counter()
    print(f"done: {total} steps; {args.run}", file=sys.stderr)


def plot(curve: list[dict], path: Path) -> None:
    """Held-out F1 and the decisions against the training windows seen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [c["windows"] for c in curve]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    labels = {
        "span_f1": "span F1, answerable (best span, no-answer ignored)",
        "right_answerable": "answerable: answered",
        "right_other": "other paragraph: abstained",
        "right_swapped": "swapped name or number: abstained",
    }
    for key, label in labels.items():
        ax.plot(xs, [c.get(key, float("nan")) for c in curve], marker="o", label=label)
    ax.set_xlabel("training windows seen (question + passage)")
    ax.set_ylabel("share, on 12 held-out training articles")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _trained(model: SpanModel, key: str) -> bool:
    named = dict(model.named_parameters())
    return key in named and named[key].requires_grad


def export(model: SpanModel, args: argparse.Namespace, curve: list[dict]) -> None:
    """Write reader.npz and the record beside it to `--out` (the threshold is kept from the
    existing record until `eval/fit_reader.py --write` sets it)."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **model.adapter())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reader.npz").write_bytes(buffer.getvalue())
    record_path = args.out / "reader.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {"threshold": 0.5}
    record.update({
        "command": " ".join(["python", "eval/train_reader.py", *sys.argv[1:]]),
        "train_sha256": data_hash(TRAIN),
        "part1_sha256": data_hash(PART1) if args.part1_repeat else None,
        "rank": args.rank if not args.full else 0,
        "curve": curve,
        "articles": training_articles(args.part1_repeat),
    })  # fmt: skip
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out / 'reader.npz'} ({len(buffer.getvalue()):,} bytes) and {record_path}")


if __name__ == "__main__":
    main()
