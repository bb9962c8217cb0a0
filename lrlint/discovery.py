"""Which files to lint: the paths given, folders walked, default and configured excludes."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LINTED_SUFFIXES = (".py", ".ipynb")
DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".lrlint_cache",
    ".ipynb_checkpoints",
    "node_modules",
    "site-packages",
    "*.egg-info",
)


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths given that do not exist


def _matches(path: Path, patterns: Iterable[str], root: Path | None) -> bool:
    """True when the path's name, or its path relative to the config root, matches a pattern."""
    relative = _relative(path, root)
    for raw in patterns:
        pattern = raw.rstrip("/")
        if any(fnmatch.fnmatch(text, pattern) for text in (path.name, relative, str(path))):
            return True
    return False


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def discover(
    paths: Iterable[str], excludes: Iterable[str] = (), root: Path | None = None, use_default_excludes: bool = True
) -> Discovery:
    """Files to lint, in a stable order. Paths named explicitly are linted even if excluded by default."""
    patterns = (*(DEFAULT_EXCLUDES if use_default_excludes else ()), *excludes)
    user_patterns = tuple(excludes)
    found = Discovery()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            found.missing.append(raw)
            continue
        if path.is_file():
            candidates: Iterable[Path] = [] if _matches(path, user_patterns, root) else [path]
        else:
            candidates = _walk(path, patterns, root)
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.files.append(candidate)
    return found


def _walk(directory: Path, patterns: tuple[str, ...], root: Path | None) -> Iterator[Path]:
    visited: set[tuple[int, int]] = set()
    for current, dirnames, filenames in os.walk(directory, followlinks=True):
        here = Path(current)
        stat = here.stat()
        if (stat.st_dev, stat.st_ino) in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not _matches(here / d, patterns, root))
        for name in sorted(filenames):
            candidate = here / name
            if name.endswith(LINTED_SUFFIXES) and not _matches(candidate, patterns, root):
                yield candidate
