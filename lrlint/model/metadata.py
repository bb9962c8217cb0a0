"""LibCST metadata for one module, resolved once and read through small typed accessors."""

from __future__ import annotations

from typing import Any

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)


def _unwrap(value: Any) -> Any:
    # Some providers store lazily computed values; calling them yields the value.
    return value() if callable(value) else value


class Metadata:
    def __init__(self, wrapper: MetadataWrapper) -> None:
        resolved = wrapper.resolve_many([ScopeProvider, QualifiedNameProvider, PositionProvider])
        self._scopes = resolved[ScopeProvider]
        self._qualified_names = resolved[QualifiedNameProvider]
        self._positions = resolved[PositionProvider]
        self._star_modules = _star_imported_modules(wrapper.module)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._scopes.get(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        names = self._qualified_names.get(node)
        found = {name.name for name in _unwrap(names)} if names is not None else set()
        if not found and isinstance(node, cst.Name) and self._star_modules:
            # `from torch.optim.lr_scheduler import *`: an unbound name may come from there.
            found = {f"{module}.{node.value}" for module in self._star_modules}
        return found

    def has(self, node: cst.CSTNode) -> bool:
        return node in self._positions

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column where the node starts."""
        code_range: CodeRange = self._positions[node]
        return code_range.start.line, code_range.start.column + 1


def _star_imported_modules(module: cst.Module) -> list[str]:
    modules = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                is_star = isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
                if is_star and small.module and not small.relative:
                    modules.append(cst.Module([]).code_for_node(small.module))
    return modules
