"""Replaying the code in program order: which steps run in which loops, through which calls.

A `Trace` starts at an entry point (the module body, or a function nothing in the file calls)
and inlines every call into a function of the file, binding its parameters to the caller's
objects. The result is a flat list of the steps and opaque calls in the order one iteration
executes them, each with the loops around it, and the loops classified as batch or epoch loops.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

import libcst as cst

from lrlint.model.resolve import MAX_CALL_DEPTH, Callee, Context, Evidence, Objects, Resolver, Role, TrackedObject
from lrlint.model.syntax import (
    ELEMENT,
    Event,
    FunctionInfo,
    Guard,
    LoopEvent,
    LrWriteEvent,
    called_name,
    class_test,
    exclusive,
    positional_values,
    tests_presence_of,
    walk,
)
from lrlint.model.values import ValueEvaluator, is_known


class LoopKind(Enum):
    BATCH = "batch"
    EPOCH = "epoch"
    OTHER = "other"


class StepCadence(Enum):
    PER_BATCH = "per batch"
    PER_EPOCH = "per epoch"
    UNKNOWN = "unknown"


@dataclass(eq=False)
class Frame:
    """One invocation of a function inside a trace."""

    function: FunctionInfo
    call_site: cst.Call | None
    parent: Frame | None
    context: Context

    def argument(self, param: str) -> cst.BaseExpression | None:
        """The expression the call site passes for parameter `param`, if it passes one."""
        call = self.call_site
        if call is None:
            return None
        bound_method = isinstance(call.func, cst.Attribute) and self.function.self_name is not None
        params = [p.name.value for p in self.function.positional_params(bound_method)]
        for position, value in enumerate(positional_values(call)):
            if position < len(params) and params[position] == param:
                return value
        return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == param), None)


@dataclass(eq=False)
class Loop:
    event: LoopEvent
    frame: Frame
    parent: Loop | None
    guards: tuple[Guard, ...]  # every `if` around the loop, from the entry point down
    kind: LoopKind = LoopKind.OTHER
    iterates_data: bool = False  # a batch loop over a data source, not merely one that steps
    items: list[TraceItem] = field(default_factory=list)  # everything inside, nested loops included
    children: list[Loop] = field(default_factory=list)

    @property
    def node(self) -> cst.For | cst.While:
        return self.event.node

    def target_names(self) -> set[str]:
        return _identifiers(self.event.target) if self.event.target is not None else set()

    def descendants(self) -> Iterator[Loop]:
        for child in self.children:
            yield child
            yield from child.descendants()

    @property
    def replays_schedule(self) -> bool:
        """`for _ in range(start_epoch): scheduler.step()`: it only advances schedulers, as a resume does.

        It steps a scheduler, is no batch loop and runs none, and nothing else in it handles a
        tracked object (an optimizer step, or a training call that receives the optimizer).
        """
        if self.kind is LoopKind.BATCH or any(child.kind is LoopKind.BATCH for child in self.descendants()):
            return False
        steps_scheduler = any(item.role is Role.SCHEDULER for item in self.items)
        return steps_scheduler and all(item.role is Role.SCHEDULER or not item.objects for item in self.items)


@dataclass(eq=False)
class TraceItem:
    """A call in the replay: a step of a tracked object, or a call lrlint cannot see into."""

    call: cst.Call
    frame: Frame
    loops: tuple[Loop, ...]  # enclosing loops, outermost first
    guards: tuple[Guard, ...]  # every `if` around it, from the entry point down
    contexts: tuple[cst.WithItem, ...]
    role: Role | None  # OPTIMIZER or SCHEDULER for a step; None for an opaque call
    objects: Objects  # the stepped objects, or the tracked objects an opaque call receives
    context: Context  # the function invocation the call runs in, to resolve its arguments
    constructed: Objects = frozenset()  # the optimizers or schedulers this call creates
    order: int = 0

    @property
    def is_step(self) -> bool:
        return self.role is not None

    @property
    def innermost_batch_loop(self) -> Loop | None:
        return next((loop for loop in reversed(self.loops) if loop.kind is LoopKind.BATCH), None)

    @property
    def attached_optimizers(self) -> Objects:
        """The optimizers the stepped schedulers were built on."""
        return frozenset().union(*(s.optimizers for s in self.objects))

    def loops_in_frame(self) -> tuple[Loop, ...]:
        return tuple(loop for loop in self.loops if loop.frame is self.frame)

    def guards_inside(self, loop: Loop) -> tuple[Guard, ...]:
        """The conditions between `loop` (which encloses the item) and the item."""
        return self.guards[len(loop.guards) :]

    def may_step(self, optimizers: Objects) -> bool:
        """A step of one of the optimizers, or a call lrlint cannot see into that receives one and
        may step it (not one that only wraps, copies, saves or logs it)."""
        if self.role is Role.OPTIMIZER:
            return bool(self.objects & optimizers)
        return not self.is_step and bool(self.objects & optimizers) and not _cannot_step(self.call)

    def in_context(self, method: str) -> bool:
        """Inside `with <something>.<method>(...):`, such as `accelerator.accumulate(model)`."""
        return self.context_call(method) is not None

    def context_call(self, method: str) -> cst.Call | None:
        """The `<something>.<method>(...)` of a `with` around the item, if there is one."""
        calls = (item.item for item in self.contexts if isinstance(item.item, cst.Call))
        return next((c for c in calls if isinstance(c.func, cst.Attribute) and c.func.attr.value == method), None)


@dataclass(eq=False)
class LrWrite:
    """`group["lr"] = ...` in the replay."""

    target: cst.Subscript
    frame: Frame
    loops: tuple[Loop, ...]
    guards: tuple[Guard, ...]
    context: Context
    value: cst.BaseExpression | None = None  # what is written; None for an augmented assignment


@dataclass(frozen=True)
class EntryCall:
    """How a framework calls an entry point that the file never calls itself (a Lightning hook)."""

    cadence: StepCadence | None  # every batch, every epoch; None: not from a training loop
    bindings: tuple[tuple[str, Objects], ...] = ()  # parameters the framework passes tracked objects to
    steps_for_framework: bool = False  # `lr_scheduler_step`: its `scheduler.step()` is the framework's own
    description: str = ""  # "Lightning calls training_step every batch"
    precedes: Objects = frozenset()  # optimizers the framework steps after each call (ignite's *_STARTED)


@dataclass(frozen=True, eq=False)
class FrameworkStep:
    """Schedulers a framework steps itself, at a cadence it was told (Lightning's "interval") or its own."""

    objects: Objects
    cadence: StepCadence
    node: cst.CSTNode  # where the code tells it: the "interval" value, else the scheduler it hands over
    how: str  # 'Lightning steps it after every optimizer step ("interval": "step")'
    framework: str  # "Lightning", "the HF Trainer"
    remedy: str  # how to make the framework's cadence fit the schedule: 'return it with "interval": "epoch"'
    by_hand: str = ""  # how to step it by hand instead, where the framework allows it
    every: int | None = 1  # Lightning's "frequency": one step every that many intervals; None: unknown


@dataclass(eq=False)
class Trace:
    entry: FunctionInfo
    items: list[TraceItem] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)  # every loop, outermost first
    lr_writes: list[LrWrite] = field(default_factory=list)
    # Objects that leave lrlint's sight in this replay: returned, stored, or given to unknown code.
    escaped: set[TrackedObject] = field(default_factory=set)
    entry_call: EntryCall | None = None

    def in_per_batch_hook(self, item: TraceItem) -> bool:
        """The item runs once per call of a hook the framework calls every batch (Lightning's
        `training_step`), in no loop of its own: the hook's body is the batch loop's."""
        return not item.loops and self.entry_call is not None and self.entry_call.cadence is StepCadence.PER_BATCH

    def steps(self, role: Role) -> Iterator[TraceItem]:
        return (item for item in self.items if item.role is role)

    def guarded_apart_from_optimizer(self, item: TraceItem, loop: Loop | None) -> bool:
        """The step has its own condition inside `loop` (all of them without one), one that no step of
        its schedulers' optimizers shares: `if (i + 1) % accum == 0: optimizer.step(); scheduler.step()`
        steps with every update, `if i == len(loader) - 1: scheduler.step()` does not."""
        own_guards = item.guards_inside(loop) if loop is not None else item.guards
        if not own_guards:
            return False
        optimizers = item.attached_optimizers
        return not any(
            other.objects & optimizers and all(g in other.guards for g in own_guards)
            for other in self.steps(Role.OPTIMIZER)
        )

    def training_call_after(self, item: TraceItem, optimizers: Objects) -> TraceItem | None:
        """The first call after `item`, in its loop, that receives one of the optimizers and may step
        it: where no code lrlint sees steps them, this call does (`train_one_epoch(model, optimizer)`)."""
        later = self._later_in_iteration(item)
        return next((other for other in later if other.is_step is False and other.may_step(optimizers)), None)

    def trains_after(self, item: TraceItem) -> bool:
        """Whether the optimizers of the schedulers stepped at `item` may step after it in the same
        iteration: if not, the rate set by the run's last `step()` is never trained with."""
        optimizers = item.attached_optimizers
        return any(other.may_step(optimizers) for other in self._later_in_iteration(item))

    def _later_in_iteration(self, item: TraceItem) -> Iterator[TraceItem]:
        if item.loops:
            yield from (other for other in self.items[item.order + 1 :] if item.loops[-1] in other.loops)

    def cadence(self, item: TraceItem) -> StepCadence:
        kinds = {loop.kind for loop in item.loops}
        if LoopKind.BATCH in kinds:
            return StepCadence.PER_BATCH
        if LoopKind.EPOCH in kinds:
            return StepCadence.PER_EPOCH
        if not item.loops_in_frame() and self._runs_batch_loop(item.frame):
            # A function that runs a whole batch loop and steps outside it: once per epoch.
            return StepCadence.PER_EPOCH
        implicit = self.entry_call.cadence if self.entry_call is not None else None
        if implicit is StepCadence.PER_BATCH and any("is_last_batch" in guard_names(g) for g in item.guards):
            return StepCadence.PER_EPOCH  # `if self.trainer.is_last_batch:` in a per-batch hook
        return implicit or StepCadence.UNKNOWN

    def _runs_batch_loop(self, frame: Frame) -> bool:
        return any(loop.kind is LoopKind.BATCH for loop in self.loops if loop.frame is frame)


