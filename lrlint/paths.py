"""One way to match paths against the patterns of `exclude`, `extend-exclude` and `per-file-ignores`:
gitignore's (through pathspec), as ruff and git read them. A pattern without a slash matches a
file or folder of that name at any depth (`build`, `*.ipynb`, `__init__.py`); one with a slash is
anchored at the configuration's root (`tests/*`, `scripts/**/old_*.py`); a folder that matches
takes everything below it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pathspec


class PathPatterns:
    def __init__(self, patterns: Iterable[str], root: Path | None = None) -> None:
        """`root`: the folder of the configuration that gives the patterns."""
        lines = [pattern.replace(os.sep, "/") for pattern in patterns]
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        self._root = _prefix(root) if root is not None else None

    def match(self, path: str | Path, base: str | Path | None = None) -> bool:
        """`path` relative to the root, else to `base` (the folder walked), else to the working
        folder, when it lies below one; else its name alone: the folders above a project are not
        part of it (a checkout under `/home/ci/build/` is not excluded by `build`)."""
        if self._spec is None:
            return False
        absolute = os.path.abspath(path)
        for prefix in (self._root, _prefix(base) if base is not None else None, _prefix(os.getcwd())):
            if prefix is not None and absolute.startswith(prefix):
                return self._spec.match_file(absolute[len(prefix) :].replace(os.sep, "/"))
        return self._spec.match_file(os.path.basename(absolute))


@lru_cache(maxsize=256)
def one_pattern(pattern: str, root: Path | None) -> PathPatterns:
    """A single pattern (a `per-file-ignores` key), compiled once however many findings ask."""
    return PathPatterns([pattern], root)


def _prefix(folder: str | Path) -> str:
    return os.path.join(os.path.abspath(folder), "")
