from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, BoundArguments, SchedulerSpec, TrainingModel, bind_arguments, is_known
from lrlint.rules.base import Report, Rule


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class InvalidValue(Rule):
    """
    A literal argument value that torch rejects, or that cannot be meant.

    Checked on literals and module constants: non-positive sizes (`StepLR(step_size=0)` divides
    by zero at the first step), a `gamma` above 1 on StepLR or MultiStepLR (the learning rate
    grows; ExponentialLR may grow on purpose, in an LR range test), unsorted `milestones`, a
    MultiStepLR milestone that is not a whole number (`0.75 * epochs` with 30 epochs is 22.5: the
    step count never equals it, so that cut never happens),
    factors outside the range torch accepts (`LinearLR(start_factor=0)`,
    `ReduceLROnPlateau(factor=1.0)`: ValueError), misspelled modes (`anneal_strategy="cosine"`),
    a SequentialLR whose `milestones` are not one fewer than its schedulers, and positional
    arguments that look swapped (`StepLR(opt, 0.1, 30)` sets step_size=0.1 and gamma=30).

    Fix: use a value in the documented range; pass sizes and factors by keyword.
    """

    code = "LR203"
    name = "invalid-value"
    severity = Severity.ERROR
    summary = "a literal argument value torch rejects or that cannot be meant (gamma > 1, step_size=0, ...)"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
b = lr_scheduler.MultiStepLR(opt, milestones=[30, 60, 90])
c = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1), lr_scheduler.ExponentialLR(opt, 0.9)], [5])
d = lr_scheduler.StepLR(opt, step_size=cfg.step, gamma=cfg.gamma)
epochs = 30
e = lr_scheduler.MultiStepLR(opt, milestones=[int(0.5 * epochs), int(0.75 * epochs)])
f = lr_scheduler.MultiStepLR(opt, milestones=[0.5 * 40, 0.75 * 40])  # 20.0 and 30.0: reached
""",
    )
    INVALID = (
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=10)  # expect: LR203
b = lr_scheduler.MultiStepLR(opt, milestones=[60, 30])  # expect: LR203
c = lr_scheduler.LinearLR(opt, start_factor=0)  # expect: LR203
d = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100, anneal_strategy="cosine")  # expect: LR203
epochs = 30
e = lr_scheduler.MultiStepLR(opt, milestones=[0.5 * epochs, 0.75 * epochs])  # expect: LR203
""",
        """
from torch.optim.lr_scheduler import StepLR, SequentialLR, LinearLR, CosineAnnealingLR
swapped = StepLR(optimizer, 0.1, 30)  # expect: LR203
warm, cos = LinearLR(optimizer, 0.1), CosineAnnealingLR(optimizer, 95)
phases = SequentialLR(optimizer, schedulers=[warm, cos], milestones=[5, 50])  # expect: LR203
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for call, spec in model.constructor_calls():
            if spec.kind != "class":
                continue
            bound = bind_arguments(call, spec)
            swapped = _swapped(model, spec.short_name, bound)
            if swapped is not None:
                yield swapped
                continue
            yield from _range_checks(model, spec, bound)
            if spec.short_name == "SequentialLR":
                yield from _sequential_milestones(bound)


def _range_checks(model: TrainingModel, spec: SchedulerSpec, bound: BoundArguments) -> Iterator[Report]:
    name = spec.short_name
    for check in spec.facts.checks:
        arg = bound.values.get(check.parameter)
        if arg is None:
            continue
        value = model.values.value(arg.value)
        if is_known(value) and not check.valid(value):
            yield Report(arg, f"{name}({check.parameter}={model.code(arg.value)}): {check.problem}")


def _swapped(model: TrainingModel, name: str, bound: BoundArguments) -> Report | None:
    """`StepLR(opt, 0.1, 30)`: a fraction where the size goes, a size where the factor goes."""
    if name not in ("StepLR", "MultiStepLR"):
        return None
    size_name = "step_size" if name == "StepLR" else "milestones"
    size, gamma = bound.values.get(size_name), bound.values.get("gamma")
    if size is None or gamma is None or size.keyword is not None or gamma.keyword is not None:
        return None
    size_value, gamma_value = model.values.value(size.value), model.values.value(gamma.value)
    looks_like_factor = _number(size_value) and 0 < size_value < 1  # type: ignore[operator]
    looks_like_size = isinstance(gamma_value, list) or (_number(gamma_value) and gamma_value >= 1)  # type: ignore[operator]
    if looks_like_factor and looks_like_size:
        return Report(
            size,
            f"{name}(optimizer, {model.code(size.value)}, {model.code(gamma.value)}) sets {size_name}="
            f"{model.code(size.value)} and gamma={model.code(gamma.value)}: the arguments look swapped; "
            f"pass them by keyword",
        )
    return None


def _sequential_milestones(bound: BoundArguments) -> Iterator[Report]:
    schedulers, milestones = bound.values.get("schedulers"), bound.values.get("milestones")
    if schedulers is None or milestones is None:
        return
    if isinstance(schedulers.value, (cst.List, cst.Tuple)) and isinstance(milestones.value, (cst.List, cst.Tuple)):
        count, marks = len(schedulers.value.elements), len(milestones.value.elements)
        if marks != count - 1:
            yield Report(
                milestones,
                f"SequentialLR has {count} schedulers and {marks} milestones: it needs exactly {count - 1} "
                f"(ValueError)",
            )