# Calls that receive an optimizer without stepping it: they wrap it (Accelerate, apex.amp, Fabric),
# copy, save, load or log it.
_NOT_STEPPING = frozenset(
    {
        "prepare",
        "initialize",
        "setup",
        "setup_optimizers",
        "prepare_optimizer",
        "deepcopy",
        "load_state_dict",
        "state_dict",
        "add_param_group",
        "print",
        "info",
        "debug",
        "warning",
    }
)


def _not_torch_step(call: cst.Call) -> bool:
    """Arguments no torch scheduler's `step(epoch)` (ReduceLROnPlateau's `step(metrics, epoch)`) takes:
    a diffusers noise scheduler's `step(output, t, sample)`, LAVIS's `step(cur_epoch=e, cur_step=i)`."""
    positional = sum(1 for arg in call.args if arg.keyword is None)
    keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
    return positional > 1 or not keywords <= {"epoch", "metrics"}


def _cannot_step(call: cst.Call) -> bool:
    name = called_name(call.func)
    return name in _NOT_STEPPING or name.startswith(("log", "save", "print"))


# Words in a loop's iterable or target that mean "one batch per iteration" or "one epoch". A data word
# names a pass over a data source; a count word only counts steps: the batches of an epoch inside an
# epoch loop, the iterations of the whole run outside one (`for i in range(num_iters)`).
_DATA_WORD = re.compile(r"loader|batch|dataset|data|dl$|^dl|per_epoch|samples")
_COUNT_WORD = re.compile(r"iters?$|iterations|steps$")
_EPOCH_WORD = re.compile(r"epoch")
_NOT_EPOCH = re.compile(r"per_epoch|epoch_(size|len|length|iters|steps)")


