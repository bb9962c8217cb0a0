"""Which files to lint: the paths given, folders walked, default and configured excludes."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from lrlint.paths import PathPatterns

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


def discover(
    paths: Iterable[str],
    excludes: Iterable[str] = (),
    root: Path | None = None,
    use_default_excludes: bool = True,
    gitignore: bool = True,
) -> Discovery:
    """Files to lint, in a stable order. Paths named explicitly are linted even if excluded by default."""
    excluded = PathPatterns((*(DEFAULT_EXCLUDES if use_default_excludes else ()), *excludes), root)
    excluded_by_user = PathPatterns(excludes, root)
    found = Discovery()
    seen: set[tuple[int, int, str]] = set()  # the folder's device and inode, and the file name
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            found.missing.append(raw)
            continue
        if path.is_file():
            candidates: Iterable[tuple[Path, tuple[int, int, str]]] = (
                [] if excluded_by_user.match(raw) else [(path, _identity(path.resolve().parent, path.resolve().name))]
            )
        else:
            candidates = _walk(path, excluded, gitignore)
        for candidate, identity in candidates:
            if identity not in seen:
                seen.add(identity)
                found.files.append(candidate)
    return found


def _identity(folder: Path, name: str) -> tuple[int, int, str]:
    stat = folder.stat()
    return stat.st_dev, stat.st_ino, name


def _walk(
    directory: Path, excluded: PathPatterns, gitignore: bool = True
) -> Iterator[tuple[Path, tuple[int, int, str]]]:
    visited: set[tuple[int, int]] = set()
    ignores = _GitIgnores(directory) if gitignore else None
    for current, dirnames, filenames in os.walk(directory, followlinks=True):
        stat = os.stat(current)
        if (stat.st_dev, stat.st_ino) in visited:  # a symlink loop, or a second link to a folder
            dirnames[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        if ignores is not None:
            ignores.load(current)

        def skipped(name: str, is_dir: bool, folder: str = current) -> bool:
            path = os.path.join(folder, name)
            return excluded.match(path, directory) or (ignores is not None and ignores.ignored(path, is_dir))

        dirnames[:] = sorted(d for d in dirnames if not skipped(d, is_dir=True))
        for name in sorted(filenames):
            if name.endswith(LINTED_SUFFIXES) and not skipped(name, is_dir=False):
                yield Path(os.path.join(current, name)), (stat.st_dev, stat.st_ino, name)


class _GitIgnores:
    """The `.gitignore` files of a walk: those of the folders walked, and those above the walked
    folder up to its git repository's root, each applying below its own folder."""

    def __init__(self, start: Path) -> None:
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        chain = [os.path.abspath(start)]
        while not os.path.isdir(os.path.join(chain[-1], ".git")):
            parent = os.path.dirname(chain[-1])
            if parent == chain[-1]:
                return  # not in a git repository: only the walked folders' own files apply
            chain.append(parent)
        for folder in reversed(chain[1:]):  # from the repository's root down to the walked folder's parent
            self.load(folder)
        if self.ignored(chain[0], is_dir=True):
            self._specs = []  # a folder git ignores, named on purpose (a venv's package): linted whole

    def load(self, folder: str) -> None:
        path = os.path.join(folder, ".gitignore")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                spec = pathspec.GitIgnoreSpec.from_lines(handle)
        except OSError:
            return
        self._specs.append((os.path.abspath(folder) + os.sep, spec))

    def ignored(self, path: str, is_dir: bool) -> bool:
        absolute = os.path.abspath(path)
        for folder, spec in self._specs:
            if absolute.startswith(folder):
                relative = absolute[len(folder) :].replace(os.sep, "/") + ("/" if is_dir else "")
                if spec.match_file(relative):
                    return True
        return False
