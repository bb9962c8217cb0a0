"""Output formats: for people (text, concise, full), for programs (json), for CI (github, sarif, junit).

`text` is `full` on a terminal (the source line with the reported code underlined, in colour
unless NO_COLOR is set) and `concise` otherwise: one `path:line:col: CODE severity: message`
line per finding, which scripts and editors parse.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from lrlint import __version__
from lrlint.findings import Finding, Severity
from lrlint.sources import LineReader


@dataclass(frozen=True)
class Output:
    """Where the report goes: decides `text` between full and concise, and colour."""

    terminal: bool = False
    colour: bool = False

    @classmethod
    def for_stdout(cls, terminal: bool, color: str = "auto") -> Output:
        """`color`: always, never, or auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)."""
        if color == "auto":
            colour = bool(os.environ.get("FORCE_COLOR")) or (terminal and not os.environ.get("NO_COLOR"))
        else:
            colour = color == "always"
        return cls(terminal, colour)


# -- for people -------------------------------------------------------------------------------


def format_concise(findings: Sequence[Finding], output: Output) -> str:
    lines = []
    for finding in findings:
        lines.append(_header(finding, output, mark_fixable=False))
        if finding.consequence:
            lines.append(_consequence(finding))
    return "".join(f"{line}\n" for line in lines)


def _consequence(finding: Finding) -> str:
    """The second line `--confirm` adds."""
    return f"  = {finding.consequence}"


def format_full(findings: Sequence[Finding], output: Output) -> str:
    lines = LineReader()
    blocks = []
    for finding in findings:
        block = [_header(finding, output, mark_fixable=True)]
        text = lines.line(finding.path, finding.cell, finding.line)
        if text is not None:
            block += _excerpt(finding, text, output)
        if finding.consequence:
            block.append(_consequence(finding))
        help_text = f"  = help: `lrlint rule {finding.code}` explains why"
        if finding.fixable:
            help_text += "; run with --fix to apply the fix"
        block.append(_paint(help_text, "2", output))
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks)


def format_text(findings: Sequence[Finding], output: Output) -> str:
    return format_full(findings, output) if output.terminal else format_concise(findings, output)


def _header(finding: Finding, output: Output, mark_fixable: bool) -> str:
    """`path:line:col: CODE severity: message`, the line scripts parse; `[*]` only for people."""
    code = _paint(finding.code, _severity_style(finding), output)
    fixable = " [*]" if mark_fixable and finding.fixable else ""
    return f"{_paint(_location(finding), '1', output)}: {code}{fixable} {finding.severity.value}: {finding.message}"


def _excerpt(finding: Finding, text: str, output: Output) -> list[str]:
    number = str(finding.line)
    gutter = " " * len(number)
    start = finding.column - 1
    same_line = finding.end_line in (None, finding.line) and finding.end_column is not None
    end = (finding.end_column - 1) if same_line and finding.end_column else len(text.rstrip())
    marks = "^" * max(1, min(end, len(text.rstrip())) - start)
    return [
        f"{gutter} |",
        f"{number} | {text.rstrip()}",
        f"{gutter} | {' ' * start}{_paint(marks, _severity_style(finding), output)}",
    ]


def _severity_style(finding: Finding) -> str:
    return "1;31" if finding.severity is Severity.ERROR else "1;33"  # bold red, bold yellow


def _paint(text: str, style: str, output: Output) -> str:
    return f"\x1b[{style}m{text}\x1b[0m" if output.colour else text


def _location(finding: Finding) -> str:
    if finding.cell is None:
        return f"{finding.path}:{finding.line}:{finding.column}"
    return f"{finding.path}:cell {_cell_number(finding)}:{finding.line}:{finding.column}"


def _cell_number(finding: Finding) -> int:
    """Cells as people and editors count them, from 1 (JSON keeps Jupyter's index, from 0)."""
    assert finding.cell is not None
    return finding.cell + 1


# -- for programs and CI ----------------------------------------------------------------------


def format_json(findings: Sequence[Finding], output: Output) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2) + "\n"


def format_github(findings: Sequence[Finding], output: Output) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    lines = []
    for finding in findings:
        level = "error" if finding.severity is Severity.ERROR else "warning"
        properties = {"file": finding.path, "title": f"{finding.code} ({finding.name})"}
        message = finding.message
        if finding.cell is None:  # a notebook's lines are not the lines of its JSON file
            properties |= {"line": str(finding.line), "col": str(finding.column)}
            if finding.end_line is not None and finding.end_column is not None:
                properties |= {"endLine": str(finding.end_line), "endColumn": str(finding.end_column)}
        else:
            message = f"cell {_cell_number(finding)}, line {finding.line}: {message}"
        rendered = ",".join(f"{key}={_github_escape(value, property_value=True)}" for key, value in properties.items())
        lines.append(f"::{level} {rendered}::{_github_escape(message)}\n")
    return "".join(lines)


