"""One run of lrlint, whatever front end asks for it: the command line, the flake8 plugin, tests.

`check(paths, settings, options)` runs the whole sequence: discover the files, lint them (on
every core, through the cache), apply fixes and lint again, set a baseline's findings aside,
and add what torch makes of each finding (`confirm`). It prints nothing and never exits: the
`Outcome` says what happened, and each front end decides how to show it. `check_source` lints
one buffer (standard input, an editor's unsaved file) as if it were at its path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint import baseline
from lrlint.cache import Cache
from lrlint.config import Settings
from lrlint.discovery import discover
from lrlint.engine import RunResult, lint_files
from lrlint.findings import Finding
from lrlint.importers import importers
from lrlint.sources import Source

if TYPE_CHECKING:
    from lrlint.fix import FileFix

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# What `confirm` simulates, as its messages say: the code's own epoch count (else simulate's default).
CONFIRM_EPOCHS, CONFIRM_STEPS_PER_EPOCH = None, 100


class UsageError(Exception):
    """The request cannot be carried out as asked (a baseline that cannot be read, `confirm` without
    torch); the message says why."""


@dataclass(frozen=True)
class CheckOptions:
    jobs: int = 1
    cache_dir: Path | None = None  # None: neither read nor write a cache
    fix: bool = False  # write the fixes of fixable findings, then report what is left
    baseline: Path | None = None  # findings recorded there are set aside
    confirm: bool = False  # simulate with torch what each finding does to its schedule
    write_baseline: Path | None = None  # record the findings there (and set nothing aside)
    debug: bool = False  # internal errors carry their traceback


@dataclass
class Outcome:
    findings: list[Finding]  # in path / cell / line / column order
    internal_errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths asked for that do not exist
    files_checked: int = 0
    fixed: int = 0  # findings `fix` removed by writing their files
    notes: list[str] = field(default_factory=list)  # for the user: fixes left alone, cache problems
    baseline: baseline.Filtered | None = None  # what the baseline hid, when there was one

    def exit_code(self, exit_zero: bool = False) -> int:
        """0 clean, 1 findings (0 with `exit_zero`), 2 an internal error or a missing path."""
        if self.internal_errors or self.missing:
            return EXIT_ERROR
        return EXIT_FINDINGS if self.findings and not exit_zero else EXIT_CLEAN


def check(paths: Sequence[str | Path], settings: Settings, options: CheckOptions | None = None) -> Outcome:
    """Lint files and folders as `lrlint check PATHS` does."""
    options = options or CheckOptions()
    if options.confirm and importlib.util.find_spec("torch") is None:
        raise UsageError("--confirm needs torch: pip install 'lrlint[torch]' (the CPU build is enough)")
    found = discover(
        tuple(str(path) for path in paths), settings.exclude, settings.root, gitignore=settings.respect_gitignore
    )
    cache = Cache(options.cache_dir, settings) if options.cache_dir is not None else None
    callers = importers([Path(path) for path in paths if Path(path).is_file()], settings)
    run = _lint(found.files, callers, settings, options, cache)
    outcome = Outcome(run.findings, run.internal_errors, [str(path) for path in found.missing], len(found.files))
    outcome.notes += [f"warning: {skipped}" for skipped in run.skipped]
    if options.fix:
        outcome.fixed = _apply_fixes(run, settings, outcome.notes)
        if outcome.fixed:
            run = _lint(found.files, callers, settings, options, cache)  # what is left
            outcome.findings, outcome.internal_errors = run.findings, run.internal_errors
    if options.write_baseline is not None:
        baseline.write_baseline(options.write_baseline, outcome.findings)
        outcome.notes.append(f"recorded {len(outcome.findings)} finding(s) in {options.write_baseline}")
        return outcome
    if options.baseline is not None:
        try:
            outcome.baseline = baseline.without_baseline(options.baseline, outcome.findings)
        except baseline.BaselineError as error:
            raise UsageError(str(error)) from error
        outcome.findings = outcome.baseline.new
    if options.confirm:
        outcome.findings = _confirmed(outcome.findings, found.files)
    problem = cache.save() if cache is not None else None
    if problem:
        outcome.notes.append(f"warning: {problem}")
    return outcome


def _lint(
    files: list[Path], callers: list[Path], settings: Settings, options: CheckOptions, cache: Cache | None
) -> RunResult:
    """Lint the files, and the modules that import them for what they reveal about the files (the
    callers are analysed, their own findings are not reported)."""
    run = lint_files(files + callers, settings, options.debug, options.jobs, cache)
    if callers:
        asked = {path.resolve() for path in files}
        run.findings = [finding for finding in run.findings if Path(finding.path).resolve() in asked]
    return run


def check_source(source: Source, settings: Settings, debug: bool = False, callers: Sequence[Path] = ()) -> Outcome:
    """Lint one buffer as if it were the file at `source.path` (its project's other modules are read
    from disk). With `callers` (`importers_of(path)`), those modules are analysed too, against the
    buffer's text, for what they reveal about the buffer: a per-batch `scheduler.step()` in
    `engine.py` is found from the `main.py` that builds the scheduler."""
    from lrlint.linter import Linter  # LibCST only when there is code to parse

    linter = Linter(settings, debug)
    result = linter.lint_source(source)  # the buffer is now the project's module at its path
    findings, errors = list(result.findings), list(result.internal_errors)
    own = Path(source.path).resolve()
    for caller in callers:
        found = linter.lint_path(caller)
        findings += [f for f in found.findings if Path(f.path).resolve() == own and f not in findings]
        errors += found.internal_errors
    return Outcome(sorted(findings, key=Finding.sort_key), errors, files_checked=1 + len(callers))


def importers_of(path: Path, settings: Settings, transitive: bool = True) -> list[Path]:
    """The project's modules that import the file at `path` (nearest first), or only those that
    import it directly."""
    return importers([path], settings, transitive)


def fixed_source(source: Source, settings: Settings, only: Callable[[Finding], bool] | None = None) -> str:
    """The buffer with every fix `--fix` would make (an editor's "fix all"), or the fixes of the
    findings `only` selects (its quick fix of one finding); nothing written."""
    from lrlint.fix import fixed_code
    from lrlint.linter import Linter

    return fixed_code(source, Linter(settings), only)[0]


def check_data(path: Path, data: bytes, settings: Settings, debug: bool = False) -> Outcome:
    """Lint raw bytes (standard input) as the file at `path`: decoded, or an LR000 when they cannot be."""
    from lrlint.linter import Linter

    result = Linter(settings, debug).lint_data(path, data)
    return Outcome(result.findings, result.internal_errors, files_checked=1)


def fixes(
    paths: Sequence[str | Path], settings: Settings, options: CheckOptions | None = None, notes: list[str] | None = None
) -> list[FileFix]:
    """The fixes `check(..., fix=True)` would write, file by file, without writing them (`--diff`);
    why some were left alone goes to `notes`."""
    options = options or CheckOptions()
    found = discover(
        tuple(str(path) for path in paths), settings.exclude, settings.root, gitignore=settings.respect_gitignore
    )
    run = lint_files(found.files, settings, options.debug, options.jobs, None)
    return _fixes(run, settings, notes if notes is not None else [])


def _fixes(run: RunResult, settings: Settings, notes: list[str]) -> list[FileFix]:
    from lrlint.fix import fix_file  # LibCST: only when there is something to fix
    from lrlint.linter import Linter

    linter = Linter(settings, related=run.related)  # one project: modules the files share are parsed once
    fixable = sorted({finding.path for finding in run.findings if finding.fixable})
    found = [fix_file(Path(path), linter) for path in fixable]
    notes += [note for fix in found if fix is not None for note in fix.notes]
    return [fix for fix in found if fix is not None and fix.changed]


def _apply_fixes(run: RunResult, settings: Settings, notes: list[str]) -> int:
    """Write the fixes; how many findings they fixed."""
    from lrlint.fix import write_fix

    written = 0
    for fix in _fixes(run, settings, notes):
        problem = write_fix(fix)
        if problem:
            notes.append(f"error: {problem}")
        else:
            written += fix.fixes
    return written


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
