"""Scopes and qualified names of one module, from one walk of its LibCST tree.

Gives what lrlint asked LibCST's ScopeProvider for, with the same answers: the bindings a name can
refer to in its scope (every assignment of the name there, flow-insensitively), and the qualified
names of an expression (`torch.optim.lr_scheduler.StepLR` for a `StepLR` imported from there,
`train.<locals>.scheduler` for a local, `builtins.len`). ScopeProvider cost several times the
parse (it runs LibCST's visitor framework twice over the whole tree, with ExpressionContextProvider,
and records every access); this walk visits only the nodes that name or bind something and
resolves an access when it is asked about. Python's rules as LibCST models them: a class body's
names are not seen from its methods, `global` and `nonlocal` redirect a name, a comprehension has
its own scope whose first iterable is evaluated outside it, a default value or an annotation of a
parameter is evaluated where the function is defined, and an access sees the assignments of its
own scope made before it (else all of them, else the enclosing scope's).
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from functools import cache

import libcst as cst
from libcst.helpers import get_full_name_for_node

from lrlint.model.syntax import child_nodes


class Kind(Enum):
    BUILTINS = "builtins"
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    COMPREHENSION = "comprehension"


class Binding:
    """A name bound in a scope. `node`: the target `Name` of an assignment, loop or `with ... as`,
    the `FunctionDef` or `ClassDef` it names, the `Param`, or the `Import` / `ImportFrom`."""

    __slots__ = ("index", "name", "node", "scope")

    def __init__(self, name: str, scope: Scope, node: cst.CSTNode, index: int) -> None:
        self.name = name
        self.scope = scope
        self.node = node
        self.index = index  # how many binding statements of its scope had run before it

    def qualified_names(self, full_name: str) -> set[str]:
        prefix = self.scope.prefix
        return {f"{prefix}.{full_name}" if prefix else full_name}


class ImportBinding(Binding):
    __slots__ = ()

    def qualified_names(self, full_name: str) -> set[str]:
        """`full_name` as the imported module or object spells it: `torch.optim.SGD` for `optim.SGD`
        after `from torch import optim`, `.engine.train` for `engine.train` after `from . import engine`."""
        assert isinstance(self.node, (cst.Import, cst.ImportFrom))
        if isinstance(self.node.names, cst.ImportStar):
            return set()
        module = _imported_module(self.node)
        found: set[str] = set()
        for alias in self.node.names:
            real_name = get_full_name_for_node(alias.name)
            if not real_name:
                continue
            parts = real_name.split(".")
            for length in range(len(parts), 0, -1):  # the longest prefix of a dotted import that matches
                bound = ".".join(parts[:length])
                real = f"{module}{bound}" if module.endswith(".") else f"{module}.{bound}" if module else bound
                if alias.asname is not None and alias.evaluated_alias is not None:
                    bound = alias.evaluated_alias
                if full_name.startswith(bound):
                    remaining = full_name.split(bound, 1)[1]
                    if remaining and not remaining.startswith("."):
                        continue
                    remaining = remaining.lstrip(".")
                    found.add(f"{real}.{remaining}" if remaining else real)
                    break
        return found


class Builtin:
    """A name Python provides (`len`, `range`): not bound by the module, so not a `Binding`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def qualified_names(self, full_name: str) -> set[str]:
        return {f"builtins.{self.name}"}


Referent = Binding | Builtin


class Scope:
    __slots__ = ("bindings", "count", "globals", "kind", "overwrites", "parent", "prefix")

    def __init__(self, kind: Kind, parent: Scope | None, name: str | None = None) -> None:
        self.kind = kind
        self.parent = parent if parent is not None else self
        self.globals: Scope = self if kind is Kind.MODULE or parent is None else parent.globals
        self.bindings: dict[str, list[Binding]] = {}
        self.overwrites: dict[str, Scope] = {}  # `global x`, `nonlocal x`: where x lives
        self.count = 0
        self.prefix: str = _prefix(kind, parent.prefix if parent is not None else "", name)

    def __getitem__(self, name: str) -> Sequence[Referent]:
        """Every binding of `name` where this scope looks it up (its own, else an enclosing one's)."""
        return self.resolve(name, self)

    def __contains__(self, name: str) -> bool:
        if self.kind is Kind.BUILTINS:
            return hasattr(builtins, name)
        if name in self.overwrites:
            return name in self.overwrites[name]
        return name in self.bindings or name in self._visible_parent()

    def resolve(self, name: str, looking_from: Scope) -> Sequence[Referent]:
        if self.kind is Kind.BUILTINS:
            return _builtin(name)
        if name in self.overwrites:
            return self._visible_parent(self.overwrites[name]).resolve(name, looking_from)
        if name in self.bindings:
            return self.bindings[name]
        return self._visible_parent().resolve(name, looking_from)

    def bind(self, name: str, node: cst.CSTNode, binding: type[Binding] = Binding) -> None:
        target = self._target(name)
        target.bindings.setdefault(name, []).append(binding(name, target, node, target.count))

    def _target(self, name: str) -> Scope:
        if name in self.overwrites:
            return self._visible_parent(self.overwrites[name])._target(name)
        return self

    def _visible_parent(self, first: Scope | None = None) -> Scope:
        """The nearest enclosing scope whose names this one sees: a class body is skipped."""
        parent = first if first is not None else self.parent
        while parent.kind is Kind.CLASS:
            parent = parent.parent
        return parent


