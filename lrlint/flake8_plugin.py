"""lrlint as a flake8 plugin: the same findings, as `LRL` codes (`LR101` is `LRL101`).

flake8 hands over one file at a time; lrlint still follows its calls into the project's other
modules, and reports a finding only in the file flake8 is checking (the others are reported
when flake8 checks them). flake8 applies its own --select, --ignore and `# noqa`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lrlint import __version__
from lrlint.api import check_source
from lrlint.config import Settings
from lrlint.sources import Source

PREFIX = "LRL"


def flake8_code(code: str) -> str:
    return PREFIX + code.removeprefix("LR")


class Plugin:
    name = "lrlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        # flake8 decides what kind of plugin this is from the parameters: `tree` makes it run
        # once per file; lrlint reads the lines with LibCST instead of using the tree.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        outcome = check_source(Source(self.filename, "".join(self.lines)), Settings())
        for finding in outcome.findings:
            if finding.path == self.filename:
                yield finding.line, finding.column - 1, f"{flake8_code(finding.code)} {finding.message}", type(self)
