"""In what unit a scheduler's schedule is sized: epochs, optimizer steps, or unknown.

The evidence is the constructor's size arguments (`step_size`, `T_max`, `total_steps`, ...):
names derived from the number of batches (`len(loader)`, `steps_per_epoch`, `num_training_steps`)
mean optimizer steps, names about epochs (`args.epochs`) mean epochs, small literals mean epochs
for the schedulers documented per epoch. Anything else is unknown, and rules stay silent on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import libcst as cst

from lrlint.catalog import SchedulerSpec
from lrlint.model.horizons import ScheduleFunction, read_function
from lrlint.model.resolve import TrackedObject
from lrlint.model.syntax import child_nodes
from lrlint.model.values import ValueEvaluator, is_known
from lrlint.scheduler_facts import Cadence, SizeParameter

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
# LambdaLR's and MultiplicativeLR's functions, each with the position of its step-count parameter.
FunctionsOf = Callable[[TrackedObject], list[tuple[ScheduleFunction, int]]]


def _leaves(expr: cst.CSTNode) -> tuple[list[tuple[str, cst.CSTNode]], bool]:
    """The value-carrying identifiers of a size expression, and whether it calls len().

    In `int(0.5 * args.epochs)` the leaves are `epochs` only: `args` holds values, `int` computes.
    A string subscript key counts as a leaf (`cfg["epochs"]`).
    """
    leaves: list[tuple[str, cst.CSTNode]] = []
    calls_len = False

    def visit(node: cst.CSTNode) -> None:
        nonlocal calls_len
        if isinstance(node, cst.Name):
            leaves.append((node.value.lower(), node))
        elif isinstance(node, cst.Attribute):
            leaves.append((node.attr.value.lower(), node))
        elif isinstance(node, cst.Subscript):
            keys = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
            strings = [k for k in keys if isinstance(k, cst.SimpleString)]
            if strings:
                leaves.extend((str(k.evaluated_value).lower(), node) for k in strings)
            else:
                visit(node.value)
        elif isinstance(node, cst.Call):
            if isinstance(node.func, cst.Name) and node.func.value == "len":
                calls_len = True
            for arg in node.args:
                visit(arg.value)
        else:
            for child in child_nodes(node):
                visit(child)

    visit(expr)
    return leaves, calls_len


def _iteration_evidence(expr: cst.CSTNode) -> bool:
    leaves, calls_len = _leaves(expr)
    return calls_len or any(_ITERATION_WORD.search(word) for word, _ in leaves)


def expression_unit(expr: cst.BaseExpression, values: ValueEvaluator, epoch_literal_limit: int) -> Unit:
    """Epochs when every value in it is an epoch count (or a constant), optimizer steps when any
    is derived from the number of batches; a literal by its size; anything else unknown."""
    if _iteration_evidence(expr):
        return Unit.ITERATIONS
    leaves, _ = _leaves(expr)
    epoch_leaves = [node for word, node in leaves if _EPOCH_WORD.search(word)]
    others = [node for word, node in leaves if not _EPOCH_WORD.search(word)]
    if epoch_leaves and all(is_known(values.value(node)) for node in others):  # type: ignore[arg-type]
        return Unit.EPOCHS  # named for epochs, whatever its value (`cfg.max_epoch`, 1000 by default)
    value = values.value(expr)
    if is_known(value):
        return _literal_unit(value, epoch_literal_limit)
    return Unit.UNKNOWN


def _literal_unit(value: object, epoch_literal_limit: int) -> Unit:
    numbers = value if isinstance(value, list) else [value]
    if not numbers or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        return Unit.UNKNOWN
    largest = max(numbers)
    if 0 < largest <= epoch_literal_limit:
        return Unit.EPOCHS
    if largest > _ITERATION_LITERAL_MIN and epoch_literal_limit == 0:
        return Unit.ITERATIONS
    return Unit.UNKNOWN


def scheduler_sizing(
    scheduler: TrackedObject, values: ValueEvaluator, code_of: CodeOf, functions_of: FunctionsOf
) -> Sizing:
    spec, arguments = scheduler.spec, scheduler.arguments
    if spec is None or arguments is None:
        return UNKNOWN
    if spec.short_name == "ExponentialLR":
        return _exponential_sizing(arguments.expression("gamma"), values, code_of)
    if spec.kind == "class" and spec.facts.function_is_factor is not None:  # LambdaLR, MultiplicativeLR
        return _function_sizing(functions_of(scheduler), spec.facts.function_is_factor, values, code_of)
    given = [(p, arguments.expression(p.name)) for p in spec.size_parameters]
    sizes = [(p, e) for p, e in given if e is not None]
    if spec.native_cadence is Cadence.PER_EPOCH:
        return _epoch_native_sizing(spec, sizes, values, code_of)
    if spec.native_cadence is Cadence.PER_ITERATION:
        return _iteration_native_sizing(spec, sizes, values, code_of)
    return UNKNOWN


def _exponential_sizing(gamma: cst.BaseExpression | None, values: ValueEvaluator, code_of: CodeOf) -> Sizing:
    if gamma is not None and _decays_per_epoch(gamma, values):
        return Sizing(Unit.EPOCHS, written_argument("gamma", gamma, values, code_of))
    return UNKNOWN


def _decays_per_epoch(factor: cst.BaseExpression, values: ValueEvaluator) -> bool:
    value = values.value(factor)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= _EPOCH_GAMMA_MAX


def _arguments_evidence(
    sizes: list[tuple[SizeParameter, cst.BaseExpression]], values: ValueEvaluator, code_of: CodeOf
) -> str:
    return ", ".join(written_argument(p.name, expr, values, code_of) for p, expr in sizes)


def written_argument(name: str, expr: cst.BaseExpression, values: ValueEvaluator, code_of: CodeOf) -> str:
    """`step_size=30`, or `step_size=args.step_size (10 by default)` for an argparse option."""
    default = values.default_of(expr)
    return f"{name}={code_of(expr)}" + (f" ({code_of(default)} by default)" if default is not None else "")


def _function_sizing(
    functions: list[tuple[ScheduleFunction, int]], multiplicative: bool, values: ValueEvaluator, code_of: CodeOf
) -> Sizing:
    """Epochs when every horizon of the functions is an epoch count (or a factor decays per epoch),
    optimizer steps when a horizon is derived from the number of batches and none counts epochs."""
    readings = [read_function(function, index, multiplicative) for function, index in functions]
    horizons = [h for reading in readings for h in reading.horizons if values.value(h) not in (0, 1)]
    units = {h: expression_unit(h, values, 0) for h in horizons}
    decays = [d for reading in readings for d in reading.decays if _decays_per_epoch(d, values)]
    found = set(units.values()) | ({Unit.EPOCHS} if decays else set())
    unexplained = [h for h, unit in units.items() if unit is Unit.UNKNOWN and not is_known(values.value(h))]
    if found == {Unit.EPOCHS} and not unexplained:
        return Sizing(Unit.EPOCHS, _function_evidence(horizons, decays, code_of))
    if Unit.ITERATIONS in found and Unit.EPOCHS not in found:
        iteration_horizons = [h for h, unit in units.items() if unit is Unit.ITERATIONS]
        return Sizing(Unit.ITERATIONS, _function_evidence(iteration_horizons, [], code_of))
    return UNKNOWN


def _function_evidence(horizons: list[cst.BaseExpression], decays: list[cst.BaseExpression], code_of: CodeOf) -> str:
    parts = []
    if horizons:
        codes = list(dict.fromkeys(f"`{code_of(h)}`" for h in horizons))
        parts.append(f"a function whose horizon{'s are' if len(codes) > 1 else ' is'} {', '.join(codes)}")
    if decays:
        parts.append("a factor of " + ", ".join(dict.fromkeys(code_of(d) for d in decays)) + " per step")
    return " and ".join(parts)


def _epoch_native_sizing(
    spec: SchedulerSpec,
    sizes: list[tuple[SizeParameter, cst.BaseExpression]],
    values: ValueEvaluator,
    code_of: CodeOf,
) -> Sizing:
    if not sizes:
        default = next((p for p in spec.size_parameters if spec.parameter(p.name) is not None), None)
        parameter = spec.parameter(default.name) if default else None
        value = parameter.default if parameter is not None and parameter.has_default else None
        if default is not None and isinstance(value, int) and value <= default.epoch_literal_limit:
            return Sizing(Unit.EPOCHS, f"{default.name}={value} (the default)")
        return UNKNOWN
    units = {expression_unit(expr, values, p.epoch_literal_limit) for p, expr in sizes}
    evidence = _arguments_evidence(sizes, values, code_of)
    if units == {Unit.EPOCHS}:
        return Sizing(Unit.EPOCHS, evidence)
    if Unit.ITERATIONS in units:
        return Sizing(Unit.ITERATIONS, evidence)
    return UNKNOWN


def _iteration_native_sizing(
    spec: SchedulerSpec,
    sizes: list[tuple[SizeParameter, cst.BaseExpression]],
    values: ValueEvaluator,
    code_of: CodeOf,
) -> Sizing:
    sizes = [(p, e) for p, e in sizes if values.value(e) not in (0, None)]  # `num_warmup_steps=0` tells nothing
    if not sizes:
        if spec.short_name == "OneCycleLR":
            return UNKNOWN  # neither total_steps nor steps_per_epoch: torch raises, LR201 reports
        return Sizing(Unit.ITERATIONS, f"{spec.short_name} is built to be stepped every batch")
    read = [(p, expression_unit(expr, values, 0)) for p, expr in sizes]
    # A warmup of unknown unit says nothing about the horizon: `num_training_steps=self.trainer.max_epochs`
    # counts epochs whatever `num_warmup_steps=self.warmup` is.
    units = {unit for p, unit in read if not (unit is Unit.UNKNOWN and "warmup" in p.name)}
    evidence = _arguments_evidence(sizes, values, code_of)
    if any(p.name == "steps_per_epoch" and values.value(e) != 1 for p, e in sizes):
        return Sizing(Unit.ITERATIONS, evidence)  # OneCycleLR's epochs * steps_per_epoch: steps, by its API
    if Unit.EPOCHS in units:
        return Sizing(Unit.EPOCHS, evidence) if units == {Unit.EPOCHS} else UNKNOWN
    if Unit.ITERATIONS in units or spec.kind == "factory":
        return Sizing(Unit.ITERATIONS, evidence)
    return UNKNOWN
