"""Linting one file: read -> parse -> model -> rules -> findings (with noqa applied)."""

from __future__ import annotations

import gc
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from lrlint.config import SEVERITIES, Settings, matches
from lrlint.findings import FileResult, Finding
from lrlint.first_look import needs_model
from lrlint.guards import MAX_BRACKET_DEPTH, bracket_depth_and_span, overlong_chain, python_syntax_tree
from lrlint.model import Project, TrainingModel, build_model
from lrlint.prefilter import FileFacts, ProjectPrefilter, SourceNeed, read_state
from lrlint.rules import ALL_RULES
from lrlint.rules.base import Fix, Report, Rule
from lrlint.rules.lr000_syntax_error import SyntaxErrorRule
from lrlint.sources import Cell, Source, SourceError, read_source, source_of

_LIBCST_POSITION = re.compile(r"^parser error: error at \d+:\d+: ")
# Parsed modules are kept for the files linted after them, up to this much code (LibCST trees
# take ~500 bytes of memory per character of code), so memory stays flat on large codebases.
_PROJECT_CODE_BUDGET = 1_000_000
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+\d+(?:[\s,]+[A-Za-z]+\d+)*))?", re.IGNORECASE)
# `# lrlint: noqa` on a line of its own silences the whole file; `# lrlint: noqa: LR401, LR3` those codes.
_FILE_NOQA = re.compile(
    r"^[ \t]*#\s*lrlint:\s*noqa(?::\s*(?P<codes>[A-Za-z]+\d*(?:[\s,]+[A-Za-z]+\d*)*))?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class Fixable:
    """What `--fix` needs of one linted file: its parsed module and the fixes of its findings."""

    module: cst.Module
    source: Source  # what the module was parsed from (for a notebook, the cells that parse)
    fixes: list[Fix]
    findings: list[Finding]  # the finding each fix removes, in the same order


class Linter:
    """Lints files one by one; the project's modules, once parsed, are shared by all of them."""

    def __init__(self, settings: Settings, debug: bool = False, related: ProjectPrefilter | None = None) -> None:
        self.settings = settings
        self.debug = debug
        self.project = Project(settings.max_file_bytes)
        self.related = related  # which files without a scheduler still matter, given the others

    @classmethod
    def for_files(cls, paths: list[Path], settings: Settings, debug: bool = False) -> Linter:
        """A linter that knows every file of the run, to analyse modules that import the relevant ones."""
        states = [read_state(path, settings.max_file_bytes) for path in paths]
        return cls(settings, debug, ProjectPrefilter.of_states(states, rule_needs(settings)))

    def _relevant(self, code: str) -> bool:
        related = self.related or ProjectPrefilter((), rule_needs(self.settings))
        return related.relevant(FileFacts.of(code))

    def lint_path(self, path: Path) -> FileResult:
        try:
            source = read_source(path, self.settings.max_file_bytes)
        except SourceError as error:
            return self._unreadable(path, error)
        return self.lint_source(source)

    def lint_data(self, path: Path, data: bytes) -> FileResult:
        """Bytes read elsewhere (standard input) linted as the file `path`."""
        try:
            source = source_of(path, data)
        except SourceError as error:
            return self._unreadable(path, error)
        return self.lint_source(source)

    def _unreadable(self, path: Path, error: SourceError) -> FileResult:
        result = FileResult(str(path))
        result.findings.append(_syntax_finding(str(path), str(error), error.line, error.column, error.cell))
        return _filtered(result, self.settings)

    def lint_source(self, source: Source) -> FileResult:
        return self._lint(source)[0]

    def fixable(self, source: Source) -> Fixable | None:
        """The module parsed from `source` and the fixes of its reported findings (None: nothing parsed)."""
        return self._lint(source)[1]

    def _lint(self, source: Source) -> tuple[FileResult, Fixable | None]:
        with _collector_paused():
            return self._lint_unpaused(source)

    def _lint_unpaused(self, source: Source) -> tuple[FileResult, Fixable | None]:
        result = FileResult(source.path, digest=source.digest)
        if not self._relevant(source.code):
            return result, None
        outlines = self.project.outlines
        outlines.begin_file()
        if not needs_model(source.code, Path(source.path), outlines):
            result.dependencies = dict(outlines.consulted)  # what the first look relied on
            return result, None
        self.project.begin_file()
        parsed = None if source.is_notebook else self.project.parsed(Path(source.path), source)
        module, source = (parsed, source) if parsed is not None else _parse(source, result)
        rules = enabled_rules(self.settings)
        fixes: dict[Finding, Fix] = {}
        if module is not None and rules:
            self._run_rules(module, source, rules, result, fixes)
        result.dependencies = dict(self.project.consulted)
        if self.project.code_size > _PROJECT_CODE_BUDGET:
            self.project = Project(self.settings.max_file_bytes)  # parse again what is needed later
        result = _filtered(result, self.settings)
        fixed = [finding for finding in result.findings if finding in fixes]
        return result, Fixable(module, source, [fixes[f] for f in fixed], fixed) if module is not None else None

    def _run_rules(
        self, module: cst.Module, source: Source, rules: list[type[Rule]], result: FileResult, fixes: dict[Finding, Fix]
    ) -> None:
        try:
            model = build_model(module, source, self.project)
        except RecursionError:
            result.findings.append(_syntax_finding(source.path, "code is nested too deeply to analyse", 1, 1, None))
            return
        except Exception as error:  # noqa: BLE001 - one file's internal error must not stop the run
            result.internal_errors.append(_internal_error(source.path, "building the model", error, self.debug))
            return
        for rule_class in rules:
            try:
                reports = list(rule_class(self.settings).check(model))
            except Exception as error:  # noqa: BLE001 - one rule's internal error must not stop the run
                result.internal_errors.append(_internal_error(source.path, rule_class.code, error, self.debug))
                continue
            for report in reports:
                fix = report.fix if report.fix and all(model.metadata.has(node) for node in report.fix) else None
                finding = _finding(model, rule_class, report, fixable=fix is not None)
                if finding is not None and finding not in result.findings:
                    result.findings.append(finding)
                    if fix is not None:
                        fixes[finding] = fix


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one file is parsed and analysed.

    Parsing and modelling allocate millions of objects while the project's parsed modules stay
    alive, and every full collection walks all of them again: about a fifth of a run on dense
    training code, for garbage that is almost all freed by reference counting anyway. The cycles
    a file leaves are collected once the collector runs again, after the file (mypy pauses it
    around parsing for the same reason).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def lint_path(path: Path, settings: Settings, debug: bool = False) -> FileResult:
    return Linter(settings, debug).lint_path(path)


def lint_source(source: Source, settings: Settings, debug: bool = False) -> FileResult:
    return Linter(settings, debug).lint_source(source)


def _parse(source: Source, result: FileResult) -> tuple[cst.Module | None, Source]:
    """The parsed module; for a notebook, the cells that do not parse are reported and left out."""
    module, error = try_parse(source.code)
    if error is None or not source.is_notebook:
        if error is not None:
            result.findings.append(_syntax_finding(source.path, *error, cell=None))
        return module, source
    good: list[tuple[Cell, str]] = []
    for cell, code in _cell_codes(source):
        _, cell_error = try_parse(code)
        if cell_error is None:
            good.append((cell, code))
        else:
            result.findings.append(_syntax_finding(source.path, *cell_error, cell=cell.index))
    rebuilt = _join_cells(source.path, good)
    module, error = try_parse(rebuilt.code)
    if error is not None:  # cells that parse alone but not together: report on the notebook
        result.findings.append(_syntax_finding(source.path, *error, cell=None))
    return module, rebuilt


def try_parse(code: str) -> tuple[cst.Module | None, tuple[str, int, int] | None]:
    """The module, or why it cannot be parsed (message, line, column), never crashing LibCST."""
    depth, longest_span = bracket_depth_and_span(code)
    if depth > MAX_BRACKET_DEPTH:
        return None, _describe_syntax_error(code, ValueError("too many nested parentheses"))
    hazard = overlong_chain(code, longest_span)
    if hazard is not None:
        return None, hazard
    try:
        return cst.parse_module(code), None
    except RecursionError:
        return None, ("code is nested too deeply to parse", 1, 1)
    except Exception as error:  # noqa: BLE001 - ParserSyntaxError, and whatever else the native parser raises
        return None, _describe_syntax_error(code, error)


def _describe_syntax_error(code: str, libcst_error: Exception) -> tuple[str, int, int]:
    """CPython's message and position, which users know; LibCST's when CPython accepts the code."""
    try:
        python_syntax_tree(code)
    except SyntaxError as error:
        message = error.msg if error.msg.startswith("invalid syntax") else f"invalid syntax: {error.msg}"
        return message, error.lineno or 1, error.offset or 1
    except (RecursionError, MemoryError, ValueError):
        return "code is nested too deeply to parse", 1, 1
    detail = _LIBCST_POSITION.sub("", getattr(libcst_error, "message", str(libcst_error))).splitlines()[0]
    line = getattr(libcst_error, "raw_line", 1)
    return f"syntax lrlint's parser (LibCST) does not support: {detail}", line, 1


def _cell_codes(source: Source) -> list[tuple[Cell, str]]:
    lines = source.code.splitlines(keepends=True)
    bounds = [cell.first_line for cell in source.cells[1:]] + [len(lines) + 1]
    return [
        (cell, "".join(lines[cell.first_line - 1 : end - 1])) for cell, end in zip(source.cells, bounds, strict=True)
    ]


def _join_cells(path: str, cells: list[tuple[Cell, str]]) -> Source:
    placed, next_line = [], 1
    for cell, code in cells:
        placed.append(Cell(cell.index, next_line))
        next_line += code.count("\n")
    return Source(path, "".join(code for _, code in cells), tuple(placed))


def _finding(model: TrainingModel, rule: type[Rule], report: Report, fixable: bool) -> Finding | None:
    """The finding at the report's node, in whichever module of the project it is; None under noqa."""
    analysis, line, column = model.locate(report.node)
    source = analysis.source
    if _suppressed(source, line, rule.code):
        return None
    cell, cell_line = source.locate(line)
    # An argument's node runs on to its comma: underline up to the end of its value instead.
    last = report.node.value if isinstance(report.node, cst.Arg) else report.node
    end_line, end_column = analysis.metadata.end(last)
    return Finding(
        source.path,
        cell_line,
        column,
        rule.code,
        rule.name,
        report.message,
        report.severity or rule.severity,
        cell,
        end_line=end_line - (line - cell_line),  # in the same cell as the start
        end_column=end_column,
        fixable=fixable,
    )


def _syntax_finding(path: str, message: str, line: int, column: int, cell: int | None) -> Finding:
    rule = SyntaxErrorRule
    return Finding(path, max(line, 1), max(column, 1), rule.code, rule.name, message, rule.severity, cell)


def _internal_error(path: str, where: str, error: Exception, debug: bool) -> str:
    line = f"{path}: internal error in {where}: {type(error).__name__}: {error}".splitlines()[0]
    return line + ("\n" + traceback.format_exc() if debug else "")


def _filtered(result: FileResult, settings: Settings) -> FileResult:
    threshold = SEVERITIES.index(settings.min_severity)
    result.findings = sorted(
        (
            finding
            for finding in result.findings
            if settings.enabled_for(finding.code, finding.path)
            and SEVERITIES.index(finding.severity.value) >= threshold
        ),
        key=Finding.sort_key,
    )
    return result


def _suppressed(source: Source, line: int, code: str) -> bool:
    """`# noqa` or `# noqa: CODE` on the line (of the combined code, for a notebook), or a file-level
    `# lrlint: noqa[: CODES]`."""
    if "lrlint:" in source.code and any(
        match.group("codes") is None or matches(code, _codes_of(match.group("codes")))
        for match in _FILE_NOQA.finditer(source.code)
    ):
        return True
    match = _NOQA.search(source.line_text(line))
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or code in _codes_of(codes)


def _codes_of(text: str) -> tuple[str, ...]:
    """The codes of a `# noqa:` list; flake8's spelling of lrlint's codes (`LRL101`) counts as `LR101`."""
    codes = (c.upper() for c in re.split(r"[\s,]+", text) if c)
    return tuple("LR" + c[3:] if c.startswith("LRL") else c for c in codes)


def enabled_rules(settings: Settings) -> list[type[Rule]]:
    """The rules a run applies to a parsed file (LR000 is reported where parsing fails)."""
    return [rule for rule in ALL_RULES if rule is not SyntaxErrorRule and settings.enabled(rule.code)]


def rule_needs(settings: Settings) -> frozenset[SourceNeed]:
    """What a file must contain for one of the enabled rules to report in it: the prefilter's test."""
    return frozenset().union(*(rule.needs for rule in enabled_rules(settings)))
