"""The simulated schedules as tables, JSON, CSV, text charts, PNG files and a summary line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from lrlint.simulate.run import Schedule, number_text


def summary(schedules: Sequence[Schedule]) -> str:
    """`Simulated 3 of 5 schedules; not simulated: 1 lrlint does not see where it is stepped, 1 ...`."""
    done = sum(1 for schedule in schedules if schedule.per_epoch)
    if not schedules:
        return "No scheduler found."
    reasons = Counter(reason_kind(schedule.cannot) for schedule in schedules if not schedule.per_epoch)
    text = f"Simulated {done} of {len(schedules)} schedule{'s' if len(schedules) != 1 else ''}"
    if reasons:
        text += "; not simulated: " + ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    return text + "."


_REASON_KINDS = (
    (("is not known before the run", "cannot be evaluated"), "a value not known before the run"),
    (("stepped as `",), "stepped with an explicit position (step(epoch))"),
    (("only lambdas and the file's own functions",), "a schedule function lrlint does not evaluate"),
    (("learning rate by hand",), "its optimizer's rate is also written by hand"),
)


def reason_kind(reason: str) -> str:
    """A reason without the code it quotes: `cfg.lr` and `args.x` are both "a value not known before the run"."""
    for marks, kind in _REASON_KINDS:
        if any(mark in reason for mark in marks):
            return kind
    return reason.split(":", maxsplit=1)[0].split(" (", maxsplit=1)[0].strip() or "no reason given"


def render_table(
    path: str, schedules: list[Schedule], epochs: int, steps_per_epoch: int, per_step: bool = False
) -> str:
    lines = [f"{path}: {epochs} epochs, {steps_per_epoch} steps per epoch (lr at the start / end of each epoch)"]
    if not schedules:
        lines.append("  no scheduler found")
    for schedule in schedules:
        stepped = f", stepped {schedule.cadence_text}" if schedule.cadences else ""
        lines.append(f"  {schedule.name} ({schedule.where}){stepped}")
        if schedule.cannot:
            lines.append(f"    cannot simulate: {schedule.cannot}")
            continue
        for assumption in schedule.assumptions:
            lines.append(f"    assuming {assumption}")
        lines += _table_rows(schedule)
        if schedule.sized_for:
            lines.append(f"    note: {schedule.sized_for}")
        lines += [f"    note: {note}" for note in schedule.notes]
        lines += render_steps(schedule) if per_step else []
    return "\n".join(lines) + "\n"


def _table_rows(schedule: Schedule) -> list[str]:
    """One row per epoch; when a cadence finding applies, the schedule at the cadence it was sized for beside it."""
    beside = schedule.other_cadence if schedule.sized_for else []
    header = "    epoch  lr (start)    lr (end)" + ("      as sized (end)" if beside else "")
    rows = []
    for epoch, (start, end) in enumerate(schedule.per_epoch):
        row = f"    {epoch:>5}  {number_text(start):<12}  {number_text(end)}"
        rows.append(f"{row:<37}  {number_text(beside[epoch][1])}" if beside else row)
    return [header, *rows]


def render_steps(schedule: Schedule) -> list[str]:
    """Every step of a schedule stepped more than once per epoch: the lr it trains at."""
    if not schedule.per_step:
        return []
    rows = [
        f"    {step:>7}  {step // schedule.steps_per_epoch:>5}  {number_text(lr)}"
        for step, lr in enumerate(schedule.per_step)
    ]
    return ["       step  epoch  lr (during the step)", *rows]


def as_json(path: str, schedules: list[Schedule], per_step: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "path": path,
            "scheduler": s.name,
            "where": s.where,
            "cadence": s.cadence_text or None,
            "lr_per_epoch": [{"epoch": e, "start": a, "end": b} for e, (a, b) in enumerate(s.per_epoch)],
            "assumptions": s.assumptions,
            "notes": ([s.sized_for] if s.sized_for else []) + s.notes,
            "cannot_simulate": s.cannot or None,
        }
        | ({"lr_per_step": s.per_step} if per_step else {})
        for s in schedules
    ]


CSV_HEADER = ["path", "scheduler", "where", "epoch", "lr_start", "lr_end"]
CSV_STEP_HEADER = ["path", "scheduler", "where", "epoch", "step", "lr"]


def render_csv(path: str, schedules: list[Schedule], per_step: bool = False) -> list[list[str]]:
    rows = []
    for s in schedules:
        if per_step:
            each = s.steps_per_epoch
            rows += [[path, s.name, s.where, str(n // each), str(n), repr(lr)] for n, lr in enumerate(s.per_step)]
        else:
            rows += [[path, s.name, s.where, str(e), repr(a), repr(b)] for e, (a, b) in enumerate(s.per_epoch)]
    return rows


def render_plot(schedule: Schedule, height: int = 10, width: int = 60) -> str:
    """The learning rate at the start of each epoch as a text chart that any terminal shows."""
    starts = [start for start, _ in schedule.per_epoch]
    if not starts:
        return ""
    columns = starts if len(starts) <= width else [starts[i * len(starts) // width] for i in range(width)]
    low, high = min(columns), max(columns)
    span = (high - low) or 1.0
    levels = [round((value - low) / span * (height - 1)) for value in columns]
    rows = []
    for level in range(height - 1, -1, -1):
        label = number_text(low + span * level / (height - 1)) if level in (0, height - 1) else ""
        rows.append(f"    {label:>11} |" + "".join("*" if lvl == level else " " for lvl in levels))
    rows.append(f"    {'':>11} +" + "-" * len(columns))
    rows.append(f"    {'':>11}  epoch 0{'':>{max(0, len(columns) - 8 - len(str(len(starts) - 1)))}} {len(starts) - 1}")
    return "\n".join(rows) + "\n"


def save_png(schedules: list[tuple[str, Schedule]], file: str) -> None:
    """Plot every simulated schedule into one PNG (needs matplotlib)."""
    import matplotlib  # noqa: PLC0415 - optional

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(figsize=(8, 4))
    for path, schedule in schedules:
        axes.plot([start for start, _ in schedule.per_epoch], label=f"{schedule.name} ({path}, {schedule.where})")
    axes.set_xlabel("epoch")
    axes.set_ylabel("learning rate")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(file)
    pyplot.close(figure)
