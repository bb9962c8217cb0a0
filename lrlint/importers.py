"""The project modules that import the given files, directly or through others.

pre-commit hands lrlint only the staged files. A module that receives its scheduler from a caller
(`train_one_epoch(model, loader, optimizer, scheduler)` in engine.py, called from main.py) is
analysed from that caller, so a bug added to engine.py alone would pass the hook. Given files,
lrlint also analyses the project's modules that import them, and reports what lies in the given
files. Imports are found in the text, without parsing, and resolved to files as the analysis
resolves them (relative imports, the folders above the importer). A module that defines no function
or class (a package `__init__.py` re-exporting names) leads on only to the modules that use one
of the names it imports from the given files: `import diffusers` does not make every module of
the library an importer of `diffusers/optimization.py`. Taken from the text, an import may lead
to a module analysed for nothing, which costs time, never a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lrlint.config import Settings
from lrlint.discovery import discover
from lrlint.module_files import ModuleFiles
from lrlint.sources import PROJECT_MARKERS

# Unlike prefilter.imported_names, a comment after an import names nothing: `import numpy  # engine`.
_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE)
_PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#;]+)", re.MULTILINE)
# A module that defines a function or class can pass on what it imports through its own code.
_DEFINES = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]", re.MULTILINE)
_WORD = re.compile(r"\w+")
_COMMENT = re.compile(r"#[^\n]*")
_ROOT_SEARCH_DEPTH = 6
_MAX_READ_BYTES = 4 * 1024 * 1024


def importers(given: Iterable[Path], settings: Settings, transitive: bool = True) -> list[Path]:
    """The .py files of the given files' projects that import one of them (not the given): those
    that import them directly first, then, if `transitive`, those that import those, and so on."""
    targets = [path for path in given if path.suffix == ".py"]
    if not targets:
        return []
    chosen = {path.resolve() for path in targets}
    chosen_names = {path.name for path in chosen}  # resolving every file of the project costs more
    roots = sorted({project_root(path) for path in targets})
    candidates = [
        path
        for path in discover(
            [str(r) for r in roots], settings.exclude, settings.root, gitignore=settings.respect_gitignore
        ).files
        if path.suffix == ".py" and not (path.name in chosen_names and path.resolve() in chosen)
    ]
    modules = [_Module(path, _read(path)) for path in candidates]
    files = ModuleFiles()
    wanted = _Wanted(files, {files.key(path): None for path in targets})
    found: list[Path] = []
    while True:
        new = [module for module in modules if module.imports_any(wanted)]
        found += [module.path for module in new]
        if not new or not transitive:
            return found
        wanted = wanted.adding({files.key(module.path): module.passes_on(wanted) for module in new})
        taken = set(new)
        modules = [module for module in modules if module not in taken]


@dataclass(frozen=True)
class _Import:
    """One imported module: `from ..pkg.engine import a, b as c`, `import pkg.engine as e`."""

    dots: int  # of a relative import
    module: str  # `pkg.engine`; "" in `from . import x`
    names: tuple[str, ...] | None  # a from-import's names, as imported (None: a plain import)
    bound: tuple[str, ...] = ()  # the names the import binds in the importing module
    spread: bool = False  # `import a.b` (binds `a`) or `from m import *`: any module below may be used

    def prefixes(self) -> list[str]:
        """Dotted names the modules it can lead to start with (besides `module` itself)."""
        if self.spread or self.names is None:
            return [self.module]
        return [f"{self.module}.{name}" if self.module else name for name in self.names]


class _Wanted:
    """The modules looked for, each with the names through which it is reached (None: any), indexed
    by how imports name them from each folder imports are looked for in."""

    def __init__(self, files: ModuleFiles, names: dict[Path, frozenset[str] | None]) -> None:
        self.files = files
        self.names = names
        # What a module's text must contain to use one of them (see `_Module._may_name`).
        self.mentions = frozenset(mention for target in names for mention in _mentions(target))
        self._named: dict[Path, dict[str, list[Path]]] = {}  # root -> dotted name -> modules
        self._below: dict[Path, dict[str, list[Path]]] = {}  # root -> dotted prefix -> modules below

    def adding(self, more: dict[Path, frozenset[str] | None]) -> _Wanted:
        return _Wanted(self.files, {**self.names, **more})

    def reached(self, imported: _Import, root: Path) -> list[Path]:
        """The wanted modules that the import, looked for from `root`, can lead to."""
        if root not in self._named:
            self._index(root)
        found = list(self._named[root].get(imported.module, []))
        for prefix in imported.prefixes():
            found += self._below[root].get(prefix, [])
        return found

    def _index(self, root: Path) -> None:
        named: dict[str, list[Path]] = {}
        below: dict[str, list[Path]] = {}
        for target in self.names:
            for dotted in self.files.dotted_names(target, [root]):
                named.setdefault(dotted, []).append(target)
                parts = dotted.split(".") if dotted else []
                for length in range(len(parts) + 1):
                    below.setdefault(".".join(parts[:length]), []).append(target)
        self._named[root], self._below[root] = named, below


class _Module:
    """A module that may import the given files: its text, and its imports and words once asked."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self._imports: list[_Import] | None = None
        self._words: set[str] | None = None

    @property
    def imports(self) -> list[_Import]:
        if self._imports is None:
            self._imports = list(_imports_of(self.text))
        return self._imports

    @property
    def words(self) -> set[str]:
        if self._words is None:
            self._words = set(_WORD.findall(self.text))
        return self._words

    def imports_any(self, wanted: _Wanted) -> bool:
        """Some import of the module leads to a wanted module, through a name it passes on (if restricted)."""
        if not any(mention in self.text for mention in wanted.mentions):
            return False  # names none of them: its imports need not be read
        for imported in self.imports:
            for target in self._reached(imported, wanted):
                names = wanted.names[target]
                if names is None or not names.isdisjoint(self.words):
                    return True
        return False

    def passes_on(self, wanted: _Wanted) -> frozenset[str] | None:
        """The names through which an importer of this module can reach the wanted modules: those it
        imports from them, when it only re-exports (a package `__init__.py`); None: any name (it
        defines functions or classes, which may use them, or it imports them whole)."""
        if _DEFINES.search(self.text):
            return None
        names: set[str] = set()
        for imported in self.imports:
            if self._reached(imported, wanted):
                if imported.names is None or imported.spread:
                    return None
                names.update(imported.bound)
        return frozenset(names)

    def _reached(self, imported: _Import, wanted: _Wanted) -> list[Path]:
        roots = wanted.files.import_roots(self.path, imported.dots)
        return [target for root in roots for target in wanted.reached(imported, root) if self._may_name(target)]

    def _may_name(self, target: Path) -> bool:
        return any(mention in self.text for mention in _mentions(target))


