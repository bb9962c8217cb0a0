"""The first look: the standard library's parser tells that a file needs no model, before LibCST.

A file that passes the text prefilter names a scheduler somewhere, often only in a docstring or an
annotation (`optimizers: tuple[Optimizer, LambdaLR]` in an HF Trainer subclass). CPython's own
parser reads it many times faster than LibCST, and what it reads is enough to tell whether
anything in the file can reach a rule. The model replays a module only when `_may_step_schedulers`
(model/__init__.py) holds, and the rules that report without a replay read scheduler
constructions, torch scheduler subclasses, LightningModules and what an HF Trainer is handed. So
the file is analysed when it has any of:

- a step of a scheduler or of an attribute (`sched.step(`, `self.<name>.step(`) with a base class
  from another module: the text tests of `_may_step_schedulers`;
- a call whose name is a scheduler's or a factory's (`StepLR(`, `lr_scheduler.OneCycleLR(`,
  `get_scheduler(`, through `import ... as`), or of a class, here or imported from the project,
  that derives from a scheduler;
- a class deriving from a torch scheduler or a LightningModule (through the project's classes);
  a method `configure_optimizers` or `create_scheduler`, or a store to `self.lr_scheduler`;
- a call handing a Trainer `optimizers=`, other than `super().__init__(...)`: the model reads a
  Trainer subclass's scheduler where it stores `self.lr_scheduler` or in `create_scheduler`.
- an mmengine config's scheduler with a window (`dict(type="MultiStepLR", ..., end=24)`).

Names are matched by their last part, bases followed through every project module that may define
them: a superset of what the resolver, with its qualified names, can find. Whatever cannot be read
(syntax this Python rejects, a base's module that does not parse) counts as a reason to analyse.
A skipped file is not given to LibCST at all, so syntax CPython accepts but LibCST cannot parse
(LR000) is reported only in files that have something to analyse, as the prefilter already does
for files that never name a scheduler.
tests/test_first_look.py checks on every fixture and rule example that this hides no finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lrlint.catalog import scheduler_specs
from lrlint.guards import python_syntax_tree
from lrlint.module_files import ModuleFiles
from lrlint.prefilter import DECLARES_A_WINDOWED_SCHEDULER, STEPS_A_SCHEDULER, STEPS_AN_ATTRIBUTE
from lrlint.sources import SourceError, read_source

_FRAMEWORK_METHODS = frozenset({"configure_optimizers", "create_scheduler"})
_STORED_SCHEDULER = "lr_scheduler"  # where the HF Trainer keeps the scheduler it steps
_LIGHTNING_MODULE = "LightningModule"
MAX_REEXPORTS = 3  # package re-exports followed for a name, here and by the project's lookups
_UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)  # what CPython's parser raises
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")  # fields that hold statements
_Seen = set[tuple[Path, str]]  # classes whose bases are being collected (a class may name itself)


@lru_cache(maxsize=1)
def _scheduler_names() -> frozenset[str]:
    """Last parts of the names that build a scheduler or that a scheduler class derives from."""
    return frozenset(scheduler_specs()) | {"LRScheduler", "_LRScheduler"}


@dataclass
class Outline:
    """What a module imports and which classes it defines (syntax trees are not kept: the outlines
    of a whole project stay small, and cost the garbage collector nothing)."""

    imports: dict[str, set[str]] = field(default_factory=dict)  # local name -> qualified names
    classes: dict[str, set[str]] = field(default_factory=dict)  # class (nested too) -> its bases' qualified names

    @classmethod
    def of(cls, tree: ast.Module) -> Outline:
        outline, class_nodes = cls(), []
        for node in _statements(tree):  # imports and classes are statements: expressions are not walked
            if isinstance(node, ast.ClassDef):
                class_nodes.append(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    outline.imports.setdefault(local, set()).add(alias.name if alias.asname else local)
            elif isinstance(node, ast.ImportFrom):
                prefix = "." * node.level + (node.module or "")
                separator = "." if node.module else ""
                for alias in node.names:
                    qualified = f"{prefix}{separator}{alias.name}"
                    outline.imports.setdefault(alias.asname or alias.name, set()).add(qualified)
        for node in class_nodes:
            bases = outline.classes.setdefault(node.name, set())
            bases.update(name for base in node.bases for name in outline.qualified_names(base))
        return outline

    def qualified_names(self, expr: ast.expr) -> set[str]:
        """`lr_scheduler.StepLR` -> {"torch.optim.lr_scheduler.StepLR"}; a local name as written."""
        if isinstance(expr, ast.Subscript):  # `Generic[T]`, `Base[Config]`
            return self.qualified_names(expr.value)
        if isinstance(expr, ast.Name):
            return self.imports.get(expr.id, set()) | {expr.id}
        if isinstance(expr, ast.Attribute):
            return {f"{head}.{expr.attr}" for head in self.qualified_names(expr.value)}
        return set()


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement, in blocks nested to any depth (and the `except` and `case` clauses that hold blocks)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if isinstance(block, list):
                stack.extend(block)


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree (`ast.walk`'s nodes, in another order, in about half its time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend(child for child in value if isinstance(child, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


@dataclass
class Bases:
    """What a class derives from, through the classes of the project that define its bases."""

    names: set[str] = field(default_factory=set)  # qualified names, as each module imports them
    from_project: bool = False  # a base is a class of another module of the project
    unreadable: bool = False  # a module on the way does not parse: the bases may be anything

    def derive_from_framework(self) -> bool:
        """A torch scheduler subclass or a LightningModule, as far as the names tell."""
        last_parts = {name.rsplit(".", 1)[-1] for name in self.names}
        return self.unreadable or bool(last_parts & _scheduler_names()) or _LIGHTNING_MODULE in last_parts


class Outlines:
    """The outlines of the project's modules, each read once, and the bases of their classes."""

    def __init__(self, files: ModuleFiles, max_bytes: int) -> None:
        self._files = files
        self._max_bytes = max_bytes
        self._read: dict[Path, tuple[Outline | None, str]] = {}  # outline (None: does not parse), digest
        self.consulted: dict[str, str] = {}  # module files read for the current file: path -> digest

    def begin_file(self) -> None:
        """Start recording which modules the first look at the next file reads (its dependencies)."""
        self.consulted = {}

    def module(self, path: Path) -> Outline | None:
        key = self._files.key(path)
        if key not in self._read:
            self._read[key] = _outline_of(key, self._max_bytes)
        outline, digest = self._read[key]
        self.consulted[str(path)] = digest
        return outline

    def bases(self, path: Path, outline: Outline, class_name: str) -> Bases:
        """The bases of a class of the module at `path`."""
        found = Bases()
        self._collect(path, outline, class_name, found, set())
        return found

    def imported_class(self, importer: Path, qualified_name: str) -> Bases | None:
        """The bases of the project class an import names; None when no module of the project defines it."""
        found = Bases()
        return found if self._follow(importer, qualified_name, found, set(), 0) else None

    def _collect(self, path: Path, outline: Outline, class_name: str, found: Bases, seen: _Seen) -> None:
        if (path, class_name) in seen:
            return
        seen.add((path, class_name))
        for name in outline.classes.get(class_name, set()):
            found.names.add(name)
            if name in outline.classes:
                self._collect(path, outline, name, found, seen)
            elif self._follow(path, name, found, seen, 0):
                found.from_project = True

    def _follow(self, importer: Path, qualified_name: str, found: Bases, seen: _Seen, hops: int) -> bool:
        """Collects the bases of the project class that `qualified_name` names in `importer`, through
        modules that re-export it; False when no module of the project defines it."""
        defined = False
        for module_file, attribute in self._files.candidates(importer, qualified_name):
            if self._files.key(module_file) == self._files.key(importer):
                continue
            outline = self.module(module_file)
            if outline is None:
                found.unreadable = defined = True
            elif attribute in outline.classes:
                self._collect(module_file, outline, attribute, found, seen)
                defined = True
            elif attribute in outline.imports and hops < MAX_REEXPORTS:
                for origin in outline.imports[attribute]:
                    defined |= self._follow(module_file, origin, found, seen, hops + 1)
        return defined


