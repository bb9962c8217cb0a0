"""What lrlint knows of one module beyond its tree: scopes, qualified names and positions."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst._nodes.internal import CodegenState

from lrlint.model.scopes import Scope, ScopeTable
from lrlint.model.syntax import walk

_LINE_BREAK = re.compile(r"\r\n?|\n")


class Metadata:
    """Scopes and qualified names (lrlint's own scope analysis, see scopes.py) and positions, each
    computed the first time it is asked for: most modules that pass the prefilter have no
    finding, and positions are needed only where there is one."""

    def __init__(self, module: cst.Module, code: str) -> None:
        self._module = module
        self._code = code  # what the module was parsed from: LibCST gives it back exactly
        self._star_modules = _star_imported_modules(module)
        self._qualified: dict[tuple[cst.CSTNode, bool], set[str]] = {}

    @cached_property
    def _scopes(self) -> ScopeTable:
        return ScopeTable(self._module)

    @cached_property
    def _positions(self) -> _Positions:
        return _Positions(self._module, self._order, self._code)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._scopes.scope(node)

    def qualified_names(self, node: cst.CSTNode, imported_only: bool = False) -> set[str]:
        """`torch.optim.SGD` for `optim.SGD` after `from torch import optim`; with `imported_only`,
        only the names an import gives the node, which alone can lead to another module."""
        key = (node, imported_only)
        if key not in self._qualified:
            self._qualified[key] = self._qualified_names(node, imported_only)
        return set(self._qualified[key])

    def _qualified_names(self, node: cst.CSTNode, imported_only: bool) -> set[str]:
        found = self._scopes.qualified_names(node, imported_only)
        if found or not (isinstance(node, cst.Name) and self._star_modules):
            return found
        if imported_only and self._scopes.qualified_names(node):
            return found  # bound by the module itself, not by the star import
        # `from torch.optim.lr_scheduler import *`: an unbound name may come from there.
        return {f"{module}.{node.value}" for module in self._star_modules}

    @cached_property
    def _order(self) -> dict[cst.CSTNode, int]:
        return {node: index for index, node in enumerate(walk(self._module))}

    def owns(self, node: cst.CSTNode) -> bool:
        """The node is part of this module (formatting nodes aside)."""
        return node in self._order

    def order(self, node: cst.CSTNode) -> int:
        """The node's place in the module, in source order: a sort key that needs no positions."""
        return self._order[node]

    def has(self, node: cst.CSTNode) -> bool:
        return self._positions.range_of(node) is not None

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column where the node starts."""
        return self._positions.line_and_column(self._located(node)[0])

    def end(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column just after the node's last character."""
        return self._positions.line_and_column(self._located(node)[1])

    def _located(self, node: cst.CSTNode) -> tuple[int, int]:
        found = self._positions.range_of(node)
        if found is None:
            raise KeyError(f"not a node of this module: {type(node).__name__}")
        return found


class _Positions:
    """Where nodes start and end, as LibCST's PositionProvider places them (syntactic positions: a
    statement without its leading blank lines), as character offsets.

    The top-level statement holding a node asked about is generated alone, counting where each of
    its nodes starts and ends; a module with one finding pays for one statement's positions, not
    for every node's. Where the statement starts comes from its text: LibCST gives the parsed code
    back exactly, so a statement whose text occurs once in the module starts there. Only a text
    that occurs more than once (a repeated `main()`) takes a plain code generation of the whole
    module, as do nodes outside the statements (the module, its header)."""

    def __init__(self, module: cst.Module, order: dict[cst.CSTNode, int], code: str) -> None:
        self._module = module
        self._order = order
        self._statement_orders = [order[statement] for statement in module.body]
        self._use_code(code)
        self._regenerated = False

    def _use_code(self, code: str) -> None:
        # LibCST's positions count the module's last line break even where the code has none.
        self._code = code if self._module.has_trailing_newline or not code else code + self._module.default_newline
        self._line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(self._code))]
        self._ranges: dict[cst.CSTNode, tuple[int, int]] = {}
        self._placed: set[int] = set()  # statements whose nodes are in _ranges
        self._whole_module_placed = False

    def range_of(self, node: cst.CSTNode) -> tuple[int, int] | None:
        if node not in self._ranges:
            statement = self._statement_of(node)
            if statement is not None and statement not in self._placed:
                self._place_statement(statement)
                self._placed.add(statement)
            elif statement is None and not self._whole_module_placed:
                text, ranges = self._generated(self._module)
                if text != self._code:
                    self._regenerate()
                self._record(ranges, 0)
                self._whole_module_placed = True
        return self._ranges.get(node)

    def _regenerate(self) -> None:
        """LibCST does not give this module's text back exactly (`except ....A :` loses its space):
        place every node in the code it generates, as its PositionProvider does."""
        if not self._regenerated:
            self._regenerated = True
            self._use_code(self._module.code)

    def _place_statement(self, index: int) -> None:
        text, ranges = self._generated(self._module.body[index])
        start = self._code.find(text)
        if start == -1 and not self._regenerated:
            self._regenerate()
            start = self._code.find(text)
        if start == -1 or self._code.find(text, start + 1) != -1:
            start = self._statement_starts[index]
        self._record(ranges, start)

    @cached_property
    def _statement_starts(self) -> list[int]:
        """Where each top-level statement starts, from a plain code generation of the module."""
        state = CodegenState(default_indent=self._module.default_indent, default_newline=self._module.default_newline)
        for line in self._module.header:
            line._codegen(state)
        starts: list[int] = []
        offset = sum(len(token) for token in state.tokens)
        for statement in self._module.body:
            starts.append(offset)
            generated = len(state.tokens)
            statement._codegen(state)
            offset += sum(len(token) for token in state.tokens[generated:])
        return starts

    def _statement_of(self, node: cst.CSTNode) -> int | None:
        """The top-level statement whose subtree holds `node` (its nodes are contiguous in source order)."""
        order = self._order.get(node)
        if order is None or not self._statement_orders or order < self._statement_orders[0]:
            return None
        return bisect.bisect_right(self._statement_orders, order) - 1

    def _generated(self, node: cst.CSTNode) -> tuple[str, dict[cst.CSTNode, tuple[int, int]]]:
        """The node's code and where each node inside it starts and ends, from the node's start."""
        state = _OffsetState(default_indent=self._module.default_indent, default_newline=self._module.default_newline)
        node._codegen(state)
        return "".join(state.tokens), state.ranges

    def _record(self, ranges: dict[cst.CSTNode, tuple[int, int]], start: int) -> None:
        for placed, (begin, end) in ranges.items():
            self._ranges.setdefault(placed, (begin + start, end + start))

    def line_and_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


@dataclass(frozen=False)
class _OffsetState(CodegenState):
    ranges: dict[cst.CSTNode, tuple[int, int]] = field(default_factory=dict)
    offset: int = 0
    _starts: list[int] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        super().add_indent_tokens()
        self.offset += sum(len(token) for token in self.indent_tokens)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        """Kept: LibCST's positions count the module's last line break (a module ends after it)."""

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.ranges:  # a syntactic position recorded inside wins
            self.ranges[node] = (start, self.offset)

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> Iterator[None]:
        start = self.offset
        try:
            yield
        finally:
            end = self.offset
            self.ranges[node] = (
                self.ranges[start_node][0] if start_node is not None else start,
                self.ranges[end_node][1] if end_node is not None else end,
            )


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
