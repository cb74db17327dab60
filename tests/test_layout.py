"""The package layout: the product does not import the evaluation tooling nor torch."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = "[m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith('qa.evaluation')]"


def loaded_after(code: str) -> str:
    """What `code` leaves imported of torch and qa.evaluation, in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(sorted({HEAVY}))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_import_qa_loads_neither_evaluation_nor_torch() -> None:
    assert loaded_after("import qa") == "[]"


def test_cli_parser_and_help_load_neither_evaluation_nor_torch() -> None:
    code = (
        "from qa.cli import main\n"
        "for args in (['--help'], ['eval', '--help'], ['bench', '--help'], ['ask', '--help']):\n"
        "    main(args, standalone_mode=False)"
    )
    assert loaded_after(code) == "[]"


def test_only_the_eval_commands_import_the_evaluation_package() -> None:
    importers = set()
    for path in sorted((ROOT / "qa").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.startswith("qa.evaluation") for name in names):
                importers.add(path.name)
    assert importers == {"cli_eval.py"}


@pytest.mark.slow
def test_the_wheel_ships_the_models_data(tmp_path: Path) -> None:
    # An installed qa (not only the editable one scripts/install makes) needs its data files.
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path / "src"
    shutil.copytree(ROOT / "qa", source / "qa", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "warn" not in out.stderr.lower(), out.stderr
    (wheel,) = tmp_path.glob("qa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {"qa/data/reader.json", "qa/data/reader.npz"}
    assert data <= names
    assert {"qa/__init__.py", "qa/evaluation/__init__.py"} <= names
