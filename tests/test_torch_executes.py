"""Every fixture executed under real torch: torch must agree with each finding lrlint states in it.

`tests/fixture_harness.py` runs the fixture scripts as written, in one subprocess, with stand-ins
for their data and models (`len(loader)` = STEPS_PER_EPOCH batches) and records what torch did.
For each `# expect:` marker the claim of the finding is checked against that record:

- LR101: torch warns that `lr_scheduler.step()` ran before `optimizer.step()`, from that line;
- LR201, LR202: the statement raises TypeError; LR203: ValueError/TypeError, or the LR grows, or
  (out-of-order milestones) torch drops the LR at the sorted milestones (a milestone at 0: below
  the lr set from the first step);
- LR301: TypeError without the metric; given the epoch, the LR is cut again and again;
- LR102: stepped every batch, within the first epoch the LR gets where the whole run should end;
- LR103: stepped once per epoch, the LR covers less than half of the schedule it was sized for;
- LR105: the optimizer's LR differs from what each scheduler alone would give;
- LR106: the scheduler steps several times per optimizer step;
- LR108: the run goes past the schedule's end: the crash at the stated step and epoch, milestones
  never reached, the rate climbing back to the stated value, or at 0 for the stated share of the run;
- LR109: the run stops part-way through the schedule, at the rate stated.

And the other way round, for every fixture: torch raises no TypeError/ValueError and gives no order
warning where lrlint reports nothing.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lrlint.config import Settings
from lrlint.linter import lint_path
from lrlint.model import StepCadence
from lrlint.simulate import simulate_file
from tests.expectations import expected_in_file

pytest.importorskip("torch")
pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HARNESS = Path(__file__).resolve().parent / "fixture_harness.py"
STEPS_PER_EPOCH = 100
NOQA = re.compile(r"#\s*noqa(?::(?P<codes>[\sA-Z0-9,]+))?")
ORDER_WARNING = "lr_scheduler.step()` before `optimizer.step()"


@dataclass(frozen=True)
class Run:
    """How to run a fixture beyond its own code: real values for names it leaves undefined, entry calls."""

    bind: dict[str, str] = field(default_factory=dict)
    calls: tuple[str, ...] = ()
    probes: tuple[int, ...] = ()
    entry: str | None = None  # projects: the script to run
    modules: dict[str, str] = field(default_factory=dict)  # real code for modules lrlint cannot see


RUNS: dict[str, Run] = {
    "micro_batch_hf.py": Run(
        bind={
            "args": "Args(learning_rate=5e-5, gradient_accumulation_steps=4, warmup_steps=10, num_train_epochs=3, "
            "max_grad_norm=1.0)"
        },
        calls=("train(model, train_dataloader, args)",),
    ),
    "invalid_values_config.py": Run(bind={"args": "Args(scheduler='step')"}, probes=(8, 9, 10, 11)),
    "invalid_values_swapped_positional.py": Run(
        calls=tuple(
            f"make(torch.optim.SGD(model.parameters(), lr=0.1), {kind!r})"
            for kind in ("step", "multistep", "sequential")
        )
    ),
    "module_alias_imports.py": Run(
        calls=tuple(
            f"build_scheduler({name!r}, model.parameters())"
            for name in ("step", "step-positional", "cosine", "onecycle")
        )
    ),
    "verbose_removed.py": Run(calls=("configure(model, True)", "configure(model, False)")),
    "competing_double_step.py": Run(calls=("main(model, loaders)",)),
    "gan_schedulers_in_a_list.py": Run(calls=("train(generator, discriminator, loader, 3)",)),
    "amp_gradscaler_step_before.py": Run(calls=("fit(model, loader, 3)",)),
    "choice_of_scheduler_per_batch.py": Run(
        bind={"args": "Args(lr=0.1, epochs=90, scheduler='cosine')"}, calls=("main(args)",)
    ),
    "exponential_per_batch_in_method.py": Run(
        calls=("[agent.learn(replay_loader) for agent in [Agent()] for epoch in range(20)]",)
    ),
    "helper_factories_per_batch.py": Run(calls=("run(model, loader, 50)",)),
    "grad_accumulation_schedule_longer.py": Run(calls=("train(model, dataset)",)),
    "cosine_shorter_than_run.py": Run(calls=("with_a_fixed_stop(model, loader, criterion)",)),
    "schedule_fits_run_clean.py": Run(
        calls=(
            "one_cycle(model, loader)",
            "accumulated(model, loader)",
            "early_stopping(model, loader, lambda model: 1.0)",
            "stopped_on_purpose(model, loader)",
            "last_milestone_at_the_end(model, loader)",
            "holds_its_last_value(model, loader)",
        )
    ),
    "plateau_epoch_as_metric.py": Run(calls=("run(model, loaders)",)),
    "first_iteration_guards.py": Run(
        calls=(
            "warmup_guard_holds_at_epoch_zero(model, loader, 5, epochs=3)",
            "warmup_then_decay_branches(model, loader)",
            "train_and_val_phases(model, {'train': loader, 'val': loader}, criterion, num_epochs=2)",
            "skips_the_first_epoch(model, loader)",
            "counter_starts_where_the_run_resumed(model, loader, 3)",
            "accumulation_guard_around_both(model, loader)",
        )
    ),
    "unknown_class_schedulers.py": Run(
        bind={"cfg": "Args(lr=0.1, epochs=3)"},
        calls=(
            "(lambda opt: train_one_epoch(model, loader, opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)))"
            "(torch.optim.SGD(model.parameters(), lr=0.1))",
            "(lambda opt: warmup_epoch(model, loader, opt, torch.optim.lr_scheduler.StepLR(opt, 10)))"
            "(torch.optim.SGD(model.parameters(), lr=0.1))",
            "fit(cfg, model, loader)",
        ),
        modules={
            "mylib": "",
            "mylib.solver": "import torch\n\ndef build_lr_scheduler(cfg, optimizer):\n"
            "    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2])\n",
        },
    ),
    "declared_scheduler_types.py": Run(
        calls=(
            "Trainer(model, lambda m: (lambda o: (o, torch.optim.lr_scheduler.StepLR(o, 10)))"
            "(torch.optim.SGD(m.parameters(), lr=0.1))).train_epoch(loader)",
            "(lambda t: (t.train_epoch(loader), t.end_epoch(1, 0.5), t.end_epoch(2, 0.4)))(Trainer(model, lambda m: "
            "(lambda o: (o, torch.optim.lr_scheduler.MultiStepLR(o, [1])))(torch.optim.SGD(m.parameters(), lr=0.1))))",
            "(lambda o: plateau_epoch(model, loader, o, torch.optim.lr_scheduler.ReduceLROnPlateau(o), None))"
            "(torch.optim.SGD(model.parameters(), lr=0.1))",
        ),
    ),
    "scheduler_subclass_super_init.py": Run(
        calls=(
            "WarmupCosine(torch.optim.SGD(model.parameters(), lr=0.1), 5, 100)",
            "LoggedStepLR(torch.optim.SGD(model.parameters(), lr=0.1), 10)",
            "HalvingStepLR(torch.optim.SGD(model.parameters(), lr=0.1), 10)",
            "Exponential(torch.optim.SGD(model.parameters(), lr=0.1), 0.9)",
        ),
    ),
    "lambda_horizons.py": Run(
        calls=tuple(
            f"{function}(model, loader, 3)"
            for function in (
                "poly_per_batch",
                "decay_per_batch",
                "multiplicative_per_batch",
                "warmup_cosine_per_epoch",
                "warmup_cosine_per_batch",
                "poly_per_epoch",
            )
        )
        + ("step_count_unknown_unit(model, loader, 3, 50)",)
    ),
    "accelerate_unprepared_scheduler.py": Run(
        calls=tuple(f"{function}(model, loader, 1)" for function in ("unprepared", "prepared", "no_accumulation"))
    ),
    "ignite_event_handlers.py": Run(
        calls=tuple(
            f"{function}(model, loader, 3)"
            for function in (
                "step_on_epoch_started",
                "epoch_schedule_every_iteration",
                "one_cycle_every_epoch",
                "each_at_its_cadence",
                "filtered_event",
            )
        )
    ),
    "constant_arguments_in_guards.py": Run(calls=("fit_per_epoch(model, loader)", "fit_per_batch(model, loader)")),
    "unseen_training_call.py": Run(
        modules={
            "apex": "class amp:\n    @staticmethod\n    def initialize(model, optimizer, **options):\n"
            "        return model, optimizer\n",
            "my_training_lib": "",
            "my_training_lib.engine": "def train_one_epoch(model, optimizer, loader, epoch, print_freq=10):\n"
            "    for batch in loader:\n        optimizer.zero_grad()\n        optimizer.step()\n\n"
            "def evaluate(model, loader):\n    pass\n",
        }
    ),
    "projects/accumulation_helper": Run(
        entry="finetune.py",
        bind={"args": "Args(lr=5e-5, accumulation_steps=4, warmup_steps=10, epochs=3)"},
        calls=("main(args, model, train_dataloader)",),
    ),
    "projects/detr_style_clean": Run(entry="main.py"),
    "projects/engine_steps_per_batch": Run(entry="main.py"),
    "projects/relative_imports": Run(entry="pkg/main.py", calls=("run(model, loader)",)),
    "projects/scheduler_subclass": Run(
        entry="train.py", calls=("fit(model, loader, epochs=3)", "fit_in_order(model, loader, epochs=3)")
    ),
    "projects/trainer_inheritance": Run(entry="train.py"),
}


@dataclass(frozen=True)
class Unit:
    """One fixture script, or one fixture project run from its entry script."""

    name: str
    path: Path
    root: Path

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.py")) if self.is_project() else [self.path]

    def is_project(self) -> bool:
        return self.name.startswith("projects/")

    def request(self) -> dict[str, Any]:
        run = RUNS.get(self.name, Run())
        files = [str(path) for path in self.files()]
        references = any(code in ("LR102", "LR103", "LR105") for _, _, code in markers(self))
        return {
            "path": str(self.path),
            "root": str(self.root),
            "files": files,
            "references": references,
            "bind": run.bind,
            "calls": run.calls,
            "probes": run.probes,
            "modules": run.modules,
        }


def units() -> list[Unit]:
    scripts = [Unit(p.name, p, p.parent) for p in sorted(FIXTURES.glob("*.py")) if p.name != "syntax_error.py"]
    projects = [
        Unit(name, FIXTURES / name / run.entry, FIXTURES / name) for name, run in RUNS.items() if run.entry is not None
    ]
    return scripts + projects


def executed(tmp_root: str) -> dict[str, dict[str, Any]]:
    """Run every fixture once, in one subprocess, in a scratch folder (some save checkpoints)."""
    request = {"steps_per_epoch": STEPS_PER_EPOCH, "runs": [unit.request() for unit in units()]}
    offline = {**os.environ, "HF_HUB_OFFLINE": "1"}  # a fixture's from_pretrained must fail at once, not retry
    done = subprocess.run(
        [sys.executable, str(HARNESS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=tmp_root,
        env=offline,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {unit.name: report for unit, report in zip(units(), json.loads(done.stdout), strict=True)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return executed(str(tmp_path_factory.mktemp("fixture_runs")))


def executed_report(reports: dict[str, dict[str, Any]], unit: Unit) -> dict[str, Any]:
    """What torch did running `unit`; the test is skipped when the harness could not run it."""
    report = reports[unit.name]
    if "skipped" in report:
        pytest.skip(report["skipped"])
    return report


def markers(unit: Unit) -> Iterator[tuple[Path, int, str]]:
    for path in unit.files():
        for _, line, code in sorted(expected_in_file(path), key=lambda marker: marker[1:]):
            yield path, line, code


CONFIRMABLE = {"LR101", "LR102", "LR103", "LR105", "LR106", "LR108", "LR109", "LR201", "LR202", "LR203", "LR301"}
CASES = [(unit, path, line, code) for unit in units() for path, line, code in markers(unit) if code in CONFIRMABLE]


def case_id(value: object) -> str:
    return value.name if isinstance(value, Unit) else value.name if isinstance(value, Path) else str(value)


@pytest.mark.parametrize(("unit", "path", "line", "code"), CASES, ids=case_id)
def test_torch_agrees_with_finding(
    reports: dict[str, dict[str, Any]], unit: Unit, path: Path, line: int, code: str
) -> None:
    report = executed_report(reports, unit)
    record = Record(report, str(path), statement_lines(path, line), message_of(path, line, code))
    CONFIRMATIONS[code](record)


@cache
def messages_of(path: Path) -> dict[tuple[int, str], str]:
    return {(f.line, f.code): f.message for f in lint_path(path, Settings()).findings}


def message_of(path: Path, line: int, code: str) -> str:
    return messages_of(path).get((line, code), "")


@pytest.mark.parametrize("unit", units(), ids=case_id)
def test_torch_objects_only_where_lrlint_reports(reports: dict[str, dict[str, Any]], unit: Unit) -> None:
    report = executed_report(reports, unit)
    explained = findings_by_line(unit)
    for error in report["errors"]:
        if error["raised_by_torch"] and not error["about_a_stand_in"] and error["type"] in ("TypeError", "ValueError"):
            where = (error["file"], error["line"])
            assert where in explained or ended_schedule(report, error, explained), (
                f"torch raised where lrlint is silent: {error}"
            )
    for event in report["events"]:
        if event["kind"] == "warning" and ORDER_WARNING in event["message"]:
            codes = explained.get((event["file"], event["line"]), set()) | wrong_optimizer(report, event, explained)
            assert codes & {"LR101", "LR106", "LR204"}, (
                f"torch warns about the step order where lrlint is silent: {event}"
            )


def ended_schedule(report: dict[str, Any], error: dict[str, Any], explained: dict[tuple[str, int], set[str]]) -> bool:
    """LR108 is reported where the scheduler is built: a step past its end raises in the loop."""
    if error["scheduler"] is None:
        return False
    built = report["schedulers"][error["scheduler"]]
    return "LR108" in explained.get((built["file"], built["line"]), set())


def findings_by_line(unit: Unit) -> dict[tuple[str, int], set[str]]:
    """Every line of a statement with a finding (or a `# noqa` that silences one), and its codes."""
    by_line: dict[tuple[str, int], set[str]] = {}
    for path, line, code in [*markers(unit), *noqa_lines(unit)]:
        for n in statement_lines(path, line):
            by_line.setdefault((str(path), n), set()).add(code)
    return by_line


def noqa_lines(unit: Unit) -> Iterator[tuple[Path, int, str]]:
    for path in unit.files():
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if noqa := NOQA.search(text):
                for code in re.findall(r"LR\d{3}", noqa["codes"] or "") or CONFIRMABLE:
                    yield path, number, code


def wrong_optimizer(
    report: dict[str, Any], warning: dict[str, Any], explained: dict[tuple[str, int], set[str]]
) -> set[str]:
    """LR204 is reported where the scheduler is built: the codes there, for the scheduler warned about."""
    stepped = {
        e["scheduler"]
        for e in report["events"]
        if e["kind"] == "scheduler_step" and (e["file"], e["line"]) == (warning["file"], warning["line"])
    }
    built = [report["schedulers"][index] for index in stepped]
    return {code for s in built for code in explained.get((s["file"], s["line"]), set()) if code == "LR204"}


# The fixtures whose simulated rates are compared with their execution: a change that stops one
# from comparing fails, and one that starts comparing must be named here.
MUST_COMPARE = frozenset(
    {
        "argparse_cosine_per_batch",
        "argparse_default_step_per_batch",
        "checkpoint_saved_to_three_paths",
        "competing_double_step",
        "competing_phases_clean",
        "competing_two_schedulers",
        "constant_arguments_in_guards",
        "cosine_longer_than_run",
        "cosine_shorter_than_run",
        "epoch_loop_step_first",
        "first_iteration_guards",
        "fractional_milestones",
        "get_lr_logging",
        "grad_accumulation_schedule_longer",
        "hf_linear_shorter_than_run",
        "hf_linear_warmup_clean",
        "hf_warmup_per_epoch",
        "last_batch_guard_clean",
        "milestone_at_zero",
        "milestones_beyond_run",
        "never_stepped_sequential_children_clean",
        "noqa_suppressed",
        "onecycle_per_epoch",
        "resume_last_epoch_argument_clean",
        "resume_offset_schedule_longer",
        "resumed_run_clean",
        "schedule_fits_run_clean",
        "scheduler_chosen_by_config_never_stepped",
        "sequential_warmup_clean",
        "step_with_epoch_shorter_than_run",
        "steplr_per_batch_in_train",
        "tutorial_steplr_clean",
        "two_phase_if_switch_clean",
        "two_phase_sequential_clean",
        "unseen_training_call",
        "warmup_cosine_factory_clean",
        "warmup_then_epoch_clean",
        "wrong_optimizer_after_rebuild",
    }
)
SINGLE_UNITS = [unit for unit in units() if not unit.is_project()]


@pytest.mark.parametrize("unit", [u for u in SINGLE_UNITS if u.path.stem in MUST_COMPARE], ids=case_id)
def test_simulate_gives_the_rates_of_the_executed_run(reports: dict[str, dict[str, Any]], unit: Unit) -> None:
    """`lrlint simulate` of a fixture gives, epoch by epoch, the LR its execution under torch trained at.

    Compared where one schedule drives an optimizer over the epochs the code runs. Stepped per epoch
    before the optimizer (LR101), each epoch trains at the rate the schedule holds at its end, as
    simulate notes.
    """
    assert compared_schedules(executed_report(reports, unit), unit), "simulate no longer gives its executed rates"


def test_every_fixture_whose_rates_compare_is_named(reports: dict[str, dict[str, Any]]) -> None:
    """A fixture that simulate now also gives the executed rates of joins MUST_COMPARE (and is compared)."""
    others = [u for u in SINGLE_UNITS if u.path.stem not in MUST_COMPARE and "skipped" not in reports[u.name]]
    assert [u.path.stem for u in others if compared_schedules(reports[u.name], u)] == []


def compared_schedules(report: dict[str, Any], unit: Unit) -> list[str]:
    """The schedules of `unit` simulated alone on their optimizer, each checked against the run."""
    early = {(str(path), line) for path, line, code in [*markers(unit), *noqa_lines(unit)] if code == "LR101"}
    compared = []
    for schedule in simulate_file(str(unit.path), None, STEPS_PER_EPOCH)[1]:
        if any(scenario in a for a in schedule.assumptions for scenario in SCENARIOS):
            continue  # a scenario simulate assumes (a metric, a base rate), not the run's
        trained_at = rates_trained_at(report, schedule.steps)
        if schedule.per_epoch and trained_at is not None and len(trained_at) == len(schedule.per_epoch):
            shifted = bool(schedule.steps & early) and schedule.cadences == {StepCadence.PER_EPOCH}
            assert shifted == any("before the epoch's batches" in note for note in schedule.notes), schedule.notes
            simulated = [end if shifted else start for start, end in schedule.per_epoch]
            assert simulated == pytest.approx(trained_at, rel=1e-9, abs=1e-15), schedule.name
            compared.append(schedule.name)
    return compared


def test_the_fixtures_that_must_compare_exist() -> None:
    assert MUST_COMPARE.issubset(unit.path.stem for unit in SINGLE_UNITS)


SCENARIOS = ("lr x base", "a metric that never improves")


def rates_trained_at(report: dict[str, Any], lines: set[tuple[str, int]]) -> list[float] | None:
    """The LR each epoch started with, for the optimizer whose only scheduler steps are at `lines`."""
    steps = [e for e in report["events"] if e["kind"] == "scheduler_step"]
    here = [e for e in steps if (e["file"], e["line"]) in lines]
    if not here:
        return None
    optimizer = here[0]["optimizer"]
    on_optimizer = [e for e in steps if e["optimizer"] == optimizer]
    one_scheduler_per_line = all(
        len({e["scheduler"] for e in on_optimizer if e["line"] == step["line"]}) == 1 for step in here
    )
    if not one_scheduler_per_line or any((e["file"], e["line"]) not in lines for e in on_optimizer):
        return None
    return [starts[str(optimizer)] for starts in report["epoch_starts"] if str(optimizer) in starts]


def statement_lines(path: Path, line: int) -> range:
    """The lines of the innermost statement that contains `line`."""
    return min((span for span in statement_spans(path) if line in span), key=len)


@cache
def statement_spans(path: Path) -> list[range]:
    """The lines of every statement of a fixture, parsed once per file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
    ]