def _prefix(kind: Kind, outer: str, name: str | None) -> str:
    """The start of the qualified names of what a scope binds: `train.<locals>`, `Trainer`."""
    own: dict[Kind, list[str | None]] = {
        Kind.FUNCTION: [name, "<locals>"],
        Kind.CLASS: [name],
        Kind.COMPREHENSION: ["<comprehension>"],
    }
    return ".".join(part for part in [outer, *own.get(kind, [])] if part)


@cache
def _builtin(name: str) -> tuple[Builtin, ...]:
    return (Builtin(name),) if hasattr(builtins, name) else ()


def _imported_module(node: cst.Import | cst.ImportFrom) -> str:
    if not isinstance(node, cst.ImportFrom):
        return ""
    module = get_full_name_for_node(node.module) or "" if node.module is not None else ""
    return "." * len(node.relative) + module if node.relative else module


@dataclasses.dataclass(frozen=True)
class _Access:
    scope: Scope
    index: int
    name: str


class ScopeTable:
    """The scopes of one module: the scope of each naming node, and what each access refers to."""

    def __init__(self, module: cst.Module) -> None:
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self._accesses: dict[cst.CSTNode, _Access] = {}
        self._referents: dict[cst.CSTNode, Sequence[Referent]] = {}
        self._deferred: list[tuple[cst.Name, Scope, int, cst.Attribute | None]] = []
        self.module_scope = Scope(Kind.MODULE, Scope(Kind.BUILTINS, None))
        _Walker(self).walk(module, self.module_scope)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self.scopes.get(node)

    def qualified_names(self, node: cst.CSTNode, imported_only: bool = False) -> set[str]:
        """The node's qualified names; with `imported_only`, only those an import gives it (a name
        bound in the module itself cannot be defined in another)."""
        scope = self.scopes.get(node)
        if scope is None:
            return set()
        if node in self._accesses:
            counted = [r for r in self._referents_of(node) if _counts(r, imported_only)]
            return {name for referent in counted for name in referent.qualified_names(referent.name)}
        full_name = get_full_name_for_node(node)
        if full_name is None:
            return set()
        referents: Sequence[Referent] = ()
        prefix: str | None = full_name
        while prefix:
            if prefix in scope:
                referents = scope[prefix]
                break
            dot = prefix.rfind(".")
            prefix = None if dot == -1 else prefix[:dot]
        for referent in referents:
            if isinstance(referent, Binding) and _binds(node, referent.node):
                return referent.qualified_names(full_name) if _counts(referent, imported_only) else set()
        counted = [referent for referent in referents if _counts(referent, imported_only)]
        return {name for referent in counted for name in referent.qualified_names(full_name)}

    def _referents_of(self, node: cst.CSTNode) -> Sequence[Referent]:
        """The bindings an access can see: those of its own scope made before it (else every one
        of them, which a loop or a later call may have made), and those of enclosing scopes."""
        if node not in self._referents:
            access = self._accesses[node]
            scope = access.scope
            every = scope.resolve(access.name, scope)
            before = [r for r in every if not isinstance(r, Binding) or r.scope is not scope or r.index < access.index]
            if not before and every and scope.parent is not scope:
                before = list(scope.parent.resolve(access.name, scope))
            self._referents[node] = before
        return self._referents[node]

    def record_access(self, name: cst.Name, scope: Scope, enclosing: cst.Attribute | None) -> None:
        self._deferred.append((name, scope, scope.count, enclosing))

    def settle_accesses(self) -> None:
        """Each access is attached to the longest dotted name its scope binds (`torch.optim` in
        `torch.optim.SGD` after `import torch.optim`), once every binding of the module is known."""
        for name, scope, index, enclosing in self._deferred:
            node: cst.CSTNode = name
            spelled = name.value
            if enclosing is not None:
                for dotted, part in _dotted_names(enclosing):
                    if dotted in scope:
                        node, spelled = part, dotted
                        break
            self._accesses[node] = _Access(scope, index, spelled)
        self._deferred = []


def _counts(referent: Referent, imported_only: bool) -> bool:
    return not imported_only or isinstance(referent, ImportBinding)


