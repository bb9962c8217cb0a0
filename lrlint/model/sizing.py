"""In what unit a scheduler's schedule is sized: epochs, optimizer steps, or unknown.

The evidence is the constructor's size arguments (`step_size`, `T_max`, `total_steps`, ...):
names derived from the number of batches (`len(loader)`, `steps_per_epoch`, `num_training_steps`)
mean optimizer steps, names about epochs (`args.epochs`) mean epochs, small literals mean epochs
for the schedulers documented per epoch. Anything else is unknown, and rules stay silent on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable
from enum import Enum

import libcst as cst

from lrlint.catalog import Cadence, SchedulerSpec, SizeParameter
from lrlint.model.resolve import TrackedObject
from lrlint.model.values import ValueEvaluator, is_known

# Identifier fragments that tie a size to the number of batches or optimizer steps.
_ITERATION_WORD = re.compile(
    r"per_epoch|iters?$|iters?_|iterations?|batches|batch_count|training_steps|total_steps|max_steps|num_steps|"
    r"train_steps|n_steps|nsteps|niter|max_iter|updates"
)
_EPOCH_WORD = re.compile(r"epoch")
# Literal sizes of per-iteration schedulers at or below this could be epochs as well: stay silent.
_ITERATION_LITERAL_MIN = 300
# ExponentialLR's gamma at or below this loses half the LR within 70 steps: an epoch decay.
_EPOCH_GAMMA_MAX = 0.99


class Unit(Enum):
    EPOCHS = "epochs"
    ITERATIONS = "optimizer steps"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Sizing:
    unit: Unit
    evidence: str  # e.g. "step_size=30", shown in messages


UNKNOWN = Sizing(Unit.UNKNOWN, "")
CodeOf = Callable[[cst.CSTNode], str]


def _words(node: cst.CSTNode) -> tuple[set[str], bool]:
    """Lower-case identifiers (names, attributes, string keys) in the expression, and whether it calls len()."""
    words: set[str] = set()
    calls_len = False

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            words.add(name.value.lower())

        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            words.add(string.value.strip("'\"").lower())

        def visit_Call(self, call: cst.Call) -> None:
            nonlocal calls_len
            if isinstance(call.func, cst.Name) and call.func.value == "len":
                calls_len = True

    node.visit(Collector())
    return words, calls_len


def expression_unit(expr: cst.BaseExpression, values: ValueEvaluator, epoch_literal_limit: int) -> Unit:
    words, calls_len = _words(expr)
    if calls_len or any(_ITERATION_WORD.search(word) for word in words):
        return Unit.ITERATIONS
    if any(_EPOCH_WORD.search(word) for word in words):
        return Unit.EPOCHS
    value = values.value(expr)
    if not is_known(value):
        return Unit.UNKNOWN
    numbers = value if isinstance(value, list) else [value]
    if not numbers or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        return Unit.UNKNOWN
    largest = max(numbers)  # type: ignore[type-var]
    if largest <= epoch_literal_limit:
        return Unit.EPOCHS
    if largest > _ITERATION_LITERAL_MIN and epoch_literal_limit == 0:
        return Unit.ITERATIONS
    return Unit.UNKNOWN


def scheduler_sizing(scheduler: TrackedObject, values: ValueEvaluator, code_of: CodeOf) -> Sizing:
    spec, arguments = scheduler.spec, scheduler.arguments
    if spec is None or arguments is None:
        return UNKNOWN
    if spec.short_name == "ExponentialLR":
        return _exponential_sizing(arguments.expression("gamma"), values, code_of)
    given = [(p, arguments.expression(p.name)) for p in spec.size_parameters]
    sizes = [(p, e) for p, e in given if e is not None]
    if spec.native_cadence is Cadence.PER_EPOCH:
        return _epoch_native_sizing(spec, sizes, values, code_of)
    if spec.native_cadence is Cadence.PER_ITERATION:
        return _iteration_native_sizing(spec, sizes, values, code_of)
    return UNKNOWN


def _exponential_sizing(gamma: cst.BaseExpression | None, values: ValueEvaluator, code_of: CodeOf) -> Sizing:
    value = values.value(gamma)
    if gamma is not None and isinstance(value, (int, float)) and 0 < value <= _EPOCH_GAMMA_MAX:
        return Sizing(Unit.EPOCHS, f"gamma={code_of(gamma)}")
    return UNKNOWN


def _epoch_native_sizing(
    spec: SchedulerSpec,
    sizes: list[tuple[SizeParameter, cst.BaseExpression]],
    values: ValueEvaluator,
    code_of: CodeOf,
) -> Sizing:
    if not sizes:
        default = next((p for p in spec.size_parameters if spec.parameter(p.name) is not None), None)
        parameter = spec.parameter(default.name) if default else None
        if default is not None and parameter is not None and parameter.has_default:
            if isinstance(parameter.default, int) and parameter.default <= default.epoch_literal_limit:
                return Sizing(Unit.EPOCHS, f"{default.name}={parameter.default} (the default)")
        return UNKNOWN
    units = {expression_unit(expr, values, p.epoch_literal_limit) for p, expr in sizes}
    evidence = ", ".join(f"{p.name}={code_of(expr)}" for p, expr in sizes)
    if units == {Unit.EPOCHS}:
        return Sizing(Unit.EPOCHS, evidence)
    if Unit.ITERATIONS in units and _has_strong_iteration_evidence(sizes):
        return Sizing(Unit.ITERATIONS, evidence)
    return UNKNOWN


def _has_strong_iteration_evidence(sizes: list[tuple[SizeParameter, cst.BaseExpression]]) -> bool:
    for _, expr in sizes:
        words, calls_len = _words(expr)
        if calls_len or any(_ITERATION_WORD.search(word) for word in words):
            return True
    return False


def _iteration_native_sizing(
    spec: SchedulerSpec,
    sizes: list[tuple[SizeParameter, cst.BaseExpression]],
    values: ValueEvaluator,
    code_of: CodeOf,
) -> Sizing:
    if not sizes:
        if spec.short_name == "OneCycleLR":
            return UNKNOWN  # neither total_steps nor steps_per_epoch: torch raises, LR201 reports
        return Sizing(Unit.ITERATIONS, f"{spec.short_name} is built to be stepped every batch")
    units = {expression_unit(expr, values, 0) for _, expr in sizes}
    evidence = ", ".join(f"{p.name}={code_of(expr)}" for p, expr in sizes)
    if Unit.EPOCHS in units:
        return Sizing(Unit.EPOCHS, evidence) if units == {Unit.EPOCHS} else UNKNOWN
    if Unit.ITERATIONS in units or spec.kind == "factory":
        return Sizing(Unit.ITERATIONS, evidence)
    return UNKNOWN
