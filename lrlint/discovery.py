"""Which files to lint: the paths given, folders walked, default and configured excludes."""

from __future__ import annotations

import fnmatch
import os
import re
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


class _Excluder:
    """Whether a path's name, its path relative to the config root, or its path as given matches a pattern."""

    def __init__(self, patterns: Iterable[str], root: Path | None) -> None:
        translated = [fnmatch.translate(os.path.normcase(raw.rstrip("/"))) for raw in patterns]
        self._pattern = re.compile("|".join(translated)) if translated else None
        self._root = os.path.normcase(os.path.abspath(root)) + os.sep if root is not None else None

    def __call__(self, path: str, name: str) -> bool:
        if self._pattern is None:
            return False
        given = os.path.normcase(path)
        if self._pattern.match(os.path.normcase(name)) or self._pattern.match(given):
            return True
        return self._pattern.match(self._relative(given)) is not None

    def _relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        if self._root is not None and absolute.startswith(self._root):
            return absolute[len(self._root) :].replace(os.sep, "/")
        return path.replace(os.sep, "/")


def discover(
    paths: Iterable[str], excludes: Iterable[str] = (), root: Path | None = None, use_default_excludes: bool = True
) -> Discovery:
    """Files to lint, in a stable order. Paths named explicitly are linted even if excluded by default."""
    excluded = _Excluder((*(DEFAULT_EXCLUDES if use_default_excludes else ()), *excludes), root)
    excluded_by_user = _Excluder(excludes, root)
    found = Discovery()
    seen: set[tuple[int, int, str]] = set()  # the folder's device and inode, and the file name
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            found.missing.append(raw)
            continue
        if path.is_file():
            candidates: Iterable[tuple[Path, tuple[int, int, str]]] = (
                []
                if excluded_by_user(raw, path.name)
                else [(path, _identity(path.resolve().parent, path.resolve().name))]
            )
        else:
            candidates = _walk(path, excluded)
        for candidate, identity in candidates:
            if identity not in seen:
                seen.add(identity)
                found.files.append(candidate)
    return found


def _identity(folder: Path, name: str) -> tuple[int, int, str]:
    stat = folder.stat()
    return stat.st_dev, stat.st_ino, name


def _walk(directory: Path, excluded: _Excluder) -> Iterator[tuple[Path, tuple[int, int, str]]]:
    visited: set[tuple[int, int]] = set()
    for current, dirnames, filenames in os.walk(directory, followlinks=True):
        stat = os.stat(current)
        if (stat.st_dev, stat.st_ino) in visited:  # a symlink loop, or a second link to a folder
            dirnames[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not excluded(os.path.join(current, d), d))
        for name in sorted(filenames):
            if name.endswith(LINTED_SUFFIXES):
                candidate = os.path.join(current, name)
                if not excluded(candidate, name):
                    yield Path(candidate), (stat.st_dev, stat.st_ino, name)
