"""Matching the arguments of a constructor call against a scheduler's real signature."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from lrlint.catalog import SchedulerSpec


@dataclass
class BoundArguments:
    values: dict[str, cst.Arg] = field(default_factory=dict)
    unknown_keywords: list[cst.Arg] = field(default_factory=list)
    extra_positional: list[cst.Arg] = field(default_factory=list)
    duplicates: list[cst.Arg] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    has_star_args: bool = False
    has_star_kwargs: bool = False

    def expression(self, name: str) -> cst.BaseExpression | None:
        arg = self.values.get(name)
        return arg.value if arg is not None else None


def bind_arguments(call: cst.Call, spec: SchedulerSpec) -> BoundArguments:
    bound = BoundArguments()
    positional = [p for p in spec.parameters if p.positional]
    position = 0
    for arg in call.args:
        if arg.star == "*":
            bound.has_star_args = True
        elif arg.star == "**":
            bound.has_star_kwargs = True
        elif arg.keyword is None:
            if position < len(positional):
                bound.values[positional[position].name] = arg
            elif not spec.accepts_var_positional:
                bound.extra_positional.append(arg)
            position += 1
        else:
            _bind_keyword(arg, arg.keyword.value, spec, bound)
    if not (bound.has_star_args or bound.has_star_kwargs):
        bound.missing = [
            p.name
            for p in spec.parameters
            if not p.has_default and p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD") and p.name not in bound.values
        ]
    return bound


def _bind_keyword(arg: cst.Arg, name: str, spec: SchedulerSpec, bound: BoundArguments) -> None:
    parameter = spec.parameter(name)
    if parameter is None or not parameter.keyword:
        if not spec.accepts_var_keyword:
            bound.unknown_keywords.append(arg)
    elif name in bound.values:
        bound.duplicates.append(arg)
    else:
        bound.values[name] = arg
