from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, AfterEnd, Count, SteppedRun, TrainingModel, ordinal
from lrlint.rules.base import Report, Rule

# Past the end of a schedule that does not raise, the run must go this far beyond it to be reported:
# a few steps past a cosine's minimum are harmless, a quarter of the run is not.
OVERRUN = Fraction(5, 4)


class ScheduleShorterThanRun(Rule):
    """
    The schedule ends before the run does.

    lrlint counts the steps the code's loops take (`range(...)` bounds, `len(loader)` batches, one
    step every `k` batches under gradient accumulation) and compares them with the length the
    scheduler was built for. Both sides are read as written: literals, names bound once, argparse
    defaults; `len(loader)` on both sides cancels out. When either side is unknown, or the loops may
    leave early (`break`, a condition on the step), it stays silent.

    - OneCycleLR (`total_steps`, or `epochs * steps_per_epoch`): torch raises `ValueError: Tried to
      step N times` at the first step past its end: the run crashes mid-way (an error).
    - CosineAnnealingLR (`T_max`) and transformers' cosine schedule (`num_training_steps`): after the
      end the rate climbs back up, to the base rate at twice the length, and oscillates.
    - transformers' linear schedule and cosine with hard restarts stay at 0 after
      `num_training_steps`, the polynomial one at `lr_end`: the rest of the run trains for nothing.
    - MultiStepLR and SequentialLR milestones past the run's last step: those drops, or phases,
      never happen.

    The non-raising cases are reported when the run trains at least a quarter beyond the schedule: a
    `step()` after the last epoch's (or batch's) training sets a rate nothing trains with, so it is
    not counted there (`T_max=epochs - 1` makes the last epoch train at `eta_min`).
    Schedules that hold their final value by design (StepLR, LinearLR, ConstantLR, PolynomialLR,
    ExponentialLR, CosineAnnealingWarmRestarts, CyclicLR, ReduceLROnPlateau) are not reported. A
    resumed run (`range(start_epoch, epochs)`) is not counted.

    Fix: size the schedule from the same values as the loops (`T_max=args.epochs`,
    `total_steps=epochs * len(loader)`), or end the loops with the schedule.
    """

    code = "LR108"
    name = "schedule-shorter-than-run"
    severity = Severity.WARNING
    summary = "the schedule ends before the run: OneCycleLR raises mid-run, a cosine climbs back, a decay sits at 0"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=20, steps_per_epoch=len(loader))
for epoch in range(20):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
for epoch in range(epochs):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(200):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
        """
import torch

n_epochs = 2
optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs - 1)
for epoch in range(n_epochs):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
    )
    INVALID = (
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(  # expect: LR108
    optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader)
)
for epoch in range(20):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50)  # expect: LR108
for epoch in range(200):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[60, 120, 160])  # expect: LR108
for epoch in range(100):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for stepped in model.stepped_runs:
            report = _past_the_end(model, stepped) or _milestones_beyond(model, stepped)
            if report is not None:
                yield report


def _past_the_end(model: TrainingModel, stepped: SteppedRun) -> Report | None:
    length, run = stepped.length, stepped.run
    if length is None or not run.unconditional:
        return None
    raises = length.after_end is AfterEnd.RAISES
    ratio = stepped.coverage if raises else stepped.trained_coverage  # the step past the end raises
    if ratio is None or ratio <= (1 if raises else OVERRUN):
        return None
    sized, remedy = model.sized_against_run(stepped), length.remedy
    if raises:
        crash = _crash_epoch(length.steps, run.per_epoch)
        where = f", in the {ordinal(crash)} of {run.epochs} epochs" if crash is not None else ""
        message = (
            f"{sized}: torch raises ValueError at step {length.steps + Count.of(1)}{where} and the run crashes "
            f"there; {remedy}"
        )
        return Report(stepped.scheduler.call, message, severity=Severity.ERROR)
    rate = length.rate_at(float(ratio))
    ends = f", and training ends at {rate:.2g}x its base rate" if rate is not None else ""
    if length.after_end is AfterEnd.CLIMBS_BACK:
        after = (
            f"after step {length.steps} the rate climbs back up (to the base rate at step "
            f"{length.steps * Count.of(2)}){ends}"
        )
    else:
        held = "0" if length.after_end is AfterEnd.HOLDS_ZERO else "lr_end"
        share = round(100 * (1 - 1 / ratio))
        after = f"after step {length.steps} the rate stays at {held}: the last {share}% of the run trains for nothing"
    return Report(stepped.scheduler.call, f"{sized}: {after}; {remedy}")


def _crash_epoch(horizon: Count, per_epoch: Count) -> int | None:
    """The 1-based epoch in which step `horizon + 1` falls."""
    epochs_done = horizon.ratio_to(per_epoch)
    return math.floor(epochs_done) + 1 if epochs_done is not None else None


def _milestones_beyond(model: TrainingModel, stepped: SteppedRun) -> Report | None:
    total = stepped.run.steps.number
    if stepped.milestones is None or total is None:
        return None
    beyond = [m for m in stepped.milestones if m > total]
    if not beyond:
        return None
    at = f"milestone{'s' if len(beyond) > 1 else ''} {', '.join(map(str, beyond))}"
    sequence = stepped.scheduler.name == "SequentialLR"
    after = "the phases after it never start" if sequence else "the rate never drops there"
    lost = f"it never reaches {at}: {after}"
    return Report(
        stepped.scheduler.call,
        f"{stepped.scheduler.name}'s milestones go past the run: the run steps it {stepped.run.steps} times "
        f"({model.describe_run(stepped.run)}, {model.where(stepped.item.call)}), so {lost}; lower the "
        "milestones or lengthen the run",
    )