@dataclass
class Record:
    """What torch did around one marker: the statement at `lines` of `file`."""

    report: dict[str, Any]
    file: str
    lines: range
    message: str = ""  # what lrlint says there

    def at_statement(self, item: dict[str, Any]) -> bool:
        return item["file"] == self.file and item["line"] in self.lines

    def errors(self) -> list[dict[str, Any]]:
        return [error for error in self.report["errors"] if error["file"] == self.file and error["line"] in self.lines]

    def warnings(self) -> list[str]:
        return [e["message"] for e in self.report["events"] if e["kind"] == "warning" and self.at_statement(e)]

    def built_here(self) -> list[dict[str, Any]]:
        return [s for s in self.report["schedulers"] if self.at_statement(s)]

    def steps_here(self) -> list[dict[str, Any]]:
        return [e for e in self.report["events"] if e["kind"] == "scheduler_step" and self.at_statement(e)]

    def lrs_of(self, scheduler: dict[str, Any]) -> list[float]:
        kinds = ("scheduler_step", "driven_step")
        return [e["lr"] for e in self.report["events"] if e["kind"] in kinds and e["scheduler"] == scheduler["index"]]

    def stepped_here(self) -> dict[str, Any]:
        steps = self.steps_here()
        assert steps, f"the script never reached this step() call: {self.report['errors']}"
        return self.report["schedulers"][steps[0]["scheduler"]]

    def optimizer_steps(self, optimizer: int, epoch: int) -> int:
        return sum(
            1
            for e in self.report["events"]
            if e["kind"] == "optimizer_step" and e["optimizer"] == optimizer and e["epoch"] == epoch
        )

    def epoch_start_lrs(self, optimizer: int) -> list[float]:
        return [starts[str(optimizer)] for starts in self.report["epoch_starts"] if str(optimizer) in starts]


