"""Building autofixes: small, exact changes to the linted module's syntax tree."""

from __future__ import annotations

import re

import libcst as cst

from lrlint.rules.base import Fix


def without_argument(call: cst.Call, argument: cst.Arg) -> Fix:
    """`f(a, verbose=True)` -> `f(a)`: the argument goes, and a comma it leaves dangling too."""
    kept = [arg for arg in call.args if arg is not argument]
    if kept and argument is call.args[-1]:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return {call: call.with_changes(args=kept)}


def without_arguments(call: cst.Call) -> Fix:
    return {call: call.with_changes(args=())}


def renamed_attribute(attribute: cst.Attribute, name: str) -> Fix:
    return {attribute.attr: attribute.attr.with_changes(value=name)}


# A statement between the two that mentions any of these may read the learning rate the move
# would change (`get_last_lr()`, `param_groups[0]["lr"]`, a logger of `lr`): then no fix.
_MAY_READ_LR = re.compile(r"lr|param_group", re.IGNORECASE)


def moved_after(module: cst.Module, moved: cst.Call, anchor: cst.Call) -> Fix | None:
    """Move the statement that is just `moved` to right after the statement that is just `anchor`.

    Only when both are plain call statements of the same block, `anchor` comes later, and no
    statement in between may read the learning rate.
    """
    finder = _BlockFinder(moved, anchor)
    module.visit(finder)
    if finder.found is None:
        return None
    block, first, second = finder.found
    between = block.body[first + 1 : second]
    if any(_MAY_READ_LR.search(module.code_for_node(statement)) for statement in between):
        return None
    body = [*block.body[:first], *block.body[first + 1 : second + 1], block.body[first], *block.body[second + 1 :]]
    return {block: block.with_changes(body=body)}


class _BlockFinder(cst.CSTVisitor):
    """The block whose statements are exactly the two calls, with their positions in it."""

    def __init__(self, moved: cst.Call, anchor: cst.Call) -> None:
        self.moved = moved
        self.anchor = anchor
        self.found: tuple[cst.Module | cst.IndentedBlock, int, int] | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self._look_in(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._look_in(node)

    def _look_in(self, block: cst.Module | cst.IndentedBlock) -> None:
        calls = [_sole_call(statement) for statement in block.body]
        if self.moved in calls and self.anchor in calls:
            first, second = calls.index(self.moved), calls.index(self.anchor)
            if first < second:
                self.found = (block, first, second)


def _sole_call(statement: cst.BaseStatement) -> cst.Call | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    expression = statement.body[0]
    if isinstance(expression, cst.Expr) and isinstance(expression.value, cst.Call):
        return expression.value
    return None
