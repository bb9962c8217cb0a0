"""The model of one module's training code that every rule reads.

`build_model` takes a parsed module, indexes its structure (`syntax.py`), resolves objects on
demand (`resolve.py`) and replays each entry point (`trace.py`). Calls into other modules of
the project are followed through a shared `Project` (`project.py`), which parses those modules
the first time a call needs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import libcst as cst

from lrlint.catalog import (
    SchedulerSpec,
    base_class_spec,
    newest_torch,
    scheduler_spec,
    torch_version_of_signatures,
    transformers_version_of_signatures,
    version_tuple,
)
from lrlint.model import accelerate, deepspeed, hf_trainer, ignite, lightning
from lrlint.model.horizons import ScheduleFunction
from lrlint.model.lightning import LightningSetup, SchedulerConfig, only_under_manual_optimisation
from lrlint.model.metadata import Metadata
from lrlint.model.mmengine import WindowedScheduler, windowed_schedulers
from lrlint.model.project import ModuleAnalysis, Project
from lrlint.model.resolve import Context, Evidence, Objects, Resolver, Role, TrackedObject
from lrlint.model.run_length import Count, Counter, RunLength, ordinal, run_length
from lrlint.model.schedule_end import ScheduleLength, ScheduleReader
from lrlint.model.sizing import Sizing, Unit, scheduler_sizing
from lrlint.model.stepping import Reader, Stepping, StepSite, range_count, steppings
from lrlint.model.syntax import (
    ClassInfo,
    FunctionInfo,
    Guard,
    SyntaxIndex,
    call_events,
    called_name,
    exclusive,
    is_main_test,
    is_super_call,
    positional_values,
    walk,
)
from lrlint.model.trace import (
    Frame,
    FrameworkStep,
    Loop,
    LoopKind,
    LrWrite,
    StepCadence,
    Trace,
    TraceItem,
    build_trace,
    guard_names,
    is_epoch_word,
)
from lrlint.model.values import MISSING, ValueEvaluator, argparse_defaults, argparse_flags, is_known
from lrlint.prefilter import NEEDS_A_SCHEDULER, STEPS_A_SCHEDULER, STEPS_AN_ATTRIBUTE, SourceNeed
from lrlint.scheduler_facts import AfterEnd
from lrlint.signature import BoundArguments, bind_arguments
from lrlint.sources import Source

__all__ = [
    "Reader",
    "StepSite",
    "Stepping",
    "range_count",
    "steppings",
    "NEEDS_A_SCHEDULER",
    "SourceNeed",
    "AfterEnd",
    "BoundArguments",
    "Context",
    "Count",
    "Evidence",
    "Frame",
    "FrameworkStep",
    "FunctionInfo",
    "Guard",
    "LightningSetup",
    "Loop",
    "LoopKind",
    "LrWrite",
    "MISSING",
    "Objects",
    "Project",
    "Role",
    "RunLength",
    "ScheduleLength",
    "SchedulerConfig",
    "SchedulerSpec",
    "Sizing",
    "StepCadence",
    "SteppedRun",
    "Trace",
    "TraceItem",
    "TrackedObject",
    "TrainingModel",
    "Unit",
    "bind_arguments",
    "build_model",
    "called_name",
    "exclusive",
    "is_epoch_word",
    "only_under_manual_optimisation",
    "WindowedScheduler",
    "windowed_schedulers",
    "is_known",
    "newest_torch",
    "ordinal",
    "positional_values",
    "torch_version_of_signatures",
    "transformers_version_of_signatures",
    "version_tuple",
    "walk",
]

_MAX_FUNCTION_DEPTH = 4  # names bound to names bound to lambdas: how far to follow


@dataclass(frozen=True, eq=False)
class SteppedRun:
    """A scheduler the code steps at one place, how many times the run takes that step, and the
    length of its schedule (None when it has no end that matters, or lrlint cannot count it)."""

    scheduler: TrackedObject
    item: TraceItem
    run: RunLength
    length: ScheduleLength | None
    milestones: list[int] | None
    trains_after_step: bool  # the optimizer steps after `step()` in an iteration, not only before it

    @property
    def coverage(self) -> Fraction | None:
        """The run's steps over the schedule's length, when their unknowns cancel (2: twice as long)."""
        return self.run.steps.ratio_to(self.length.steps) if self.length is not None else None

    @property
    def trained_coverage(self) -> Fraction | None:
        """The coverage of the steps whose rate the run trains with: stepped after each epoch's (or
        batch's) training, the last step sets a rate no batch uses (`T_max=epochs - 1` ends the
        schedule on the last epoch)."""
        if self.length is None or self.trains_after_step:
            return self.coverage
        trained = (self.run.steps - Count.of(1)).ratio_to(self.length.steps)
        return trained if trained is not None else self.coverage


@dataclass
class TrainingModel:
    analysis: ModuleAnalysis  # the module being linted
    project: Project
    traces: list[Trace] = field(default_factory=list)

    @property
    def module(self) -> cst.Module:
        return self.analysis.module

    @property
    def index(self) -> SyntaxIndex:
        return self.analysis.index

    @property
    def metadata(self) -> Metadata:
        return self.analysis.metadata

    @property
    def resolver(self) -> Resolver:
        return self.analysis.resolver

    def locate(self, node: cst.CSTNode) -> tuple[ModuleAnalysis, int, int]:
        """The module a node belongs to (this one, or a project module a call led to) and its position."""
        analysis = self._analysis_of(node)
        return (analysis, *analysis.metadata.position(node))

    def source_order(self, node: cst.CSTNode) -> tuple[str, int]:
        """Where a node comes in the analysed code (its module's path, its place there): a sort key
        that, unlike a position, does not need the module's positions worked out."""
        analysis = self._analysis_of(node)
        return str(analysis.path), analysis.metadata.order(node)

    def _analysis_of(self, node: cst.CSTNode) -> ModuleAnalysis:
        """The module a node belongs to: this one, or a project module a call led to."""
        others = [analysis for analysis in self.project.modules() if analysis is not self.analysis]
        if not others:  # one module: no membership test
            return self.analysis
        for analysis in (self.analysis, *others):
            if analysis.metadata.owns(node):
                return analysis
        raise KeyError(f"node not in any analysed module: {type(node).__name__}")

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        _, line, column = self.locate(node)
        return line, column

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node).strip()

    @cached_property
    def values(self) -> ValueEvaluator:
        return ValueEvaluator(self.index, self.metadata)

    @cached_property
    def argparse_defaults(self) -> dict[str, cst.BaseExpression]:
        """`parser.add_argument("--lr-step", default=30)` -> {"lr_step": 30}, for `args.lr_step`."""
        return argparse_defaults(call for call, _ in self.calls())

    @cached_property
    def argparse_flags(self) -> dict[str, bool]:
        """`parser.add_argument("--resume", action="store_true")` -> {"resume": False}."""
        return argparse_flags(call for call, _ in self.calls())

    @cached_property
    def values_by_default(self) -> ValueEvaluator:
        """Values, taking each `args.<option>` at its argparse default: what a run without flags uses."""
        return ValueEvaluator(self.index, self.metadata, self.argparse_defaults)

    def sizing(self, scheduler: TrackedObject) -> Sizing:
        """In what unit the schedule is sized, with its options at their argparse defaults."""
        return scheduler_sizing(scheduler, self.values_by_default, self.code, self.schedule_functions)

    def schedule_functions(self, scheduler: TrackedObject) -> list[tuple[ScheduleFunction, int]]:
        """The functions a LambdaLR or MultiplicativeLR calls with its step count (its `lr_lambda`),
        each with the position of that parameter."""
        argument = scheduler.arguments.expression("lr_lambda") if scheduler.arguments is not None else None
        return self._functions(argument, Context(scheduler.function), 0) if argument is not None else []

    def _functions(self, expr: cst.BaseExpression, context: Context, depth: int) -> list[tuple[ScheduleFunction, int]]:
        if depth > _MAX_FUNCTION_DEPTH:
            return []
        if isinstance(expr, cst.Lambda):
            return [(expr, 0)]
        if isinstance(expr, (cst.List, cst.Tuple)):  # one function per parameter group
            elements = [e.value for e in expr.elements if not isinstance(e, cst.StarredElement)]
            return [found for element in elements for found in self._functions(element, context, depth + 1)]
        if isinstance(expr, cst.Call) and "functools.partial" in self.qualified_names(expr.func) and expr.args:
            given = sum(1 for arg in expr.args[1:] if arg.keyword is None and not arg.star)
            return [(f, index + given) for f, index in self._functions(expr.args[0].value, context, depth + 1)]
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return []
        named = self.resolver.function_named(expr, context)
        if named is not None and isinstance(named[0].node, cst.FunctionDef):
            function, bound = named
            return [(function.node, 1 if bound and function.self_name else 0)]  # type: ignore[list-item]
        if isinstance(expr, cst.Name):  # `warmup = lambda e: ...`
            values = self.resolver.bound_values(expr, context)
            return [found for value, where in values for found in self._functions(value, where, depth + 1)]
        return []

    def where(self, node: cst.CSTNode) -> str:
        """`line 12`, `cell 3, line 2`, or `engine.py line 40` when the analysis spans files."""
        analysis, line, _ = self.locate(node)
        label = analysis.source.line_label(line)
        named = analysis is not self.analysis or self.spans_files
        return f"{analysis.path.name} {label}" if named else label

    @cached_property
    def spans_files(self) -> bool:
        """The replay went into another module: findings may land there, so places name their file."""
        resolver = self.resolver
        return any(
            self.project.resolver_of(item.frame.function) not in (None, resolver)
            for trace in self.traces
            for item in trace.items
        )

    def ordered(self, objects: Objects) -> list[TrackedObject]:
        """Objects in the order their constructions appear: messages must not depend on set order."""
        if len(objects) < 2:
            return list(objects)
        return sorted(objects, key=lambda obj: self.source_order(obj.call))

    def scheduler_spec(self, call: cst.Call) -> SchedulerSpec | None:
        """The torch scheduler or transformers factory a call constructs, by qualified name."""
        return next((s for s in map(scheduler_spec, self.qualified_names(call.func)) if s), None)

    def constructor_calls(self) -> Iterator[tuple[cst.Call, SchedulerSpec]]:
        """Every call that runs a torch scheduler's (or transformers factory's) constructor, with its
        signature: `StepLR(...)`, and `super().__init__(...)` in a subclass of a torch scheduler."""
        for call, function in self.calls():
            spec = self.scheduler_spec(call) or self._base_initialised(call, function)
            if spec is not None:
                yield call, spec

    def _base_initialised(self, call: cst.Call, function: FunctionInfo) -> SchedulerSpec | None:
        """The torch scheduler class whose __init__ `super().__init__(...)` runs, in a class's __init__
        whose first base is that class (`class Warmup(LRScheduler)`, `class MyCosine(CosineAnnealingLR)`)."""
        func = call.func
        is_super = isinstance(func, cst.Attribute) and func.attr.value == "__init__" and is_super_call(func.value)
        if not is_super or function.name != "__init__" or function.class_info is None:
            return None
        bases = function.class_info.node.bases
        if not bases or bases[0].keyword is not None:
            return None
        return next((s for s in map(base_class_spec, self.qualified_names(bases[0].value)) if s), None)

    def describe(self, obj: TrackedObject) -> str:
        """`StepLR (line 12)`: how messages name an object; `optimizer` (parameter, line 3) for a
        parameter lrlint knows by its name or annotation, `build_scheduler(...) (line 8)` for a factory's."""
        if obj.evidence in (Evidence.NAMED, Evidence.ANNOTATED) and isinstance(obj.call, cst.Param):
            return f"`{obj.call.name.value}` (parameter, {self.where(obj.call)})"
        if obj.evidence is Evidence.FACTORY:
            return f"{obj.name}(...) ({self.where(obj.call)})"
        return f"{obj.name} ({self.where(obj.call)})"

    def receiver(self, call: cst.Call) -> str:
        """The object a method call is made on, as written: `self.scheduler` in `self.scheduler.step()`."""
        return self.code(call.func.value) if isinstance(call.func, cst.Attribute) else self.code(call.func)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        return self.metadata.qualified_names(node)

    def objects(self, expr: cst.BaseExpression, function: FunctionInfo) -> Objects:
        return self.resolver.objects(expr, Context(function))

    def calls(self) -> Iterator[tuple[cst.Call, FunctionInfo]]:
        """Every call of the module, with the function whose body it is in."""
        for function in self.index.all_functions():
            yield from ((event.call, function) for event in call_events(function.events))

    def held_by_the_trainer(self, function: FunctionInfo) -> Objects:
        """What a Lightning Callback's hook reaches through its `trainer` (nothing for other functions)."""
        return lightning.held_by_the_trainer(self.resolver, function)

    def built_at_several_calls(self, obj: TrackedObject) -> bool:
        """Built in a helper the module calls from more than one place (`_configure_optimizer(params)`
        for the critic, and again for the model): each call builds an object of its own, which
        lrlint, telling objects apart by where they are built, takes for one."""
        helper, resolver = obj.function, self.resolver
        if helper is self.index.module:
            return False
        candidates = resolver.calls_named(helper.name)
        calling = (call for call, caller in candidates if resolver.called_function(call, Context(caller)) is helper)
        return next(calling, None) is not None and next(calling, None) is not None

    def guards_of(self, call: cst.Call) -> tuple[Guard, ...]:
        """The `if` conditions around a call, in its own function."""
        return self._call_guards.get(id(call), ())

    @cached_property
    def _call_guards(self) -> dict[int, tuple[Guard, ...]]:
        return {
            id(event.call): event.guards
            for function in self.index.all_functions()
            for event in call_events(function.events)
        }

    def scheduler_steps(self) -> Iterator[tuple[Trace, TraceItem]]:
        for trace in self.traces:
            for item in trace.steps(Role.SCHEDULER):
                yield trace, item

    @cached_property
    def lightning_modules(self) -> list[LightningSetup]:
        """The LightningModules of the file, with what Lightning will do with their schedulers."""
        return lightning.setups(self.resolver, list(self.index.classes.values()))

    @cached_property
    def prepared_objects(self) -> Objects | None:
        """What the module passes to Accelerate's `prepare(...)` (None: not all of it is visible)."""
        return accelerate.prepared_objects(self.resolver, self.calls())

    def accumulation(self, item: TraceItem) -> cst.Arg | None:
        """How the Accelerator of the item's `with accelerator.accumulate(...)` accumulates, if it does."""
        return accelerate.accumulation(self.resolver, item, self.values)

    @cached_property
    def framework_steps(self) -> list[FrameworkStep]:
        """Schedulers a framework steps itself (Lightning under automatic optimisation, the HF Trainer)."""
        return [
            *lightning.framework_steps(self.resolver, self.lightning_modules),
            *hf_trainer.framework_steps(self.resolver, self.calls()),
            *deepspeed.framework_steps(self.resolver, self.calls()),
        ]

    def configured_schedulers(self, config: SchedulerConfig) -> Objects:
        return frozenset(o for o in config.objects(self.resolver) if o.role is Role.SCHEDULER)

    def optimizers_for(self, item: TraceItem) -> Objects:
        """The optimizers a stepped scheduler drives: those it was built on, or, for a scheduler lrlint
        did not see built (a parameter), the one optimizer stepped in the same outermost loop."""
        if item.attached_optimizers or not item.loops:
            return item.attached_optimizers
        if any(s.evidence is Evidence.CONSTRUCTED for s in item.objects):
            return frozenset()
        stepped = {o for other in item.loops[0].items if other.role is Role.OPTIMIZER for o in other.objects}
        return frozenset(stepped) if len(stepped) == 1 else frozenset()

    def constructed_objects(self, role: Role) -> Objects:
        """The objects the replays construct."""
        return frozenset(
            obj for trace in self.traces for item in trace.items for obj in item.constructed if obj.role is role
        )

    def stepped_objects(self, role: Role) -> Objects:
        """Objects of `role` the code steps; for schedulers, also those a framework steps."""
        stepped = frozenset().union(*(item.objects for trace in self.traces for item in trace.steps(role)))
        if role is Role.SCHEDULER:
            stepped = stepped.union(*(step.objects for step in self.framework_steps))
        return stepped

    def first_values(self, loop: Loop) -> dict[str, object]:
        """The loop's counters in its first iteration, where lrlint can tell: the start of `range`,
        the start of `enumerate` (0), the first element of a literal list (`"train"`)."""
        target, iterated = loop.event.target, loop.event.iterated
        if not isinstance(iterated, cst.Call):
            first = self.values.value(iterated)
            known = isinstance(target, cst.Name) and isinstance(first, list) and first
            return {target.value: first[0]} if known else {}  # type: ignore[union-attr, index]
        function = self.code(iterated.func)
        positional = positional_values(iterated)
        if function == "range" and isinstance(target, cst.Name) and positional:
            start = self.values.value(positional[0]) if len(positional) > 1 else 0
            return {target.value: start} if is_known(start) else {}
        if function == "enumerate" and isinstance(target, cst.Tuple) and target.elements:
            index = target.elements[0].value
            keyword = [arg.value for arg in iterated.args if arg.keyword and arg.keyword.value == "start"]
            given = (positional[1:] + keyword)[:1]
            start = self.values.value(given[0]) if given else 0
            return {index.value: start} if isinstance(index, cst.Name) and is_known(start) else {}
        return {}

    def runs_first(self, item: TraceItem) -> bool | None:
        """Whether the call runs in the first iteration of the loops around it: each `if` around it
        evaluated with their counters' first values. None when a condition on a counter cannot be
        evaluated; conditions on anything else are taken to hold."""
        bindings: dict[str, object] = {}
        for loop in item.loops:
            bindings.update(self.first_values(loop))
        counters = set().union(*(loop.target_names() for loop in item.loops))
        for guard in item.guards:
            value = self.values.value(guard.test, bindings, counts_nonnegative=True)
            if is_known(value):
                if bool(value) == guard.negated:
                    return False
            elif _reads_a_counter(guard, counters):
                return None
        return True

    def contexts_of(self, function: FunctionInfo) -> set[Context]:
        """The invocations of `function` the replays made (parameters bound), and the unbound one."""
        found = {Context(function)}
        found.update(item.context for trace in self.traces for item in trace.items if item.frame.function is function)
        return found

    @cached_property
    def stepped_runs(self) -> list[SteppedRun]:
        """Schedulers stepped by the code at one place, with `step()` and no argument, in loops lrlint
        can count (an epoch loop, a batch loop, or both), neither built in those loops nor stepped by
        a framework or Accelerate as well."""
        sites: dict[TrackedObject, list[tuple[Trace, TraceItem]]] = {}
        for trace, item in self.scheduler_steps():
            if not (item.loops and item.loops[-1].replays_schedule):
                for scheduler in item.objects:
                    sites.setdefault(scheduler, []).append((trace, item))
        framework = frozenset().union(*(step.objects for step in self.framework_steps))
        counted = {id(item): self._counted(trace, item) for trace, item in self.scheduler_steps()}
        found = []
        for scheduler, steps in sites.items():
            once_per_replay = len(steps) == len({id(trace) for trace, _ in steps})
            if scheduler in framework or len({item.call for _, item in steps}) != 1 or not once_per_replay:
                continue
            runs = [counted[id(item)] for _, item in steps]
            run = runs[0]
            if run is None or any(other is None or other.steps != run.steps for other in runs):
                continue
            built = self.construction(scheduler, steps[0][0])
            if built is not None and set(built.loops) & set(steps[0][1].loops):
                continue  # built in the loops that step it: each build starts a new schedule
            if self._cadence_mismatch(scheduler, run):
                continue  # sized for the other cadence: LR102/LR103 say so, and counting adds nothing
            length = self.schedule_reader.length(scheduler, built.frame if built is not None else None)
            trace, item = steps[0]
            milestones = self.schedule_reader.milestones(scheduler)
            found.append(SteppedRun(scheduler, item, run, length, milestones, trace.trains_after(item)))
        return found

    def _counted(self, trace: Trace, item: TraceItem) -> RunLength | None:
        if item.in_context("accumulate"):
            return None  # a prepared scheduler steps as Accelerate decides
        run = run_length(self.counter, trace, item)
        if run is None or not item.call.args:
            return run
        # `step(epoch)` sets the position: counted only as the epoch counter, once per epoch.
        return run if run.batch_loop is None and self.epoch_position(item) == 0 else None

    def epoch_position(self, item: TraceItem) -> int | None:
        """`scheduler.step(epoch)` whose one argument is the counter of the epoch loop around it, or
        the counter plus or minus a constant (`step(epoch - 1)`): its value in the first epoch
        (`range(1, epochs + 1)`: 1); None for any other argument."""
        counted = self.epoch_counter(item)
        if counted is None:
            return None
        loop, counter, offset = counted
        first = self.first_values(loop).get(counter)
        return first + offset if isinstance(first, int) and not isinstance(first, bool) else None

    def epoch_counter(self, item: TraceItem) -> tuple[Loop, str, int] | None:
        """`scheduler.step(epoch - 1)` inside one epoch loop: that loop, the counter's name and the
        offset (-1); None for any other argument."""
        arguments = item.call.args
        if len(arguments) != 1 or (arguments[0].keyword is not None and arguments[0].keyword.value != "epoch"):
            return None
        epoch_loops = [loop for loop in item.loops if loop.kind is LoopKind.EPOCH]
        counter, offset = _counter_and_offset(arguments[0].value)
        return (epoch_loops[0], counter, offset) if counter is not None and len(epoch_loops) == 1 else None

    def built_apart(self, first: TrackedObject, second: TrackedObject) -> bool:
        """Two objects the code builds in branches that exclude each other, as a run's configuration
        picks one scheduler (`if cfg.sched == "cosine": ... elif cfg.sched == "step": ...`)."""
        one, other = self.construction(first), self.construction(second)
        return (
            one is not None and other is not None and one.frame is other.frame and exclusive(one.guards, other.guards)
        )

    def beyond_construction(self, built: TrackedObject, guards: tuple[Guard, ...]) -> tuple[Guard, ...]:
        """The conditions among `guards` that the object's construction does not already imply:
        `if cfg.sched == "cosine": scheduler.step()` steps the cosine built under that test every time."""
        construction = self.construction(built)
        if construction is None:
            return guards
        return tuple(
            guard
            for guard in guards
            if not any(guard.negated == own.negated and guard.test.deep_equals(own.test) for own in construction.guards)
        )

    def construction(self, scheduler: TrackedObject, trace: Trace | None = None) -> TraceItem | None:
        """The call that builds the scheduler, in `trace` or in the first replay that builds it."""
        traces = [trace] if trace is not None else self.traces
        return next((item for each in traces for item in each.items if scheduler in item.constructed), None)

    def _cadence_mismatch(self, scheduler: TrackedObject, run: RunLength) -> bool:
        sized_in = self.sizing(scheduler).unit
        if run.cadence is StepCadence.PER_EPOCH:
            return sized_in is Unit.ITERATIONS
        return sized_in is Unit.EPOCHS and run.batch_loop is not None and run.batch_loop.iterates_data

    def sized_against_run(self, stepped: SteppedRun, only: str = "") -> str:
        """`StepLR is sized for 50 steps (T_max=50), but the run steps it 200 times (once per epoch ...)`."""
        length, run = stepped.length, stepped.run
        assert length is not None
        return (
            f"{stepped.scheduler.name} is sized for {length.steps} steps ({length.evidence}), but the run steps it "
            f"{only}{run.steps} times ({self.describe_run(run)}, {self.where(stepped.item.call)})"
        )

    def describe_run(self, run: RunLength) -> str:
        """How the run takes the step: "every batch (len(loader) per epoch) for 20 epochs", with the
        argparse defaults the loops' bounds were read at."""
        epochs = f"{run.epochs} epochs"
        if run.stopped_by is not None:
            epochs += f" (`if {self.code(run.stopped_by.test)}: break`)"
        if run.batch_loop is None:
            how = f"once per epoch for {epochs}"
        elif not run.batch_loop.iterates_data and run.epoch_loop is None:
            how = f"every iteration of `for ... in {self.code(run.batch_loop.event.iterated)}`"
        else:
            batches = "every batch" if run.every is None else f"once every {run.every} batches"
            span = f" ({run.per_epoch} per epoch) for {epochs}" if run.epoch_loop is not None else ""
            how = batches + span
        loops = [loop.node.iter for loop in (run.epoch_loop, run.batch_loop) if loop and isinstance(loop.node, cst.For)]
        defaults = [
            f"{self.code(node)} at its default {self.code(default)}"
            for loop in loops
            for node in _attributes(loop)
            if (default := self.values_by_default.default_of(node)) is not None
        ]
        return how + (f", with {', '.join(dict.fromkeys(defaults))}" if defaults else "")

    @cached_property
    def counter(self) -> Counter:
        """Counts (`20 * len(loader)`) of expressions, options at their argparse defaults."""
        return Counter(self.values_by_default, self.code)

    @cached_property
    def schedule_reader(self) -> ScheduleReader:
        return ScheduleReader(self.counter, self.values_by_default, self.code)

    @cached_property
    def restored_positions(self) -> Objects:
        """Schedulers whose position the code sets, as a resume does: `scheduler.last_epoch = start - 1`,
        built with a `last_epoch=` other than -1, or advanced by a loop that only replays schedules."""
        found: set[TrackedObject] = set()
        for write in self.index.attribute_writes.get("last_epoch", []):
            for context in self.contexts_of(write.function):
                found |= self.resolver.objects(write.target.value, context)
        for obj in self.constructed_objects(Role.SCHEDULER):
            position = obj.arguments.expression("last_epoch") if obj.arguments else None
            if position is not None and self.values.value(position) != -1:
                found.add(obj)
        for _, item in self.scheduler_steps():
            if item.loops and item.loops[-1].replays_schedule:
                found |= item.objects
        return frozenset(obj for obj in found if obj.role is Role.SCHEDULER)

    def written_optimizers(self, write: LrWrite) -> Objects:
        """The optimizers whose rate a hand-written `group["lr"] = ...` sets: `for g in opt.param_groups:
        g["lr"] = ...`, or `opt.param_groups[0]["lr"] = ...`."""
        group = write.target.value
        if isinstance(group, cst.Subscript):
            return self._param_groups_owner(group.value, write)
        if isinstance(group, cst.Name):
            for loop in reversed(write.loops):
                if group.value.lower() in loop.target_names():
                    return self._param_groups_owner(loop.event.iterated, write)
        return frozenset()

    def _param_groups_owner(self, expr: cst.BaseExpression, write: LrWrite) -> Objects:
        if isinstance(expr, cst.Attribute) and expr.attr.value == "param_groups":
            return frozenset(o for o in self.resolver.objects(expr.value, write.context) if o.role is Role.OPTIMIZER)
        return frozenset()

    def hand_written_rates(self) -> dict[TrackedObject, LrWrite]:
        """Optimizers whose learning rate the code writes by hand, with one such write."""
        return {
            optimizer: write
            for trace in self.traces
            for write in trace.lr_writes
            for optimizer in self.written_optimizers(write)
        }

    def stored_on(self, class_info: ClassInfo) -> Objects:
        """Tracked objects kept on instances of the class (`self.scheduler = ...` in any of its methods)."""
        found: set[TrackedObject] = set()
        for values in class_info.attributes.values():
            for value in values:
                found |= self.objects(value.value, value.function)
        return frozenset(found)

    @cached_property
    def escaped(self) -> Objects:
        """Tracked objects that leave lrlint's sight: passed to unknown code, stored, or returned."""
        found: set[TrackedObject] = set().union(*(trace.escaped for trace in self.traces))
        if not _is_script(self.index):  # a config or library module: its globals can be imported
            for name, value in self.index.name_values.items():
                if value.function is self.index.module:
                    found |= self.objects(name, self.index.module)
        for class_info in self.index.classes.values():
            found |= self.stored_on(class_info)
        return frozenset(found)