def raises(*types: str) -> Any:
    def confirm(record: Record) -> None:
        raised = [error["type"] for error in record.errors()]
        assert any(kind in types for kind in raised), f"torch raised {raised or 'nothing'} here, not {types}"

    return confirm


def confirm_order_warning(record: Record) -> None:
    assert any(ORDER_WARNING in message for message in record.warnings()), record.warnings()


def confirm_invalid_value(record: Record) -> None:
    if any(error["type"] in ("ValueError", "TypeError") for error in record.errors()):
        return
    built = [scheduler for scheduler in record.built_here() if record.lrs_of(scheduler)]
    assert built, f"torch accepted it and nothing stepped it: {record.report['errors']}"
    for scheduler in built:
        lrs = record.lrs_of(scheduler)
        if scheduler["class"] == "MultiStepLR" and not grows(lrs):
            confirm_milestones(scheduler, lrs, record.message)
        else:
            assert grows(lrs), f"torch accepted it and the LR never grows: {lrs[:10]}"


def grows(lrs: list[float]) -> bool:
    return any(after > before * (1 + 1e-9) for before, after in itertools.pairwise(lrs))


def confirm_milestones(scheduler: dict[str, Any], lrs: list[float], message: str) -> None:
    """The finding says torch sorts out-of-order milestones, or never reaches one that is not a whole
    number: the LR drops at each whole milestone, in increasing order, and nowhere else; or that it
    applies a milestone at 0 as it is built: the first step already trains below the lr set."""
    given = scheduler["milestones"]
    # lrs[i] is the rate after step i + 1: a drop between lrs[i] and lrs[i + 1] happens at step i + 2.
    drops = [i + 2 for i, (before, after) in enumerate(itertools.pairwise(lrs)) if after < before]
    if "milestone at 0" in message:
        assert 0 in given and 1 not in given, given
        assert lrs[0] < scheduler["base_lrs"][0] * (1 - 1e-9), f"the first step trains at the lr set: {lrs[0]}"
        return
    if "out of order" in message:
        assert given != sorted(given), f"torch holds the milestones in order: {given}"
    else:
        assert any(not float(m).is_integer() for m in given), f"every milestone is whole: {given}"
    assert drops == [m for m in sorted(given) if float(m).is_integer() and 2 <= m <= len(lrs)], (drops, given)


