"""Output formats: text (one finding a line, summary on stderr) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lrlint.findings import Finding


def format_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{_location(f)}: {f.code} {f.severity.value}: {f.message}\n" for f in findings)


def _location(finding: Finding) -> str:
    if finding.cell is None:
        return f"{finding.path}:{finding.line}:{finding.column}"
    return f"{finding.path}:cell {finding.cell}:{finding.line}:{finding.column}"


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2) + "\n"


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    checked = f"{files_checked} file{'s' if files_checked != 1 else ''} checked"
    if not findings:
        return f"All checks passed ({checked})."
    files = len({f.path for f in findings})
    count = len(findings)
    return f"Found {count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''} ({checked})."


FORMATTERS = {"text": format_text, "json": format_json}
