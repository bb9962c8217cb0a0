"""The linted project: modules parsed once each, and imports between them resolved to files.

Analysis of one file follows its calls into the project's other modules (`from .engine import
train_one_epoch`, a base class in `trainers/base.py`). Those modules are read and parsed on
demand, the first time a call or base class needs them, and kept for the rest of the run.
Installed packages are never followed, nor analysed as a project when linted themselves: only
files next to the importing module or in its package tree count as the project.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from lrlint.first_look import MAX_REEXPORTS, Outlines
from lrlint.model.metadata import Metadata
from lrlint.model.resolve import Resolver
from lrlint.model.syntax import ClassInfo, FunctionInfo, SyntaxIndex, build_syntax_index
from lrlint.module_files import ModuleFiles
from lrlint.sources import MAX_FILE_BYTES, Source, SourceError, read_source

# A module is parsed for the analysis of another only if it can matter to it: it steps something,
# builds an optimizer or scheduler, writes a checkpoint, or defines a class on a framework's base
# (a LightningModule subclass that others extend). Others stay unknown, which is silent.
_RELEVANT = re.compile(r"\.step\(|optim|schedul|torch\.save|LightningModule")


@dataclass(eq=False)
class ModuleAnalysis:
    """One parsed module of the project and what was built from it."""

    path: Path
    source: Source
    module: cst.Module
    index: SyntaxIndex
    metadata: Metadata
    resolver: Resolver


class Project:
    def __init__(self, max_bytes: int = MAX_FILE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._loaded: dict[Path, ModuleAnalysis | None] = {}
        self._digests: dict[Path, str] = {}  # of every module file read, loaded or not
        self._owners: dict[FunctionInfo | ClassInfo, ModuleAnalysis] = {}
        self._lookups: dict[tuple[Path, str, bool], tuple[FunctionInfo | ClassInfo | None, dict[str, str]]] = {}
        self._files = ModuleFiles()
        self.outlines = Outlines(self._files, max_bytes)  # imports and classes, without LibCST
        self.consulted: dict[str, str] = {}  # module files read for the current file: path -> digest
        self.code_size = 0  # characters of code parsed and kept: what memory grows with

    def begin_file(self) -> None:
        """Start recording which modules the analysis of the next file consults (its dependencies)."""
        self.consulted = {}
        for analysis in self._loaded.values():
            if analysis is not None:
                analysis.resolver.begin_file()  # its look-ups must be made again, to be recorded

    # -- modules ------------------------------------------------------------------------------

    def add(self, path: Path, source: Source, module: cst.Module) -> ModuleAnalysis:
        """Register a parsed module (the file being linted, or one loaded on demand)."""
        path = Path(os.path.normpath(path))
        loaded = self._loaded.get(self._files.key(path))
        if loaded is not None and loaded.module is module:
            # Linted now, after another file's analysis loaded it: one analysis, so that what was
            # resolved into it then still belongs to a module of the project. Named as linted.
            loaded.path, loaded.source = path, source
            return loaded
        metadata = Metadata(module, source.code)
        index = build_syntax_index(module)
        resolver = Resolver(index, metadata, path=path, project=self)
        analysis = ModuleAnalysis(path, source, module, index, metadata, resolver)
        self._loaded[self._files.key(path)] = analysis
        self._digests[self._files.key(path)] = source.digest
        self.code_size += len(source.code)
        for function in index.all_functions():
            self._owners[function] = analysis
        for class_info in index.classes.values():
            self._owners[class_info] = analysis
        return analysis

    def parsed(self, path: Path, source: Source) -> cst.Module | None:
        """The module already parsed from this very file and code, for another file's analysis. The
        code itself is compared: a source being fixed keeps the digest of the file it was read from."""
        loaded = self._loaded.get(self._files.key(Path(os.path.normpath(path))))
        return loaded.module if loaded is not None and loaded.source.code == source.code else None

    def modules(self) -> list[ModuleAnalysis]:
        return [analysis for analysis in self._loaded.values() if analysis is not None]

    def _load(self, path: Path) -> ModuleAnalysis | None:
        key = self._files.key(path)
        if key not in self._loaded:
            self._loaded[key] = None  # a module that imports itself back waits on this
            self._digests[key] = ""  # unreadable, until read
            try:
                source = read_source(path, self._max_bytes)
                self._digests[key] = source.digest
                if not _RELEVANT.search(source.code):
                    return None
                module = cst.parse_module(source.code)
            except (SourceError, cst.ParserSyntaxError, RecursionError, ValueError):
                return None  # unreadable here: what it defines stays unknown, which is silent
            self.add(path, source, module)
        return self._loaded[key]

    def _reexported(self, module_file: Path, attribute: str) -> list[str]:
        """`from .base import Trainer` in the module: the qualified names it binds to `attribute`."""
        outline = self.outlines.module(module_file)
        return sorted(outline.imports.get(attribute, ())) if outline is not None else []

    # -- ProjectLookup --------------------------------------------------------------------------

    def resolver_of(self, info: FunctionInfo | ClassInfo) -> Resolver | None:
        owner = self._owners.get(info)
        return owner.resolver if owner is not None else None

    def lookup(
        self, importer: Resolver, qualified_name: str, through_reexports: bool = False
    ) -> FunctionInfo | ClassInfo | None:
        """The function or class of a project module that an imported name refers to; with
        `through_reexports`, also when the imported module only re-exports it from another."""
        if importer.path is None:
            return None
        key = (importer.path, qualified_name, through_reexports)
        if key not in self._lookups:
            self._lookups[key] = self._find(importer.path, qualified_name, 0 if through_reexports else MAX_REEXPORTS)
        found, consulted = self._lookups[key]
        self.consulted.update(consulted)
        return found

    def _find(
        self, importer: Path, qualified_name: str, hops: int = 0
    ) -> tuple[FunctionInfo | ClassInfo | None, dict[str, str]]:
        """What the name refers to, and the module files read to decide it (path -> digest).

        A package's `__init__.py` (or any module) that only re-exports the name
        (`from .base import Trainer`) is followed to the module that defines it.
        """
        consulted: dict[str, str] = {}
        if "site-packages" in self._files.key(importer).parts:
            return None, consulted  # installed code is linted file by file, never as the user's project
        for module_file, attribute in self._files.candidates(importer, qualified_name):
            if self._files.key(module_file) == self._files.key(importer):
                continue
            analysis = self._load(module_file)
            consulted[str(module_file)] = self._digests[self._files.key(module_file)]
            found = _top_level(analysis.index, attribute) if analysis is not None else None
            for origin in self._reexported(module_file, attribute) if found is None and hops < MAX_REEXPORTS else ():
                found, more = self._find(module_file, origin, hops + 1)
                consulted.update(more)
                if found is not None:
                    break
            if found is not None or analysis is not None:
                return found, consulted
        return None, consulted


def _top_level(index: SyntaxIndex, name: str) -> FunctionInfo | ClassInfo | None:
    for function in index.functions.values():
        if function.qualname == name and function.class_info is None:
            return function
    return next((c for c in index.classes.values() if c.name == name), None)