def _mentions(target: Path) -> tuple[str, ...]:
    """Using a module means writing its name (`engine`), or its package's or `from .` for an `__init__.py`."""
    return (target.stem,) if target.name != "__init__.py" else (target.parent.name, "from .")


def _imports_of(text: str) -> Iterator[_Import]:
    text = text.replace("\\\n", " ")  # continued lines
    for match in _FROM_IMPORT.finditer(text):
        dots, module, listed = match.groups()
        listed = _COMMENT.sub("", listed).strip("()")
        parts = [part.split() for part in listed.split(",")]
        pairs = [(words[0], words[-1]) for words in parts if words and (len(words) == 1 or words[1] == "as")]
        names = tuple(name for name, _ in pairs)
        yield _Import(len(dots), module, names, tuple(alias for _, alias in pairs), spread="*" in names)
    for match in _PLAIN_IMPORT.finditer(text):
        for part in match.group(1).split(","):
            words = part.split()
            if not words:
                continue
            if len(words) == 3 and words[1] == "as":
                yield _Import(0, words[0], None, (words[2],), spread=True)
            else:
                yield _Import(0, words[0].split(".")[0], None, (words[0].split(".")[0],), spread=True)


def project_root(path: Path) -> Path:
    """The nearest folder above the file with a project marker (pyproject.toml, .git, ...), else its own."""
    folder = path.resolve().parent
    for candidate in [folder, *folder.parents][:_ROOT_SEARCH_DEPTH]:
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
