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
        "from qa.cli.main import main\n"
        "for args in (['--help'], ['eval', '--help'], ['bench', '--help'], ['ask', '--help']):\n"
        "    main(args, standalone_mode=False)"
    )
    assert loaded_after(code) == "[]"


STAGES = ("models", "index", "ingestion", "answering", "evaluation", "ui", "cli")
"""The packages of `qa/` in the order they may import each other: a stage imports only from the
root modules and from the stages before it."""
ROOT_MODULES = {"types", "config", "text", "errors", "offline", "crash_points"}


def imports() -> dict[str, set[str]]:
    """Module (e.g. "answering.reader") -> the qa modules it imports, anywhere in its code
    (late imports and those only for type checking included)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "qa").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT / "qa").with_suffix("").parts)
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qa"):
                module = (node.module or "").removeprefix("qa").lstrip(".")
                for alias in node.names:
                    full = f"{module}.{alias.name}" if module else alias.name
                    deps.add(full if _is_module(full) else module)
            elif isinstance(node, ast.Import):
                deps.update(a.name.removeprefix("qa.") for a in node.names if a.name[:3] == "qa.")
        found[name] = {d for d in deps if d and d != name}
    return found


def _is_module(dotted: str) -> bool:
    base = ROOT / "qa" / Path(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def stage(module: str) -> int:
    """0 for a root module, 1.. for the stages in order; the package façade is outside."""
    top = module.split(".")[0]
    if top in ROOT_MODULES:
        return 0
    return STAGES.index(top) + 1


def test_the_package_shows_the_stages() -> None:
    names = {p.name for p in (ROOT / "qa").iterdir() if not p.name.startswith("__")}
    assert names == {*STAGES, "data", *(f"{m}.py" for m in ROOT_MODULES)}


def test_no_import_runs_up_the_stages() -> None:
    upward = [
        f"{module} imports {dep}"
        for module, deps in imports().items()
        if module not in ("__init__",)
        for dep in deps
        if stage(dep.split(".")[0] if dep.split(".")[0] in ROOT_MODULES else dep) > stage(module)
    ]
    assert upward == []
    # The root modules import nothing of ours (crash_points and offline included).
    assert {m: d for m, d in imports().items() if m in ROOT_MODULES and d} == {}


def test_no_import_cycle() -> None:
    graph = imports()
    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for dep in sorted(graph.get(node, ())):
            if seen.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep] if dep in path else [node, dep])
            elif dep not in seen:
                visit(dep, [*path, dep])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen and module != "__init__":
            visit(module, [module])
    assert cycles == []


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "qa").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert long == {}


def test_only_the_eval_commands_import_the_evaluation_package() -> None:
    importers = {
        module
        for module, deps in imports().items()
        if not module.startswith("evaluation") and any(d.startswith("evaluation") for d in deps)
    }
    assert importers == {"cli.evaluate", "cli.bench"}


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
