"""LibCST metadata for one module, resolved on demand and read through small typed accessors."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, Scope, ScopeProvider


class Metadata:
    """Scopes, qualified names and positions, each computed the first time it is asked for.

    Most modules that pass the prefilter need scopes only; LibCST's QualifiedNameProvider would
    walk the whole tree again to attach lazy values we can compute from the scope directly, and
    positions are needed only for the rare module that has a finding.
    """

    def __init__(self, wrapper: MetadataWrapper) -> None:
        self._wrapper = wrapper
        self._star_modules = _star_imported_modules(wrapper.module)

    @cached_property
    def _scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        return self._wrapper.resolve(ScopeProvider)

    @cached_property
    def _positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        return self._wrapper.resolve(PositionProvider)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._scopes.get(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        scope = self.scope(node)
        found = {name.name for name in scope.get_qualified_names_for(node)} if scope is not None else set()
        if not found and isinstance(node, cst.Name) and self._star_modules:
            # `from torch.optim.lr_scheduler import *`: an unbound name may come from there.
            found = {f"{module}.{node.value}" for module in self._star_modules}
        return found

    def has(self, node: cst.CSTNode) -> bool:
        return node in self._positions

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column where the node starts."""
        code_range = self._positions[node]
        return code_range.start.line, code_range.start.column + 1

    def end(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column just after the node's last character."""
        code_range = self._positions[node]
        return code_range.end.line, code_range.end.column + 1


def _star_imported_modules(module: cst.Module) -> list[str]:
    modules = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if not (isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)):
                    continue
                if small.module is not None and not small.relative:
                    modules.append(cst.Module([]).code_for_node(small.module))
    return modules