def _github_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def format_sarif(findings: Sequence[Finding], output: Output) -> str:
    """SARIF 2.1.0, as GitHub code scanning and other CI dashboards read it."""
    from lrlint.rules import ALL_RULES  # the rule documentation goes into the log

    index = {rule.code: position for position, rule in enumerate(ALL_RULES)}
    notebooks = _NotebookLines()
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lrlint",
                        "version": __version__,
                        "rules": [_sarif_rule(rule) for rule in ALL_RULES],
                    }
                },
                "results": [_sarif_result(finding, index[finding.code], notebooks) for finding in findings],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(rule: Any) -> dict[str, Any]:
    from lrlint.docs import rule_url

    documentation = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "helpUri": rule_url(rule.code),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": documentation},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": "error" if rule.severity is Severity.ERROR else "warning"},
    }


def _sarif_result(finding: Finding, rule_index: int, notebooks: _NotebookLines) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.path)}}
    message = finding.message
    if finding.cell is None:
        region = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line is not None and finding.end_column is not None:
            region |= {"endLine": finding.end_line, "endColumn": finding.end_column}
        location["region"] = region
    else:  # the line of the notebook's JSON that holds the code line, where code scanning can show it
        message = f"cell {_cell_number(finding)}, line {finding.line}: {message}"
        location["region"] = {"startLine": notebooks.line(finding.path, finding.cell, finding.line)}
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": "error" if finding.severity is Severity.ERROR else "warning",
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }


class _NotebookLines:
    """Where a notebook cell's code lines are in the file's JSON (one string a line, as Jupyter writes)."""

    def __init__(self) -> None:
        self._starts: dict[str, dict[int, tuple[int, bool]]] = {}

    def line(self, path: str, cell: int, line: int) -> int:
        """The file line of the cell's code line; the cell's first line when the layout is not Jupyter's."""
        if path not in self._starts:
            self._starts[path] = _source_starts(path)
        start, is_list = self._starts[path].get(cell, (1, False))
        return start + line if is_list else start


def _source_starts(path: str) -> dict[int, tuple[int, bool]]:
    """For each cell, the file line of its `"source":` key and whether a list of lines follows it."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    starts: dict[int, tuple[int, bool]] = {}
    cell = -1
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if stripped.startswith('"cell_type":'):
            cell += 1
        elif stripped.startswith('"source":') and cell >= 0 and cell not in starts:
            starts[cell] = (number, stripped.endswith("["))
    return starts


def _uri(path: str) -> str:
    pure = PurePath(path)
    return Path(path).resolve().as_uri() if pure.is_absolute() else pure.as_posix()


def format_junit(findings: Sequence[Finding], output: Output) -> str:
    """JUnit XML: one test suite per file with findings, one failed test case per finding."""
    from xml.etree import ElementTree  # noqa: PLC0415 - only this format needs it

    suites = ElementTree.Element("testsuites", name="lrlint", tests=str(max(1, len(findings))))
    suites.set("failures", str(len(findings)))
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    for path, in_file in by_file.items():
        suite = ElementTree.SubElement(suites, "testsuite", name=path, tests=str(len(in_file)))
        suite.set("failures", str(len(in_file)))
        for finding in in_file:
            case = ElementTree.SubElement(suite, "testcase", name=f"{finding.code} {finding.name}", classname=path)
            case.set("file", path)
            case.set("line", str(finding.line))
            failure = ElementTree.SubElement(case, "failure", message=finding.message, type=finding.code)
            failure.text = f"{_location(finding)}: {finding.message}"
    if not findings:
        suite = ElementTree.SubElement(suites, "testsuite", name="lrlint", tests="1", failures="0")
        ElementTree.SubElement(suite, "testcase", name="no findings", classname="lrlint")
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


FORMATTERS: dict[str, Callable[[Sequence[Finding], Output], str]] = {
    "text": format_text,
    "concise": format_concise,
    "full": format_full,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
    "junit": format_junit,
}


# -- summaries --------------------------------------------------------------------------------


def statistics(findings: Sequence[Finding], as_json: bool) -> str:
    """How many findings of each code, most frequent first."""
    counts = Counter(f.code for f in findings)
    names = {f.code: f.name for f in findings}
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    if as_json:
        rows = [{"code": code, "name": names[code], "count": counts[code]} for code in ordered]
        return json.dumps(rows, indent=2) + "\n"
    width = len(str(max(counts.values(), default=0)))
    return "".join(f"{counts[code]:>{width}}  {code}  {names[code]}\n" for code in ordered)


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    checked = f"{files_checked} file{'s' if files_checked != 1 else ''} checked"
    if not findings:
        return f"All checks passed ({checked})."
    files = len({f.path for f in findings})
    count = len(findings)
    found = f"Found {count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''} ({checked})."
    fixable = sum(1 for finding in findings if finding.fixable)
    return found + (f" [*] {fixable} fixable with --fix." if fixable else "")
