from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import Role, TrackedObject, TrainingModel
from lrlint.model.resolve import Context
from lrlint.model.trace import Frame, TraceItem
from lrlint.rules.base import Report, Rule

_MAX_HOPS = 4  # how many helper calls (`save_checkpoint(state)`) to follow back to the saved dict


class SchedulerNotCheckpointed(Rule):
    """
    A checkpoint saves the optimizer's `state_dict()` but not the scheduler's.

    The scheduler's state (its step count, and for ReduceLROnPlateau its best metric and bad
    epochs) lives in the scheduler, not in the optimizer. A run resumed from such a checkpoint
    restores the optimizer and restarts the schedule from the beginning: warmup runs again,
    and a step schedule applies its first decay at the wrong epoch.

    Followed through a checkpoint dict built inline, in a variable (`ckpt["optimizer"] = ...`),
    or passed to a helper of the same file (`save_checkpoint(state)`).

    Fix: save `scheduler.state_dict()` next to `optimizer.state_dict()` and load it on resume.
    """

    code = "LR401"
    name = "scheduler-not-checkpointed"
    severity = Severity.WARNING
    summary = "a checkpoint saves the optimizer's state but not the scheduler's"
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": epoch}, "last.pt")
""",
    )
    INVALID = (
        """
import torch

def save_checkpoint(state, path="checkpoint.pth"):
    torch.save(state, path)  # expect: LR401

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    save_checkpoint({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()})
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        schedulers = [o for o in model.stepped_objects(Role.SCHEDULER) if o.optimizers]
        for trace in model.traces:
            for item in trace.items:
                if item.is_step or "torch.save" not in model.qualified_names(item.call.func) or not item.call.args:
                    continue
                saved = _saved_objects(model, item)
                saved_calls = {o.call for o in saved}
                optimizers = frozenset(o for o in saved if o.role is Role.OPTIMIZER)
                missing = [s for s in schedulers if s.optimizers & optimizers and s.call not in saved_calls]
                if missing:
                    names = " / ".join(sorted({model.describe(s) for s in missing}))
                    yield Report(
                        item.call,
                        f"this checkpoint saves the optimizer's state_dict() but not the scheduler's ({names}): a "
                        "resumed run restarts the schedule; save scheduler.state_dict() too",
                    )


def _saved_objects(model: TrainingModel, item: TraceItem) -> frozenset[TrackedObject]:
    """Every optimizer and scheduler whose state (or itself) reaches the saved object."""
    found: set[TrackedObject] = set()
    pending: list[tuple[cst.BaseExpression, Context, Frame, int]] = [
        (item.call.args[0].value, item.context, item.frame, 0)
    ]
    while pending:
        expr, context, frame, hops = pending.pop()
        for node in _expressions_in(expr):
            found |= model.resolver.objects(node, context)
        if isinstance(expr, cst.Name):
            pending.extend(_values_of_name(model, expr, context, frame, hops))
    return frozenset(o for o in found if o.role is not Role.INSTANCE)


def _values_of_name(
    model: TrainingModel, name: cst.Name, context: Context, frame: Frame, hops: int
) -> list[tuple[cst.BaseExpression, Context, Frame, int]]:
    """What a saved name holds: its assignments, items stored into it, or the caller's argument."""
    function = context.function
    values = [v.value for n, v in model.index.name_values.items() if n.value == name.value and v.function is function]
    values += model.index.item_assignments.get((function, name.value), [])
    found = [(value, context, frame, hops) for value in values]
    argument = _argument_for(name.value, frame)
    if argument is not None and frame.parent is not None and hops < _MAX_HOPS:
        found.append((argument, frame.parent.context, frame.parent, hops + 1))
    return found


def _argument_for(param: str, frame: Frame) -> cst.BaseExpression | None:
    """The argument the caller passed for parameter `param` of the frame's function."""
    call = frame.call_site
    if call is None:
        return None
    bound_method = isinstance(call.func, cst.Attribute) and frame.function.self_name is not None
    params = [p.name.value for p in frame.function.positional_params(bound_method)]
    for position, arg in enumerate(a for a in call.args if a.keyword is None and not a.star):
        if position < len(params) and params[position] == param:
            return arg.value
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == param), None)


def _expressions_in(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The expression and, inside containers, the receivers of `.state_dict()` and stored values."""
    found: list[cst.BaseExpression] = []

    class Collector(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "state_dict":
                found.append(call.func.value)

        def visit_Element(self, element: cst.Element) -> None:
            found.append(element.value)

        def visit_DictElement(self, element: cst.DictElement) -> None:
            found.append(element.value)

        def visit_Arg(self, arg: cst.Arg) -> None:
            found.append(arg.value)  # dict(optimizer=opt.state_dict())

    found.append(expr)
    expr.visit(Collector())
    return found
