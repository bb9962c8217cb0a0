"""What torch does with each of its scheduler classes, as lrlint's rules and simulation need it.

One entry per class of `torch.optim.lr_scheduler`, checked against torch 2.13's source: how its
size is counted, the values its constructor refuses, what follows the end of its schedule, whether
`step(epoch)` is its API, whether its own arguments set the rates. A new torch scheduler, or a
release that changes one, is one edit here. Read through `SchedulerSpec.facts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Cadence(Enum):
    """How often a scheduler is designed to be stepped."""

    PER_EPOCH = "epoch"
    PER_ITERATION = "iteration"
    EITHER = "either"


class AfterEnd(Enum):
    """What the learning rate does once a schedule has run its length."""

    RAISES = "torch raises"  # OneCycleLR: ValueError on the step past total_steps
    CLIMBS_BACK = "the rate climbs back"  # cosine: up again towards the base rate
    HOLDS_ZERO = "the rate stays at 0"  # transformers' linear schedule
    HOLDS_END = "the rate stays at lr_end"  # transformers' polynomial schedule


@dataclass(frozen=True)
class SizeParameter:
    """A constructor argument that counts steps, and the largest literal that still reads as epochs."""

    name: str
    epoch_literal_limit: int


@dataclass(frozen=True)
class ValueCheck:
    """An argument whose literal value must satisfy `valid`; `problem` says what is wrong."""

    parameter: str
    valid: Callable[[object], bool]
    problem: str


@dataclass(frozen=True)
class SchedulerFacts:
    cadence: Cadence = Cadence.EITHER
    sizes: tuple[SizeParameter, ...] = ()  # the arguments that count its steps
    checks: tuple[ValueCheck, ...] = ()  # values its constructor refuses, or that defeat it
    after_end: AfterEnd | None = None  # once stepped past its length, where lrlint can count it
    position_is_state: bool = False  # `last_epoch` and the optimizer's rates restore it
    epoch_argument_is_api: bool = False  # `step(epoch)` / `step(metric)` is documented, not deprecated
    follows_metric: bool = False  # stepped with a metric (ReduceLROnPlateau)
    rates_from_arguments: bool = False  # its arguments set the rates (max_lr), not the optimizer's lr
    function_is_factor: bool | None = None  # LambdaLR: its function gives the factor of the base rate;
    # MultiplicativeLR: the factor applied at each step; None for other classes


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(v: object) -> bool:
    return not _number(v) or v > 0  # type: ignore[operator]


def _positive_whole(v: object) -> bool:
    return not _number(v) or (_whole(v) and v > 0)  # type: ignore[operator]


def _decay(v: object) -> bool:
    return not _number(v) or 0 < v <= 1  # type: ignore[operator]


def _fraction(v: object) -> bool:
    return not _number(v) or 0 <= v <= 1  # type: ignore[operator]


def _open_fraction(v: object) -> bool:
    return not _number(v) or 0 < v < 1  # type: ignore[operator]


def _not_negative(v: object) -> bool:
    return not _number(v) or v >= 0  # type: ignore[operator]


def _whole_at_least_one(v: object) -> bool:
    return not _number(v) or (_whole(v) and v >= 1)  # type: ignore[operator]


def _sorted(v: object) -> bool:
    return not isinstance(v, list) or not all(_number(x) for x in v) or v == sorted(v)


def _reachable_milestones(v: object) -> bool:
    return not isinstance(v, list) or all(not isinstance(x, float) or x.is_integer() for x in v)


def _after_the_start(v: object) -> bool:
    return not isinstance(v, list) or all(not _number(x) or x > 0 for x in v)


def _one_of(*allowed: str) -> Callable[[object], bool]:
    return lambda v: not isinstance(v, str) or v in allowed


_DECAY = "a decay factor must be in (0, 1]: above 1 the learning rate grows every step"
_TOTAL_ITERS = ValueCheck("total_iters", _positive, "total_iters must be positive")

# Up to which size a literal still reads as an epoch count: warmup schedulers get a small limit,
# as per-iteration warmups of a few hundred steps are common and legitimate.
TORCH_SCHEDULERS: dict[str, SchedulerFacts] = {
    "LambdaLR": SchedulerFacts(position_is_state=True, function_is_factor=False),
    "MultiplicativeLR": SchedulerFacts(position_is_state=True, function_is_factor=True),
    "StepLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("step_size", 400),),
        (
            ValueCheck("step_size", _positive, "step_size must be positive (0 divides by zero at the first step)"),
            ValueCheck("gamma", _decay, _DECAY),
        ),
        position_is_state=True,
    ),
    "MultiStepLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("milestones", 400),),
        (
            ValueCheck(
                "milestones",
                _sorted,
                "out of order: torch sorts the milestones and drops the LR at each in increasing order; "
                "write them sorted, or fix the one that is a typo",
            ),
            ValueCheck(
                "milestones",
                _reachable_milestones,
                "a milestone that is not a whole number is never reached: MultiStepLR cuts the LR when its step "
                "count equals a milestone, so that cut never happens; round it (`int(0.75 * epochs)`)",
            ),
            ValueCheck(
                "milestones",
                _after_the_start,
                "a milestone at 0 is no cut later in the run: MultiStepLR applies it as it is built, so the run "
                "never trains at the optimizer's lr (one below 0 never comes); drop it, or set the lr you mean",
            ),
            ValueCheck("gamma", _decay, _DECAY),
        ),
        position_is_state=True,
    ),
    "ConstantLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("total_iters", 20),),
        (ValueCheck("factor", _fraction, "factor must be in [0, 1] (ValueError)"), _TOTAL_ITERS),
        position_is_state=True,
    ),
    "LinearLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("total_iters", 20),),
        (
            ValueCheck("start_factor", _decay, "start_factor must be in (0, 1] (ValueError)"),
            ValueCheck("end_factor", _fraction, "end_factor must be in [0, 1] (ValueError)"),
            _TOTAL_ITERS,
        ),
        position_is_state=True,
    ),
    # gamma > 1 is the LR range test ("LR finder"), a deliberate use of ExponentialLR.
    "ExponentialLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        checks=(ValueCheck("gamma", _positive, "gamma must be positive: 0 sets the learning rate to 0"),),
        position_is_state=True,
    ),
    "PolynomialLR": SchedulerFacts(
        Cadence.PER_EPOCH, (SizeParameter("total_iters", 400),), (_TOTAL_ITERS,), position_is_state=True
    ),
    "CosineAnnealingLR": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("T_max", 400),),
        (ValueCheck("T_max", _positive, "T_max must be positive (0 divides by zero)"),),
        AfterEnd.CLIMBS_BACK,
        position_is_state=True,
    ),
    # Its state is also the cycle (T_cur, T_i); fractional `step(epoch)` is its documented API.
    "CosineAnnealingWarmRestarts": SchedulerFacts(
        Cadence.PER_EPOCH,
        (SizeParameter("T_0", 400),),
        (
            ValueCheck("T_0", _positive_whole, "T_0 must be a positive integer (ValueError)"),
            ValueCheck("T_mult", _whole_at_least_one, "T_mult must be an integer >= 1 (ValueError)"),
        ),
        epoch_argument_is_api=True,
    ),
    "CyclicLR": SchedulerFacts(
        Cadence.PER_ITERATION,
        (SizeParameter("step_size_up", 0), SizeParameter("step_size_down", 0)),
        (
            ValueCheck(
                "mode",
                _one_of("triangular", "triangular2", "exp_range"),
                "mode must be 'triangular', 'triangular2' or 'exp_range' (ValueError)",
            ),
            ValueCheck("step_size_up", _positive, "step_size_up must be positive"),
        ),
        position_is_state=True,
        rates_from_arguments=True,
    ),
    "OneCycleLR": SchedulerFacts(
        Cadence.PER_ITERATION,
        (SizeParameter("total_steps", 0), SizeParameter("steps_per_epoch", 0)),
        (
            ValueCheck("total_steps", _positive_whole, "total_steps must be a positive integer (ValueError)"),
            ValueCheck("epochs", _positive_whole, "epochs must be a positive integer (ValueError)"),
            ValueCheck("steps_per_epoch", _positive_whole, "steps_per_epoch must be a positive integer (ValueError)"),
            ValueCheck("pct_start", _fraction, "pct_start must be in [0, 1] (ValueError)"),
            ValueCheck(
                "anneal_strategy", _one_of("cos", "linear"), "anneal_strategy must be 'cos' or 'linear' (ValueError)"
            ),
        ),
        AfterEnd.RAISES,
        position_is_state=True,
        rates_from_arguments=True,
    ),
    # Its state is the metric's history, not a position.
    "ReduceLROnPlateau": SchedulerFacts(
        checks=(
            ValueCheck("factor", _open_fraction, "factor must be in (0, 1) (ValueError at 1 or more)"),
            ValueCheck("mode", _one_of("min", "max"), "mode must be 'min' or 'max' (ValueError)"),
            ValueCheck("threshold_mode", _one_of("rel", "abs"), "threshold_mode must be 'rel' or 'abs' (ValueError)"),
            ValueCheck("patience", _not_negative, "patience must not be negative"),
        ),
        epoch_argument_is_api=True,
        follows_metric=True,
    ),
    # Their state is their children's.
    "SequentialLR": SchedulerFacts(),
    "ChainedScheduler": SchedulerFacts(),
}
UNKNOWN_CLASS = SchedulerFacts()
