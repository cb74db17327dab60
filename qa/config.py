"""One typed settings object, passed explicitly to every stage.

`Settings()` holds the defaults; `Settings.from_env()` overlays the `QA_*` environment
variables, which is what `qa.answer()` uses when it is given no settings, so a store chosen
with `QA_STORE_DIR` for the CLI is the one the Python API reads too.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The names the model settings take; `qa.models.registry` maps each to its implementation.
ST_MINILM = "sentence-transformers:all-MiniLM-L6-v2"
ONNX_MINILM = "onnx-int8:all-MiniLM-L6-v2"
FAKE = "fake:hash"
DEFAULT_EMBEDDER = ST_MINILM

ANSWERERS = ("extractive", "llamacpp:smollm2")
"""Answerers named in full (the UI offers these)."""
ANSWERER_FORMS = (*ANSWERERS, "llamacpp:/path/to/model.gguf", "openai:<model>", "ollama:<model>")
"""Every form `Settings.answerer` takes: the full names, and forms to complete with a GGUF file
or a model name."""
GENERATIVE_FORMS = ANSWERER_FORMS[1:]
"""The generative answerers' forms, the names `get_chat_model` accepts (see
`qa.models.chat_models`)."""
GENERATIVE = tuple(dict.fromkeys(form.partition(":")[0] for form in GENERATIVE_FORMS))
"""Providers of generative answerers: llamacpp, openai, ollama."""

FETCH_K = 40
"""Candidates per retriever unless `fetch_k` is set (or `k` is larger)."""


def default_store_dir() -> Path:
    """`$XDG_DATA_HOME/qa`, i.e. `~/.local/share/qa` on most machines."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    """Where the index lives, which models to use, and how to retrieve and answer.

    Example:
        >>> Settings(store_dir=Path("/tmp/qa-index"), k=8).k
        8
    """

    store_dir: Path = field(default_factory=default_store_dir)
    chroma_url: str | None = None
    """A Chroma server (`http://host:port`); None keeps Chroma on disk in `store_dir`."""
    chroma_token: str | None = field(default=None, repr=False)
    """Sent to the reverse proxy in front of the server (`QA_CHROMA_TOKEN`; never a flag)."""
    chroma_token_header: str = "Authorization"
    """The header carrying the token; `Authorization` sends `Bearer <token>`."""
    chroma_tenant: str = "default_tenant"
    chroma_database: str = "default_database"
    """The server's tenant and database (Chroma Cloud gives each key its own)."""
    sync_s: float = 2.0
    """How often a front end asks the server whether the index changed."""
    lease_s: float = 60.0
    """How long an ingest's write lease lasts unless renewed (a crashed one's expires)."""
    collection: str = "articles"
    embedder: str = DEFAULT_EMBEDDER
    answerer: str = "extractive"
    k: int = 5
    """Passages handed to the answerer."""
    read_k: int = 5
    """Of those, how many the reader reads, the best-ranked first (README, "The reader")."""
    fetch_k: int = 0
    """Candidates each retriever (dense, keyword) contributes before fusion; 0 (the default)
    means max(40, k), so raising k raises it too. Set explicitly, it must be at least k."""
    fusion: str = "convex"
    """How dense and keyword ranks are fused: "convex" (min-max scores) or "rrf"."""
    dense_weight: float = 0.3
    """Weight of the dense score in convex fusion (keyword gets the rest); measured on SQuAD."""
    chunk_tokens: int = 200
    """Target chunk size in the embedder's word pieces (hard limit: the model's maximum)."""
    chunk_overlap_tokens: int = 40
    embed_batch_size: int = 32
    abstain_below: float | None = None
    """Override the reader's threshold: answer when the confidence is at least this."""
    reader_model: Path | None = None
    """A reader adapter (`eval/train_reader.py`, its `.json` record beside it); None uses the
    one shipped with qa."""
    openai_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    ollama_url: str | None = None
    llm_timeout_s: float = 60.0
    llm_max_tokens: int = 256
    grounding: str = "remove"
    """What the grounding check does with unsupported sentences: "remove" or "mark"."""
    _fetch_k_follows_k: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.read_k < 1:
            raise ValueError(f"read_k must be at least 1, got {self.read_k}")
        if self.fetch_k == 0:
            object.__setattr__(self, "fetch_k", max(FETCH_K, self.k))
            object.__setattr__(self, "_fetch_k_follows_k", True)
        elif self.fetch_k < self.k:
            raise ValueError(f"fetch_k ({self.fetch_k}) must be at least k ({self.k})")
        if not 16 <= self.chunk_tokens <= 254:
            raise ValueError(f"chunk_tokens must be 16..254, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens // 2:
            raise ValueError(
                f"chunk_overlap_tokens must be 0..{self.chunk_tokens // 2 - 1}, "
                f"got {self.chunk_overlap_tokens}"
            )
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"fusion must be 'convex' or 'rrf', got {self.fusion!r}")
        provider, _, model = self.answerer.partition(":")
        if self.answerer != "extractive" and (provider not in GENERATIVE or not model):
            forms = [form.replace("<model>", "MODEL") for form in ANSWERER_FORMS]
            raise ValueError(
                f"answerer must be {', '.join(forms[:-1])} or {forms[-1]}, got {self.answerer!r}"
            )
        if self.sync_s <= 0 or self.lease_s <= 0:
            raise ValueError(
                f"sync_s and lease_s must be positive, got {self.sync_s}, {self.lease_s}"
            )
        if self.grounding not in ("remove", "mark"):
            raise ValueError(f"grounding must be 'remove' or 'mark', got {self.grounding!r}")
        object.__setattr__(self, "store_dir", Path(self.store_dir).expanduser())

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed; a default fetch_k still follows k."""
        if self._fetch_k_follows_k:
            changes.setdefault("fetch_k", 0)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then `QA_*` environment variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = str(f.type)
            if "int" in kind and "str" not in kind:
                values[f.name] = int(raw)
            elif "float" in kind:
                values[f.name] = float(raw)
            elif f.name in ("store_dir", "reader_model"):
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        if "openai_api_key" not in values and env.get("OPENAI_API_KEY"):
            values["openai_api_key"] = env["OPENAI_API_KEY"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
