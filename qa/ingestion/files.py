"""Which files to load: the paths a user names, with folders walked, and why the others cannot
be loaded (`qa.ingestion.loaders` reads the files found).

Example:
    >>> files, problems = find_files([Path("corpus")])
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.types import Problem

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".txt",
    ".md",
    ".markdown",
    ".html",
    ".htm",
    ".pdf",
    ".json",
    ".jsonl",
)


def display_source(path: Path) -> str:
    """`path` relative to the working folder when under it, else absolute (posix form)."""
    absolute = Path(os.path.abspath(path))  # not resolve(): keep the names the user sees
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return absolute.as_posix()


def _unsupported(suffix: str) -> str:
    return f"unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})"


# --- finding files ----------------------------------------------------------------------------


def _stat_problem(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(error, FileNotFoundError) and path.is_symlink():
        return f"broken symlink (points to {os.readlink(path)!r}, which does not exist)"
    if isinstance(error, FileNotFoundError):
        return "no such file or folder"
    if isinstance(error, PermissionError):
        return "cannot read: permission denied"
    return f"cannot read: {error.strerror or error}"


@dataclass
class _Finder:
    found: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)
    """Resolved paths of the files found and the folders walked."""

    def problem(self, path: Path, reason: str) -> None:
        self.problems.append(Problem(display_source(path), reason))

    def visit(self, path: Path, *, named: bool, ancestors: frozenset[Path] = frozenset()) -> None:
        supported = path.suffix.lower() in SUPPORTED_SUFFIXES
        try:
            info = path.stat()
        except OSError as e:
            if named or supported or path.is_symlink():
                self.problem(path, _stat_problem(path, e))
            return
        if stat.S_ISDIR(info.st_mode):
            self.walk(path, ancestors)
        elif not supported:
            if named:
                self.problem(path, _unsupported(path.suffix))
        elif not stat.S_ISREG(info.st_mode):
            self.problem(path, "not a regular file")
        elif not os.access(path, os.R_OK):
            self.problem(path, "cannot read: permission denied")
        elif path.resolve() not in self.seen:
            self.seen.add(path.resolve())
            self.found.append(path)

    def walk(self, folder: Path, ancestors: frozenset[Path]) -> None:
        key = folder.resolve()
        if key in ancestors:
            self.problem(folder, f"symlink loop (leads back to {display_source(key)})")
            return
        if key in self.seen:
            return  # the same folder reached by another name
        self.seen.add(key)
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as e:
            self.problem(folder, _stat_problem(folder, e))
            return
        for name in names:
            if not name.startswith("."):
                self.visit(folder / name, named=False, ancestors=ancestors | {key})


def find_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """The files to load under `paths`, and a Problem for each path that cannot be loaded.

    Named files are taken as they are (an unsupported suffix is a Problem). Folders are walked
    recursively in sorted order, skipping hidden names and, silently, unsupported suffixes.
    Symlinks are followed; loops and broken links are Problems. Files are deduplicated by
    their resolved path, keeping the first name they were found by.
    """
    finder = _Finder()
    for path in paths:
        finder.visit(Path(path), named=True)
    return finder.found, finder.problems
