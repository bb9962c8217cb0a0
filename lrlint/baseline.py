"""Adopting lrlint on legacy code: record today's findings, report only new ones from then on.

A finding is recorded by its file (relative to the baseline file, so the baseline works from
any folder and on any machine), its code, and a fingerprint of the reported line's content,
not its number: adding or removing lines elsewhere in the file does not make an old finding
new. A line whose content changes is new code, and its findings are reported again. Identical
lines with the same code are counted, so a second copy of a known problem is still reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lrlint.findings import Finding
from lrlint.sources import LineReader

_FORMAT = 1

Key = tuple[str, str, str]  # (path relative to the baseline, code, fingerprint of the line)


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why (a usage error)."""


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    reader = LineReader()
    entries = [
        {"path": relative, "code": code, "fingerprint": fingerprint, "message": finding.message}
        for finding in findings
        for relative, code, fingerprint in [_key(finding, path.parent, reader)]
    ]
    data = {"lrlint_baseline": _FORMAT, "findings": entries}
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot write the baseline {path}: {error.strerror or error}") from None


@dataclass(frozen=True)
class Filtered:
    new: list[Finding]  # the findings the baseline does not account for, in their order
    hidden: int  # findings it accounts for
    stale: int  # its entries that no finding of this run matched (fixed, or in files not linted)


def without_baseline(path: Path, findings: Sequence[Finding]) -> Filtered:
    known = _read(path)
    reader = LineReader()
    new = []
    for finding in findings:
        key = _key(finding, path.parent, reader)
        if known[key] > 0:
            known[key] -= 1
        else:
            new.append(finding)
    return Filtered(new, len(findings) - len(new), sum(known.values()))


def _read(path: Path) -> Counter[Key]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot read the baseline {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise BaselineError(f"{path} is not a baseline written by --write-baseline: {error}") from None
    if (
        not isinstance(data, dict)
        or data.get("lrlint_baseline") != _FORMAT
        or not isinstance(data.get("findings"), list)
    ):
        raise BaselineError(f"{path} is not a baseline written by --write-baseline")
    try:
        return Counter((entry["path"], entry["code"], entry["fingerprint"]) for entry in data["findings"])
    except (KeyError, TypeError):
        raise BaselineError(f"{path}: a recorded finding lacks path, code or fingerprint") from None


def _key(finding: Finding, root: Path, reader: LineReader) -> Key:
    line = reader.line(finding.path, finding.cell, finding.line) or ""
    content = " ".join(line.split())  # indentation and spacing do not matter
    fingerprint = hashlib.blake2b(content.encode(), digest_size=8).hexdigest()
    return _relative(finding.path, root), finding.code, fingerprint


def _relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(root))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(absolute).as_posix()
