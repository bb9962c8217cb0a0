"""The command line: `lrlint check` and `lrlint rule`, a thin layer over the engine."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lrlint import __version__, baseline, report
from lrlint.cache import CACHE_DIR_NAME, Cache
from lrlint.config import (
    SEVERITIES,
    ConfigError,
    Settings,
    extended,
    find_config,
    load_settings,
    parse_torch_version,
    split_codes,
)
from lrlint.discovery import discover
from lrlint.engine import RunResult, lint_files
from lrlint.findings import FileResult, Finding
from lrlint.report import FORMATTERS

if TYPE_CHECKING:
    from lrlint.fix import FileFix

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
# What --confirm simulates, as its messages say: the code's own epoch count (else simulate's default).
CONFIRM_EPOCHS, CONFIRM_STEPS_PER_EPOCH = None, 100


class _Commands(click.Group):
    """Ctrl-C ends the run with 130 and one line, not click's "Aborted!" and exit 1 (the findings code)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("lrlint: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


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
    help="Simulate with torch what LR101-LR106 findings do to the schedule (needs the torch extra).",
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
        path = Path(stdin_filename or "-")
        found_stdin = _lint_standard_input(path, settings, debug)
        _report(found_stdin.findings, found_stdin.internal_errors, [], 1, shown)
        sys.exit(_exit_code(found_stdin.findings, found_stdin.internal_errors, [], exit_zero))

    if confirm and importlib.util.find_spec("torch") is None:
        _fail("--confirm needs torch: pip install 'lrlint[torch]' (the CPU build is enough)")
    found = discover(paths, settings.exclude, settings.root)
    for missing in found.missing:
        _report_missing(missing)
    if not found.files and not found.missing:
        click.echo("lrlint: warning: no Python files or notebooks found", err=True)

    cache = None if no_cache else Cache(_cache_directory(settings, cache_dir), settings)
    jobs = jobs or _usable_cpus()
    run = lint_files(found.files, settings, debug, jobs, cache)
    if diff:
        sys.exit(EXIT_FINDINGS if _show_fixes(run, settings) else EXIT_CLEAN)
    if fix and _apply_fixes(run, settings):
        run = lint_files(found.files, settings, debug, jobs, cache)  # what is left to report
    ordered, internal_errors = run.findings, run.internal_errors
    try:
        if write_baseline:
            baseline.write_baseline(Path(write_baseline), ordered)
            click.echo(f"lrlint: recorded {len(ordered)} finding(s) in {write_baseline}", err=True)
            sys.exit(EXIT_ERROR if internal_errors else EXIT_CLEAN)
        if baseline_path:
            filtered = baseline.without_baseline(Path(baseline_path), ordered)
            ordered = filtered.new
            if not quiet:
                click.echo(
                    f"lrlint: the baseline hid {filtered.hidden} finding(s); {filtered.stale} of its entries matched "
                    "nothing in this run (fixed, or in files not linted: --write-baseline refreshes it)",
                    err=True,
                )
    except baseline.BaselineError as error:
        _fail(str(error))
    if confirm:
        ordered = _confirmed(ordered, found.files)
    problem = cache.save() if cache is not None else None
    if problem:
        click.echo(f"lrlint: warning: {problem}", err=True)

    _report(ordered, internal_errors, found.missing, len(found.files), shown)
    sys.exit(_exit_code(ordered, internal_errors, found.missing, exit_zero))


@dataclass(frozen=True)
class _Shown:
    """How check presents its results: its output options."""

    output_format: str
    statistics: bool
    color: str
    output_file: str | None
    quiet: bool


def _report(
    ordered: list[Finding], internal_errors: list[str], missing: list[str], files_checked: int, shown: _Shown
) -> None:
    terminal = shown.output_file is None and sys.stdout.isatty()
    output = report.Output.for_stdout(terminal, shown.color if shown.output_file is None else "never")
    if shown.statistics:
        text = report.statistics(ordered, as_json=shown.output_format == "json")
    else:
        text = report.FORMATTERS[shown.output_format](ordered, output)
    _write_report(text, shown.output_file, output.colour)
    for message in internal_errors:
        click.echo(f"lrlint: {message}", err=True)
    if not shown.quiet and (ordered or not missing):  # not "All checks passed" after a missing path
        click.echo(report.summary(ordered, files_checked), err=True)


def _exit_code(ordered: list[Finding], internal_errors: list[str], missing: list[str], exit_zero: bool) -> int:
    if internal_errors or missing:
        return EXIT_ERROR
    return EXIT_FINDINGS if ordered and not exit_zero else EXIT_CLEAN


