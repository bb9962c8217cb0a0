"""Reading `# expect: CODE[, CODE]` comments, the inline expectations of examples and fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lrlint.config import Settings
from lrlint.linter import lint_path, lint_source
from lrlint.sources import Source

EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>LR\d{3}(?:\s*,\s*LR\d{3})*)")

Expected = set[tuple[int | None, int, str]]  # (cell, line, code)


def expected_in_text(text: str, cell: int | None = None) -> Expected:
    found: Expected = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found |= {(cell, number, code.strip()) for code in match.group("codes").split(",")}
    return found


def expected_in_file(path: Path) -> Expected:
    if path.suffix != ".ipynb":
        return expected_in_text(path.read_text(encoding="utf-8", errors="replace"))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found: Expected = set()
    for index, cell in enumerate(notebook["cells"]):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code":
            found |= expected_in_text(text, index)
    return found


DEFAULT_SETTINGS = Settings()


def reported_in_file(path: Path, settings: Settings = DEFAULT_SETTINGS) -> Expected:
    result = lint_path(path, settings)
    assert not result.internal_errors, result.internal_errors
    return {(f.cell, f.line, f.code) for f in result.findings}


def reported_in_code(code: str, settings: Settings = DEFAULT_SETTINGS) -> Expected:
    result = lint_source(Source("<example>", code), settings)
    assert not result.internal_errors, result.internal_errors
    return {(f.cell, f.line, f.code) for f in result.findings}
