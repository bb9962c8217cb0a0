"""How the code steps each scheduler, for a run at given values: the cadence of every `step()`
call, when it runs (a test of the epoch and batch counters), how many batches of an epoch step it,
the position `step(epoch)` sets, Lightning's interval and frequency.

The code's values are read by a `Reader`, the evaluator of the caller (simulate's states what it
assumes and raises `NotKnown` for what it cannot tell).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import libcst as cst

from lrlint.model.resolve import Role, TrackedObject
from lrlint.model.syntax import Guard
from lrlint.model.trace import Frame, Loop, LoopKind, StepCadence, Trace, TraceItem
from lrlint.model.values import NotKnown

if TYPE_CHECKING:
    from lrlint.model import TrainingModel


class Reader(Protocol):
    """Reads the code's expressions for one run; raises NotKnown for what it cannot tell."""

    frame: Frame | None
    bindings: dict[str, Any]
    assumptions: list[str]
    steps_per_epoch: int

    def value(self, expr: cst.BaseExpression) -> Any: ...

    def condition(self, test: cst.BaseExpression) -> bool: ...


ReaderFor = Callable[[Frame | None, int], Reader]  # a reader in this frame, for this many steps per epoch


@dataclass(frozen=True)
class StepSite:
    """One `step()` call: its cadence, when it runs (a test of the epoch and batch counters), its place."""

    cadence: StepCadence
    when: Callable[[int, int], bool] | None  # None: every time; raises NotKnown if it cannot tell
    order: tuple[int, int]  # (trace, position in the trace): the code's order within an iteration
    iteration: tuple[int, int]  # (trace, innermost loop): calls with the same one run in one iteration


@dataclass
class Stepping:
    """How the code steps one scheduler, gathered from all its `step()` calls."""

    cadences: set[StepCadence] = field(default_factory=set)
    places: set[tuple[str, int]] = field(default_factory=set)  # (path, line) of the calls
    conditions: set[str] = field(default_factory=set)  # `if` tests lrlint cannot evaluate
    batches_per_epoch: int | None = None  # a step guarded by a test of the batch index
    explicit: str = ""  # `step(epoch + i / n)`: the code sets a position lrlint does not follow
    epoch_position: int | None = None  # `step(epoch)` with the epoch loop's counter: its first value
    loop_batches: tuple[int, str] | None = None  # a batch loop `range(n)` lrlint can count: n, as assumed
    every: int | None = 1  # stepped once every that many periods (Lightning's "frequency"); None: unknown
    before_batches: bool = False  # stepped at the top of the epoch, before the batch loop
    sites: list[StepSite] = field(default_factory=list)
    framework: str = ""  # 'Lightning steps it after every optimizer step ("interval": "step")'

    @property
    def calls_per_iteration(self) -> int:
        """The most unconditional step() calls of this scheduler in one iteration of one loop."""
        counts = Counter(site.iteration for site in self.sites if site.when is None)
        return max(counts.values(), default=0)

    def effective_cadence(self) -> StepCadence:
        """The one cadence of the calls; a step guarded to one batch of the epoch is per epoch."""
        (cadence,) = self.cadences
        return StepCadence.PER_EPOCH if self.batches_per_epoch == 1 else cadence

    def per_period(self, steps_per_epoch: int) -> int:
        per_batch = StepCadence.PER_BATCH in self.cadences
        cadence_steps = steps_per_epoch // (self.every or 1) if per_batch else 1
        batches = cadence_steps if self.batches_per_epoch is None else self.batches_per_epoch
        return batches * max(self.calls_per_iteration, 1)

    def notes(self, cadence: str, steps_per_epoch: int) -> list[str]:
        notes = [self.framework] if self.framework else []
        if self.calls_per_iteration > 1:
            notes.append(
                f"stepped by {self.calls_per_iteration} `step()` calls {cadence}: it advances that much faster"
            )
        if self.batches_per_epoch is not None:
            notes.append(f"stepped on {self.batches_per_epoch} of {steps_per_epoch} batches per epoch (its `if`)")
        if self.before_batches:
            notes.append("stepped before the epoch's batches: each epoch trains at its `lr (end)`")
        if self.conditions:
            tests = ", ".join(f"`if {test}`" for test in sorted(self.conditions))
            notes.append(f"stepped under {tests}: simulated as if stepped {cadence} every time")
        return notes