def build_model(
    module: cst.Module, source: Source | None = None, project: Project | None = None, *, always_trace: bool = False
) -> TrainingModel:
    """The model of `module`; `source` says where it came from (a file, a notebook's cells).
    `always_trace`: replay the code even without a scheduler (simulate: rates written by hand)."""
    source = source or Source("<module>", module.code)
    project = project or Project()
    model = TrainingModel(project.add(Path(source.path), source, module), project)
    if not always_trace and not _may_step_schedulers(model):
        return model  # nothing to trace: every rule that replays the code needs a scheduler
    for entry in _entry_points(model.index, model.resolver):
        called = lightning.entry_call(model.resolver, entry) or ignite.entry_call(model.resolver, entry)
        model.traces.append(build_trace(model.resolver, entry, called))
    return model


def _attributes(node: cst.CSTNode) -> Iterator[cst.Attribute]:
    return (child for child in walk(node) if isinstance(child, cst.Attribute))


def _reads_a_counter(guard: Guard, counters: set[str]) -> bool:
    names = guard_names(guard)
    return bool(names & counters) or any("step" in n or "iter" in n or "epoch" in n for n in names)


def _is_script(index: SyntaxIndex) -> bool:
    """The module runs training itself (a loop at top level, or an `if __name__ == "__main__":`)."""
    module = index.module
    body = module.node.body if isinstance(module.node, cst.Module) else ()
    return module.contains_loop or any(
        isinstance(statement, cst.If) and is_main_test(statement.test) for statement in body
    )


