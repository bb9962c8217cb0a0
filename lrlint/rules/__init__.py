"""The rule registry: every rule lrlint runs, in code order."""

from __future__ import annotations

from lrlint.rules.base import Rule
from lrlint.rules.lr000_syntax_error import SyntaxErrorRule
from lrlint.rules.lr101_step_before_optimizer import StepBeforeOptimizer
from lrlint.rules.lr102_epoch_scheduler_per_batch import EpochSchedulerPerBatch
from lrlint.rules.lr103_iteration_scheduler_per_epoch import IterationSchedulerPerEpoch
from lrlint.rules.lr104_scheduler_never_stepped import SchedulerNeverStepped
from lrlint.rules.lr105_competing_schedulers import CompetingSchedulers
from lrlint.rules.lr106_step_per_micro_batch import StepPerMicroBatch
from lrlint.rules.lr107_scheduler_created_in_loop import SchedulerCreatedInLoop
from lrlint.rules.lr108_schedule_shorter_than_run import ScheduleShorterThanRun
from lrlint.rules.lr109_schedule_longer_than_run import ScheduleLongerThanRun
from lrlint.rules.lr201_unknown_argument import UnknownArgument
from lrlint.rules.lr202_removed_argument import RemovedArgument
from lrlint.rules.lr203_invalid_value import InvalidValue
from lrlint.rules.lr204_scheduler_wrong_optimizer import SchedulerWrongOptimizer
from lrlint.rules.lr301_plateau_without_metric import PlateauWithoutMetric
from lrlint.rules.lr302_step_with_epoch import StepWithEpoch
from lrlint.rules.lr303_get_lr_call import GetLrCall
from lrlint.rules.lr304_manual_lr_write import ManualLrWrite
from lrlint.rules.lr401_scheduler_not_checkpointed import SchedulerNotCheckpointed

ALL_RULES: tuple[type[Rule], ...] = (
    SyntaxErrorRule,
    StepBeforeOptimizer,
    EpochSchedulerPerBatch,
    IterationSchedulerPerEpoch,
    SchedulerNeverStepped,
    CompetingSchedulers,
    StepPerMicroBatch,
    SchedulerCreatedInLoop,
    ScheduleShorterThanRun,
    ScheduleLongerThanRun,
    UnknownArgument,
    RemovedArgument,
    InvalidValue,
    SchedulerWrongOptimizer,
    PlateauWithoutMetric,
    StepWithEpoch,
    GetLrCall,
    ManualLrWrite,
    SchedulerNotCheckpointed,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