def steppings(model: TrainingModel, steps_per_epoch: int, reader: ReaderFor) -> dict[TrackedObject, Stepping]:
    """How the code steps each scheduler: every `step()` call lrlint sees, and the framework's."""
    steppings: dict[TrackedObject, Stepping] = {}
    traces = {id(trace): index for index, trace in enumerate(model.traces)}
    for trace, item in model.scheduler_steps():
        index = traces[id(trace)]
        analysis, line, _ = model.locate(item.call)
        inside = item.guards_inside(item.loops[-1]) if item.loops else item.guards
        cadence = trace.cadence(item)
        evaluator = reader(item.frame, steps_per_epoch)
        batches = _batches_stepped(item, evaluator) if cadence is StepCadence.PER_BATCH else None
        loop_batches = _loop_batches(model, item, reader(None, 1)) if cadence is StepCadence.PER_BATCH else None
        loop = id(item.loops[-1]) if item.loops else 0
        site = StepSite(cadence, _when(item, evaluator), (index, item.order), (index, loop))
        for scheduler in item.objects:
            stepping = steppings.setdefault(scheduler, Stepping())
            stepping.sites.append(site)
            stepping.cadences.add(cadence)
            stepping.places.add((analysis.source.path, line))
            stepping.before_batches |= cadence is StepCadence.PER_EPOCH and _before_batches(trace, item)
            stepping.loop_batches = stepping.loop_batches or loop_batches
            if item.call.args and scheduler.name != "ReduceLROnPlateau":
                first = _epoch_position(model, item, evaluator) if cadence is StepCadence.PER_EPOCH else None
                if first is None:
                    stepping.explicit = model.code(item.call)
                else:
                    stepping.epoch_position = first
            if batches == steps_per_epoch:
                continue  # its test holds on every batch
            if batches:
                stepping.batches_per_epoch = batches
            else:  # a test of something else, or one that holds on no batch (a flag off by default)
                stepping.conditions.update(model.code(g.test) for g in model.beyond_construction(scheduler, inside))
    for step in model.framework_steps:  # Lightning, the HF Trainer: the cadence they were told, or their own
        for scheduler in step.objects:
            stepping = steppings.setdefault(scheduler, Stepping())
            if step.cadence is not StepCadence.UNKNOWN:
                stepping.cadences.add(step.cadence)
                stepping.framework = step.how
                stepping.every = step.every
    return steppings


def _before_batches(trace: Trace, item: TraceItem) -> bool:
    """A step in the epoch loop that comes before the batch loop of the same epoch, or before the
    call lrlint cannot see into that trains the epoch (it receives the optimizer, nothing else steps it)."""
    batch_loops = [loop for loop in item.loops[-1].children if loop.iterates_data] if item.loops else []
    first_batch_item = min((inner.order for loop in batch_loops for inner in loop.items), default=None)
    if first_batch_item is not None:
        return item.order < first_batch_item
    optimizers = item.attached_optimizers
    stepped = any(other.role is Role.OPTIMIZER and other.objects & optimizers for other in trace.items)
    return not stepped and trace.training_call_after(item, optimizers) is not None


def _when(item: TraceItem, evaluator: Reader) -> Callable[[int, int], bool] | None:
    """When a step runs, as a test of the epoch counter and the batch index (`if epoch == 0`,
    `if (i + 1) % 4 == 0`); None when it runs every time. The returned test raises NotKnown
    if a condition depends on anything else."""
    epoch_loop = next((loop for loop in item.loops if loop.kind is LoopKind.EPOCH), None)
    outer = epoch_loop or (item.loops[0] if item.loops else None)
    guards = item.guards_inside(outer) if outer is not None else item.guards
    if not guards:
        return None
    counters = sorted(epoch_loop.target_names()) if epoch_loop is not None else []
    index = _batch_index(item.loops[-1]) if item.loops and item.loops[-1] is not epoch_loop else None

    def holds(epoch: int, batch: int) -> bool:
        return _guards_hold(guards, dict.fromkeys(counters, epoch) | ({index: batch} if index else {}), evaluator)

    return holds


