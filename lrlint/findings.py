"""A finding: one problem at one place, as every output format reports it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

_RULE_MODULE = re.compile(r"^(lr\d{3})_\w+\.py$")


@cache
def known_codes() -> frozenset[str]:
    """Every rule code, read from the rule modules' names (lr101_....py) without importing them."""
    names = (Path(__file__).parent / "rules").iterdir()
    return frozenset(match.group(1).upper() for name in names if (match := _RULE_MODULE.match(name.name)))


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 1-based; within the cell for a notebook
    column: int  # 1-based
    code: str
    name: str
    message: str
    severity: Severity
    cell: int | None = None  # 0-based index among the notebook's cells
    end_line: int | None = None  # where the reported code ends (same numbering as line)
    end_column: int | None = None  # 1-based, just after the last character
    fixable: bool = False  # `--fix` can fix it
    consequence: str | None = None  # with `--confirm`: what torch does with the code, simulated

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, -1 if self.cell is None else self.cell, self.line, self.column, self.code)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        for optional in ("cell", "end_line", "end_column", "consequence"):
            if data[optional] is None:
                del data[optional]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data["severity"])})


@dataclass
class FileResult:
    """What linting one file produced, and what that result depends on (for the cache)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # one line each; the traceback with --debug
    digest: str = ""  # of the file's bytes as analysed; empty when it could not be read
    dependencies: dict[str, str] = field(default_factory=dict)  # other module files read: path -> digest