def _binds(node: cst.CSTNode, bound: cst.CSTNode) -> bool:
    """`node` is the binding `bound` itself, or a name in the import statement `bound`."""
    if node is bound:
        return True
    if isinstance(bound, (cst.Import, cst.ImportFrom)) and not isinstance(bound.names, cst.ImportStar):
        return any(
            alias.name is node or (alias.asname is not None and alias.asname.name is node) for alias in bound.names
        )
    return False


def _dotted_names(node: cst.Attribute | cst.Name) -> Iterator[tuple[str, cst.Attribute | cst.Name]]:
    """`a.b.c` -> (`a.b.c`, that node), (`a.b`, ...), (`a`, ...): longest first; through a call in
    the chain (`a.b().c` gives `a.b`, `a`)."""
    if isinstance(node, cst.Name):
        yield node.value, node
        return
    value = node.value.func if isinstance(node.value, cst.Call) else node.value
    if not isinstance(value, (cst.Attribute, cst.Name)):
        return
    inner = _dotted_names(value)
    first = next(inner, None)
    if first is None:
        return
    if not isinstance(node.value, cst.Call):
        yield f"{first[0]}.{node.attr.value}", node
    yield first
    yield from inner


# Node types whose scope lrlint asks for (the ones that can be named: see get_full_name_for_node).
_NAMING = frozenset({cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Decorator, cst.FunctionDef, cst.ClassDef})
# After one of these, the bindings it made count as made (an access's "before").
_BINDING_STATEMENTS = frozenset(
    {
        cst.AnnAssign,
        cst.AsName,
        cst.Assign,
        cst.AugAssign,
        cst.ClassDef,
        cst.CompFor,
        cst.FunctionDef,
        cst.Global,
        cst.Import,
        cst.ImportFrom,
        cst.NamedExpr,
        cst.Nonlocal,
        cst.Parameters,
        cst.WithItem,
    }
)


