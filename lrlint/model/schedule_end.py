"""Where a schedule ends, what torch (or transformers) does after that end, and the rate along the way.

These are the facts LR108 and LR109 compare with the run: OneCycleLR raises once stepped past
`total_steps`; CosineAnnealingLR and transformers' cosine climb back after `T_max` /
`num_training_steps`; transformers' linear schedule and cosine with hard restarts hold 0 after
theirs, the polynomial one `lr_end`. Schedules that hold their last value by design (StepLR,
LinearLR, ExponentialLR, ...) have no end that matters and are not described here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import libcst as cst

from lrlint.model.resolve import TrackedObject
from lrlint.model.run_length import Count, Counter
from lrlint.model.sizing import written_argument
from lrlint.model.trace import Frame
from lrlint.model.values import ValueEvaluator
from lrlint.scheduler_facts import AfterEnd

# The rate at a fraction of the schedule (1.0: its end), as a multiple of the peak (or base) rate;
# None when an argument it needs is not known.
RateAt = Callable[[float], float | None]


@dataclass(frozen=True)
class ScheduleLength:
    steps: Count
    after_end: AfterEnd
    parameters: tuple[str, ...]  # the arguments that size it: ("T_max",)
    evidence: str  # how the code sizes it: "T_max=50"
    rate_at: RateAt

    @property
    def remedy(self) -> str:
        return f"set {' and '.join(self.parameters)} to match the run"


def _cosine(progress: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * progress))


_TRANSFORMERS_AFTER_END = {
    "linear": AfterEnd.HOLDS_ZERO,
    "cosine": AfterEnd.CLIMBS_BACK,
    "cosine_with_min_lr": AfterEnd.CLIMBS_BACK,
    "cosine_with_restarts": AfterEnd.HOLDS_ZERO,
    "polynomial": AfterEnd.HOLDS_END,
}
_FACTORY_NAMES = {
    "get_linear_schedule_with_warmup": "linear",
    "get_cosine_schedule_with_warmup": "cosine",
    "get_cosine_with_min_lr_schedule_with_warmup": "cosine_with_min_lr",
    "get_cosine_with_hard_restarts_schedule_with_warmup": "cosine_with_restarts",
    "get_polynomial_decay_schedule_with_warmup": "polynomial",
}


class ScheduleReader:
    def __init__(self, counter: Counter, values: ValueEvaluator, code_of: Callable[[cst.CSTNode], str]) -> None:
        self.counter = counter
        self.values = values
        self.code_of = code_of

    def length(self, scheduler: TrackedObject, frame: Frame | None) -> ScheduleLength | None:
        """How many steps the schedule lasts, when it has an end that matters and lrlint can count it."""
        spec, arguments = scheduler.spec, scheduler.arguments
        if spec is None or arguments is None or scheduler.class_info is not None:
            return None
        after_end = spec.facts.after_end if spec.kind == "class" else None
        if after_end is AfterEnd.RAISES:  # OneCycleLR
            return self._one_cycle(scheduler, frame)
        if after_end is AfterEnd.CLIMBS_BACK:  # CosineAnnealingLR
            sizes = tuple(size.name for size in spec.size_parameters)
            return self._sized(scheduler, frame, sizes, after_end, self._cosine_annealing(scheduler))
        family = _FACTORY_NAMES.get(spec.short_name) or self._named_family(scheduler)
        if family is None or family not in _TRANSFORMERS_AFTER_END:
            return None
        return self._transformers(scheduler, frame, family)

    def milestones(self, scheduler: TrackedObject) -> list[int] | None:
        """The milestones of a MultiStepLR or SequentialLR, when all are literal counts."""
        spec, arguments = scheduler.spec, scheduler.arguments
        if spec is None or arguments is None or spec.short_name not in ("MultiStepLR", "SequentialLR"):
            return None
        value = self.values.value(arguments.expression("milestones"))
        if isinstance(value, list) and value and all(isinstance(m, int) and not isinstance(m, bool) for m in value):
            return sorted(value)
        return None

    def _number(self, scheduler: TrackedObject, name: str, default: float) -> float | None:
        expr = scheduler.arguments.expression(name) if scheduler.arguments is not None else None
        if expr is None:
            return default
        value = self.values.value(expr)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def _sized(
        self,
        scheduler: TrackedObject,
        frame: Frame | None,
        names: tuple[str, ...],
        after_end: AfterEnd,
        rate_at: RateAt,
    ) -> ScheduleLength | None:
        """A schedule of the product of the named arguments' counts."""
        assert scheduler.arguments is not None
        given = [(name, scheduler.arguments.expression(name)) for name in names]
        steps = Count.of(1)
        for _, expr in given:
            count = self.counter.count(expr, frame) if expr is not None else None
            if count is None:
                return None
            steps = steps * count
        evidence = ", ".join(
            written_argument(name, expr, self.values, self.code_of) for name, expr in given if expr is not None
        )
        return ScheduleLength(steps, after_end, names, evidence, rate_at)

    def _one_cycle(self, scheduler: TrackedObject, frame: Frame | None) -> ScheduleLength | None:
        assert scheduler.arguments is not None
        given = scheduler.arguments.expression("total_steps")
        if given is not None and self.values.value(given) is not None:
            names: tuple[str, ...] = ("total_steps",)
        else:
            names = ("epochs", "steps_per_epoch")
        return self._sized(scheduler, frame, names, AfterEnd.RAISES, self._one_cycle_rate(scheduler))

    def _one_cycle_rate(self, scheduler: TrackedObject) -> RateAt:
        """OneCycleLR's rate as a multiple of `max_lr` (two phases, the default)."""
        warm = self._number(scheduler, "pct_start", 0.3)
        div = self._number(scheduler, "div_factor", 25.0)
        final_div = self._number(scheduler, "final_div_factor", 1e4)
        given = scheduler.arguments.expression("anneal_strategy") if scheduler.arguments else None
        strategy = self.values.value(given) if given is not None else "cos"
        three_phase = self._number(scheduler, "three_phase", 0)
        known = None not in (warm, div, final_div) and three_phase == 0 and strategy == "cos"
        if not known or not warm or not div or not final_div:
            return lambda progress: None
        initial, low = 1 / div, 1 / div / final_div

        def rate(progress: float) -> float | None:
            if progress <= warm:
                return 1 + (initial - 1) * _cosine(progress / warm)
            return low + (1 - low) * _cosine((progress - warm) / (1 - warm))

        return rate

    def _cosine_annealing(self, scheduler: TrackedObject) -> RateAt:
        eta_min = self._number(scheduler, "eta_min", 0.0)
        return _cosine if eta_min == 0 else lambda progress: None

    def _named_family(self, scheduler: TrackedObject) -> str | None:
        """`get_scheduler("cosine", ...)` or `get_scheduler(SchedulerType.COSINE, ...)`: the family's name."""
        if scheduler.spec is None or scheduler.spec.short_name != "get_scheduler" or scheduler.arguments is None:
            return None
        name = scheduler.arguments.expression("name")
        value = self.values.value(name)
        if isinstance(value, str):
            return value
        return name.attr.value.lower() if isinstance(name, cst.Attribute) else None

    def _transformers(self, scheduler: TrackedObject, frame: Frame | None, family: str) -> ScheduleLength | None:
        if family == "cosine" and self._number(scheduler, "num_cycles", 0.5) != 0.5:
            return None  # several half-waves by design
        length = self._sized(scheduler, frame, ("num_training_steps",), _TRANSFORMERS_AFTER_END[family], _unknown)
        if length is None:
            return None
        warmup = self._warmup_fraction(scheduler, frame, length.steps)
        shapes: dict[str, Callable[[float], float]] = {
            "linear": lambda p: max(0.0, 1 - p),
            "cosine": _cosine,
            "cosine_with_restarts": lambda p: 0.0 if p >= 1 else _cosine(p % 1.0),
        }
        shape = shapes.get(family)
        if warmup is None or shape is None:
            return length
        return replace(length, rate_at=_after_warmup(shape, warmup))

    def _warmup_fraction(self, scheduler: TrackedObject, frame: Frame | None, steps: Count) -> float | None:
        assert scheduler.arguments is not None
        expr = scheduler.arguments.expression("num_warmup_steps")
        if expr is None or self.values.value(expr) in (0, None):
            return 0.0
        warmup = self.counter.count(expr, frame)
        ratio = warmup.ratio_to(steps) if warmup is not None else None
        if ratio is None and warmup is not None and warmup.number is not None and steps.number:
            ratio = warmup.number / steps.number
        return float(ratio) if ratio is not None and 0 <= ratio < 1 else None


def _unknown(progress: float) -> float | None:
    return None


def _after_warmup(shape: Callable[[float], float], warmup: float) -> RateAt:
    """A transformers schedule: linear warmup over the first `warmup` of it, then `shape`."""

    def rate(progress: float) -> float | None:
        if progress < warmup:
            return progress / warmup
        return shape((progress - warmup) / (1 - warmup))

    return rate
