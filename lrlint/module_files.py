"""Which file of the project an imported name leads to, with each answer the file system gives
kept for the run. Free of LibCST: the pre-commit path finds a staged file's importers with it
before anything is parsed."""

from __future__ import annotations

import os
from pathlib import Path

from lrlint.sources import PROJECT_MARKERS

# How far up from the importing file absolute imports are looked for (script dir, package roots).
_ROOT_SEARCH_DEPTH = 4


class ModuleFiles:
    """Where in the project an imported name may be defined, with each answer the file system
    gives kept for the run: a file imports `torch.nn.functional` as often as it calls it."""

    def __init__(self) -> None:
        self._exists: dict[Path, bool] = {}
        self._is_a_file: dict[Path, bool] = {}
        self._roots: dict[Path, list[Path]] = {}
        self._real: dict[Path, Path] = {}
        self._dotted: dict[tuple[Path, Path], str | None] = {}

    def key(self, path: Path) -> Path:
        """The file's real path: one module however it is reached (symlinks, `..`)."""
        if path not in self._real:
            self._real[path] = Path(os.path.realpath(path))
        return self._real[path]

    def candidates(self, importer: Path, qualified_name: str) -> list[tuple[Path, str]]:
        """(module file, attribute) pairs that `qualified_name` may denote, most likely first."""
        dots = len(qualified_name) - len(qualified_name.lstrip("."))
        parts = qualified_name.lstrip(".").split(".")
        if len(parts) < 2 and not dots:
            return []
        found = []
        module_parts, attribute = parts[:-1], parts[-1]
        for root in self.import_roots(importer, dots):
            if module_parts and self._holds(root, module_parts[0]):
                for candidate in (
                    root.joinpath(*module_parts).with_suffix(".py"),
                    root.joinpath(*module_parts, "__init__.py"),
                ):
                    if self._is_file(candidate):
                        found.append((candidate, attribute))
            if not module_parts and dots:  # `from . import train` names a function of __init__.py
                init = root / "__init__.py"
                if self._is_file(init):
                    found.append((init, attribute))
        return found

    def import_roots(self, importer: Path, dots: int) -> list[Path]:
        """Where an import in `importer` with `dots` leading dots is looked for: the package that many
        levels up for a relative import, the search roots for an absolute one."""
        if not dots:
            return self.search_roots(importer.parent)
        base = importer.parent
        for _ in range(dots - 1):
            base = base.parent
        return [base]

    def dotted_names(self, module_file: Path, roots: list[Path]) -> list[str]:
        """How imports looked for from each of `roots` name the module file: `pkg.engine`, `pkg` (for
        its `__init__.py`), "" (a root's own `__init__.py`); nothing from a root it is not below."""
        found = []
        for root in roots:
            if (module_file, root) not in self._dotted:
                self._dotted[module_file, root] = _dotted_name(self.key(module_file), self.key(root))
            dotted = self._dotted[module_file, root]
            if dotted is not None:
                found.append(dotted)
        return found

    def _holds(self, root: Path, name: str) -> bool:
        """`root` has a package or a module `name`: no deeper look for `numpy.linalg.norm` without `numpy/`."""
        return self._exists_at(root / name) or self._is_file(root / f"{name}.py")

    def search_roots(self, directory: Path) -> list[Path]:
        """Where absolute imports of a module in `directory` are looked for: its folder, then the
        folders above, up to the project's root (a marker) or a few levels."""
        if directory not in self._roots:
            roots = []
            for candidate in [directory, *directory.parents][: _ROOT_SEARCH_DEPTH + 1]:
                if "site-packages" in candidate.parts:
                    break
                roots.append(candidate)
                if any(self._exists_at(candidate / marker) for marker in PROJECT_MARKERS):
                    break
            self._roots[directory] = roots
        return self._roots[directory]

    def _is_file(self, path: Path) -> bool:
        if path not in self._is_a_file:
            self._is_a_file[path] = path.is_file()
        return self._is_a_file[path]

    def _exists_at(self, path: Path) -> bool:
        if path not in self._exists:
            self._exists[path] = path.exists()
        return self._exists[path]


def _dotted_name(target: Path, root: Path) -> str | None:
    """How the module file `target` is named from `root` (both real paths): `pkg.engine`, `pkg` (its
    `__init__.py`), "" (the root's own `__init__.py`); None when it is not below the root."""
    if target.parent != root and root not in target.parents:
        return None
    parts = list(target.relative_to(root).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
