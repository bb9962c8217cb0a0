"""The command line: options parsed, `lrlint.api` asked, its outcome printed (`check`, `simulate`, `rule`)."""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from lrlint import __version__, api, report
from lrlint.api import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from lrlint.cache import CACHE_DIR_NAME
from lrlint.config import (
    SEVERITIES,
    ConfigError,
    Settings,
    extended,
    find_config,
    load_settings,
    parse_toml,
    parse_torch_version,
    split_codes,
)
from lrlint.discovery import discover
from lrlint.report import FORMATTERS

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C, raised by lrlint's own handler rather than Python's.

    Under `python -m`, CPython kills itself with SIGINT at exit, whatever the exit code, when a
    plain KeyboardInterrupt once left code run by a string `exec` (dataclasses build their methods
    so, while LibCST is imported). A subclass is not "plain", so 130 stays 130."""


class _CtrlC:
    """lrlint's SIGINT handler while a command runs, remembering that Ctrl-C was pressed: Python
    3.11 wraps an exception raised in `__set_name__` (a class being built, as an import runs) in a
    RuntimeError, and that one still means the user interrupted."""

    def __init__(self) -> None:
        self.pressed = False

    def __call__(self, signum: int, frame: object) -> NoReturn:
        self.pressed = True
        raise _Interrupted

    def explains(self, error: BaseException) -> bool:
        return isinstance(error, KeyboardInterrupt) or (self.pressed and isinstance(error, Exception))


class _Commands(click.Group):
    """Ctrl-C ends the run with 130 and one line, not click's "Aborted!" and exit 1 (the findings code)."""

    def invoke(self, ctx: click.Context) -> object:
        ctrl_c = _CtrlC()
        ours = threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if ours:
            signal.signal(signal.SIGINT, ctrl_c)
        try:
            return super().invoke(ctx)
        except BaseException as error:
            if not ctrl_c.explains(error):
                raise
            click.echo("lrlint: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        finally:
            if ours:
                signal.signal(signal.SIGINT, signal.default_int_handler)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lrlint")
def main() -> None:
    """Find misuse of PyTorch learning-rate schedulers before a training run."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(FORMATTERS)),
    default="text",
    show_default=True,
    help="text: full on a terminal, concise otherwise; github: workflow annotations; sarif: code scanning.",
)
@click.option("--statistics", is_flag=True, help="Count the findings of each code instead of listing them.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the report (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it).",
)
@click.option(
    "--output-file",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the report to this file instead of standard output (the summary still goes to stderr).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print the findings and nothing else (no summary).")
@click.option("--select", multiple=True, help="Only these codes or code prefixes (comma-separated, e.g. LR1,LR201).")
@click.option("--extend-select", multiple=True, help="Add these codes or prefixes to the selection.")
@click.option("--ignore", multiple=True, help="Skip these codes or code prefixes.")
@click.option("--exclude", multiple=True, help="Glob patterns of files or folders to skip (added to the defaults).")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="pyproject.toml to read [tool.lrlint] from."
)
@click.option("--target-torch", help="The torch version the code runs on (e.g. 2.1): decides what is removed.")
@click.option(
    "--severity", type=click.Choice(SEVERITIES), help="Report only findings of this severity or worse (error)."
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per usable CPU).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache of earlier results.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    envvar="LRLINT_CACHE_DIR",
    help="Where to keep the cache (default: .lrlint_cache next to the config, or here).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False),
    help="Report only findings not recorded in this baseline (see --write-baseline).",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False),
    help="Record the current findings in this file, so that later runs with --baseline report only new ones.",
)
@click.option("--fix", is_flag=True, help="Apply the fixes of fixable findings ([*]), then report what is left.")
@click.option("--diff", is_flag=True, help="Show the fixes as a unified diff and change nothing.")
@click.option(
    "--confirm",
    is_flag=True,
    help="Simulate with torch what LR101-LR109 findings do to the schedule (needs the torch extra).",
)
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings (2 still means an error).")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option(
    "--stdin-filename",
    help="With PATH `-`: the file standard input stands for (its name in the report, its config and ignores).",
)
def check(
    paths: tuple[str, ...],
    output_format: str,
    statistics: bool,
    color: str,
    output_file: str | None,
    quiet: bool,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    config_path: str | None,
    target_torch: str | None,
    severity: str | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: str | None,
    baseline_path: str | None,
    write_baseline: str | None,
    fix: bool,
    diff: bool,
    confirm: bool,
    exit_zero: bool,
    isolated: bool,
    debug: bool,
    stdin_filename: str | None,
) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-`: standard input)."""
    paths = paths or (".",)
    from_stdin = paths == ("-",)
    try:
        configured = _settings((stdin_filename,) if from_stdin and stdin_filename else paths, config_path, isolated)
        settings = configured.overridden(
            select=extended(
                split_codes(select, "--select") or configured.select, split_codes(extend_select, "--extend-select")
            ),
            ignore=split_codes(ignore, "--ignore"),
            exclude=configured.exclude + exclude,
            target_torch=parse_torch_version(target_torch, "--target-torch") if target_torch else None,
            min_severity=severity,
        )
    except ConfigError as error:
        _fail(str(error))
    shown = _Shown(output_format, statistics, color, output_file, quiet)
    if from_stdin:
        if fix or diff or confirm or baseline_path or write_baseline:
            _fail("--fix, --diff, --confirm and baselines need files, not standard input")
        outcome = api.check_data(Path(stdin_filename or "-"), sys.stdin.buffer.read(), settings, debug)
        _report(outcome, shown)
        sys.exit(outcome.exit_code(exit_zero))
    options = api.CheckOptions(
        jobs=jobs or _usable_cpus(),
        cache_dir=None if no_cache else _cache_directory(settings, cache_dir),
        fix=fix,
        baseline=Path(baseline_path) if baseline_path else None,
        confirm=confirm,
        write_baseline=Path(write_baseline) if write_baseline else None,
        debug=debug,
    )
    if diff:
        sys.exit(EXIT_FINDINGS if _show_fixes(paths, settings, options) else EXIT_CLEAN)
    try:
        outcome = api.check(paths, settings, options)
    except api.UsageError as error:
        _fail(str(error))
    for missing in outcome.missing:
        _report_missing(missing)
    if not outcome.files_checked and not outcome.missing:
        click.echo("lrlint: warning: no Python files or notebooks found", err=True)
    for note in outcome.notes:
        click.echo(f"lrlint: {note}", err=True)
    if outcome.fixed:
        click.echo(f"Fixed {outcome.fixed} finding{'s' if outcome.fixed != 1 else ''}.", err=True)
    if write_baseline:
        sys.exit(EXIT_ERROR if outcome.internal_errors else EXIT_CLEAN)
    if outcome.baseline is not None and not quiet:
        click.echo(
            f"lrlint: the baseline hid {outcome.baseline.hidden} finding(s); {outcome.baseline.stale} of its entries "
            "matched nothing in this run (fixed, or in files not linted: --write-baseline refreshes it)",
            err=True,
        )
    _report(outcome, shown)
    sys.exit(outcome.exit_code(exit_zero))


@dataclass(frozen=True)
class _Shown:
    """How check presents its results: its output options."""

    output_format: str
    statistics: bool
    color: str
    output_file: str | None
    quiet: bool


def _report(outcome: api.Outcome, shown: _Shown) -> None:
    terminal = shown.output_file is None and sys.stdout.isatty()
    output = report.Output.for_stdout(terminal, shown.color if shown.output_file is None else "never")
    if shown.statistics:
        text = report.statistics(outcome.findings, as_json=shown.output_format == "json")
    else:
        text = report.FORMATTERS[shown.output_format](outcome.findings, output)
    _write_report(text, shown.output_file, output.colour)
    for message in outcome.internal_errors:
        click.echo(f"lrlint: {message}", err=True)
    if not shown.quiet and (outcome.findings or not outcome.missing):  # no "All checks passed" after a missing path
        click.echo(report.summary(outcome.findings, outcome.files_checked), err=True)


def _settings(paths: tuple[str, ...], config_path: str | None, isolated: bool) -> Settings:
    if isolated:
        return Settings()
    if config_path is not None:
        return load_settings(Path(config_path))
    first = Path(paths[0])
    # A path that does not exist yet (an editor's unsaved buffer, `--stdin-filename`) is in its folder.
    start = next((place for place in (first, first.parent) if str(place) != "." and place.exists()), Path.cwd())
    return load_settings(find_config(start))


def _show_fixes(paths: tuple[str, ...], settings: Settings, options: api.CheckOptions) -> bool:
    """Print the fixes as a unified diff; whether there is any."""
    notes: list[str] = []
    fixes = api.fixes(paths, settings, options, notes)
    for note in notes:
        click.echo(f"lrlint: {note}", err=True)
    for fix in fixes:
        click.echo(fix.diff(), nl=False)
    count = sum(fix.fixes for fix in fixes)
    click.echo(f"Would fix {count} finding{'s' if count != 1 else ''} in {len(fixes)} file(s).", err=True)
    return bool(fixes)


def _cache_directory(settings: Settings, option: str | None) -> Path:
    if option:
        return Path(option)
    if settings.cache_dir is not None:
        return settings.cache_dir
    return (settings.root or Path.cwd()) / CACHE_DIR_NAME


def _write_report(text: str, output_file: str | None, colour: bool) -> None:
    if output_file is None:
        click.echo(text, nl=False, color=colour or None)  # None: click strips colour when not a terminal
        return
    try:
        Path(output_file).write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"{output_file}: cannot write the report: {error.strerror or error}")