def _identifiers(node: cst.CSTNode | None) -> set[str]:
    if node is None:
        return set()
    found: set[str] = set()
    for child in walk(node):
        if isinstance(child, cst.Name):
            found.add(child.value.lower())
        elif isinstance(child, cst.SimpleString):
            found.add(child.value.strip("'\"").lower())
    return found


def _step_conditions(call: cst.Call, place: _Place) -> tuple[Guard, ...]:
    """The conditions around a step, less those inside its innermost loop that only test that the
    stepped object exists (`if scheduler is not None: scheduler.step()`)."""
    assert isinstance(call.func, cst.Attribute)
    kept = len(place.loops[-1].guards) if place.loops else 0
    inner = tuple(g for g in place.guards[kept:] if not tests_presence_of(g, call.func.value))
    return place.guards[:kept] + inner


def guard_names(guard: Guard) -> set[str]:
    """Lower-case identifiers a guard's condition reads."""
    return _identifiers(guard.test)


def is_epoch_word(word: str) -> bool:
    return bool(_EPOCH_WORD.search(word)) and not _NOT_EPOCH.search(word)


class _Pass(Enum):
    """What a batch loop's names say it runs through."""

    DATA = "a data source"
    COUNTED = "a count of steps"
    NONE = "nothing named"


def _batch_evidence(word: str) -> _Pass:
    if is_epoch_word(word):
        return _Pass.NONE
    if _DATA_WORD.search(word):
        return _Pass.DATA
    return _Pass.COUNTED if _COUNT_WORD.search(word) else _Pass.NONE


