"""The project modules that import the given files, directly or through others.

pre-commit hands lrlint only the staged files. A module that receives its scheduler from a caller
(`train_one_epoch(model, loader, optimizer, scheduler)` in engine.py, called from main.py) is
analysed from that caller, so a bug added to engine.py alone would pass the hook. Given files,
lrlint also analyses the project's modules that import them, and reports what lies in the given
files. Imports are found in the text, without parsing: a module named like one of the given
files may be analysed for nothing, which costs time, never a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lrlint.config import Settings
from lrlint.discovery import discover
from lrlint.sources import PROJECT_MARKERS

# Unlike prefilter.imported_names, a comment after an import names nothing: `import numpy  # engine`.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+([^\n#;]+)|import[ \t]+([^\n#;]+))", re.MULTILINE)
_ROOT_SEARCH_DEPTH = 6
_MAX_READ_BYTES = 4 * 1024 * 1024


def importers(given: Iterable[Path], settings: Settings, transitive: bool = True) -> list[Path]:
    """The .py files of the given files' projects that import one of them (not the given): those
    that import them directly first, then, if `transitive`, those that import those, and so on."""
    targets = [path for path in given if path.suffix == ".py"]
    if not targets:
        return []
    chosen = {path.resolve() for path in targets}
    roots = sorted({project_root(path) for path in targets})
    candidates = [
        path
        for path in discover(
            [str(r) for r in roots], settings.exclude, settings.root, gitignore=settings.respect_gitignore
        ).files
        if path.suffix == ".py" and path.resolve() not in chosen
    ]
    texts = {path: _read(path) for path in candidates}
    wanted = {_module_name(path) for path in targets}
    found: list[Path] = []
    while True:
        new = [path for path, text in texts.items() if path not in found and _imports(text, wanted)]
        found += new
        if not new or not transitive:
            return found
        wanted |= {_module_name(path) for path in new}


def project_root(path: Path) -> Path:
    """The nearest folder above the file with a project marker (pyproject.toml, .git, ...), else its own."""
    folder = path.resolve().parent
    for candidate in [folder, *folder.parents][:_ROOT_SEARCH_DEPTH]:
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def _module_name(path: Path) -> str:
    """How imports name the module: `engine` for engine.py, `trainers` for trainers/__init__.py."""
    return path.parent.name if path.name == "__init__.py" else path.stem


def _imports(text: str, modules: set[str]) -> bool:
    if not any(module in text for module in modules):
        return False
    for match in _IMPORT.finditer(text):
        words = set(re.findall(r"\w+", " ".join(group for group in match.groups() if group)))
        if words & modules:
            return True
    return False


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
