"""The environment variables that keep qa offline and quiet, named in this one place.

Models come from installed packages, so nothing needs the network, and Chroma and Gradio must
say nothing about their users. Loading a model sets what that library needs (the Python API may
be used without the CLI); the CLI and the UI launcher set the services' switches before they
start anything. A value the user set is left alone (`force` aside).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

VARIABLES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # transformers draws a "Loading weights" bar on every model load, into the user's answer.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # OpenMP threads spinning while they wait starve everything else on 2 shared cores
    # (llama.cpp, measured here: 30 tokens in 125 s spinning, 0.55 s passive). It is read once,
    # when an OpenMP runtime loads (torch's, or llama.cpp's on its first import).
    "OMP_WAIT_POLICY": "PASSIVE",
    "ANONYMIZED_TELEMETRY": "False",
    # Gradio reports usage and checks for new versions over the network unless this is set.
    "GRADIO_ANALYTICS_ENABLED": "False",
}
"""Every variable qa sets, with its value."""

FOR_MODELS = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "HF_HUB_DISABLE_PROGRESS_BARS",
    "OMP_WAIT_POLICY",
)
"""What loading a Hugging Face model (sentence-transformers, transformers) needs."""

FOR_SERVICES = ("HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED")
"""What the CLI sets before any command runs: no model downloads, no Chroma or Gradio telemetry."""


def variables(names: Iterable[str]) -> dict[str, str]:
    """`names` with their values, e.g. for a child process's environment."""
    return {name: VARIABLES[name] for name in names}


def offline_env(names: Iterable[str] = FOR_MODELS, *, force: bool = False) -> None:
    """Set `names` in `os.environ` (by default what a model load needs); `force` overrides a
    value already set."""
    for name, value in variables(names).items():
        if force:
            os.environ[name] = value
        else:
            os.environ.setdefault(name, value)
