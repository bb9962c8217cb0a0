"""What a finding means for the run, simulated (`lrlint check --confirm`)."""

from __future__ import annotations

from lrlint.model import (
    StepCadence,
)
from lrlint.simulate.run import Schedule, number_text

CONFIRMED_CODES = ("LR101", "LR102", "LR103", "LR105", "LR106", "LR108", "LR109")


def consequence(code: str, path: str, line: int, schedules: list[Schedule]) -> str | None:
    """The simulated effect of a finding at `path:line` on the schedule it is about."""
    if code in ("LR108", "LR109"):
        built = next((s for s in schedules if s.built == (path, line) and s.per_epoch), None)
        return _run_against_schedule(code, built) if built is not None else None
    schedule = next((s for s in schedules if (path, line) in s.steps and s.per_epoch), None)
    if schedule is None or code not in CONFIRMED_CODES:
        return None
    first_start, _ = schedule.per_epoch[0]
    last = len(schedule.per_epoch) - 1
    _, final = schedule.per_epoch[-1]
    if code == "LR101":
        return _early_by_one(schedule)
    if code in ("LR102", "LR103"):
        stepped = "every batch" if StepCadence.PER_BATCH in schedule.cadences else "once per epoch"
        change = f"lr {number_text(first_start)} -> {number_text(final)} after {last + 1} epochs"
        text = f"simulated {schedule.name} stepped {stepped}: {change}"
        if schedule.other_cadence:
            sized_start, sized_end = schedule.other_cadence[0][0], schedule.other_cadence[-1][1]
            peak = max(lr for pair in schedule.other_cadence for lr in pair)
            rises = f"up to {number_text(peak)}, ending at " if peak > max(sized_start, sized_end) * (1 + 1e-9) else ""
            text += f"; stepped at the cadence it was sized for: {rises}{number_text(sized_end)}"
        return text
    return (
        f"simulated {schedule.name} as the code steps it: lr {number_text(first_start)} -> {number_text(final)} "
        f"after {last + 1} epochs"
    )


def _run_against_schedule(code: str, schedule: Schedule) -> str | None:
    """LR108: the crash, or where the schedule ends and what follows; LR109: the rate the run ends at."""
    if code == "LR108":
        happens = schedule.crash or schedule.end
        return f"simulated {schedule.name}: {happens}" if happens else None
    rates = [lr for pair in schedule.per_epoch for lr in pair]
    final, peak = schedule.per_epoch[-1][1], max(rates)
    return (
        f"simulated {schedule.name}: the run ends at lr {number_text(final)}, {final / peak:.2g}x the highest "
        f"rate of the run ({number_text(peak)})"
    )


def _early_by_one(schedule: Schedule) -> str:
    """A scheduler stepped before the optimizer: each epoch trains at the next epoch's rate."""
    starts = [start for start, _ in schedule.per_epoch]
    ends = [end for _, end in schedule.per_epoch]
    for epoch, (intended, actual) in enumerate(zip(starts, ends, strict=True)):
        if abs(actual - intended) > 1e-12 * max(abs(intended), 1e-30):
            return (
                f"simulated {schedule.name}: epoch {epoch} trains at {number_text(actual)} instead of "
                f"{number_text(intended)}; every change of the schedule comes one epoch early"
            )
    return f"simulated {schedule.name}: no change of the rate in the first {len(starts)} epochs, but torch warns"