def _lint_standard_input(path: Path, settings: Settings, debug: bool) -> FileResult:
    from lrlint.linter import Linter  # LibCST only when there is code to parse

    return Linter(settings, debug).lint_data(path, sys.stdin.buffer.read())


def _settings(paths: tuple[str, ...], config_path: str | None, isolated: bool) -> Settings:
    if isolated:
        return Settings()
    if config_path is not None:
        return load_settings(Path(config_path))
    first = Path(paths[0])
    # A path that does not exist yet (an editor's unsaved buffer, `--stdin-filename`) is in its folder.
    start = next((place for place in (first, first.parent) if str(place) != "." and place.exists()), Path.cwd())
    return load_settings(find_config(start))


def _fixes(run: RunResult, settings: Settings) -> list[FileFix]:
    from lrlint.fix import fix_file  # LibCST: only when there is something to fix
    from lrlint.linter import Linter

    fixable = sorted({finding.path for finding in run.findings if finding.fixable})
    fixes = [fix_file(Path(path), Linter(settings, related=run.related)) for path in fixable]
    for fix in fixes:
        for note in fix.notes if fix else ():
            click.echo(f"lrlint: {note}", err=True)
    return [fix for fix in fixes if fix is not None and fix.changed]


def _show_fixes(run: RunResult, settings: Settings) -> bool:
    """Print the fixes as a unified diff; whether there is any."""
    fixes = _fixes(run, settings)
    for fix in fixes:
        click.echo(fix.diff(), nl=False)
    count = sum(fix.fixes for fix in fixes)
    click.echo(f"Would fix {count} finding{'s' if count != 1 else ''} in {len(fixes)} file(s).", err=True)
    return bool(fixes)


def _apply_fixes(run: RunResult, settings: Settings) -> bool:
    """Write the fixes; whether any file changed."""
    from lrlint.fix import write_fix

    written = 0
    for fix in _fixes(run, settings):
        problem = write_fix(fix)
        if problem:
            click.echo(f"lrlint: error: {problem}", err=True)
        else:
            written += fix.fixes
    if written:
        click.echo(f"Fixed {written} finding{'s' if written != 1 else ''}.", err=True)
    return written > 0


def _confirmed(findings: list[Finding], files: list[Path]) -> list[Finding]:
    """The findings, each with what torch makes of the code it is about, when lrlint can simulate it."""
    from lrlint import simulate as simulation

    schedules = simulation.simulate_files([str(file) for file in files], CONFIRM_EPOCHS, CONFIRM_STEPS_PER_EPOCH)
    return [
        replace(finding, consequence=simulation.consequence(finding.code, finding.path, finding.line, schedules))
        if finding.cell is None
        else finding
        for finding in findings
    ]


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


def _fail(message: str) -> None:
    click.echo(f"lrlint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
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
def simulate(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    paths: tuple[str, ...],
    epochs: int | None,
    steps_per_epoch: int,
    output_format: str,
    plot: bool,
    per_step: bool,
    png: str | None,
) -> None:
    """Show the learning rate each scheduler of PATHS produces, epoch by epoch, with real torch."""
    if importlib.util.find_spec("torch") is None:
        _fail("simulate needs torch: pip install 'lrlint[torch]' (the CPU build is enough)")
    if png and importlib.util.find_spec("matplotlib") is None:
        _fail("--png needs matplotlib: pip install 'lrlint[plot]' (or use --plot for a text chart)")
    from lrlint import simulate as simulation

    results = []
    for path in paths:
        if not Path(path).exists():
            _report_missing(path)
            continue
        try:
            results.append((path, *simulation.simulate_file(path, epochs, steps_per_epoch)))
        except simulation.CannotSimulate as reason:
            click.echo(f"lrlint: {path}: cannot simulate: {reason}", err=True)
    if output_format == "json":
        rows = [row for path, _, found in results for row in simulation.as_json(path, found, per_step)]
        click.echo(json.dumps(rows, indent=2))
    elif output_format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(simulation.CSV_STEP_HEADER if per_step else simulation.CSV_HEADER)
        for path, _, found in results:
            writer.writerows(simulation.render_csv(path, found, per_step))
    else:
        for path, simulated_epochs, found in results:
            click.echo(simulation.render_table(path, found, simulated_epochs, steps_per_epoch, per_step), nl=False)
            for schedule in found if plot else ():
                click.echo(simulation.render_plot(schedule), nl=False)
    if png:
        simulation.save_png([(path, s) for path, _, found in results for s in found if s.per_epoch], png)
        click.echo(f"lrlint: wrote {png}", err=True)
    if len(results) < len(paths):
        sys.exit(EXIT_ERROR)


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