def confirm_plateau(record: Record) -> None:
    if any(error["type"] == "TypeError" for error in record.errors()):
        return
    lrs = [step["lr"] for step in record.steps_here()]
    cuts = sum(1 for before, after in itertools.pairwise(lrs) if after < before)
    assert cuts >= 2, f"given the epoch as its metric the LR should be cut again and again: {lrs}"


def confirm_runs_out_in_first_epoch(record: Record) -> None:
    scheduler = record.stepped_here()
    steps = [step for step in record.steps_here() if step["scheduler"] == scheduler["index"]]  # one of a loop's
    first_epoch = [step["lr"] for step in steps if step["epoch"] == steps[0]["epoch"]]
    assert len(first_epoch) == STEPS_PER_EPOCH, f"stepped {len(first_epoch)} times in the first epoch"
    whole_run = scheduler["per_epoch_reference"]
    assert min(first_epoch) <= whole_run[-1] * (1 + 1e-6) + 1e-12, (
        f"after one epoch the LR is {min(first_epoch)}; stepped per epoch the whole run ends at {whole_run[-1]}"
    )


def confirm_barely_moves(record: Record) -> None:
    scheduler = record.stepped_here()
    steps = record.steps_here()
    epochs = {step["epoch"] for step in steps}
    assert len(steps) == len(epochs), "stepped more than once per epoch"
    start = record.epoch_start_lrs(scheduler["optimizer"])[0]
    moved = max(abs(step["lr"] - start) for step in steps)
    sized_for = scheduler["per_batch_reference"]
    intended = max(abs(lr - start) for lr in sized_for)
    assert moved < 0.5 * intended, f"moved {moved}, at the cadence it was sized for {intended}"


