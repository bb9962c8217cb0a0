"""The HF Trainer (transformers, and the trainers built on it: TRL's, sentence-transformers'):
which schedulers it steps, and when.

A scheduler handed over as `Trainer(..., optimizers=(optimizer, scheduler))`, or kept as
`self.lr_scheduler` by a Trainer subclass (typically in an overridden `create_scheduler`), is
stepped by the Trainer's training loop after every optimizer step. ReduceLROnPlateau is the
exception: the Trainer steps it with the evaluation metric. A subclass that replaces the training
loop itself (`_inner_training_loop`) steps what it steps: lrlint reads that code instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from lrlint.model.resolve import Context, Objects, Resolver, Role, TrackedObject
from lrlint.model.syntax import ClassInfo, FunctionInfo, call_argument
from lrlint.model.trace import FrameworkStep, StepCadence

_LIBRARIES = ("transformers", "trl", "sentence_transformers")
_OWN_LOOP = "_inner_training_loop"
_STORED_AS = "lr_scheduler"
FRAMEWORK = "the HF Trainer"
HOW = "the HF Trainer steps this scheduler after every optimizer step"
REMEDY = (
    "size it in optimizer steps (len(train_dataloader) // gradient_accumulation_steps * num_train_epochs), "
    "or let the Trainer build it (lr_scheduler_type)"
)


def is_trainer_class(qualified_name: str) -> bool:
    """`transformers.Trainer`, `transformers.Seq2SeqTrainer`, `trl.SFTTrainer`, ..."""
    package, _, name = qualified_name.rpartition(".")
    return package.split(".")[0] in _LIBRARIES and name.endswith("Trainer")


def framework_steps(resolver: Resolver, calls: Iterable[tuple[cst.Call, FunctionInfo]]) -> Iterator[FrameworkStep]:
    """One step per scheduler handed to a Trainer, at the first place the code hands it over."""
    seen: set[TrackedObject] = set()
    for objects, node in _handed_over(resolver, calls):
        stepped = frozenset(o for o in objects if o.role is Role.SCHEDULER and not _stepped_with_metric(o)) - seen
        if stepped:
            seen |= stepped
            yield FrameworkStep(stepped, StepCadence.PER_BATCH, node, HOW, FRAMEWORK, REMEDY)


def _handed_over(
    resolver: Resolver, calls: Iterable[tuple[cst.Call, FunctionInfo]]
) -> Iterator[tuple[Objects, cst.CSTNode]]:
    for call, function in calls:
        handed = call_argument(call, "optimizers")
        if handed is not None and _runs_trainer_loop(resolver, call, function):
            yield resolver.objects(handed, Context(function), (1,)), handed
    for class_info in resolver.index.classes.values():
        if _is_trainer_subclass(resolver, class_info) and not _replaces_loop(resolver, class_info):
            for value in class_info.attributes.get(_STORED_AS, []):
                yield resolver.objects(value.value, Context(value.function), value.path), value.value
            create = class_info.methods.get("create_scheduler")
            if create is not None:
                yield from ((resolver.objects(returned, Context(create)), returned) for returned in create.returns)


def _stepped_with_metric(scheduler: TrackedObject) -> bool:
    return scheduler.spec is not None and scheduler.spec.is_plateau


def _runs_trainer_loop(resolver: Resolver, call: cst.Call, function: FunctionInfo) -> bool:
    if any(is_trainer_class(name) for name in resolver.qualified_names(call.func)):
        return True
    instances = [o for o in resolver.objects(call, Context(function)) if o.class_info is not None]
    return any(
        _is_trainer_subclass(resolver, o.class_info) and not _replaces_loop(resolver, o.class_info)  # type: ignore[arg-type]
        for o in instances
    )


def _is_trainer_subclass(resolver: Resolver, class_info: ClassInfo) -> bool:
    return any(is_trainer_class(name) for name in resolver.external_bases(class_info))


def _replaces_loop(resolver: Resolver, class_info: ClassInfo) -> bool:
    return resolver.method(class_info, _OWN_LOOP) is not None
