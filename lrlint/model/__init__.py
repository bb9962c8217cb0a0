"""The model of one module's training code that every rule reads.

`build_model` parses nothing itself: it takes a parsed module, indexes its structure
(`syntax.py`), resolves objects on demand (`resolve.py`) and replays each entry point
(`trace.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper

from lrlint.model.metadata import Metadata
from lrlint.model.resolve import Context, Objects, Resolver, Role, TrackedObject
from lrlint.model.sizing import Sizing, Unit, scheduler_sizing
from lrlint.model.syntax import FunctionInfo, SyntaxIndex, build_syntax_index, call_events
from lrlint.model.trace import Loop, LoopKind, StepCadence, Trace, TraceItem, build_trace
from lrlint.model.values import ValueEvaluator

__all__ = [
    "Loop",
    "LoopKind",
    "Role",
    "Sizing",
    "StepCadence",
    "Trace",
    "TraceItem",
    "TrackedObject",
    "TrainingModel",
    "Unit",
    "build_model",
]


def _plain_line_label(line: int) -> str:
    return f"line {line}"


@dataclass
class TrainingModel:
    module: cst.Module
    index: SyntaxIndex
    metadata: Metadata
    resolver: Resolver
    traces: list[Trace] = field(default_factory=list)
    # How messages name a line of the module: "line 12", or "cell 3, line 2" in a notebook.
    line_label: Callable[[int], str] = _plain_line_label

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        return self.metadata.position(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node).strip()

    @cached_property
    def values(self) -> ValueEvaluator:
        return ValueEvaluator(self.index, self.metadata)

    def sizing(self, scheduler: TrackedObject) -> Sizing:
        return scheduler_sizing(scheduler, self.values, self.code)

    def where(self, node: cst.CSTNode) -> str:
        """`line 12` (or `cell 3, line 2`): how messages point at another place of the file."""
        return self.line_label(self.position(node)[0])

    def describe(self, obj: TrackedObject) -> str:
        """`StepLR (line 12)`: how messages name a constructed object."""
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

    def scheduler_steps(self) -> Iterator[tuple[Trace, TraceItem]]:
        for trace in self.traces:
            for item in trace.steps(Role.SCHEDULER):
                yield trace, item

    def stepped_objects(self, role: Role) -> Objects:
        return frozenset().union(*(item.objects for trace in self.traces for item in trace.steps(role)))

    @cached_property
    def escaped(self) -> Objects:
        """Tracked objects that leave lrlint's sight: passed to unknown code, stored, or returned."""
        found: set[TrackedObject] = set()
        for trace in self.traces:
            for item in trace.items:
                if not item.is_step:
                    found |= item.objects
        for expr, function in self.index.escapes:
            found |= self.objects(expr, function)
        for class_info in self.index.classes.values():
            for values in class_info.attributes.values():
                for value in values:
                    found |= self.objects(value.value, value.function)
        return frozenset(found)


def build_model(module: cst.Module, line_label: Callable[[int], str] = _plain_line_label) -> TrainingModel:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    metadata = Metadata(wrapper)
    index = build_syntax_index(module)
    resolver = Resolver(index, metadata)
    model = TrainingModel(module, index, metadata, resolver, line_label=line_label)
    if not any(resolver.constructs_scheduler(call, function) for call, function in model.calls()):
        return model  # nothing to trace: every rule that replays the code needs a scheduler
    for entry in _entry_points(index, resolver):
        model.traces.append(build_trace(resolver, entry))
    return model


def _entry_points(index: SyntaxIndex, resolver: Resolver) -> list[FunctionInfo]:
    """The module body, then every function that no code of the file calls."""
    called: set[FunctionInfo] = set()
    for function in index.all_functions():
        for event in call_events(function.events):
            callee = resolver.callee(event.call, Context(function))
            if callee is not None and callee.function is not function:
                called.add(callee.function)
    return [index.module, *(f for f in index.functions.values() if f not in called)]
