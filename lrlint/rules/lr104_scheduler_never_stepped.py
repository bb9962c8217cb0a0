from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import Role, TrackedObject, TrainingModel
from lrlint.rules.base import Report, Rule


class SchedulerNeverStepped(Rule):
    """
    A scheduler is created and never stepped, and it does not leave the code lrlint sees.

    A scheduler changes the learning rate only when `step()` is called. Created and forgotten
    (often after a refactor moved the training loop, or when a second scheduler replaced it),
    the run trains at the initial learning rate throughout, while the code suggests a schedule.

    Not reported when the object escapes: returned (Lightning's `configure_optimizers`), stored
    on `self` or in a container, or passed to code lrlint cannot see (a `Trainer`,
    `accelerator.prepare`, `SequentialLR`).

    Fix: call `scheduler.step()` at its cadence, or delete the scheduler.
    """

    code = "LR104"
    name = "scheduler-never-stepped"
    severity = Severity.WARNING
    summary = "a scheduler is created and never stepped (the LR stays constant)"
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
""",
        """
import torch
from transformers import Trainer

optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
trainer = Trainer(model=model, optimizers=(optimizer, scheduler))
trainer.train()
""",
    )
    INVALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)  # expect: LR104
for epoch in range(100):
    for batch in loader:
        optimizer.step()
    print(epoch, scheduler.get_last_lr())
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        stepped = _stepped_calls(model)
        escaped = {obj.call for obj in model.escaped}
        reported = set()
        for obj in model.constructed_objects(Role.SCHEDULER):
            if obj.call in stepped or obj.call in escaped:
                continue
            if obj.call not in reported:
                reported.add(obj.call)
                yield Report(
                    obj.call,
                    f"{obj.name} is created but never stepped: the learning rate stays at its initial value; "
                    "call step() at its cadence or remove it",
                )


def _stepped_calls(model: TrainingModel) -> set:
    """Construction calls of every scheduler that is stepped, directly or inside a composite."""
    calls = set()
    pending: list[TrackedObject] = list(model.stepped_objects(Role.SCHEDULER))
    while pending:
        obj = pending.pop()
        calls.add(obj.call)
        pending.extend(obj.children)
    return calls
