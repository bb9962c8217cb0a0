from __future__ import annotations

import difflib
from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    BoundArguments,
    SchedulerSpec,
    TrainingModel,
    bind_arguments,
    positional_values,
    torch_version_of_signatures,
)
from lrlint.rules.base import Report, Rule, constructor_name

# Names people reach for, and the parameters they mean, tried in order.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "decay": ("gamma", "factor"),
    "lr_decay": ("gamma", "factor"),
    "decay_rate": ("gamma", "factor"),
    "lr_decay_rate": ("gamma", "factor"),
    "rate": ("gamma", "factor"),
    "step": ("step_size", "step_size_up", "total_steps"),
    "steps": ("milestones", "total_steps", "num_training_steps"),
    "lr_steps": ("milestones",),
    "decay_steps": ("milestones", "step_size"),
    "epochs_list": ("milestones",),
    "min_lr": ("eta_min", "min_lr"),
    "lr_min": ("eta_min", "min_lr"),
    "max_epochs": ("T_max", "total_iters", "epochs"),
    "num_epochs": ("T_max", "total_iters", "epochs"),
    "warmup_steps": ("num_warmup_steps",),
    "warmup": ("num_warmup_steps",),
    "training_steps": ("num_training_steps",),
    "total_steps": ("num_training_steps", "total_steps"),
    "lr": ("max_lr", "base_lr"),
    "optim": ("optimizer",),
    "opt": ("optimizer",),
}


class UnknownArgument(Rule):
    """
    A scheduler constructor argument that its signature does not have, a missing required
    argument, an argument given twice, or too many positional arguments.

    Each of these is a `TypeError` when the line runs, often after minutes of data loading.
    The signatures come from the real torch classes and transformers factories (shipped as data,
    so linting needs no torch), and lrlint suggests the parameter you probably meant:
    `StepLR(opt, step=10, decay=0.1)` gets "did you mean `step_size`" and "did you mean `gamma`".

    A removed argument (`verbose=`, or a positional one where `verbose` used to be, as in the
    `super().__init__(optimizer, last_epoch, verbose)` of a subclass written for torch < 2.7) is
    LR202's, with the version that removed it.

    Fix: use the parameter names of the signature shown in the message.
    """

    code = "LR201"
    name = "unknown-argument"
    severity = Severity.ERROR
    summary = "a scheduler constructor argument the real signature does not accept (TypeError at run time)"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
from torch.optim.lr_scheduler import StepLR, CosineAnnealingLR
s1 = StepLR(optimizer, step_size=10, gamma=0.1)
s2 = CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-6)
s3 = StepLR(optimizer, **scheduler_kwargs)
""",
    )
    INVALID = (
        """
from torch.optim.lr_scheduler import StepLR
scheduler = StepLR(opt, step=10,  # expect: LR201
                   decay=0.1)  # expect: LR201
""",
        """
import torch
scheduler = torch.optim.lr_scheduler.MultiStepLR(opt)  # expect: LR201
""",
        """
from transformers import get_linear_schedule_with_warmup
# the arguments of get_cosine_schedule_with_warmup (num_cycles=0.5) given to the linear one
scheduler = get_linear_schedule_with_warmup(optimizer, 500, 10000, 0.5, -1)  # expect: LR201
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for call, spec in model.constructor_calls():
            yield from _check_call(call, spec, bind_arguments(call, spec))


def _check_call(call: cst.Call, spec: SchedulerSpec, bound: BoundArguments) -> Iterator[Report]:
    callee = constructor_name(call, spec)
    unknown = [arg for arg in bound.unknown_keywords if arg.keyword]
    taken = set(bound.values)
    for arg in unknown:
        assert arg.keyword is not None
        name = arg.keyword.value
        candidates = suggestions(name, spec, taken)
        suggestion = candidates[0] if candidates else None
        hint = f"did you mean `{suggestion}`?" if suggestion else f"it accepts {_accepted(spec)}"
        if suggestion:
            taken.add(suggestion)
        # Renamed only when one parameter is a close match: a guess between two is the user's call.
        fix: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] | None = (
            {arg.keyword: arg.keyword.with_changes(value=suggestion)} if len(candidates) == 1 else None
        )
        yield Report(arg, f"{callee} has no argument `{name}`: {hint} (TypeError at run time)", fix)
    for arg in bound.duplicates:
        assert arg.keyword is not None
        yield Report(arg, f"{callee} gets `{arg.keyword.value}` twice, by position and by name (TypeError)")
    if bound.extra_positional:
        positional = [p.name for p in spec.parameters if p.positional]
        yield Report(
            bound.extra_positional[0],
            f"{callee} takes at most {len(positional)} positional arguments "
            f"({', '.join(positional)}), got {len(positional_values(call))} (TypeError)",
        )
    if bound.missing and not unknown and not bound.duplicates:
        names = ", ".join(f"`{name}`" for name in bound.missing)
        yield Report(call, f"{callee} is missing required argument {names} (TypeError at run time)")


def suggestions(name: str, spec: SchedulerSpec, taken: set[str]) -> list[str]:
    """The parameters of `spec` not already given that `name` may mean, most likely first."""
    candidates = [p.name for p in spec.parameters if p.keyword and p.name not in taken]
    synonyms = [synonym for synonym in _SYNONYMS.get(name.lower(), ()) if synonym in candidates]
    if synonyms:
        return synonyms[:1]  # the table names what the word means in torch: no ambiguity
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if close:
        return [by_lower[match] for match in close]
    containing = [c for c in candidates if name.lower() in c.lower() or c.lower() in name.lower()]
    return containing if len(containing) == 1 else []


def _accepted(spec: SchedulerSpec) -> str:
    names = [p.name for p in spec.parameters if p.keyword]
    return f"{', '.join(names)} (torch {torch_version_of_signatures()})"
