"""OpenMMLab's parameter schedulers, as its configs declare them (mmengine 0.x, mmdet 3, mmpose 1, ...).

A config lists them as dicts, `param_scheduler = [dict(type="MultiStepLR", begin=0, end=24,
by_epoch=True, milestones=[16, 22])]`, and mmengine builds and steps them. Unlike torch's, each
has a window: it changes the rate only while `begin <= step < end` (epochs when `by_epoch`,
iterations otherwise), and counts its own steps from `begin`. So a milestone (or a StepLR
`step_size`) at or beyond `end - begin` is never reached, whatever the run's length.

Only dicts that give `end` are read: without it the window is open (mmengine's default `end` is
infinite), and torch's own schedulers have neither `begin` nor `end`. The type is a string
(`type="MultiStepLR"`) or, in the newer pure-Python configs, the class's name (`type=MultiStepLR`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from lrlint.model.syntax import string_value

# The window's schedulers whose sizes can fall outside it.
_WINDOWED = ("MultiStepLR", "StepLR")


@dataclass(frozen=True)
class WindowedScheduler:
    """One `dict(type=..., begin=..., end=..., ...)` of an mmengine config."""

    kind: str  # "MultiStepLR" or "StepLR"
    arguments: dict[str, cst.Arg]  # by keyword


def windowed_schedulers(calls: Iterator[cst.Call]) -> Iterator[WindowedScheduler]:
    for call in calls:
        if not (isinstance(call.func, cst.Name) and call.func.value == "dict"):
            continue
        arguments = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
        kind = _type_name(arguments.get("type"))
        if kind in _WINDOWED and "end" in arguments:
            yield WindowedScheduler(kind, arguments)


def _type_name(arg: cst.Arg | None) -> str | None:
    if arg is None:
        return None
    if isinstance(arg.value, cst.Name):
        return arg.value.value
    return string_value(arg.value)