class _Place(NamedTuple):
    """Where the replay is: which invocation, inside which loops, under which conditions."""

    context: Context
    frame: Frame
    loops: tuple[Loop, ...] = ()
    guards: tuple[Guard, ...] = ()
    contexts: tuple[cst.WithItem, ...] = ()
    active: frozenset[FunctionInfo] = frozenset()  # functions being inlined: no recursion

    def inside(self, guards: tuple[Guard, ...], contexts: tuple[cst.WithItem, ...]) -> _Place:
        return self._replace(guards=self.guards + guards, contexts=self.contexts + contexts)

    def calling(self, callee: Callee, call: cst.Call) -> _Place:
        return self._replace(
            context=callee.context,
            frame=Frame(callee.function, call, self.frame, callee.context),
            active=self.active | {callee.function},
        )


class _Constants(NamedTuple):
    """Parameters a call sets to constants, with a key that tells equal bindings apart by value."""

    values: dict[str, object]
    key: str

    @classmethod
    def of(cls, values: dict[str, object]) -> _Constants:
        return cls(values, repr(sorted(values.items())))  # literals, lists of them: faithful reprs


_NO_CONSTANTS = _Constants.of({})


class _Conditions:
    """Conditions and arguments evaluated under constant bindings, once per module: its traces
    replay the same `if`s under the same constants many times (a helper called from every loop)."""

    def __init__(self, resolver: Resolver) -> None:
        self._evaluator = ValueEvaluator(resolver.index, resolver.metadata)
        self._values: dict[tuple[int, str], object] = {}

    def value(self, expr: cst.BaseExpression | None, bindings: _Constants) -> object:
        key = (id(expr), bindings.key)
        if key not in self._values:
            self._values[key] = self._evaluator.value(expr, bindings.values)
        return self._values[key]


