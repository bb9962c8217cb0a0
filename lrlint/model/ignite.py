"""ignite: event handlers, which an Engine calls at the cadence of their event.

`@trainer.on(Events.EPOCH_COMPLETED)` or `trainer.add_event_handler(Events.ITERATION_COMPLETED, fn)`
makes `fn` run once per epoch, or once per iteration (batch), of the engine's run. A handler on a
`*_STARTED` event runs before that epoch's (or iteration's) update, so before its optimizer step:
the optimizer given to `create_supervised_trainer(model, optimizer, ...)`, or those the update
function of `Engine(update)` steps. Events with a filter (`Events.ITERATION_COMPLETED(every=100)`)
and handlers lrlint cannot see (lambdas) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from lrlint.model.resolve import NOTHING, Context, Objects, Resolver, Role
from lrlint.model.syntax import FunctionInfo, call_argument, call_events
from lrlint.model.trace import EntryCall, StepCadence

_CADENCES = {
    "EPOCH_STARTED": StepCadence.PER_EPOCH,
    "EPOCH_COMPLETED": StepCadence.PER_EPOCH,
    "ITERATION_STARTED": StepCadence.PER_BATCH,
    "ITERATION_COMPLETED": StepCadence.PER_BATCH,
}
_BEFORE_THE_UPDATE = frozenset({"EPOCH_STARTED", "ITERATION_STARTED"})
_TRAINER_FACTORIES = frozenset({"ignite.engine.create_supervised_trainer"})
_ENGINES = frozenset({"ignite.engine.Engine", "ignite.engine.engine.Engine"})
_REGISTER = "add_event_handler"


@dataclass(frozen=True)
class Registration:
    """`engine.on(Events.<event>)` or `engine.add_event_handler(Events.<event>, handler)`."""

    event: str
    engine: cst.BaseExpression
    context: Context  # where `engine` is resolved


def entry_call(resolver: Resolver, function: FunctionInfo) -> EntryCall | None:
    """How an ignite Engine calls `function`, a handler of one of its training events."""
    registration = _registrations(resolver).get(function) or _decorated(resolver, function)
    if registration is None:
        return None
    before = registration.event in _BEFORE_THE_UPDATE
    return EntryCall(
        _CADENCES[registration.event],
        description=f"ignite calls {function.name} on Events.{registration.event}",
        precedes=_updated_optimizers(resolver, registration) if before else NOTHING,
    )


def _decorated(resolver: Resolver, function: FunctionInfo) -> Registration | None:
    node = function.node
    for decorator in node.decorators if isinstance(node, cst.FunctionDef) else ():
        call = decorator.decorator
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "on":
            event = _event(resolver, call.args[0].value) if call.args else None
            if event is not None:
                return Registration(event, call.func.value, Context(function))
    return None


def _registrations(resolver: Resolver) -> dict[FunctionInfo, Registration]:
    """The module's `engine.add_event_handler(Events.X, handler)` calls, by handler."""

    def derive() -> dict[FunctionInfo, Registration]:
        found: dict[FunctionInfo, Registration] = {}
        for caller in resolver.index.all_functions():
            for event in call_events(caller.events):
                registration = _registration(resolver, event.call, caller)
                if registration is not None:
                    found.setdefault(*registration)
        return found

    return resolver.derived("ignite registrations", derive)


def _registration(resolver: Resolver, call: cst.Call, caller: FunctionInfo) -> tuple[FunctionInfo, Registration] | None:
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == _REGISTER and len(call.args) >= 2):
        return None
    event = _event(resolver, call.args[0].value)
    handler = resolver.function_named(call.args[1].value, Context(caller)) if event is not None else None
    if event is None or handler is None:
        return None
    return handler[0], Registration(event, func.value, Context(caller))


def _event(resolver: Resolver, expr: cst.BaseExpression) -> str | None:
    """`EPOCH_COMPLETED` for `Events.EPOCH_COMPLETED` of ignite (not a filtered `Events.X(every=n)`)."""
    if not isinstance(expr, (cst.Name, cst.Attribute)):
        return None
    for name in resolver.qualified_names(expr):
        owner, _, event = name.rpartition(".")
        if name.startswith("ignite.") and owner.endswith("Events") and event in _CADENCES:
            return event
    return None


def _updated_optimizers(resolver: Resolver, registration: Registration) -> Objects:
    """The optimizers the engine's update steps, when lrlint sees how the engine was built."""
    found = NOTHING
    for value, context in resolver.assigned_values(registration.engine, registration.context):
        if not isinstance(value, cst.Call):
            continue
        names = resolver.qualified_names(value.func)
        if names & _TRAINER_FACTORIES:
            optimizer = call_argument(value, "optimizer", 1)
            found |= resolver.objects_of_role(optimizer, context, Role.OPTIMIZER) if optimizer is not None else NOTHING
        elif names & _ENGINES:
            update = call_argument(value, "process_function", 0)
            target = resolver.function_named(update, context) if update is not None else None
            found |= _stepped_in(resolver, target[0]) if target is not None else NOTHING
    return found


def _stepped_in(resolver: Resolver, function: FunctionInfo) -> Objects:
    stepped = NOTHING
    for event in call_events(function.events):
        func = event.call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "step":
            stepped |= resolver.objects_of_role(func.value, Context(function), Role.OPTIMIZER)
    return stepped