def _outline_of(path: Path, max_bytes: int) -> tuple[Outline | None, str]:
    try:
        source = read_source(path, max_bytes)
    except SourceError:
        return Outline(), ""  # unreadable: the model cannot load it either
    try:
        return Outline.of(python_syntax_tree(source.code)), source.digest
    except _UNPARSABLE:
        return None, source.digest


def needs_model(code: str, path: Path, outlines: Outlines) -> bool:
    """Whether anything in the file can lead a rule to report: False only when the file certainly
    has nothing for any rule (see the module's docstring for what counts)."""
    if STEPS_A_SCHEDULER.search(code) or DECLARES_A_WINDOWED_SCHEDULER.search(code):
        return True
    try:
        tree = python_syntax_tree(code)
    except _UNPARSABLE:
        return True  # LibCST decides, and reports what does not parse
    outline = Outline.of(tree)
    calls = _calls_unless_hooked(tree)
    if calls is None:
        return True
    for name in outline.classes:
        bases = outlines.bases(path, outline, name)
        if bases.derive_from_framework():
            return True
        if (bases.from_project or bases.unreadable) and STEPS_AN_ATTRIBUTE.search(code):
            return True  # `self.scheduler.step()` may step what a base class built
    return any(_call_matters(path, outline, outlines, call) for call in calls)


def _calls_unless_hooked(tree: ast.Module) -> list[ast.Call] | None:
    """The module's calls; None when it has a framework's hook for schedulers: `def
    configure_optimizers` or `def create_scheduler`, or a store to `self.lr_scheduler` (where the
    HF Trainer keeps the scheduler it steps)."""
    calls = []
    for node in _nodes(tree):
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Attribute):
            if node.attr == _STORED_SCHEDULER and isinstance(node.ctx, ast.Store):
                return None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _FRAMEWORK_METHODS:
            return None
    return calls


def _call_matters(path: Path, outline: Outline, outlines: Outlines, call: ast.Call) -> bool:
    func = call.func
    if any(keyword.arg == "optimizers" for keyword in call.keywords) and not _on_super(func):
        return True
    if isinstance(func, ast.Attribute):
        return func.attr in _scheduler_names()
    if not isinstance(func, ast.Name):
        return False
    names = outline.qualified_names(func)
    if {name.rsplit(".", 1)[-1] for name in names} & _scheduler_names():
        return True
    if func.id in outline.classes or not func.id[:1].isupper():
        return False  # a class of this file matters as a class (above); lower case: not a class
    imported = (outlines.imported_class(path, name) for name in names - {func.id})
    return any(bases is not None and bases.derive_from_framework() for bases in imported)


def _on_super(func: ast.expr) -> bool:
    """`super().__init__`, `super(Trainer, self).__init__`."""
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "super"
    )