class _TraceBuilder:
    def __init__(self, resolver: Resolver, entry: FunctionInfo, entry_call: EntryCall | None) -> None:
        self.resolver = resolver
        self.trace = Trace(entry, entry_call=entry_call)
        self.conditions = resolver.derived(_Conditions, lambda: _Conditions(resolver))
        self._constants: dict[int, _Constants] = {}

    def build(self) -> Trace:
        entry = self.trace.entry
        context = Context(entry, self.trace.entry_call.bindings if self.trace.entry_call else ())
        self._enter(entry, _Place(context, Frame(entry, None, None, context)))
        for order, item in enumerate(self.trace.items):
            item.order = order
        passes: dict[Loop, _Pass] = {}
        for loop in reversed(self.trace.loops):  # innermost first: kinds depend on nested loops
            loop.kind, passes[loop] = _classify(loop)
        for loop in self.trace.loops:
            loop.iterates_data = passes[loop] is _Pass.DATA or (passes[loop] is _Pass.COUNTED and _in_epoch(loop))
        return self.trace

    def _enter(self, function: FunctionInfo, place: _Place) -> None:
        """Replay one invocation of `function`."""
        for expr in function.escapes:
            self.trace.escaped |= self.resolver.objects(expr, place.context)
        for stored in function.stores:
            # Kept on an instance (a wrapper's `self.lr_scheduler`): whichever method steps it, called
            # by a framework lrlint does not see, runs with what this call stored.
            self.trace.escaped |= self.resolver.objects(stored.value, place.context, stored.path)
        self._events(function.events, place)

    def _events(self, events: list[Event], place: _Place) -> None:
        for event in events:
            guards = self._open_guards(event.guards, place.frame)
            if guards is None:
                continue  # a condition that is false in this replay
            here = place.inside(guards, event.contexts)
            if isinstance(event, LoopEvent) and self._over_tracked_objects(event, here):
                self._events(event.body, here)  # `for scheduler in schedulers: scheduler.step()`: one pass
            elif isinstance(event, LoopEvent):
                parent = place.loops[-1] if place.loops else None
                loop = Loop(event, place.frame, parent, here.guards)
                if parent is not None:
                    parent.children.append(loop)
                self.trace.loops.append(loop)
                self._events(event.body, here._replace(loops=(*place.loops, loop)))
            elif isinstance(event, LrWriteEvent):
                write = LrWrite(event.target, here.frame, here.loops, here.guards, here.context, event.value)
                self.trace.lr_writes.append(write)
            else:
                self._call(event.call, here)

    def _over_tracked_objects(self, event: LoopEvent, place: _Place) -> bool:
        """A `for` over schedulers or optimizers: it handles each of them once, it repeats nothing."""
        if not isinstance(event.node, cst.For):
            return False
        elements = self.resolver.objects(event.node.iter, place.context, (ELEMENT,))
        return bool(elements) and all(o.role in (Role.SCHEDULER, Role.OPTIMIZER) for o in elements)

    def _open_guards(self, guards: tuple[Guard, ...], frame: Frame) -> tuple[Guard, ...] | None:
        """The conditions that constants leave open; None when one is false: `if step == "batch":` in a
        `train(..., step="epoch")` call, `if USE_WARMUP:` with `USE_WARMUP = False`. One that is true
        (`step="batch"` there) is no condition in this replay."""
        if not guards:
            return guards
        bindings = self._constant_arguments(frame)
        open_guards = []
        for guard in guards:
            value = self.conditions.value(guard.test, bindings)
            if not isinstance(value, bool):
                open_guards.append(guard)
            elif value == guard.negated:
                return None
        return tuple(open_guards)

    def _constant_arguments(self, frame: Frame | None) -> _Constants:
        """The parameters of a called function that its call site sets to constants (or leaves at a
        constant default). An entry point's parameters are unknown: any caller may call it."""
        if frame is None or frame.call_site is None:
            return _NO_CONSTANTS
        if id(frame) not in self._constants:
            outer = self._constant_arguments(frame.parent)
            found: dict[str, object] = {}
            for param in frame.function.params:
                passed = frame.argument(param.name.value)
                expression = passed if passed is not None else param.default
                value = self.conditions.value(expression, outer if passed is not None else _NO_CONSTANTS)
                if is_known(value):
                    found[param.name.value] = value
            self._constants[id(frame)] = _Constants.of(found) if found else _NO_CONSTANTS
        return self._constants[id(frame)]

    def _call(self, call: cst.Call, place: _Place) -> None:
        role, objects = self._step(call, place)
        if role is None:
            callee = self.resolver.callee(call, place.context)
            inlinable = callee is not None and callee.context.depth <= MAX_CALL_DEPTH
            if callee is not None and inlinable and callee.function not in place.active:
                self._enter(callee.function, place.calling(callee, call))
                return
        built = frozenset(o for o in self.resolver.objects(call, place.context) if o.call is call)
        constructed = frozenset(o for o in built if o.evidence is Evidence.CONSTRUCTED)
        if role is None:
            # Handed to a call lrlint cannot see into, or to another object (a wrapper keeps it).
            builds_tracked = any(o.role is not Role.INSTANCE for o in built)
            objects = frozenset() if builds_tracked else self._received(call, place.context)
            self.trace.escaped |= objects
        guards = _step_conditions(call, place) if role is not None else place.guards
        item = TraceItem(
            call, place.frame, place.loops, guards, place.contexts, role, objects, place.context, constructed
        )
        self.trace.items.append(item)
        for loop in place.loops:
            loop.items.append(item)

    def _step(self, call: cst.Call, place: _Place) -> tuple[Role | None, Objects]:
        func, context = call.func, place.context
        if not (isinstance(func, cst.Attribute) and func.attr.value == "step"):
            return None, frozenset()
        receivers = self._narrowed(func.value, self.resolver.objects(func.value, context), place)
        receivers = frozenset(o for o in receivers if not self._built_apart(o, place))
        schedulers = frozenset(o for o in receivers if o.role is Role.SCHEDULER)
        if schedulers and not (_not_torch_step(call) and all(s.evidence is Evidence.NAMED for s in schedulers)):
            return Role.SCHEDULER, schedulers
        optimizers = frozenset(o for o in receivers if o.role is Role.OPTIMIZER)
        if optimizers:
            return Role.OPTIMIZER, optimizers
        # GradScaler.step(optimizer) and similar wrappers step the optimizer they are given.
        for arg in call.args[:1]:
            stepped = frozenset(o for o in self.resolver.objects(arg.value, context) if o.role is Role.OPTIMIZER)
            if stepped:
                return Role.OPTIMIZER, stepped
        return None, frozenset()

    def _narrowed(self, expr: cst.BaseExpression, objects: Objects, place: _Place) -> Objects:
        """What `expr` can be under the `isinstance` tests around the call: `if isinstance(s,
        ReduceLROnPlateau): s.step(loss) elif isinstance(s, (MultiStepLR, CosineAnnealingWarmRestarts)):
        s.step(epoch)` leaves the MultiStepLR alone in the second branch (the first took the other)."""
        allowed: Objects | None = None
        excluded: set[str] = set()
        for guard in place.guards:
            test = class_test(guard)
            if test is None or not test[0].deep_equals(expr):
                continue
            classes = self.resolver.declared_type(test[1], guard.test, place.context.function)
            if not test[2]:
                excluded |= {c.name for c in classes}
            elif classes:
                named = {c.name for c in classes}
                allowed = classes if allowed is None else frozenset(c for c in allowed if c.name in named)
        if allowed is None and not excluded:
            return objects
        if objects and all(o.evidence is Evidence.CONSTRUCTED for o in objects):
            names = {c.name for c in allowed} if allowed is not None else None
            return frozenset(o for o in objects if (names is None or o.name in names) and o.name not in excluded)
        return frozenset(o for o in (allowed if allowed is not None else objects) if o.name not in excluded)

    def _built_apart(self, built: TrackedObject, place: _Place) -> bool:
        """Constructed, in the same call of the same function, under a branch that excludes this one:
        `if cfg.sched == "cosine": s = CosineAnnealingLR(...)` is not what `elif cfg.sched ==
        "plateau": s.step(loss)` steps."""
        construction = next((item for item in self.trace.items if built in item.constructed), None)
        return (
            construction is not None
            and construction.frame is place.frame
            and exclusive(construction.guards, place.guards)
        )

    def _received(self, call: cst.Call, context: Context) -> Objects:
        """Tracked objects handed to a call lrlint cannot see into."""
        received: set[TrackedObject] = set()
        for arg in call.args:
            received |= self.resolver.objects(arg.value, context)
        return frozenset(o for o in received if o.role is not Role.INSTANCE)


