"""The rule registry: every rule lrlint runs, in code order."""

from __future__ import annotations

from lrlint.rules.base import Rule
from lrlint.rules.lr000_syntax_error import SyntaxErrorRule
from lrlint.rules.lr101_step_before_optimizer import StepBeforeOptimizer
from lrlint.rules.lr102_epoch_scheduler_per_batch import EpochSchedulerPerBatch
from lrlint.rules.lr103_iteration_scheduler_per_epoch import IterationSchedulerPerEpoch
from lrlint.rules.lr201_unknown_argument import UnknownArgument
from lrlint.rules.lr202_removed_argument import RemovedArgument
from lrlint.rules.lr301_plateau_without_metric import PlateauWithoutMetric
from lrlint.rules.lr302_step_with_epoch import StepWithEpoch
from lrlint.rules.lr303_get_lr_call import GetLrCall

ALL_RULES: tuple[type[Rule], ...] = (
    SyntaxErrorRule,
    StepBeforeOptimizer,
    EpochSchedulerPerBatch,
    IterationSchedulerPerEpoch,
    UnknownArgument,
    RemovedArgument,
    PlateauWithoutMetric,
    StepWithEpoch,
    GetLrCall,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
