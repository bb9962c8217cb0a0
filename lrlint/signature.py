"""Matching the arguments of a constructor call against a scheduler's real signature."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from lrlint.catalog import Parameter, RemovedArgument, SchedulerSpec, removed_argument, removed_positional


@dataclass
class BoundArguments:
    values: dict[str, cst.Arg] = field(default_factory=dict)
    unknown_keywords: list[cst.Arg] = field(default_factory=list)
    extra_positional: list[cst.Arg] = field(default_factory=list)
    duplicates: list[cst.Arg] = field(default_factory=list)
    # Arguments of a parameter torch removed (`verbose=True`, or where `verbose` used to be by position).
    removed: list[tuple[cst.Arg, RemovedArgument]] = field(default_factory=list)
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
            _bind_positional(arg, position, positional, spec, bound)
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


def _bind_positional(
    arg: cst.Arg, position: int, positional: list[Parameter], spec: SchedulerSpec, bound: BoundArguments
) -> None:
    if position < len(positional):
        bound.values[positional[position].name] = arg
    elif spec.accepts_var_positional:
        return
    elif position == len(positional) and (removed := removed_positional(spec)) is not None:
        bound.removed.append((arg, removed))
    else:
        bound.extra_positional.append(arg)


def _bind_keyword(arg: cst.Arg, name: str, spec: SchedulerSpec, bound: BoundArguments) -> None:
    parameter = spec.parameter(name)
    if parameter is None or not parameter.keyword:
        if (removed := removed_argument(spec, name)) is not None:
            bound.removed.append((arg, removed))
        elif not spec.accepts_var_keyword:
            bound.unknown_keywords.append(arg)
    elif name in bound.values:
        bound.duplicates.append(arg)
    else:
        bound.values[name] = arg
