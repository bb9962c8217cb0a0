"""Accelerate: which objects `accelerator.prepare(...)` wraps, and whether it accumulates gradients.

Inside `with accelerator.accumulate(model):` a prepared optimizer only steps when gradients are
synchronised, once every `gradient_accumulation_steps` batches, and a prepared scheduler
(Accelerate's AcceleratedScheduler) steps only with it. A scheduler never passed to `prepare` stays
a plain torch scheduler: every `step()` call advances it, on every micro-batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from lrlint.model.resolve import NOTHING, Context, Objects, Resolver
from lrlint.model.syntax import FunctionInfo
from lrlint.model.trace import TraceItem
from lrlint.model.values import ValueEvaluator

ACCELERATOR = "accelerate.Accelerator"
_PREPARE_METHODS = frozenset({"prepare", "prepare_optimizer", "prepare_scheduler"})
_ACCUMULATION_PLUGIN = "gradient_accumulation_plugin"


def prepared_objects(resolver: Resolver, calls: Iterable[tuple[cst.Call, FunctionInfo]]) -> Objects | None:
    """The tracked objects the module passes to `prepare(...)`; None when a `prepare(*objects)` hides some."""
    prepared = NOTHING
    for call, function in calls:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _PREPARE_METHODS:
            if any(arg.star for arg in call.args):
                return None
            context = Context(function)
            prepared = prepared.union(*(resolver.objects(arg.value, context) for arg in call.args))
    return prepared


def accumulation(resolver: Resolver, item: TraceItem, values: ValueEvaluator) -> cst.Arg | None:
    """`gradient_accumulation_steps=4`: how the Accelerator of the item's `with x.accumulate(...)` was
    told to accumulate, when lrlint sees it built; None when it does not accumulate or is not seen."""
    call = item.context_call("accumulate")
    if call is None:
        return None
    assert isinstance(call.func, cst.Attribute)
    for value, _ in resolver.assigned_values(call.func.value, item.context):
        if isinstance(value, cst.Call) and ACCELERATOR in resolver.qualified_names(value.func):
            return next((arg for arg in value.args if _asks_for_accumulation(arg, values)), None)
    return None


def _asks_for_accumulation(arg: cst.Arg, values: ValueEvaluator) -> bool:
    if arg.keyword is None:
        return False
    if arg.keyword.value == _ACCUMULATION_PLUGIN:
        return True
    return arg.keyword.value == "gradient_accumulation_steps" and values.value(arg.value) != 1
