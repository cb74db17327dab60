"""The llama.cpp that `scripts/install` installs is its own AVX2 build, whatever pip had cached.

A wheel built for the native CPU (AMX on some Xeons, where any prompt of more than one token
segfaults; AVX-512 elsewhere, an illegal instruction on a machine without it) must never be
the one installed: the build's feature list names AVX2 and none of those.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed: pip install 'qa[llm]'",
    ),
]


def test_the_installed_llama_cpp_is_built_for_avx2_only() -> None:
    # In a child process: the library loads its OpenMP runtime on import.
    out = subprocess.run(
        [sys.executable, "-c", "import llama_cpp; print(llama_cpp.llama_print_system_info())"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    features = out.stdout
    assert "AVX2 = 1" in features
    assert "AVX512" not in features
    assert "AMX" not in features