class _Walker:
    """One pass over the module, binding names in the scope they belong to and deferring each
    access until every binding is known (a function may read a global assigned further down)."""

    def __init__(self, table: ScopeTable) -> None:
        self.table = table
        self.scopes = table.scopes
        self.attribute_top: list[cst.Attribute | None] = [None]  # the chain a Name is the root of
        self.special: dict[type[cst.CSTNode], Callable[[cst.CSTNode, Scope], None]] = {
            cst.Name: self._name,  # type: ignore[dict-item]
            cst.Attribute: self._attribute,  # type: ignore[dict-item]
            cst.Call: self._call,  # type: ignore[dict-item]
            cst.Import: self._import,  # type: ignore[dict-item]
            cst.ImportFrom: self._import,  # type: ignore[dict-item]
            cst.FunctionDef: self._function,  # type: ignore[dict-item]
            cst.Lambda: self._lambda,  # type: ignore[dict-item]
            cst.Param: self._param,  # type: ignore[dict-item]
            cst.Arg: self._arg,  # type: ignore[dict-item]
            cst.ClassDef: self._class,  # type: ignore[dict-item]
            cst.Global: self._global,  # type: ignore[dict-item]
            cst.Nonlocal: self._nonlocal,  # type: ignore[dict-item]
            cst.ListComp: self._comprehension,  # type: ignore[dict-item]
            cst.SetComp: self._comprehension,  # type: ignore[dict-item]
            cst.DictComp: self._comprehension,  # type: ignore[dict-item]
            cst.GeneratorExp: self._comprehension,  # type: ignore[dict-item]
            cst.For: self._for,  # type: ignore[dict-item]
            cst.CompFor: self._comp_for,  # type: ignore[dict-item]
            cst.Assign: self._assign,  # type: ignore[dict-item]
            cst.AnnAssign: self._assign,  # type: ignore[dict-item]
            cst.AugAssign: self._assign,  # type: ignore[dict-item]
            cst.NamedExpr: self._assign,  # type: ignore[dict-item]
            cst.AsName: self._as_name,  # type: ignore[dict-item]
            cst.SimpleString: self._leaf,
            cst.Integer: self._leaf,
            cst.Float: self._leaf,
        }

    def walk(self, module: cst.Module, scope: Scope) -> None:
        self._children(module, scope)
        self.table.settle_accesses()

    def visit(self, node: cst.CSTNode, scope: Scope) -> None:
        special = self.special.get(type(node))
        if special is not None:
            special(node, scope)
        else:
            self._children(node, scope)
        kind = type(node)
        if kind in _NAMING:
            self.scopes[node] = scope
        if kind in _BINDING_STATEMENTS:
            scope.count += 1

    def _children(self, node: cst.CSTNode, scope: Scope) -> None:
        for child in child_nodes(node):
            self.visit(child, scope)

    def _leaf(self, node: cst.CSTNode, scope: Scope) -> None:
        pass

    def _stored(self, target: cst.CSTNode, scope: Scope) -> None:
        """An assignment target: names in it are bound (`a`, `a, *b`, `[a, b]`); an attribute or
        a subscript is read (`self.x = ...` reads `self`)."""
        if isinstance(target, cst.Name):
            scope.bind(target.value, target)
            self.scopes[target] = scope
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._stored(element.value, scope)
        elif isinstance(target, cst.StarredElement):
            self._stored(target.value, scope)
        else:
            self.visit(target, scope)

    def _name(self, node: cst.Name, scope: Scope) -> None:
        self.table.record_access(node, scope, self.attribute_top[-1])

    def _attribute(self, node: cst.Attribute, scope: Scope) -> None:
        if self.attribute_top[-1] is None:
            self.attribute_top[-1] = node
        self.visit(node.value, scope)  # `.attr` names nothing by itself
        if self.attribute_top[-1] is node:
            self.attribute_top[-1] = None

    def _call(self, node: cst.Call, scope: Scope) -> None:
        self.attribute_top.append(None)
        self._children(node, scope)
        self.attribute_top.pop()

    def _arg(self, node: cst.Arg, scope: Scope) -> None:
        self.visit(node.value, scope)  # a keyword names a parameter, not a variable

    def _import(self, node: cst.Import | cst.ImportFrom, scope: Scope) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, (cst.Name, cst.Attribute)):
                for dotted, _ in _dotted_names(bound):
                    scope.bind(dotted, node, ImportBinding)

    def _function(self, node: cst.FunctionDef, scope: Scope) -> None:
        scope.bind(node.name.value, node)
        self.scopes[node.name] = scope
        inner = Scope(Kind.FUNCTION, scope, node.name.value)
        self.visit(node.params, inner)
        self.visit(node.body, inner)
        for decorator in node.decorators:
            self.visit(decorator, scope)
        if node.returns is not None:
            self.visit(node.returns, scope)

    def _lambda(self, node: cst.Lambda, scope: Scope) -> None:
        inner = Scope(Kind.FUNCTION, scope)
        self.visit(node.params, inner)
        self.visit(node.body, inner)

    def _param(self, node: cst.Param, scope: Scope) -> None:
        scope.bind(node.name.value, node)
        self.scopes[node.name] = scope
        for evaluated_outside in (node.default, node.annotation):  # where the function is defined
            if evaluated_outside is not None:
                self.visit(evaluated_outside, scope.parent)

    def _class(self, node: cst.ClassDef, scope: Scope) -> None:
        scope.bind(node.name.value, node)
        self.scopes[node.name] = scope
        for decorator in node.decorators:
            self.visit(decorator, scope)
        for argument in (*node.bases, *node.keywords):
            self.visit(argument, scope)
        body = Scope(Kind.CLASS, scope, node.name.value)
        for statement in node.body.body:
            self.visit(statement, body)

    def _global(self, node: cst.Global, scope: Scope) -> None:
        if scope.kind is not Kind.MODULE:
            for item in node.names:
                scope.overwrites[item.name.value] = scope.globals

    def _nonlocal(self, node: cst.Nonlocal, scope: Scope) -> None:
        for item in node.names:
            scope.overwrites[item.name.value] = scope.parent

    def _comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp, scope: Scope) -> None:
        self.visit(node.for_in.iter, scope)  # evaluated before the comprehension's own scope exists
        inner = Scope(Kind.COMPREHENSION, scope)
        self._comp_for(node.for_in, inner, first=True)
        for part in (node.key, node.value) if isinstance(node, cst.DictComp) else (node.elt,):
            self.visit(part, inner)

    def _for(self, node: cst.For, scope: Scope) -> None:
        self._stored(node.target, scope)
        scope.count += 1
        self.visit(node.iter, scope)
        self.visit(node.body, scope)
        if node.orelse is not None:
            self.visit(node.orelse, scope)

    def _comp_for(self, node: cst.CompFor, scope: Scope, first: bool = False) -> None:
        """A `for` of a comprehension, in the comprehension's scope (but the first one's iterable)."""
        self._stored(node.target, scope)
        if first:
            scope.count += 1
        else:
            self.visit(node.iter, scope)
        for condition in node.ifs:
            self.visit(condition, scope)
        if node.inner_for_in is not None:
            self.visit(node.inner_for_in, scope)

    def _assign(self, node: cst.Assign | cst.AnnAssign | cst.AugAssign | cst.NamedExpr, scope: Scope) -> None:
        for target in [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]:
            self._stored(target, scope)
        if isinstance(node, cst.AnnAssign):
            self.visit(node.annotation, scope)
        if node.value is not None:
            self.visit(node.value, scope)

    def _as_name(self, node: cst.AsName, scope: Scope) -> None:
        self._stored(node.name, scope)