def _guards_hold(guards: tuple[Guard, ...], counters: dict[str, int], evaluator: Reader) -> bool:
    """Every guard holds with the loop counters bound to these values (NotKnown if one cannot tell)."""
    evaluator.bindings.update(counters)
    try:
        return all(evaluator.condition(guard.test) != guard.negated for guard in guards)
    finally:
        for name in counters:
            evaluator.bindings.pop(name, None)


def _epoch_position(model: TrainingModel, item: TraceItem, evaluator: Reader) -> int | None:
    """The position `step(epoch - 1)` sets in the first epoch: from constants, else from the start
    of `range(start_epoch, epochs)` in a run at the defaults (`start_epoch = 0` unless resumed)."""
    first = model.epoch_position(item)
    counted = model.epoch_counter(item) if first is None else None
    if counted is None:
        return first
    loop, counter, offset = counted
    node, bounds = loop.node, _range_arguments(model, loop)
    if not (isinstance(node, cst.For) and isinstance(node.target, cst.Name) and node.target.value == counter):
        return None
    if bounds is None or len(bounds) != 2:
        return None
    evaluator.frame = loop.frame
    try:
        start = evaluator.value(bounds[0])
    except NotKnown:
        return None
    return start + offset if isinstance(start, int) and not isinstance(start, bool) else None


def _loop_batches(model: TrainingModel, item: TraceItem, evaluator: Reader) -> tuple[int, str] | None:
    """A step in a batch loop `for step in range(args.eval_step)`: the loop's own count, whatever
    the loaders' length (--steps-per-epoch), with the assumption that states it."""
    loop = item.loops[-1] if item.loops else None
    if loop is None or loop.kind is not LoopKind.BATCH:
        return None
    count = range_count(model, loop, evaluator)
    if count is None or count <= 0:
        return None
    read = f", with {', '.join(evaluator.assumptions)}" if evaluator.assumptions else ""
    return count, f"{count} batches per epoch, as the code's `{model.code(loop.event.iterated)}`{read}"


def _batch_index(loop: Loop) -> str | None:
    """`i` of `for i, batch in enumerate(loader)`."""
    target, iterated = loop.event.target, loop.event.iterated
    enumerated = isinstance(iterated, cst.Call) and cst.Module([]).code_for_node(iterated.func) == "enumerate"
    if enumerated and isinstance(target, cst.Tuple) and target.elements:
        first = target.elements[0].value
        return first.value if isinstance(first, cst.Name) else None
    return None


def _batches_stepped(item: TraceItem, evaluator: Reader) -> int | None:
    """On how many batches of an epoch a step guarded inside `for i, batch in enumerate(loader)` runs.

    `if i == len(loader) - 1` gives 1, `if (i + 1) % 4 == 0` a quarter; None when there is no such
    guard or it cannot be evaluated from the batch index alone.
    """
    loop = item.loops[-1] if item.loops else None
    guards = item.guards_inside(loop) if loop is not None else ()
    index = _batch_index(loop) if loop is not None else None
    if not guards or index is None:
        return None
    try:
        return sum(_guards_hold(guards, {index: batch}, evaluator) for batch in range(evaluator.steps_per_epoch))
    except NotKnown:
        return None


def range_count(model: TrainingModel, loop: Loop, evaluator: Reader) -> int | None:
    """How many times `for ... in range(a, b)` runs, its bounds read by `evaluator` (which records
    what it assumed); None for any other loop or bounds it cannot read."""
    arguments = _range_arguments(model, loop)
    if arguments is None:
        return None
    evaluator.frame = loop.frame
    try:
        bounds = [int(evaluator.value(argument)) for argument in arguments]
    except (NotKnown, TypeError, ValueError):
        return None
    return bounds[-1] - (bounds[0] if len(bounds) == 2 else 0)


def _range_arguments(model: TrainingModel, loop: Loop) -> list[cst.BaseExpression] | None:
    """The bounds of `for ... in range(stop)` / `range(start, stop)`, as written; None for any other loop."""
    iterable = loop.node.iter if isinstance(loop.node, cst.For) else None
    if not isinstance(iterable, cst.Call) or model.code(iterable.func) != "range" or not 1 <= len(iterable.args) <= 2:
        return None
    return [arg.value for arg in iterable.args]
