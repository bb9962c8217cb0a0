"""What learning rates the code will produce: real torch schedulers, stepped the way the code steps them.

Two layers:

- `lr_sequence` and `lr_sequence_of`, a small API for users' own tests: build a scheduler on
  a dummy parameter and return the learning rate of every period (epoch or step).
- `simulate_source`, behind `lrlint simulate`: for each scheduler the static model found,
  evaluate its constructor arguments (literals, module constants, arithmetic, and `len(...)`
  of a data source replaced by the assumed steps per epoch), build it with torch, step it at
  the cadence the code uses, and say what cannot be simulated instead of guessing.

The package, along its seams: `api` (lr_sequence), `evaluate` (the code's arguments, read without
running it), `run` (the simulation of each scheduler as the code steps it), `confirm` (what a
finding means for the run, for `check --confirm`), `render` (tables, JSON, CSV, charts). torch is
imported only when a simulation runs. User code is never run.

Convention: `lrs[k]` is the learning rate the optimizer uses during period k, before the
scheduler's step at its end. (torch's tutorials print `get_last_lr()` after each step, which
is `lrs[k + 1]`.)
"""

from __future__ import annotations

from lrlint.simulate.api import DEFAULT_OPTIMIZER, lr_sequence, lr_sequence_of
from lrlint.simulate.confirm import CONFIRMED_CODES, consequence
from lrlint.simulate.evaluate import CannotSimulate, Given, SafeEvaluator, flattened, written_key
from lrlint.simulate.render import (
    CSV_HEADER,
    CSV_STEP_HEADER,
    as_json,
    reason_kind,
    render_csv,
    render_plot,
    render_steps,
    render_table,
    save_png,
    summary,
)
from lrlint.simulate.run import (
    Schedule,
    scheduler_builder,
    simulate_file,
    simulate_files,
    simulate_model,
    simulate_source,
)

__all__ = [
    "CONFIRMED_CODES",
    "CSV_HEADER",
    "CSV_STEP_HEADER",
    "DEFAULT_OPTIMIZER",
    "CannotSimulate",
    "Given",
    "SafeEvaluator",
    "Schedule",
    "as_json",
    "flattened",
    "consequence",
    "lr_sequence",
    "lr_sequence_of",
    "render_csv",
    "render_plot",
    "render_steps",
    "reason_kind",
    "render_table",
    "save_png",
    "scheduler_builder",
    "simulate_file",
    "simulate_files",
    "simulate_model",
    "simulate_source",
    "summary",
    "written_key",
]