def confirm_factors_combine(record: Record) -> None:
    scheduler = record.stepped_here()
    optimizer = scheduler["optimizer"]
    final = record.report["final"][str(optimizer)]
    stepped = {
        e["scheduler"] for e in record.report["events"] if e["kind"] == "scheduler_step" and e["optimizer"] == optimizer
    }
    alone = {index: record.report["schedulers"][index]["per_epoch_reference"][-1] for index in stepped}
    assert all(abs(final - lr) > 1e-12 for lr in alone.values()), f"final LR {final}; each alone: {alone}"


def confirm_steps_per_micro_batch(record: Record) -> None:
    scheduler = record.stepped_here()
    steps = sum(1 for step in record.steps_here() if step["epoch"] == 0)
    updates = record.optimizer_steps(scheduler["optimizer"], 0)
    assert updates and steps >= 2 * updates, f"{steps} scheduler steps for {updates} optimizer steps in an epoch"


def stated(pattern: str, message: str) -> re.Match[str]:
    found = re.search(pattern, message)
    assert found, f"the finding does not state {pattern!r}: {message}"
    return found


def close(actual: float, claimed: str) -> bool:
    """`claimed` is `actual` to the two significant digits of a message."""
    return abs(actual - float(claimed)) <= 0.05 * abs(actual) + 0.01


