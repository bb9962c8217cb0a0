from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import TrackedObject, TrainingModel
from lrlint.rules.base import Report, Rule
from lrlint.rules.edits import without_arguments

# Their step() argument is documented API, not the deprecated epoch form.
_ARGUMENT_IS_API = frozenset({"CosineAnnealingWarmRestarts", "ReduceLROnPlateau"})


class StepWithEpoch(Rule):
    """
    The deprecated `scheduler.step(epoch)` form.

    Passing the epoch to `step()` is deprecated since torch 1.4 and warns: it makes torch
    compute the learning rate from a closed form that some schedulers do not have, mixes badly
    with chained schedulers, and the result can differ from stepping. Not reported for
    CosineAnnealingWarmRestarts (fractional epochs are its documented API), ReduceLROnPlateau
    (its argument is the metric) or schedulers that are not torch's (timm's take the epoch).

    Fix: call `scheduler.step()` once per epoch without an argument; to resume, restore
    `scheduler.load_state_dict(...)` instead of passing the epoch.
    """

    code = "LR302"
    name = "step-with-epoch"
    severity = Severity.WARNING
    summary = "the deprecated scheduler.step(epoch) form"
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
            if not item.call.args or not all(_uses_torch_step(s) for s in item.objects):
                continue
            receiver = model.receiver(item.call)
            argument = model.code(item.call.args[0].value)
            yield Report(
                item.call,
                f"`{receiver}.step({argument})` uses the deprecated epoch argument: call `{receiver}.step()` "
                "once per epoch (restore state with load_state_dict to resume)",
                without_arguments(item.call),
            )


def _uses_torch_step(scheduler: TrackedObject) -> bool:
    if scheduler.overrides_step:
        return False
    return scheduler.name not in _ARGUMENT_IS_API and not (scheduler.spec and scheduler.spec.is_plateau)
