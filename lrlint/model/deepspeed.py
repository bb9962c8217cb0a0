"""DeepSpeed: which schedulers its engine steps, and what `deepspeed.initialize` hands back.

`engine, optimizer, dataloader, lr_scheduler = deepspeed.initialize(..., lr_scheduler=scheduler)`
keeps the scheduler it is given (or builds one from the JSON config's "scheduler" section) and
steps it inside `engine.step()`, after every optimizer update (DeepSpeed's `_take_model_step`).
So a scheduler handed over is stepped once per optimizer step whether the code steps it or not:
stepping it by hand as well advances it twice, and a schedule sized in epochs runs out within the
first epoch. DeepSpeed's documentation says so: hand over only schedules meant to step every
training step, and step any other one by hand without handing it over.

The four values it returns are the engine, the optimizer it was given (wrapped), the dataloader
and the scheduler: the one it was given, else the one the config describes, which lrlint cannot
see and knows only as DeepSpeed's. The engine stands for the optimizer it was given: its
`step()` is that optimizer's step (a scheduler stepped before it in an iteration is LR101).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from lrlint.model.resolve import DEEPSPEED_INITIALIZE, NOTHING, Context, Objects, Resolver, Role, TrackedObject
from lrlint.model.syntax import AccessPath, FunctionInfo, call_argument
from lrlint.model.trace import FrameworkStep, StepCadence

_OPTIMIZER = ("optimizer", 2)  # keyword, position in `initialize(args, model, optimizer, ...)`
_SCHEDULER = ("lr_scheduler", 5)
_RETURNED_ENGINE, _RETURNED_OPTIMIZER, _RETURNED_SCHEDULER = 0, 1, 3
_STEPPED_WITH_METRIC = "ReduceLROnPlateau"  # DeepSpeed steps it without one: not a schedule it drives
FRAMEWORK = "DeepSpeed"
HANDED = "DeepSpeed steps the scheduler handed to deepspeed.initialize() in engine.step(), after every optimizer update"
CONFIGURED = (
    "DeepSpeed steps the scheduler it returns (built from its config) in engine.step(), after every optimizer update"
)
REMEDY = "size it in optimizer steps, or do not hand it to deepspeed.initialize() and step it once per epoch by hand"
BY_HAND = "do not hand it to deepspeed.initialize()"


def is_initialize(resolver: Resolver, call: cst.Call) -> bool:
    return DEEPSPEED_INITIALIZE in resolver.qualified_names(call.func)


def returned(resolver: Resolver, call: cst.Call, context: Context, path: AccessPath) -> Objects:
    """What `deepspeed.initialize(...)` returns at `path`: the engine (as the optimizer it steps), the
    optimizer, the scheduler; its dataloader is not tracked."""
    if not path or path[0] not in (_RETURNED_ENGINE, _RETURNED_OPTIMIZER, _RETURNED_SCHEDULER) or len(path) > 1:
        return NOTHING
    if path[0] in (_RETURNED_ENGINE, _RETURNED_OPTIMIZER):
        return _handed_optimizers(resolver, call, context)
    scheduler = _handed_scheduler(call)
    if scheduler is not None:
        return resolver.objects_of_role(scheduler, context, Role.SCHEDULER)
    return frozenset({_configured_scheduler(resolver, call, context)})


def framework_steps(resolver: Resolver, calls: Iterable[tuple[cst.Call, FunctionInfo]]) -> Iterator[FrameworkStep]:
    """The schedulers of every `deepspeed.initialize(...)` call: the one handed over, or the config's."""
    for call, function in calls:
        if not is_initialize(resolver, call):
            continue
        context = Context(function)
        handed = _handed_scheduler(call)
        if handed is None:
            configured = frozenset({_configured_scheduler(resolver, call, context)})
            yield FrameworkStep(configured, StepCadence.PER_BATCH, call, CONFIGURED, FRAMEWORK, REMEDY)
            continue
        schedulers = resolver.objects_of_role(handed, context, Role.SCHEDULER)
        stepped = frozenset(s for s in schedulers if s.spec is None or s.spec.short_name != _STEPPED_WITH_METRIC)
        if stepped:
            yield FrameworkStep(stepped, StepCadence.PER_BATCH, handed, HANDED, FRAMEWORK, REMEDY, BY_HAND)


def _handed_scheduler(call: cst.Call) -> cst.BaseExpression | None:
    """The scheduler the call hands over; None when it hands none (`lr_scheduler=None` included)."""
    handed = call_argument(call, *_SCHEDULER)
    return None if isinstance(handed, cst.Name) and handed.value == "None" else handed


def _handed_optimizers(resolver: Resolver, call: cst.Call, context: Context) -> Objects:
    optimizer = call_argument(call, *_OPTIMIZER)
    return resolver.objects_of_role(optimizer, context, Role.OPTIMIZER) if optimizer is not None else NOTHING


def _configured_scheduler(resolver: Resolver, call: cst.Call, context: Context) -> TrackedObject:
    """The scheduler DeepSpeed builds from its config: one object per `initialize` call."""
    optimizers = _handed_optimizers(resolver, call, context)
    return resolver.framework_scheduler(call, optimizers, "DeepSpeed's scheduler (from its config)", context)
