from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import BoundArguments, TrainingModel, bind_arguments, is_known
from lrlint.rules.base import Report, Rule


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Check:
    """An argument whose literal value must satisfy `valid`; `problem` says what is wrong."""

    parameter: str
    valid: Callable[[object], bool]
    problem: str


def _positive(v: object) -> bool:
    return not _number(v) or v > 0  # type: ignore[operator]


def _positive_whole(v: object) -> bool:
    return not _number(v) or (_whole(v) and v > 0)  # type: ignore[operator]


def _decay(v: object) -> bool:
    return not _number(v) or 0 < v <= 1  # type: ignore[operator]


def _fraction(v: object) -> bool:
    return not _number(v) or 0 <= v <= 1  # type: ignore[operator]


def _sorted(v: object) -> bool:
    return not isinstance(v, list) or not all(_number(x) for x in v) or v == sorted(v)


def _one_of(*allowed: str) -> Callable[[object], bool]:
    return lambda v: not isinstance(v, str) or v in allowed


_DECAY = "a decay factor must be in (0, 1]: above 1 the learning rate grows every step"
_PER_CLASS: dict[str, tuple[Check, ...]] = {
    "StepLR": (
        Check("step_size", _positive, "step_size must be positive (0 divides by zero at the first step)"),
        Check("gamma", _decay, _DECAY),
    ),
    "MultiStepLR": (
        Check(
            "milestones",
            _sorted,
            "out of order: torch sorts the milestones and drops the LR at each in increasing order; "
            "write them sorted, or fix the one that is a typo",
        ),
        Check("gamma", _decay, _DECAY),
    ),
    # gamma > 1 is the LR range test ("LR finder"), a deliberate use of ExponentialLR.
    "ExponentialLR": (Check("gamma", _positive, "gamma must be positive: 0 sets the learning rate to 0"),),
    "CosineAnnealingLR": (Check("T_max", _positive, "T_max must be positive (0 divides by zero)"),),
    "CosineAnnealingWarmRestarts": (
        Check("T_0", _positive_whole, "T_0 must be a positive integer (ValueError)"),
        Check(
            "T_mult",
            lambda v: not _number(v) or (isinstance(v, int | float) and _whole(v) and v >= 1),
            "T_mult must be an integer >= 1 (ValueError)",
        ),
    ),
    "LinearLR": (
        Check("start_factor", lambda v: not _number(v) or 0 < v <= 1, "start_factor must be in (0, 1] (ValueError)"),  # type: ignore[operator]
        Check("end_factor", _fraction, "end_factor must be in [0, 1] (ValueError)"),
        Check("total_iters", _positive, "total_iters must be positive"),
    ),
    "ConstantLR": (
        Check("factor", _fraction, "factor must be in [0, 1] (ValueError)"),
        Check("total_iters", _positive, "total_iters must be positive"),
    ),
    "PolynomialLR": (Check("total_iters", _positive, "total_iters must be positive"),),
    "OneCycleLR": (
        Check("total_steps", _positive_whole, "total_steps must be a positive integer (ValueError)"),
        Check("epochs", _positive_whole, "epochs must be a positive integer (ValueError)"),
        Check("steps_per_epoch", _positive_whole, "steps_per_epoch must be a positive integer (ValueError)"),
        Check("pct_start", _fraction, "pct_start must be in [0, 1] (ValueError)"),
        Check("anneal_strategy", _one_of("cos", "linear"), "anneal_strategy must be 'cos' or 'linear' (ValueError)"),
    ),
    "CyclicLR": (
        Check(
            "mode",
            _one_of("triangular", "triangular2", "exp_range"),
            "mode must be 'triangular', 'triangular2' or 'exp_range' (ValueError)",
        ),
        Check("step_size_up", _positive, "step_size_up must be positive"),
    ),
    "ReduceLROnPlateau": (
        Check("factor", lambda v: not _number(v) or 0 < v < 1, "factor must be in (0, 1) (ValueError at 1 or more)"),  # type: ignore[operator]
        Check("mode", _one_of("min", "max"), "mode must be 'min' or 'max' (ValueError)"),
        Check("threshold_mode", _one_of("rel", "abs"), "threshold_mode must be 'rel' or 'abs' (ValueError)"),
        Check("patience", lambda v: not _number(v) or v >= 0, "patience must not be negative"),  # type: ignore[operator]
    ),
}


class InvalidValue(Rule):
    """
    A literal argument value that torch rejects, or that cannot be meant.

    Checked on literals and module constants: non-positive sizes (`StepLR(step_size=0)` divides
    by zero at the first step), a `gamma` above 1 on StepLR or MultiStepLR (the learning rate
    grows; ExponentialLR may grow on purpose, in an LR range test), unsorted `milestones`,
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
    VALID = (
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
b = lr_scheduler.MultiStepLR(opt, milestones=[30, 60, 90])
c = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1), lr_scheduler.ExponentialLR(opt, 0.9)], [5])
d = lr_scheduler.StepLR(opt, step_size=cfg.step, gamma=cfg.gamma)
""",
    )
    INVALID = (
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=10)  # expect: LR203
b = lr_scheduler.MultiStepLR(opt, milestones=[60, 30])  # expect: LR203
c = lr_scheduler.LinearLR(opt, start_factor=0)  # expect: LR203
d = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100, anneal_strategy="cosine")  # expect: LR203
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
            yield from _range_checks(model, spec.short_name, bound)
            if spec.short_name == "SequentialLR":
                yield from _sequential_milestones(bound)


def _range_checks(model: TrainingModel, name: str, bound: BoundArguments) -> Iterator[Report]:
    for check in _PER_CLASS.get(name, ()):
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
