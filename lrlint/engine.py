"""A whole run: which files to analyse, results from the cache, the rest linted on every core.

The linter itself (LibCST, the model, the rules) is imported only when some file has to be
analysed: a pre-commit run over files that never mention a scheduler, or a warm run whose
results all come from the cache, starts in a fraction of LibCST's import time.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lrlint.cache import Cache
from lrlint.config import Settings
from lrlint.findings import FileResult, Finding
from lrlint.prefilter import FileState, ProjectPrefilter, SourceNeed, read_state
from lrlint.sources import content_digest

if TYPE_CHECKING:
    import multiprocessing.pool
    import multiprocessing.process

    from lrlint.linter import Linter

T = TypeVar("T")
R = TypeVar("R")

# Below these, starting workers (~0.1 s) costs more than it saves.
_PARALLEL_MIN_BYTES = 64 * 1024  # of code to analyse
_PARALLEL_MIN_READS = 256  # files to read and scan
_STOP_GRACE_SECONDS = 3.0  # for busy workers to stop after an error or Ctrl-C, before they are killed


@dataclass
class RunResult:
    findings: list[Finding]  # deduplicated, in path / cell / line / column order
    internal_errors: list[str]
    analysed: int = 0  # files that passed the prefilter
    cached: int = 0  # of those, files whose result came from the cache
    related: ProjectPrefilter | None = None  # which files matter, given the others: for fixing them later
    skipped: list[str] = field(default_factory=list)  # files that could matter, over the size limit: why


def lint_files(
    paths: list[Path], settings: Settings, debug: bool = False, jobs: int = 1, cache: Cache | None = None
) -> RunResult:
    """Lint `paths` with `jobs` worker processes; the result depends neither on `jobs` nor on `cache`."""
    with _Workers(jobs, settings, debug) as workers:
        states = _states(paths, settings, cache, workers)
        related = ProjectPrefilter.of_states(states, _rule_needs(settings, cache))
        digests = {str(state.path): state.digest for state in states}

        def current_digest(path: str) -> str:
            if path not in digests:
                digests[path] = content_digest(Path(path))
            return digests[path]

        results, misses, skipped = [], [], []
        for state in states:
            if state.facts is not None and not related.relevant(state.facts):
                continue  # cannot contain a finding: never parsed
            if state.oversized is not None:
                skipped.append(f"{state.path}: {state.oversized}")
                continue
            cached = cache.result(state.path, state.digest, current_digest) if cache else None
            if cached is None:
                misses.append(state.path)
            else:
                results.append(cached)
        fresh = _lint_all(misses, settings, debug, related, workers)
    if cache is not None:
        for result in fresh:
            cache.store(result)
    results += fresh
    findings = {finding for result in results for finding in result.findings}
    errors = [error for result in sorted(results, key=lambda r: r.path) for error in result.internal_errors]
    ordered = sorted(findings, key=Finding.sort_key)
    return RunResult(ordered, errors, len(results), len(results) - len(fresh), related, skipped)


def _states(paths: list[Path], settings: Settings, cache: Cache | None, workers: _Workers) -> list[FileState]:
    """Each file's digest and prefilter facts: from the cache when its size and mtime are unchanged."""
    states: dict[Path, FileState] = {}
    to_read: list[tuple[Path, os.stat_result | None]] = []
    for path in paths:
        if cache is None:
            to_read.append((path, None))
            continue
        try:
            stat = path.stat()
        except OSError:
            states[path] = FileState(path, "", None)  # the linter reports why
            continue
        state = cache.state(path, stat)
        if state is None:
            to_read.append((path, stat))
        else:
            states[path] = state
    reading = [path for path, _ in to_read]
    read = workers.map(partial(read_state, max_bytes=settings.max_file_bytes), reading, _PARALLEL_MIN_READS)
    for (path, read_stat), state in zip(to_read, read, strict=True):
        states[path] = state
        if cache is not None and read_stat is not None:
            cache.remember_state(state, read_stat)
    return [states[path] for path in paths]