def confirm_schedule_ends_first(record: Record) -> None:
    """The run goes past the schedule's end: the crash at the stated step and epoch, the milestones
    never reached, the rate that climbs back or stays at 0, as the finding says."""
    (scheduler,) = record.built_here()
    lrs = record.lrs_of(scheduler)
    if "torch raises ValueError" in record.message:
        crash = next(e for e in record.report["errors"] if e["scheduler"] == scheduler["index"])
        tried = int(stated(r"Tried to step (\d+) times", crash["message"])[1])
        assert len(lrs) == tried - 1, f"{len(lrs)} steps before the crash"
        assert crash["epoch"] + 1 == int(stated(r"in the (\d+)\w\w of", record.message)[1]), crash
    elif "milestone" in record.message:
        drops = sum(1 for before, after in itertools.pairwise(lrs) if after < before)
        never = stated(r"never reaches milestones? ([\d, ]+):", record.message)[1].split(", ")
        assert all(int(m) > len(lrs) for m in never) and drops == len(scheduler["milestones"]) - len(never)
    elif "climbs back" in record.message:
        lowest = lrs.index(min(lrs))
        assert grows(lrs[lowest:]), f"the rate never climbs back: {lrs[lowest:][:10]}"
        updates = [e for e in record.report["events"] if e["kind"] == "optimizer_step"]
        trained = [e["lr"] for e in updates if e["optimizer"] == scheduler["optimizer"]]
        ratio = trained[-1] / scheduler["base_lrs"][0]  # the rate of the last optimizer step
        assert close(ratio, stated(r"training ends at ([\d.e-]+)x its base rate", record.message)[1]), ratio
    else:
        share = int(stated(r"the last (\d+)% of the run", record.message)[1])
        at_zero = len(lrs) - next(i for i, lr in enumerate(lrs) if lr == 0)
        assert abs(100 * at_zero / len(lrs) - share) <= 1, f"{at_zero} of {len(lrs)} steps at 0"


def confirm_run_ends_early(record: Record) -> None:
    """The run stops part-way through the schedule, at the rate the finding states."""
    (scheduler,) = record.built_here()
    lrs = record.lrs_of(scheduler)
    still = stated(r"still ([\d.e-]+)x its (base|peak) rate", record.message)
    reference = scheduler["base_lrs"][0] if still[2] == "base" else max(lrs)
    assert close(lrs[-1] / reference, still[1]), f"the run ends at {lrs[-1] / reference:.3g}x, not {still[1]}x"


CONFIRMATIONS = {
    "LR101": confirm_order_warning,
    "LR102": confirm_runs_out_in_first_epoch,
    "LR103": confirm_barely_moves,
    "LR105": confirm_factors_combine,
    "LR106": confirm_steps_per_micro_batch,
    "LR108": confirm_schedule_ends_first,
    "LR109": confirm_run_ends_early,
    "LR201": raises("TypeError"),
    "LR202": raises("TypeError"),
    "LR203": confirm_invalid_value,
    "LR301": confirm_plateau,
}
