"""What a LambdaLR or MultiplicativeLR function counts, read from the function itself.

The function receives the scheduler's step count. Its horizon is what it compares that count with
or divides it by: `epoch < warmup_epochs`, `step / max(1, num_training_steps)`,
`math.cos(math.pi * it / (epochs * len(loader)))`. Names computed from the count inside the
function (`progress = (step - warmup) / total`) count as the count. A factor raised to the count
(`0.95 ** epoch`), or MultiplicativeLR's constant factor (`lambda _: 0.95`), decays by that factor
at each step, which sizes it like ExponentialLR's gamma.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from lrlint.model.syntax import child_nodes

ScheduleFunction = cst.Lambda | cst.FunctionDef
_DIVISIONS = (cst.Divide, cst.FloorDivide)


@dataclass(frozen=True)
class FunctionReading:
    """The horizons and per-step decay factors of one schedule function."""

    horizons: list[cst.BaseExpression] = field(default_factory=list)
    decays: list[cst.BaseExpression] = field(default_factory=list)


def read_function(function: ScheduleFunction, count_index: int, multiplicative: bool) -> FunctionReading:
    """`count_index`: the position of the parameter that receives the step count (1 for a bound method)."""
    parameters = [*function.params.posonly_params, *function.params.params]
    if len(parameters) <= count_index:
        return FunctionReading()
    counts = _names_of_the_count(function, parameters[count_index].name.value)
    reading = FunctionReading()
    for node in _walk(function.body):
        if isinstance(node, cst.Comparison):
            reading.horizons.extend(_compared_with(node, counts))
        elif isinstance(node, cst.BinaryOperation):
            _read_operation(node, counts, reading)
    if multiplicative and isinstance(function, cst.Lambda) and not _mentions(function.body, counts):
        reading.decays.append(function.body)  # the factor applied at every step
    return reading


def _names_of_the_count(function: ScheduleFunction, parameter: str) -> set[str]:
    """The parameter, and the names assigned from it (in source order) inside a `def`."""
    names = {parameter}
    for node in _walk(function.body):
        value, targets = _assigned(node)
        if value is not None and _mentions(value, names):
            names.update(n.value for target in targets for n in _walk(target) if isinstance(n, cst.Name))
    return names


def _assigned(node: cst.CSTNode) -> tuple[cst.BaseExpression | None, list[cst.BaseExpression]]:
    """The value and targets of an assignment statement (None: not an assignment)."""
    if isinstance(node, cst.Assign):
        return node.value, [target.target for target in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        return node.value, [node.target]
    return None, []


def _compared_with(comparison: cst.Comparison, counts: set[str]) -> list[cst.BaseExpression]:
    operands = [comparison.left, *(target.comparator for target in comparison.comparisons)]
    if not any(_mentions(operand, counts) for operand in operands):
        return []
    return [operand for operand in operands if not _mentions(operand, counts)]


def _read_operation(operation: cst.BinaryOperation, counts: set[str], reading: FunctionReading) -> None:
    left, right = _mentions(operation.left, counts), _mentions(operation.right, counts)
    if isinstance(operation.operator, _DIVISIONS) and left and not right:
        reading.horizons.append(operation.right)
    elif isinstance(operation.operator, cst.Power) and right and not left and _is_the_count(operation.right, counts):
        reading.decays.append(operation.left)


def _is_the_count(expr: cst.BaseExpression, counts: set[str]) -> bool:
    """`epoch`, `epoch + 1`, `(step - offset)`: the count itself, shifted, not a step function of it."""
    if isinstance(expr, cst.Name):
        return expr.value in counts
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        return _is_the_count(expr.left, counts) != _is_the_count(expr.right, counts) and not (
            _mentions(expr.left, counts) and _mentions(expr.right, counts)
        )
    return False


def _mentions(expr: cst.CSTNode, names: set[str]) -> bool:
    return any(isinstance(node, cst.Name) and node.value in names for node in _walk(expr))


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node` in source order, skipping attribute names (`x.epoch` is not `epoch`)."""
    yield node
    children = [node.value] if isinstance(node, cst.Attribute) else child_nodes(node)
    for child in children:
        yield from _walk(child)
