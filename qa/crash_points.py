"""Where a crash test kills an ingest: named points the ingest passes, counted.

The crash tests (`tests/test_crash.py`, `tests/test_server_crash.py`) must land their kills at
chosen moments on a fast or a slow machine alike, so the ingest kills itself instead of being
killed after a guessed delay: `arm("write:3")` makes this process SIGKILL itself when it
reaches a "write" point for the third time (`arm("write:3:0.02")`: 0.02 s later, from a timer,
so the kill may land inside that write). Points: "read" (before a file is loaded), "embed"
(before a batch is embedded), "write" (before each write to Chroma, to the server's records or
to the ledger). Armed, each point is written to stderr as it is reached ("crash point:
write 3"), so a test knows what the killed process had done. Only the CLI arms
it, from `QA_TEST_KILL_AT`; unarmed, a point costs a check.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

POINTS = ("read", "embed", "write")

_target: tuple[str, int, float] | None = None
_counts: dict[str, int] = {}


def arm(spec: str | None) -> None:
    """Kill this process at `spec` ("point:n" or "point:n:delay_s"); None or "" disarms."""
    global _target
    _counts.clear()
    if not spec:
        _target = None
        return
    point, _, rest = spec.partition(":")
    n, _, delay = rest.partition(":")
    if point not in POINTS or not n.isdigit() or int(n) < 1:
        raise ValueError(f"a kill point is {'|'.join(POINTS)}:N[:delay_s], got {spec!r}")
    _target = (point, int(n), float(delay or 0))


def reached(point: str) -> None:
    """Count `point`; at the armed count, kill this process (now, or after the delay)."""
    if _target is None:
        return
    count = _counts[point] = _counts.get(point, 0) + 1
    sys.stderr.write(f"crash point: {point} {count}\n")
    sys.stderr.flush()
    if (point, count) != _target[:2]:
        return
    if _target[2] <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    timer = threading.Timer(_target[2], os.kill, (os.getpid(), signal.SIGKILL))
    timer.daemon = True
    timer.start()
