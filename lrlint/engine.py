"""A whole run: which files to analyse, results from the cache, the rest linted on every core.

The linter itself (LibCST, the model, the rules) is imported only when some file has to be
analysed: a pre-commit run over files that never mention a scheduler, or a warm run whose
results all come from the cache, starts in a fraction of LibCST's import time.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint.cache import Cache
from lrlint.config import Settings
from lrlint.findings import FileResult, Finding
from lrlint.prefilter import FileState, ProjectPrefilter, read_state
from lrlint.sources import content_digest

if TYPE_CHECKING:
    from lrlint.linter import Linter

_PARALLEL_MIN_FILES = 8  # below this, starting workers costs more than it saves


@dataclass
class RunResult:
    findings: list[Finding]  # deduplicated, in path / cell / line / column order
    internal_errors: list[str]
    analysed: int = 0  # files that passed the prefilter
    cached: int = 0  # of those, files whose result came from the cache


def lint_files(
    paths: list[Path], settings: Settings, debug: bool = False, jobs: int = 1, cache: Cache | None = None
) -> RunResult:
    """Lint `paths` with `jobs` worker processes; the result depends neither on `jobs` nor on `cache`."""
    states = [_state(path, settings, cache) for path in paths]
    related = ProjectPrefilter.of_states(states)
    digests = {str(state.path): state.digest for state in states}

    def current_digest(path: str) -> str:
        if path not in digests:
            digests[path] = content_digest(Path(path))
        return digests[path]

    results, misses = [], []
    for state in states:
        if state.facts is not None and not related.relevant(state.facts):
            continue  # cannot contain a finding: never parsed
        cached = cache.result(state.path, state.digest, current_digest) if cache else None
        if cached is None:
            misses.append(state.path)
        else:
            results.append(cached)
    fresh = _lint_all(misses, settings, debug, jobs, related)
    if cache is not None:
        for result in fresh:
            cache.store(result)
    results += fresh
    findings = {finding for result in results for finding in result.findings}
    errors = [error for result in sorted(results, key=lambda r: r.path) for error in result.internal_errors]
    return RunResult(sorted(findings, key=Finding.sort_key), errors, len(results), len(results) - len(fresh))


def _state(path: Path, settings: Settings, cache: Cache | None) -> FileState:
    """The file's digest and prefilter facts: from the cache when its size and mtime are unchanged."""
    if cache is None:
        return read_state(path, settings.max_file_bytes)
    try:
        stat = path.stat()
    except OSError:
        return FileState(path, "", None)  # the linter reports why
    state = cache.state(path, stat)
    if state is None:
        state = read_state(path, settings.max_file_bytes)
        cache.remember_state(state, stat)
    return state


def _lint_all(
    paths: list[Path], settings: Settings, debug: bool, jobs: int, related: ProjectPrefilter
) -> list[FileResult]:
    if not paths:
        return []
    from lrlint.linter import Linter  # parsing and rules: imported only when a file needs them

    if jobs <= 1 or len(paths) < _PARALLEL_MIN_FILES:
        linter = Linter(settings, debug, related)
        return [linter.lint_path(path) for path in paths]
    largest_first = sorted(paths, key=_size, reverse=True)  # the longest files do not start last
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(jobs, initializer=_start_worker, initargs=(settings, debug, related)) as pool:
        return list(pool.imap_unordered(_lint_in_worker, largest_first))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_worker_linter: Linter | None = None


def _start_worker(settings: Settings, debug: bool, related: ProjectPrefilter | None) -> None:
    from lrlint.linter import Linter

    global _worker_linter  # noqa: PLW0603 - one linter per worker process, shared by its files
    _worker_linter = Linter(settings, debug, related)


def _lint_in_worker(path: Path) -> FileResult:
    assert _worker_linter is not None
    return _worker_linter.lint_path(path)