def _classify(loop: Loop) -> tuple[LoopKind, _Pass]:
    """The loop's kind, and what its names say a batch loop runs through (not its body)."""
    targets = loop.target_names()
    iterated = _identifiers(loop.event.iterated)
    nested = {child.kind for child in loop.descendants()}
    if LoopKind.EPOCH in nested:
        return LoopKind.OTHER, _Pass.NONE  # around the epoch loop: runs, folds, trials, option sweeps
    if any(is_epoch_word(word) for word in targets):
        return LoopKind.EPOCH, _Pass.NONE
    if (named := _pass_of(targets)) is not _Pass.NONE:
        return LoopKind.BATCH, named
    if any(is_epoch_word(word) for word in iterated):
        return LoopKind.EPOCH, _Pass.NONE
    if _calls_len(loop.event.iterated):
        return LoopKind.BATCH, _Pass.DATA
    if (named := _pass_of(iterated)) is not _Pass.NONE:
        return LoopKind.BATCH, named
    if LoopKind.BATCH in nested and _steps_the_optimizer_itself(loop):
        return LoopKind.BATCH, _Pass.NONE  # one update per iteration, over the micro-batches the inner loop takes
    if LoopKind.BATCH in nested:
        return LoopKind.EPOCH, _Pass.NONE
    if any(item.role is Role.OPTIMIZER for item in loop.items):
        return LoopKind.BATCH, _Pass.NONE
    return LoopKind.OTHER, _Pass.NONE


def _steps_the_optimizer_itself(loop: Loop) -> bool:
    """An optimizer step in the loop's own body, outside the loops nested in it."""
    return any(item.role is Role.OPTIMIZER and item.loops[-1] is loop for item in loop.items)


def _pass_of(words: set[str]) -> _Pass:
    """A data word among `words` says DATA, else a count word COUNTED."""
    evidence = {_batch_evidence(word) for word in words}
    return next((kind for kind in (_Pass.DATA, _Pass.COUNTED) if kind in evidence), _Pass.NONE)


def _in_epoch(loop: Loop) -> bool:
    parent = loop.parent
    while parent is not None and parent.kind is not LoopKind.EPOCH:
        parent = parent.parent
    return parent is not None


def _calls_len(node: cst.BaseExpression) -> bool:
    return any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "len" for n in walk(node))


def build_trace(resolver: Resolver, entry: FunctionInfo, entry_call: EntryCall | None = None) -> Trace:
    return _TraceBuilder(resolver, entry, entry_call).build()