def _usable_cpus() -> int:
    """The CPUs this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _report_missing(path: str | Path) -> None:
    """The same words from every command: `lrlint: error: PATH: no such file or directory`."""
    click.echo(f"lrlint: error: {path}: no such file or directory", err=True)


def _fail(message: str) -> NoReturn:
    click.echo(f"lrlint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to simulate (default: the code's, else 10).")
@click.option(
    "--steps-per-epoch",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Batches per epoch: the value of len(loader) in the code.",
)
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--plot", is_flag=True, help="Draw each schedule as a text chart under its table.")
@click.option("--per-step", is_flag=True, help="Also list the lr of every step of schedules stepped per batch.")
@click.option(
    "--png", type=click.Path(dir_okay=False), help="Also save the schedules as a PNG chart (needs matplotlib)."
)
@click.option("--lr", "base_lr", type=click.FloatRange(min=0, min_open=True), help="The base learning rate.")
@click.option(
    "--metric",
    "metric_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A recorded metric curve for ReduceLROnPlateau: one number per line (per epoch).",
)
@click.option(
    "--config",
    "run_config",
    type=click.Path(exists=True, dir_okay=False),
    help="A run configuration (YAML, JSON or TOML) whose dotted keys the code reads (cfg.train.lr: train.lr).",
)
@click.option(
    "--set",
    "supplied",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value the code reads, as written there (--set args.epochs=90 --set 'cfg[\"lr\"]=3e-4').",
)
@click.option(
    "--cadence",
    type=click.Choice(["epoch", "step"]),
    help="How to step a scheduler whose step() lrlint does not see (default: as its sizing implies).",
)
def simulate(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    paths: tuple[str, ...],
    epochs: int | None,
    steps_per_epoch: int,
    output_format: str,
    plot: bool,
    per_step: bool,
    png: str | None,
    base_lr: float | None,
    metric_file: str | None,
    run_config: str | None,
    supplied: tuple[str, ...],
    cadence: str | None,
) -> None:
    """Show the learning rate each scheduler of PATHS (files or folders; default: the current folder)
    produces, epoch by epoch, with real torch. Exit 0 when at least one schedule was simulated, 2
    when none could be."""
    if importlib.util.find_spec("torch") is None:
        _fail("simulate needs torch: pip install 'lrlint[torch]' (the CPU build is enough)")
    if png and importlib.util.find_spec("matplotlib") is None:
        _fail("--png needs matplotlib: pip install 'lrlint[plot]' (or use --plot for a text chart)")
    from lrlint import simulate as simulation
    from lrlint.model import StepCadence

    unseen = {"epoch": StepCadence.PER_EPOCH, "step": StepCadence.PER_BATCH}.get(cadence or "")
    config = _run_configuration(run_config) if run_config else {}
    given = simulation.Given(
        unseen,
        base_lr,
        _supplied_values(supplied),
        _metric_curve(metric_file),
        simulation.flattened(config),
        Path(run_config).name if run_config else "",
    )
    paths = paths or (".",)
    found = discover(paths, _settings(paths, None, False).exclude)
    for missing in found.missing:
        _report_missing(missing)
    named = {Path(path).resolve() for path in paths if Path(path).is_file()}
    results = []
    for file in found.files:
        try:
            simulated_epochs, schedules = simulation.simulate_file(str(file), epochs, steps_per_epoch, given)
        except simulation.CannotSimulate as reason:
            click.echo(f"lrlint: {file}: cannot simulate: {reason}", err=True)
            continue
        if schedules or file.resolve() in named:  # a folder's files without a scheduler are not listed
            results.append((str(file), simulated_epochs, schedules))
    if output_format == "json":
        rows = [row for path, _, schedules in results for row in simulation.as_json(path, schedules, per_step)]
        click.echo(json.dumps(rows, indent=2))
    elif output_format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(simulation.CSV_STEP_HEADER if per_step else simulation.CSV_HEADER)
        for path, _, schedules in results:
            writer.writerows(simulation.render_csv(path, schedules, per_step))
    else:
        for path, simulated_epochs, schedules in results:
            click.echo(simulation.render_table(path, schedules, simulated_epochs, steps_per_epoch, per_step), nl=False)
            for schedule in schedules if plot else ():
                click.echo(simulation.render_plot(schedule), nl=False)
    every = [schedule for _, _, schedules in results for schedule in schedules]
    if png:
        simulation.save_png([(path, s) for path, _, schedules in results for s in schedules if s.per_epoch], png)
        click.echo(f"lrlint: wrote {png}", err=True)
    if every or not found.missing:  # no "No scheduler found." after a missing path, as check
        click.echo(simulation.summary(every), err=True)
    simulated = any(schedule.per_epoch for schedule in every)
    sys.exit(EXIT_CLEAN if simulated and not found.missing else EXIT_ERROR)


def _run_configuration(path: str) -> dict[str, object]:
    """The run configuration simulate reads values from: YAML (with PyYAML), JSON or TOML."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        if path.endswith((".yaml", ".yml")):
            if importlib.util.find_spec("yaml") is None:
                _fail(f"--config {path}: reading YAML needs PyYAML (pip install pyyaml)")
            import yaml  # type: ignore[import-untyped]  # PyYAML: optional, only for a YAML configuration

            data: object = yaml.safe_load(text)
        elif path.endswith(".toml"):
            data = parse_toml(text)
        else:
            data = json.loads(text)
    except Exception as error:  # noqa: BLE001 - any parse error of the user's file is a usage error
        _fail(f"--config {path}: cannot read it: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    if not isinstance(data, dict):
        _fail(f"--config {path}: expected a table of settings at the top")
    return {str(key): value for key, value in data.items()}


def _metric_curve(path: str | None) -> tuple[float, ...]:
    if path is None:
        return ()
    try:
        return tuple(float(line) for line in Path(path).read_text(encoding="utf-8").split() if line)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        _fail(f"--metric {path}: expected one number per line ({error})")


def _supplied_values(assignments: tuple[str, ...]) -> dict[str, object]:
    """`--set args.epochs=90` -> {"args.epochs": 90}: Python literals, else the text as a string."""
    from lrlint.simulate import written_key

    values: dict[str, object] = {}
    for assignment in assignments:
        name, separator, text = assignment.rpartition("=")
        if not separator or not name.strip():
            _fail(f"--set {assignment}: expected NAME=VALUE")
        try:
            value: object = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        values[written_key(name)] = value
    return values


@main.command()
@click.argument("code", required=False)
@click.option("--all", "list_all", is_flag=True, help="List every rule with its name and summary.")
def rule(code: str | None, list_all: bool) -> None:
    """Show the documentation of rule CODE (or its name, e.g. step-before-optimizer), with examples."""
    from lrlint.docs import rule_markdown
    from lrlint.rules import ALL_RULES, RULES_BY_CODE

    if list_all or code is None:
        for rule_class in ALL_RULES:
            click.echo(f"{rule_class.code}  {rule_class.name:<32} {rule_class.summary}")
        return
    by_name = {rule_class.name: rule_class for rule_class in ALL_RULES}
    selected = RULES_BY_CODE.get(code.upper()) or by_name.get(code.lower())
    if selected is None:
        _fail(f"unknown rule code: {code} (see `lrlint rule --all`)")
        return
    click.echo(rule_markdown(selected), nl=False)


@main.command()
def server() -> None:
    """Run the language server (LSP over standard input and output) for editors: live findings,
    fixes, suppressions and rule documentation. Needs the lsp extra: pip install 'lrlint[lsp]'."""
    if importlib.util.find_spec("pygls") is None:
        _fail("lrlint server needs pygls: pip install 'lrlint[lsp]'")
    from lrlint.server import serve

    serve()
