"""The int8 ONNX embedder against sentence-transformers' fp32 vectors, on real article text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.models.onnx_embed import OnnxEmbedder, bundled_model_dir

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_597cfd3371608b94.txt"
# Exports the model once per session (~10-20 s of torch.export + quantization).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def embedder(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir)


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    found = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    assert len(found) >= 4
    return [*found, "Baku", "Who counts the displaced?"]


def test_vectors_agree_with_sentence_transformers_fp32(
    embedder: OnnxEmbedder, paragraphs: list[str]
) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    expected = reference.encode(paragraphs, normalize_embeddings=True)
    cosines = (embedder.embed(paragraphs) * expected).sum(axis=1)
    assert cosines.min() > 0.98, cosines


def test_shape_dtype_and_unit_length(embedder: OnnxEmbedder, paragraphs: list[str]) -> None:
    vectors = embedder.embed(paragraphs)
    assert vectors.shape == (len(paragraphs), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    assert (embedder.name, embedder.dim, embedder.max_tokens) == (
        "onnx-int8:all-MiniLM-L6-v2",
        384,
        254,
    )


def test_rows_keep_input_order_across_length_sorted_batches(
    embedder: OnnxEmbedder, paragraphs: list[str]
) -> None:
    together = embedder.embed(paragraphs)
    alone = np.vstack([embedder.embed([text]) for text in paragraphs])
    # Dynamic int8 scales activations per batch, so a row moves slightly with its batch-mates.
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == list(range(len(paragraphs)))
    assert similarity.diagonal().min() > 0.98, similarity.diagonal()


def test_text_is_truncated_to_max_tokens(embedder: OnnxEmbedder, paragraphs: list[str]) -> None:
    long = " ".join(paragraphs * 3)
    spans = embedder.token_spans(long)
    assert len(spans) > embedder.max_tokens
    head = long[: spans[embedder.max_tokens - 1][1]]
    np.testing.assert_allclose(embedder.embed([long]), embedder.embed([head]), atol=1e-5)


def test_token_spans_are_word_pieces_of_the_text(embedder: OnnxEmbedder) -> None:
    text = "Baku hosts NATO's envoy."
    pieces = [text[a:b] for a, b in embedder.token_spans(text)]
    assert pieces == ["Baku", "hosts", "NATO", "'", "s", "envoy", "."]


def test_second_construction_reuses_the_export(embedder: OnnxEmbedder, cache_dir: Path) -> None:
    model = cache_dir / "all-MiniLM-L6-v2-int8.onnx"
    assert embedder.path == model
    before = model.stat().st_mtime_ns
    again = OnnxEmbedder(cache_dir)
    assert model.stat().st_mtime_ns == before
    # No temporary export folder is left behind.
    assert [p.name for p in cache_dir.iterdir() if p.suffix != ".lock"] == [model.name]
    assert again.embed(["Baku"]).tobytes() == embedder.embed(["Baku"]).tobytes()