def _may_step_schedulers(model: TrainingModel) -> bool:
    """The module builds a scheduler (of torch, or a subclass the project defines), or a class of it
    extends one from another project module (whose __init__ may build `self.scheduler`). Modules that
    only receive schedulers as arguments are analysed from the caller that builds them."""
    resolver = model.resolver
    if any(resolver.constructs_scheduler(call, function) for call, function in model.calls()):
        return True
    if STEPS_A_SCHEDULER.search(model.analysis.source.code):
        return True  # a parameter, an annotated or a factory-built scheduler is stepped
    if any(resolver.constructs_project_scheduler(call) for call, _ in model.calls()):
        return True
    if not STEPS_AN_ATTRIBUTE.search(model.analysis.source.code):
        return False  # an inherited scheduler is stepped as self.<name>.step(): loading bases cannot help
    return any(resolver.has_project_base(class_info) for class_info in model.index.classes.values())


def _entry_points(index: SyntaxIndex, resolver: Resolver) -> list[FunctionInfo]:
    """The module body, then every function that no code of the file calls."""
    names = {function.name for function in index.functions.values()}
    called: set[FunctionInfo] = set()
    for function in index.all_functions():
        for event in call_events(function.events):
            if called_name(event.call.func) not in names:
                continue  # cannot run a function of this file: resolving it could only load others
            callee = resolver.called_function(event.call, Context(function))
            if callee is not None and callee is not function:
                called.add(callee)
    return [index.module, *(f for f in index.functions.values() if f not in called)]


def _counter_and_offset(argument: cst.BaseExpression) -> tuple[str | None, int]:
    """`epoch` -> ("epoch", 0), `epoch - 1` -> ("epoch", -1), `epoch + 1` -> ("epoch", 1)."""
    if isinstance(argument, cst.Name):
        return argument.value, 0
    if (
        isinstance(argument, cst.BinaryOperation)
        and isinstance(argument.left, cst.Name)
        and isinstance(argument.right, cst.Integer)
        and isinstance(argument.operator, (cst.Add, cst.Subtract))
    ):
        sign = 1 if isinstance(argument.operator, cst.Add) else -1
        return argument.left.value, sign * int(argument.right.evaluated_value)
    return None, 0
