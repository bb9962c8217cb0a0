"""Compile-time values: literals, module constants and simple arithmetic over them."""

from __future__ import annotations

import operator
from collections.abc import Callable

import libcst as cst
from libcst.metadata import Assignment

from lrlint.model.metadata import Metadata
from lrlint.model.syntax import SyntaxIndex

MISSING = object()

_BINARY: dict[type, Callable[[float, float], float]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Power: operator.pow,
    cst.Modulo: operator.mod,
}


class ValueEvaluator:
    """Evaluates an expression only from literals and names bound once to literals."""

    def __init__(self, index: SyntaxIndex, metadata: Metadata) -> None:
        self.index = index
        self.metadata = metadata

    def value(self, expr: cst.BaseExpression | None) -> object:
        """The value, or `MISSING` when it is not known at lint time."""
        if expr is None:
            return MISSING
        try:
            return self._value(expr, depth=0)
        except (ArithmeticError, TypeError, ValueError, OverflowError):
            return MISSING

    def _value(self, expr: cst.BaseExpression, depth: int) -> object:
        if depth > 20:
            return MISSING
        if isinstance(expr, (cst.Integer, cst.Float)):
            return expr.evaluated_value
        if isinstance(expr, cst.SimpleString):
            return expr.evaluated_value
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[expr.value]
            return self._constant(expr, depth)
        if isinstance(expr, cst.UnaryOperation):
            operand = self._value(expr.expression, depth + 1)
            if isinstance(expr.operator, cst.Minus) and _is_number(operand):
                return -operand  # type: ignore[operator]
            if isinstance(expr.operator, cst.Plus) and _is_number(operand):
                return operand
            return MISSING
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, depth)
        if isinstance(expr, (cst.List, cst.Tuple)):
            items = [self._value(e.value, depth + 1) for e in expr.elements if isinstance(e, cst.Element)]
            if len(items) != len(expr.elements) or any(item is MISSING for item in items):
                return MISSING
            return items
        return MISSING

    def _binary(self, expr: cst.BinaryOperation, depth: int) -> object:
        apply = _BINARY.get(type(expr.operator))
        left, right = self._value(expr.left, depth + 1), self._value(expr.right, depth + 1)
        if apply is None or not (_is_number(left) and _is_number(right)):
            return MISSING
        if isinstance(expr.operator, cst.Power) and abs(right) > 64:  # type: ignore[arg-type]
            return MISSING
        return apply(left, right)  # type: ignore[arg-type]

    def _constant(self, name: cst.Name, depth: int) -> object:
        scope = self.metadata.scope(name)
        if scope is None:
            return MISSING
        assignments = list(scope[name.value])
        if len(assignments) != 1 or not isinstance(assignments[0], Assignment):
            return MISSING
        bound = self.index.name_values.get(assignments[0].node)  # type: ignore[arg-type]
        if bound is None or bound.path:
            return MISSING
        return self._value(bound.value, depth + 1)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_known(value: object) -> bool:
    return value is not MISSING