def _lint_all(
    paths: list[Path], settings: Settings, debug: bool, related: ProjectPrefilter, workers: _Workers
) -> list[FileResult]:
    if not paths:
        return []
    sizes = {path: _size(path) for path in paths}
    if workers.jobs > 1 and len(paths) > 1 and sum(sizes.values()) >= _PARALLEL_MIN_BYTES:
        largest_first = sorted(paths, key=sizes.__getitem__, reverse=True)  # the longest do not start last
        return workers.lint(largest_first, related)
    from lrlint.linter import Linter  # parsing and rules: imported only when a file needs them

    linter = Linter(settings, debug, related)
    return [linter.lint_path(path) for path in paths]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Workers:
    """Worker processes, started when a stage of the run has enough work for them."""

    def __init__(self, jobs: int, settings: Settings, debug: bool) -> None:
        self.jobs = jobs
        self._settings = settings
        self._debug = debug
        self._pool: multiprocessing.pool.Pool | None = None
        self._processes: list[multiprocessing.process.BaseProcess] = []  # the pool's workers

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if self._pool is None:
            return
        if exc_type is None:
            self._pool.terminate()  # every result is in: the workers wait for work, holding nothing
        else:
            _stop_mid_work(self._pool, self._processes)

    def map(self, function: Callable[[T], R], items: list[T], parallel_from: int) -> list[R]:
        """`function` over `items` in order: in the workers when there are at least `parallel_from`."""
        if self.jobs <= 1 or len(items) < parallel_from:
            return [function(item) for item in items]
        return self._started().map(function, items, chunksize=max(1, len(items) // (self.jobs * 8)))

    def lint(self, paths: list[Path], related: ProjectPrefilter) -> list[FileResult]:
        return list(self._started().imap_unordered(_lint_in_worker, [(path, related) for path in paths]))

    def _started(self) -> multiprocessing.pool.Pool:
        if self._pool is None:
            import multiprocessing  # only runs with work for several processes pay for it

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            before = set(multiprocessing.active_children())
            with _ctrl_c_held():
                self._pool = context.Pool(self.jobs, initializer=_start_worker, initargs=(self._settings, self._debug))
            self._processes = [child for child in multiprocessing.active_children() if child not in before]
        return self._pool


def _stop_mid_work(pool: multiprocessing.pool.Pool, processes: list[multiprocessing.process.BaseProcess]) -> None:
    """Stop the pool after an error or a Ctrl-C, when workers may be busy: within seconds.

    `Pool.terminate()` can wait forever when it stops workers that are still reading tasks or
    writing results (it takes their pipes' locks, and a result may not fit the pipe it waits on).
    After a grace period the workers are killed and the stuck helper thread is left behind: it is
    a daemon, so the process still exits."""
    stopping = threading.Thread(target=pool.terminate, name="lrlint-stop-workers", daemon=True)
    stopping.start()
    stopping.join(_STOP_GRACE_SECONDS)
    if stopping.is_alive():
        for process in processes:
            process.kill()


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold SIGINT while the workers are forked, so that none starts with Python's handler before
    `_start_worker` ignores it: a worker interrupted there dies holding the pool's queue lock, and
    terminating the pool then hangs. A Ctrl-C pressed meanwhile reaches the parent right after."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: workers are spawned, not forked
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


_worker_settings: tuple[Settings, bool] | None = None
_worker_linter: Linter | None = None  # one per worker process: its files share the parsed project


def _start_worker(settings: Settings, debug: bool) -> None:
    global _worker_settings  # noqa: PLW0603 - the worker's configuration, set once at its start
    _worker_settings = settings, debug
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no worker tracebacks
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held while the parent forked it


def _rule_needs(settings: Settings, cache: Cache | None) -> frozenset[SourceNeed]:
    """What the enabled rules need in a file: from the cache, or from the rules (which import LibCST)."""
    needs = cache.rule_needs if cache is not None else None
    if needs is None:
        from lrlint.linter import rule_needs  # the rules: imported only when the cache does not say

        needs = rule_needs(settings)
        if cache is not None:
            cache.remember_rule_needs(needs)
    return needs


def _lint_in_worker(task: tuple[Path, ProjectPrefilter]) -> FileResult:
    global _worker_linter  # noqa: PLW0603 - created on the worker's first file
    path, related = task
    if _worker_linter is None:
        from lrlint.linter import Linter

        assert _worker_settings is not None
        _worker_linter = Linter(*_worker_settings, related)
    return _worker_linter.lint_path(path)
