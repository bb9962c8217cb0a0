"""Simulating the code's schedulers: each built with torch and stepped the way the code steps it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import libcst as cst

from lrlint.linter import try_parse
from lrlint.model import (
    AfterEnd,
    Frame,
    LoopKind,
    Project,
    Role,
    StepCadence,
    Stepping,
    TrackedObject,
    TrainingModel,
    Unit,
    build_model,
    ordinal,
    range_count,
    steppings,
)
from lrlint.model.syntax import call_argument
from lrlint.model.trace import LrWrite
from lrlint.prefilter import may_contain_findings
from lrlint.simulate.api import DEFAULT_OPTIMIZER, scheduler_factory, stepped_rates
from lrlint.simulate.evaluate import (
    NOTHING_GIVEN,
    REFUSALS,
    CannotSimulate,
    Given,
    SafeEvaluator,
    StoppedByTorch,
    refusal,
)
from lrlint.sources import Source, SourceError, read_source


@dataclass
class Schedule:
    """One scheduler of the code, simulated, or the reason it could not be."""

    name: str
    where: str
    cadences: frozenset[StepCadence] = frozenset()  # how the code steps it (both, for phases switched by hand)
    per_epoch: list[tuple[float, float]] = field(default_factory=list)  # (lr at start, lr at end) per epoch
    sized_for: str = ""
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cannot: str = ""
    steps: set[tuple[str, int]] = field(default_factory=set)  # (path, line) of its step() calls
    built: tuple[str, int] = ("", 0)  # (path, line) of its construction
    crash: str = ""  # torch raised part-way: where and what
    end: str = ""  # where its schedule ends within the run, and what the rate does after that
    other_cadence: list[tuple[float, float]] = field(default_factory=list)  # the same, stepped the other way
    per_step: list[float] = field(default_factory=list)  # stepped more than once per epoch: the lr of each step
    steps_per_epoch: int = 1  # of `per_step`
    own_length: bool = False  # its rows are the iterations of its own loop, not the run's epochs
    batches_from_code: bool = False  # the batches per epoch were counted in the code (`range(n)`), not assumed

    @property
    def cadence_text(self) -> str:
        """`per batch`, `per epoch`, `per batch and per epoch`; "" when it was not simulated."""
        return " and ".join(sorted(cadence.value for cadence in self.cadences))


def _reader(model: TrainingModel, given: Given) -> Callable[[Frame | None, int], SafeEvaluator]:
    def reader(frame: Frame | None, steps_per_epoch: int) -> SafeEvaluator:
        return SafeEvaluator(model, steps_per_epoch, given, frame=frame)

    return reader


def simulate_model(
    model: TrainingModel, epochs: int, steps_per_epoch: int, given: Given = NOTHING_GIVEN
) -> list[Schedule]:
    """Every scheduler of the model simulated, with what the user `given`."""
    by_scheduler = steppings(model, steps_per_epoch, _reader(model, given))
    schedulers = [o for o in model.resolver.constructed() if o.role is Role.SCHEDULER and o.spec is not None]
    children = {child for scheduler in schedulers for child in scheduler.children}
    rebuilt = _built_in_loops(model)
    alone = [s for s in model.ordered(frozenset(schedulers)) if s not in children]
    hand_written = model.hand_written_rates()
    found = []
    for group in _shared_optimizers(model, alone, by_scheduler, rebuilt):
        if any(optimizer in hand_written for scheduler in group for optimizer in scheduler.optimizers):
            continue  # each alone, refused with its reason
        together = _simulate_together(model, group, by_scheduler, epochs, steps_per_epoch, given=given)
        if together.per_epoch:  # else each alone, with its own reason
            found.append(together)
            alone = [scheduler for scheduler in alone if scheduler not in group]
    for scheduler in alone:
        written = next((hand_written[o] for o in scheduler.optimizers if o in hand_written), None)
        if written is not None:
            found.append(_written_by_hand(model, scheduler, written))
            continue
        stepping = by_scheduler.get(scheduler, Stepping())
        schedule = _simulate(model, scheduler, stepping, epochs, steps_per_epoch, given=given)
        schedule.notes += _shared_optimizer_note(model, scheduler, [s for s in alone if s in by_scheduler])
        if scheduler in rebuilt and schedule.per_epoch:
            schedule.notes.append("constructed inside a loop: simulated as if built once, before it")
        found.append(schedule)
    scheduled = {optimizer for scheduler in schedulers for optimizer in scheduler.optimizers}
    writes = {id(write): write for optimizer, write in hand_written.items() if optimizer not in scheduled}
    found += [_set_by_hand(model, write, epochs, steps_per_epoch, given) for write in writes.values()]
    return found


_WRITES_A_RATE = re.compile(r"""\[\s*["']lr["']\s*\]\s*=[^=]""")


def _set_by_hand(model: TrainingModel, write: LrWrite, epochs: int, steps_per_epoch: int, given: Given) -> Schedule:
    """A rate written by hand each iteration (`g["lr"] = lr_at(it)`), evaluated at every step with
    the loop counters bound: a schedule too, when the expression is pure arithmetic of them."""
    analysis, line, _ = model.locate(write.target)
    schedule = Schedule("learning rate set by hand", model.where(write.target), built=(analysis.source.path, line))
    kinds = [loop.kind for loop in write.loops]
    cadence = StepCadence.PER_BATCH if LoopKind.BATCH in kinds else StepCadence.PER_EPOCH
    kinds = [kind for kind in kinds if kind is not LoopKind.OTHER]  # `for group in optimizer.param_groups:`
    if write.value is None or not kinds:
        schedule.cannot = f"`{model.code(write.target)}` is not written once per batch or epoch from a value"
        return schedule
    evaluator = SafeEvaluator(model, steps_per_epoch, given)
    period = steps_per_epoch if cadence is StepCadence.PER_BATCH else 1
    if LoopKind.EPOCH not in kinds:  # one loop over iterations (`for it in range(max_iters)`): a row each
        loop = next(loop for loop in write.loops if loop.kind is LoopKind.BATCH)
        count = model.counter.iterations(loop)
        known = count.number if count is not None else None
        epochs, period = (min(int(known), MAX_CODE_EPOCHS) if known else epochs), 1
        evaluator.assumptions.append(f"{epochs} iterations of `{model.code(loop.event.iterated)}`, one row each")
        schedule.own_length = True
    try:
        lrs = [
            float(evaluator.value(_bound(model, write, evaluator, step, period))) for step in range(epochs * period + 1)
        ]
    except (CannotSimulate, TypeError, ValueError, ArithmeticError) as error:
        schedule.cannot = refusal(error)
        return schedule
    schedule.cadences = frozenset({cadence})
    schedule.per_epoch = [(lrs[e * period], lrs[(e + 1) * period]) for e in range(epochs)]
    if period > 1:
        schedule.per_step, schedule.steps_per_epoch = lrs[:-1], period
    schedule.assumptions = sorted(set(evaluator.assumptions))
    schedule.notes = [f"`{model.code(write.target)} = {model.code(write.value)}` each {cadence.value.split()[-1]}"]
    return schedule


def _bound(
    model: TrainingModel, write: LrWrite, evaluator: SafeEvaluator, step: int, period: int
) -> cst.BaseExpression:
    """The written value, with the counters of the loops around it bound for step `step` of the run."""
    assert write.value is not None
    evaluator.bindings.clear()
    epoch, batch = divmod(step, period)
    single = all(loop.kind is not LoopKind.EPOCH for loop in write.loops)  # the batch counter is the step
    for loop in write.loops:
        counter = (step if single else batch) if loop.kind is LoopKind.BATCH else epoch
        for name, first in model.first_values(loop).items():
            if isinstance(first, int):
                evaluator.bindings[name] = first + counter
    return write.value


def _written_by_hand(model: TrainingModel, scheduler: TrackedObject, write: LrWrite) -> Schedule:
    schedule = Schedule(scheduler.name, model.where(scheduler.call))
    schedule.cannot = (
        f"the code also writes its optimizer's learning rate by hand (`{model.code(write.target)} = ...`, "
        f"{model.where(write.target)}): the scheduler alone does not give the run's rates"
    )
    return schedule


def _built_in_loops(model: TrainingModel) -> set[TrackedObject]:
    return {o for trace in model.traces for item in trace.items if item.loops for o in item.constructed}


def _shared_optimizers(
    model: TrainingModel,
    schedulers: list[TrackedObject],
    steppings: dict[TrackedObject, Stepping],
    built_in_loops: set[TrackedObject],
) -> list[list[TrackedObject]]:
    """Stepped schedulers of one optimizer, all built once before the loops: torch combines them."""
    by_optimizer: dict[TrackedObject, list[TrackedObject]] = {}
    for scheduler in schedulers:
        if scheduler in steppings and len(scheduler.optimizers) == 1:
            by_optimizer.setdefault(next(iter(scheduler.optimizers)), []).append(scheduler)
    simple = {StepCadence.PER_BATCH, StepCadence.PER_EPOCH}
    return [
        group
        for group in by_optimizer.values()
        if len(group) > 1
        and not any(model.built_apart(one, other) for one in group for other in group)
        and not built_in_loops & set(group)
        and all(steppings[s].cadences <= simple and not steppings[s].explicit for s in group)
    ]


def _simulate_together(
    model: TrainingModel,
    group: list[TrackedObject],
    steppings: dict[TrackedObject, Stepping],
    epochs: int,
    steps_per_epoch: int,
    *,
    given: Given,
) -> Schedule:
    """Several schedulers of one optimizer, built in the code's order and stepped as the code does.

    Phases switched by hand (`if epoch < 20: warmup.step() else: decay.step()`) are the case where
    every step is per epoch and conditional: each phase continues from the current LR.
    """
    ordered = sorted(group, key=lambda scheduler: model.position(scheduler.call))
    sites = sorted(
        ((site, position) for position, scheduler in enumerate(ordered) for site in steppings[scheduler].sites),
        key=lambda pair: pair[0].order,
    )
    per_batch = [(site, i) for site, i in sites if site.cadence is StepCadence.PER_BATCH]
    per_epoch = [(site, i) for site, i in sites if site.cadence is StepCadence.PER_EPOCH]
    phases = not per_batch and all(site.when is not None for site, _ in sites)
    schedule = Schedule(
        (" / " if phases else " + ").join(s.name for s in ordered),
        ", ".join(model.where(scheduler.call) for scheduler in ordered),
        steps=set().union(*(steppings[scheduler].places for scheduler in ordered)),
    )
    period = steps_per_epoch if per_batch else 1  # steps per epoch simulated one by one
    evaluator = SafeEvaluator(model, steps_per_epoch, given)

    def step(step_number: int, built: list[Any]) -> None:
        epoch, batch = divmod(step_number, period)
        due = per_batch + (per_epoch if batch == period - 1 else [])
        for site, position in due:
            if site.when is None or site.when(epoch, batch):
                built[position].step()

    try:
        lr = _optimizer_lr(next(iter(ordered[0].optimizers)), evaluator)
        options = {"lr": lr} if lr is not None else {}
        build = lambda opt: [_build(scheduler, opt, evaluator) for scheduler in ordered]  # noqa: E731
        lrs = stepped_rates(build, epochs * period, step, DEFAULT_OPTIMIZER, options)
    except REFUSALS as error:
        schedule.cannot = refusal(error)
        return schedule
    schedule.cadences = frozenset(site.cadence for site, _ in sites)
    schedule.per_epoch = [(lrs[e * period], lrs[(e + 1) * period]) for e in range(epochs)]
    if period > 1:
        schedule.per_step, schedule.steps_per_epoch = lrs[:-1], period
    schedule.assumptions = sorted(set(evaluator.assumptions))
    combined = (
        f"{len(ordered)} schedulers drive one optimizer: simulated together, in the code's order; the lr combines them"
    )
    phased = "phases switched by `if` on the epoch: each continues from the current LR"
    schedule.notes = [phased if phases else combined, *_within_epochs(schedule)]
    return schedule


def _shared_optimizer_note(model: TrainingModel, scheduler: TrackedObject, stepped: list[TrackedObject]) -> list[str]:
    """Other stepped schedulers of the same optimizer: the rate the run trains at combines them."""
    others = [
        s
        for s in stepped
        if s is not scheduler and s.optimizers & scheduler.optimizers and not model.built_apart(s, scheduler)
    ]
    if not others or scheduler not in stepped:
        return []
    names = ", ".join(f"{other.name} ({model.where(other.call)})" for other in others)
    return [f"its optimizer is also driven by {names}: the run's lr depends on both; this is {scheduler.name} alone"]


def _simulate(
    model: TrainingModel,
    scheduler: TrackedObject,
    stepping: Stepping,
    epochs: int,
    steps_per_epoch: int,
    *,
    given: Given = NOTHING_GIVEN,
) -> Schedule:
    analysis, line, _ = model.locate(scheduler.call)
    schedule = Schedule(
        scheduler.name, model.where(scheduler.call), steps=stepping.places, built=(analysis.source.path, line)
    )
    evaluator = SafeEvaluator(model, steps_per_epoch, given, frame=_construction_frame(model, scheduler))
    if stepping.loop_batches is not None:
        steps_per_epoch, assumption = stepping.loop_batches
        evaluator.assumptions.append(assumption)
        schedule.batches_from_code = True
    try:
        if stepping.cadences <= {StepCadence.UNKNOWN}:  # not in sight, or in a loop lrlint cannot classify
            stepping = _assumed_cadence(model, scheduler, stepping, given.cadence, evaluator)
        if len(stepping.cadences) != 1 or StepCadence.UNKNOWN in stepping.cadences:
            raise CannotSimulate(_cadence_problem(stepping.cadences))
        cadence = stepping.effective_cadence()
        schedule.cadences = frozenset({cadence})
        step = _step_function(scheduler, stepping, cadence, given, evaluator)
        build, lr = scheduler_builder(model, scheduler, evaluator, given.lr)
        per_period = stepping.per_period(steps_per_epoch)
        epochs = _within_budget(epochs, per_period, evaluator)
        options = {"lr": lr} if lr is not None else {}
        lrs = stepped_rates(build, epochs * per_period, step, DEFAULT_OPTIMIZER, options)
    except StoppedByTorch as stopped:
        lrs = stopped.rates
        crash_epoch = (len(lrs) - 2) // per_period  # the last period trained, then its step raised
        if crash_epoch == 0:
            schedule.cannot = str(stopped)
            return schedule
        schedule.crash = f"{stopped}, in the {ordinal(crash_epoch + 1)} of {epochs} epochs: the run crashes there"
        epochs = crash_epoch
    except REFUSALS as error:
        schedule.cannot = refusal(error)
        return schedule
    schedule.per_epoch = [(lrs[e * per_period], lrs[(e + 1) * per_period]) for e in range(epochs)]
    schedule.end = _schedule_end(model, scheduler, lrs, per_period)
    if per_period > 1:
        schedule.per_step, schedule.steps_per_epoch = lrs[:-1], per_period
    schedule.sized_for = _sized_for(model, scheduler, cadence, epochs * per_period, steps_per_epoch)
    other = 1 if cadence is StepCadence.PER_BATCH else steps_per_epoch
    try:
        if schedule.sized_for:  # stepped at another cadence than it was sized for: show that one too
            other_lrs = stepped_rates(build, epochs * other, lambda _, built: built.step(), DEFAULT_OPTIMIZER, options)
            schedule.other_cadence = [(other_lrs[e * other], other_lrs[(e + 1) * other]) for e in range(epochs)]
    except (TypeError, ValueError, ArithmeticError):
        pass  # at the other cadence it runs past its end (OneCycleLR): no comparison to show
    schedule.assumptions = sorted(set(evaluator.assumptions))
    schedule.notes = [
        *stepping.notes(schedule.cadence_text, steps_per_epoch),
        *_jumps(schedule.per_epoch, scheduler),
        *_within_epochs(schedule),
        *[note for note in (schedule.end, schedule.crash) if note],
    ]
    return schedule


def _schedule_end(model: TrainingModel, scheduler: TrackedObject, lrs: list[float], per_period: int) -> str:
    """Where the schedule ends within the simulated run, for schedules whose end matters (LR108)."""
    milestones = model.schedule_reader.milestones(scheduler) or []
    beyond = [str(m) for m in milestones if m > len(lrs) - 1]
    if beyond:
        return f"milestones {', '.join(beyond)} lie beyond the run's {len(lrs) - 1} steps: nothing changes there"
    length = model.schedule_reader.length(scheduler, None)
    if length is None or length.after_end is AfterEnd.RAISES or len(lrs) < 2:
        return ""
    lowest = min(range(len(lrs)), key=lambda i: (lrs[i], i))
    if length.after_end is AfterEnd.CLIMBS_BACK:
        if lrs[-1] <= lrs[lowest] + 1e-12 * max(lrs) or lowest == 0:
            return ""
        return (
            f"the schedule ends at step {lowest} (epoch {lowest // per_period}) at lr {number_text(lrs[lowest])}; "
            f"after it the rate climbs back up, to {number_text(lrs[-1])} at the end of the run"
        )
    held = next(i for i in range(len(lrs)) if all(lr == lrs[-1] for lr in lrs[i:]))
    if len(lrs) - 1 - held < per_period:
        return ""
    share = (len(lrs) - 1 - held) / (len(lrs) - 1)
    return (
        f"the schedule ends at step {held} (epoch {held // per_period}); the rate stays at {number_text(lrs[-1])} "
        f"for the rest of the run ({share:.0%} of it)"
    )


def _step_function(
    scheduler: TrackedObject, stepping: Stepping, cadence: StepCadence, given: Given, evaluator: SafeEvaluator
) -> Callable[[int, Any], None]:
    """How each period steps the scheduler: `step()`, `step(metric)`, `step(epoch)`, every Nth period."""
    if stepping.explicit:
        raise CannotSimulate(
            f"stepped as `{stepping.explicit}`: the code sets the position itself, "
            "lrlint simulates `step()` without an argument"
        )
    if stepping.every is None:
        raise CannotSimulate('Lightning\'s "frequency" is not known before the run')
    step = _plateau_step(given, evaluator) if scheduler.name == "ReduceLROnPlateau" else _plain_step
    if stepping.every > 1 and cadence is StepCadence.PER_EPOCH:
        step = _every_nth(stepping.every, step)
    if stepping.epoch_position is not None:
        step = _positioned_step(stepping.epoch_position)
        evaluator.assumptions.append(
            "stepped with the epoch as its position (`step(epoch)`, deprecated): torch sets last_epoch to it"
        )
    return step


def _plain_step(period: int, built: Any) -> None:
    built.step()


def _every_nth(every: int, step: Callable[[int, Any], None]) -> Callable[[int, Any], None]:
    """Lightning with "frequency": N steps at the end of the periods numbered N, 2N, ... from 1."""

    def stepped(period: int, built: Any) -> None:
        if (period + 1) % every == 0:
            step(period, built)

    return stepped


def _positioned_step(first: int) -> Callable[[int, Any], None]:
    """`scheduler.step(epoch)` at the end of epoch `first + period`: torch jumps to that position."""

    def step(period: int, built: Any) -> None:
        built.step(first + period)

    return step


def _construction_frame(model: TrainingModel, scheduler: TrackedObject) -> Frame | None:
    """The call the scheduler is built in (its parameters are what that call's caller passes)."""
    built = model.construction(scheduler)
    return built.frame if built is not None else None


def _plateau_step(given: Given, evaluator: SafeEvaluator) -> Callable[[int, Any], None]:
    """ReduceLROnPlateau stepped with a metric: the recorded curve --metric gives (its last value
    held), else one that never improves (the earliest the rate can fall), stated."""
    if given.metric:
        curve = given.metric
        evaluator.assumptions.append(f"the metric of --metric ({len(curve)} values, the last one held after them)")
    else:
        curve = (1.0,)
        evaluator.assumptions.append("a metric that never improves: the earliest the rate can fall (--metric FILE)")

    def step(period: int, built: Any) -> None:
        built.step(curve[min(period, len(curve) - 1)])

    return step


def _assumed_cadence(
    model: TrainingModel,
    scheduler: TrackedObject,
    stepping: Stepping,
    given: StepCadence | None,
    evaluator: SafeEvaluator,
) -> Stepping:
    """Where the step is not in sight: the cadence --cadence gives, else the one its sizing implies
    (sized in epochs: once per epoch; in optimizer steps: every batch), stated."""
    sizing = model.sizing(scheduler)
    implied = {Unit.EPOCHS: StepCadence.PER_EPOCH, Unit.ITERATIONS: StepCadence.PER_BATCH}.get(sizing.unit)
    cadence = given or implied
    if cadence is None:
        return stepping
    where = "lrlint does not see where it is stepped" if not stepping.cadences else "its loop is not classified"
    why = "--cadence" if given else f"as its sizing implies ({sizing.evidence}; --cadence to change)"
    evaluator.assumptions.append(f"stepped {cadence.value}: {where}; {why}")
    return replace(stepping, cadences={cadence})


def _cadence_problem(cadences: set[StepCadence]) -> str:
    if not cadences:
        return "lrlint does not see where it is stepped"
    if StepCadence.UNKNOWN in cadences:
        return "it is stepped in a loop lrlint cannot classify as per batch or per epoch"
    return "it is stepped both per batch and per epoch"


# Schedulers whose rates come from their own arguments (max_lr, base_lr), not from the optimizer's.


def scheduler_builder(
    model: TrainingModel, scheduler: TrackedObject, evaluator: SafeEvaluator, given_lr: float | None = None
) -> tuple[Callable[[Any], Any], float | None]:
    """A builder of the scheduler on any optimizer, and the learning rate of the code's optimizer:
    the one --lr gives, else the code's; when the code's is not known, 1.0, so that the rates are
    in units of the base LR (which the assumptions say)."""
    optimizers = list(scheduler.optimizers)
    if given_lr is not None:
        lr: float | None = given_lr
        evaluator.assumptions.append(f"the base lr is {given_lr:g} (--lr)")
    elif scheduler.facts.rates_from_arguments:
        lr = None  # its own arguments set the rates
    else:
        try:
            if len(optimizers) != 1:
                raise CannotSimulate("lrlint does not know which optimizer it drives")
            lr = _optimizer_lr(optimizers[0], evaluator)
        except CannotSimulate as unknown:
            lr = 1.0
            evaluator.assumptions.append(f"rates in units of the base lr (lr x base): {unknown.reason}; --lr sets it")

    def build(opt: Any) -> Any:
        return _build(scheduler, opt, evaluator)

    return build, lr


def _optimizer_lr(optimizer: TrackedObject, evaluator: SafeEvaluator) -> float | None:
    call = optimizer.call
    if not isinstance(call, cst.Call):
        return None  # not built in sight: torch's default is as good a guess as any
    expr = call_argument(call, "lr", 1)
    return float(evaluator.value(expr)) if expr is not None else None  # None: torch's default


def _build(scheduler: TrackedObject, opt: Any, evaluator: SafeEvaluator) -> Any:
    """The scheduler built as the code calls it: every argument as written, the optimizer replaced
    by `opt`. Arguments torch does not accept are passed too, so that torch refuses them as it would."""
    spec, arguments, call = scheduler.spec, scheduler.arguments, scheduler.call
    if spec is None or arguments is None or not isinstance(call, cst.Call):
        raise CannotSimulate("lrlint does not see it built (a parameter or an annotation names it)")
    if arguments.has_star_args or arguments.has_star_kwargs:
        raise CannotSimulate("its arguments are passed with * or **")
    make = scheduler_factory(spec.qualified_name, spec.kind)
    names = {id(arg): name for name, arg in arguments.values.items()}
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for arg in call.args:
        name = names.get(id(arg)) or (arg.keyword.value if arg.keyword else "")
        value = _argument(name, arg, scheduler, opt, evaluator)
        if arg.keyword is None:
            positional.append(value)
        else:
            keywords[arg.keyword.value] = value
    return make(*positional, **keywords)


def _argument(name: str, arg: cst.Arg, scheduler: TrackedObject, opt: Any, evaluator: SafeEvaluator) -> Any:
    if name == "optimizer":
        return opt
    if name == "schedulers":
        children = [_build(child, opt, evaluator) for child in scheduler.children]
        if len(children) != len(getattr(arg.value, "elements", ())):
            raise CannotSimulate("lrlint does not know every scheduler of the sequence")
        return children
    if name in ("lr_lambda", "lr_lambdas") and not isinstance(arg.value, (cst.Lambda, cst.List)):
        function = evaluator.step_function(arg.value) if isinstance(arg.value, cst.Name) else None
        if function is not None:
            return function
        raise CannotSimulate(
            f"{scheduler.name} takes `{evaluator.model.code(arg.value)}`: only lambdas and the file's own functions "
            "of one step are evaluated"
        )
    return evaluator.value(arg.value)


def _sized_for(
    model: TrainingModel, scheduler: TrackedObject, cadence: StepCadence, steps: int, steps_per_epoch: int
) -> str:
    """What the schedule was sized for, when the code steps it at another cadence."""
    sizing = model.sizing(scheduler)
    if sizing.unit is Unit.ITERATIONS and cadence is StepCadence.PER_EPOCH:
        run_steps = steps * steps_per_epoch
        return (
            f"sized in optimizer steps ({sizing.evidence}), but stepped only {steps} times (once per epoch): "
            f"{steps / run_steps:.1%} of the run's {run_steps} optimizer steps"
        )
    if sizing.unit is Unit.EPOCHS and cadence is StepCadence.PER_BATCH:
        return f"sized in epochs ({sizing.evidence}), but stepped {steps} times (every batch)"
    return ""


def _jumps(per_epoch: list[tuple[float, float]], scheduler: TrackedObject) -> list[str]:
    """Upward jumps after a decay: SequentialLR restarting a phase from the base LR, usually unintended."""
    if not scheduler.children:
        return []  # a single scheduler's rises are its shape (warmup, cycles, restarts)
    notes = []
    starts = [start for start, _ in per_epoch]
    for epoch in range(1, len(starts)):
        decayed = min(starts[:epoch]) < starts[0]
        if decayed and starts[epoch] > starts[epoch - 1] * (1 + 1e-9):
            why = f"{scheduler.name} restarts the next scheduler from the base LR"
            notes.append(
                f"LR jumps from {number_text(starts[epoch - 1])} to {number_text(starts[epoch])} at epoch {epoch}: "
                f"{why}"
            )
    return notes


def _within_epochs(schedule: Schedule) -> list[str]:
    """Where an epoch's start and end hide what the steps in between do (a warmup peak, a restart)."""
    for epoch, (start, end) in enumerate(schedule.per_epoch):
        first = epoch * schedule.steps_per_epoch
        inside = schedule.per_step[first : first + schedule.steps_per_epoch]
        low, high = min(start, end), max(start, end)
        outside = [(step, lr) for step, lr in enumerate(inside) if not low * (1 - 1e-9) <= lr <= high * (1 + 1e-9)]
        if outside:
            step, lr = max(outside, key=lambda found: abs(found[1] - start))
            return [
                f"within epoch {epoch} the lr reaches {number_text(lr)} (step {first + step}), beyond its start and "
                "end: --per-step lists every step"
            ]
    return []


def number_text(value: float) -> str:
    return f"{value:.6g}"


DEFAULT_EPOCHS = 10


def simulate_file(
    path: str, epochs: int | None, steps_per_epoch: int, given: Given = NOTHING_GIVEN
) -> tuple[int, list[Schedule]]:
    """Every scheduler of the file, simulated; the file is read and parsed, never run.

    Without `epochs`, as many as the code's epoch loop runs (`range(EPOCHS)`), if lrlint knows it.
    Raises CannotSimulate when the file cannot be read or parsed.
    """
    return simulate_source(read_for_simulation(path), epochs, steps_per_epoch, given)


def read_for_simulation(path: str) -> Source:
    try:
        return read_source(Path(path))
    except SourceError as error:
        raise CannotSimulate(str(error)) from None


def simulate_source(
    source: Source, epochs: int | None, steps_per_epoch: int, given: Given = NOTHING_GIVEN
) -> tuple[int, list[Schedule]]:
    writes_a_rate = _WRITES_A_RATE.search(source.code) is not None
    if not writes_a_rate and not may_contain_findings(source.code):
        return epochs or DEFAULT_EPOCHS, []  # no scheduler in it: not parsed
    module, problem = try_parse(source.code)  # the parse that refuses what would crash LibCST
    if module is None:
        message, line, _ = problem or ("it does not parse", 1, 1)
        raise CannotSimulate(f"line {line}: {message}")
    try:
        model = build_model(module, source, Project(), always_trace=writes_a_rate)
    except RecursionError:
        raise CannotSimulate("the code is nested too deeply to analyse") from None
    assumption = None
    if epochs is None:
        epochs, assumption = _code_epochs(model, steps_per_epoch, given)
        if assumption == _UNKNOWN_EPOCHS:
            epochs, assumption = _schedules_length(model, steps_per_epoch) or (epochs, assumption)
    schedules = simulate_model(model, epochs, steps_per_epoch, given)
    for schedule in schedules:
        if not schedule.own_length:
            schedule.assumptions = ([assumption] if assumption else []) + schedule.assumptions
    return epochs, schedules


MAX_CODE_EPOCHS = 1000  # an RL loop of a million "epochs" is simulated in part, and says so
MAX_SIMULATED_STEPS = 100_000  # per schedule: a schedule function of the file takes ~0.1 ms a step


def _within_budget(epochs: int, per_period: int, evaluator: SafeEvaluator) -> int:
    """The epochs to simulate, no more than MAX_SIMULATED_STEPS steps, with the assumption that says so."""
    fits = max(1, MAX_SIMULATED_STEPS // per_period)
    if epochs <= fits:
        return epochs
    evaluator.assumptions.append(
        f"the first {fits} of {epochs} epochs: {per_period} steps per epoch, simulated up to "
        f"{MAX_SIMULATED_STEPS:,} steps (--epochs to change)"
    )
    return fits


def _code_epochs(model: TrainingModel, steps_per_epoch: int, given: Given) -> tuple[int, str]:
    """The number of epochs of the code's epoch loop, and the assumption to state."""
    evaluator = SafeEvaluator(model, steps_per_epoch, given)
    for trace in model.traces:
        for loop in trace.loops:
            count = range_count(model, loop, evaluator) if loop.kind is LoopKind.EPOCH else None
            if count is None or count <= 0:
                continue
            loop_code = model.code(loop.event.iterated)
            if count > MAX_CODE_EPOCHS:
                return MAX_CODE_EPOCHS, f"the first {MAX_CODE_EPOCHS} of the code's {count} epochs (`{loop_code}`)"
            read = f", with {', '.join(evaluator.assumptions)}" if evaluator.assumptions else ""
            return count, f"{count} epochs, as the code's `{loop_code}`{read} (--epochs to change)"
    return DEFAULT_EPOCHS, _UNKNOWN_EPOCHS


_UNKNOWN_EPOCHS = f"{DEFAULT_EPOCHS} epochs: the code's epoch count is not known (--epochs to change)"
_AFTER_LAST_MILESTONE = 5  # epochs shown past a schedule's last milestone, to show the last drop


def _schedules_length(model: TrainingModel, steps_per_epoch: int) -> tuple[int, str] | None:
    """When the code's epoch count is unknown: the longest schedule's own length in epochs (T_max,
    epochs * steps_per_epoch, num_training_steps, the last milestone and a few epochs), stated."""
    lengths = [
        found
        for scheduler in model.constructed_objects(Role.SCHEDULER)
        if (found := _schedule_epochs(model, scheduler, steps_per_epoch)) is not None
    ]
    if not lengths:
        return None
    epochs, evidence = max(lengths)
    epochs = min(epochs, MAX_CODE_EPOCHS)
    return epochs, (
        f"{epochs} epochs: the length of the longest schedule ({evidence}), as the code's epoch count is not known "
        "(--epochs to change)"
    )


def _schedule_epochs(model: TrainingModel, scheduler: TrackedObject, steps_per_epoch: int) -> tuple[int, str] | None:
    per_step = model.sizing(scheduler).unit is Unit.ITERATIONS
    length = model.schedule_reader.length(scheduler, None)
    milestones = model.schedule_reader.milestones(scheduler)
    if length is not None:
        steps = length.steps.evaluated(lambda factor: Fraction(steps_per_epoch) if factor.startswith("len(") else None)
        evidence = f"{scheduler.name} {length.evidence}"
    elif milestones:
        steps = Fraction(milestones[-1] + (_AFTER_LAST_MILESTONE * (steps_per_epoch if per_step else 1)))
        evidence = f"{scheduler.name} milestones up to {milestones[-1]}, and {_AFTER_LAST_MILESTONE} epochs more"
    else:
        return None
    if steps is None or steps <= 0:
        return None
    return math.ceil(steps / steps_per_epoch if per_step else steps), evidence


def simulate_files(paths: Sequence[str], epochs: int | None, steps_per_epoch: int) -> list[Schedule]:
    """The schedules of every file that can hold one (unreadable or unparsable files add none)."""
    schedules = []
    for path in paths:
        try:
            schedules += simulate_source(read_for_simulation(path), epochs, steps_per_epoch)[1]
        except CannotSimulate:
            continue
    return schedules
