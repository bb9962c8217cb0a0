from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import MISSING, NEEDS_A_SCHEDULER, TraceItem, TrackedObject, TrainingModel, is_known
from lrlint.rules.base import Report, Rule
from lrlint.rules.edits import without_arguments

# Their step() argument is documented API, not the deprecated epoch form.


class StepWithEpoch(Rule):
    """
    The deprecated `scheduler.step(epoch)` form.

    Passing the epoch to `step()` is deprecated since torch 1.4 and warns: it makes torch
    compute the learning rate from a closed form that some schedulers do not have, mixes badly
    with chained schedulers, and the result can differ from stepping. Not reported for
    CosineAnnealingWarmRestarts (fractional epochs are its documented API), ReduceLROnPlateau
    (its argument is the metric) or schedulers that are not torch's (timm's take the epoch),
    nor when the argument is None: a wrapper whose own `step(self, epoch=None)` forwards `epoch`
    calls `step()` whenever its caller passes nothing. A constant (`scheduler.step(0)`) is
    reported for what it does: it sets the schedule's position, which `load_state_dict` or
    building the scheduler with `last_epoch=` does without the deprecated form.

    Fix: call `scheduler.step()` once per epoch without an argument; to resume, restore
    `scheduler.load_state_dict(...)` instead of passing the epoch.
    """

    code = "LR302"
    name = "step-with-epoch"
    severity = Severity.WARNING
    summary = "the deprecated scheduler.step(epoch) form"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=10)
for epoch in range(100):
    for i, batch in enumerate(loader):
        optimizer.step()
        sched.step(epoch + i / len(loader))
""",
        """
from timm.scheduler import CosineLRScheduler
sched = CosineLRScheduler(optimizer, t_initial=100)
for epoch in range(100):
    train_one_epoch(model, loader, optimizer)
    sched.step(epoch + 1)
""",
        """
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau


def step_scheduler(scheduler, metric):
    if type(scheduler) != ReduceLROnPlateau:
        scheduler.step()
    else:
        scheduler.step(metric)  # only ever a plateau scheduler here: the argument is its metric


optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    step_scheduler(scheduler, validate(model))
""",
        """
import torch
from transformers import get_scheduler

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
plateau = get_scheduler("reduce_lr_on_plateau", optimizer, scheduler_specific_kwargs={"patience": 2})
chosen = get_scheduler(args.lr_scheduler_type, optimizer, num_training_steps=args.epochs)  # may be one too
for epoch in range(args.epochs):
    for batch in loader:
        optimizer.step()
    plateau.step(validate(model))
    chosen.step(validate(model))
""",
    )
    INVALID = (
        """
import torch
sched = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60])
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    sched.step(epoch)  # expect: LR302
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for _, item in model.scheduler_steps():
            epoch = _epoch_argument(item.call)
            if epoch is None or not all(_uses_torch_step(s) for s in item.objects):
                continue
            passed, source = _passed_value(model, item, epoch)
            receiver = model.receiver(item.call)
            written = f"`{receiver}.step({model.code(epoch)})`"
            if source is not None:
                written += f" (`{model.code(epoch)}` is `{model.code(source)}` from {model.where(source)})"
            if passed is None:
                continue  # step(None) is step(): a wrapper forwarding its own `epoch=None`
            if is_known(passed):
                yield Report(
                    item.call,
                    f"{written} sets the schedule to epoch {passed!r} through the deprecated epoch argument (torch "
                    "warns, and recomputes the LR from a closed form some schedulers lack): to restore a "
                    f"position, use `{receiver}.load_state_dict(...)` or build the scheduler with `last_epoch=`",
                )
                continue
            yield Report(
                item.call,
                f"{written} uses the deprecated epoch argument: call `{receiver}.step()` "
                "once per epoch (restore state with load_state_dict to resume)",
                without_arguments(item.call),
            )


def _epoch_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
        if arg.keyword is not None and arg.keyword.value == "epoch":
            return arg.value
    return None


def _passed_value(
    model: TrainingModel, item: TraceItem, epoch: cst.BaseExpression
) -> tuple[object, cst.BaseExpression | None]:
    """The epoch passed, when it is known: a constant, or None. A parameter of the stepping function
    takes the value its call site passes, else its default; a parameter of a function nothing in the
    file calls, defaulting to None, is taken as None (a wrapper forwarding `step(epoch=None)`).
    The second value is the argument or default it came from, when it came through a parameter."""
    param = _parameter(model, item, epoch)
    if param is None:
        return model.values.value(epoch), None
    argument = item.frame.argument(param.name.value)
    if argument is not None:
        return model.values.value(argument), argument
    if param.default is None:
        return MISSING, None
    return model.values.value(param.default), param.default


def _parameter(model: TrainingModel, item: TraceItem, expr: cst.BaseExpression) -> cst.Param | None:
    """The parameter of the stepping function that `expr` names, if the function never rebinds it."""
    function = item.frame.function
    if not isinstance(expr, cst.Name) or any(
        expr.value.lower() in loop.target_names() for loop in item.loops_in_frame()
    ):
        return None
    if any(name.value == expr.value and v.function is function for name, v in model.index.name_values.items()):
        return None
    return next((p for p in function.params if p.name.value == expr.value), None)


def _uses_torch_step(scheduler: TrackedObject) -> bool:
    """A torch scheduler whose class lrlint knows (a base-class annotation could be any of them)."""
    if scheduler.overrides("step") or not scheduler.torch_class or scheduler.named_at_run_time:
        return False
    if scheduler.spec is None and scheduler.class_info is None:
        return False
    return not scheduler.facts.epoch_argument_is_api
