"""Results of earlier runs, reused while nothing they depend on has changed.

One JSON manifest per lrlint build, configuration and working folder, under `.lrlint_cache/`:

- per file: its size and modification time, the digest of its bytes and its prefilter facts,
  so that an unchanged file is neither read nor hashed again. A file modified less than two
  seconds before it was recorded is re-read next time: an edit within the clock's resolution
  would leave size and time unchanged.
- per analysed file: its findings and the digests of the project modules its analysis read
  (a base class, a called helper). A result is reused only when the file's digest and every
  dependency's digest are unchanged.

Writes go to a temporary file renamed over the manifest, so concurrent runs never read half a
manifest (the last writer wins); a manifest that does not load is ignored and rewritten. Only
the 8 most recently written manifests are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lrlint
from lrlint.config import Settings
from lrlint.findings import FileResult, Finding
from lrlint.prefilter import FileFacts, FileState, SourceNeed

CACHE_DIR_NAME = ".lrlint_cache"
_FORMAT = 1
_RACY_NANOSECONDS = 2_000_000_000
_KEPT_MANIFESTS = 8  # the current one and the most recent others (switching between configurations)
_LEFTOVER_SECONDS = 3600
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# lrlint's cache; see https://bford.info/cachedir/\n"


class Cache:
    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory
        self.manifest = directory / f"{_fingerprint(settings)}.json"
        self._files, self._results, self._needs = _load(self.manifest)
        self._changed = False

    # -- what the enabled rules need in a file: known from lrlint's build and the settings --------

    @property
    def rule_needs(self) -> frozenset[SourceNeed] | None:
        try:
            return frozenset(SourceNeed(need) for need in self._needs) if self._needs is not None else None
        except (TypeError, ValueError):
            return None

    def remember_rule_needs(self, needs: frozenset[SourceNeed]) -> None:
        self._needs = sorted(need.value for need in needs)
        self._changed = True

    # -- file states ----------------------------------------------------------------------------

    def state(self, path: Path, stat: os.stat_result) -> FileState | None:
        """The recorded state of an unchanged file, or None."""
        entry = self._files.get(str(path))
        if entry is None or entry.get("stat") != _signature(stat):
            return None
        try:
            return FileState(path, entry["digest"], FileFacts.from_json(entry["facts"]))
        except (KeyError, TypeError, ValueError):
            return None  # an entry of an unexpected shape counts as absent

    def remember_state(self, state: FileState, stat: os.stat_result) -> None:
        if state.facts is None or state.oversized is not None:
            return
        recent = time.time_ns() - stat.st_mtime_ns < _RACY_NANOSECONDS
        self._files[str(state.path)] = {
            "stat": None if recent else _signature(stat),
            "digest": state.digest,
            "facts": state.facts.to_json(),
        }
        self._changed = True

    # -- results --------------------------------------------------------------------------------

    def result(self, path: Path, digest: str, current_digest: Callable[[str], str]) -> FileResult | None:
        """The recorded result for this content of the file, if its dependencies are unchanged too."""
        entry = self._results.get(str(path))
        if entry is None or entry.get("digest") != digest:
            return None
        try:
            dependencies = dict(entry["dependencies"])
            if any(current_digest(dependency) != recorded for dependency, recorded in dependencies.items()):
                return None
            findings = [Finding.from_json(finding) for finding in entry["findings"]]
        except (KeyError, TypeError, ValueError):
            return None
        return FileResult(str(path), findings, digest=digest, dependencies=dependencies)

    def store(self, result: FileResult) -> None:
        if result.internal_errors or not result.digest:
            return  # an internal error is retried next run; an unreadable file is cheap to report again
        self._results[result.path] = {
            "digest": result.digest,
            "dependencies": result.dependencies,
            "findings": [finding.to_json() for finding in result.findings],
        }
        self._changed = True

    # -- persistence ----------------------------------------------------------------------------

    def save(self) -> str | None:
        """Write the manifest if anything changed; a one-line reason when it could not be written."""
        if not self._changed:
            return None
        try:
            self._prepare_directory()
            data = json.dumps({"format": _FORMAT, "files": self._files, "results": self._results, "needs": self._needs})
            with tempfile.NamedTemporaryFile("w", dir=self.directory, suffix=".tmp", delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, self.manifest)
        except OSError as error:
            return f"cannot write the cache in {self.directory}: {error.strerror or error}"
        self._changed = False
        _prune(self.directory, self.manifest)
        return None

    def _prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, content in ((".gitignore", "*\n"), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            marker = self.directory / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")


def _prune(directory: Path, current: Path) -> None:
    """Drop the manifests of other builds and settings beyond the most recently written few, and
    temporary files a killed run left: every lrlint upgrade or configuration change starts a new one."""
    try:
        manifests = sorted(directory.glob("*.json"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
        stale = [path for path in manifests if path != current][_KEPT_MANIFESTS - 1 :]
        now = time.time()
        stale += [path for path in directory.glob("*.tmp") if now - path.stat().st_mtime > _LEFTOVER_SECONDS]
        for path in stale:
            path.unlink(missing_ok=True)
    except OSError:
        pass  # another run pruning at the same time, or a read-only folder: the next run tries again


def _signature(stat: os.stat_result) -> list[int]:
    return [stat.st_mtime_ns, stat.st_size]


def _load(manifest: Path) -> tuple[dict[str, Any], dict[str, Any], Any]:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}, {}, None  # absent or corrupt: start afresh, the next save rewrites it
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return {}, {}, None
    files, results = data.get("files"), data.get("results")
    if not isinstance(files, dict) or not isinstance(results, dict):
        return {}, {}, None
    return files, results, data.get("needs")


def _fingerprint(settings: Settings) -> str:
    """lrlint's code and data as installed, the settings that shape results, and the working folder."""
    package = Path(lrlint.__file__).parent
    build = sorted(
        (str(path.relative_to(package)), path.stat().st_mtime_ns, path.stat().st_size)
        for path in package.rglob("*")
        if path.suffix in (".py", ".json")
    )
    shaping = (
        settings.select,
        settings.ignore,
        sorted(settings.per_file_ignores.items()),
        settings.max_file_bytes,
        settings.target_torch,
        settings.min_severity,
        str(settings.root),
        os.getcwd(),
    )
    text = repr((lrlint.__version__, build, shaping))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
