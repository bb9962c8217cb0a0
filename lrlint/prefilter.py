"""Deciding from the text that a file cannot contain a finding, so it is never parsed.

Every rule needs a scheduler that lrlint resolves by qualified name, and every spelling of one
leaves a mark in the file: `lr_scheduler` (the torch module, in any import form, also for
in-file subclasses of its classes), or `transformers` together with a factory name
(`get_linear_schedule_with_warmup`, `get_scheduler`, ...), which is imported from it.
A file with neither skips parsing, the expensive step; it is still read and decoded, so
unreadable files are reported, but its syntax is not checked (LR000 for invalid syntax covers
the analysed files). tests/test_prefilter.py checks on every fixture and rule example that
this hides no rule finding.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lrlint.catalog import scheduler_specs

_TRANSFORMERS_FACTORY = re.compile(r"get_\w*schedul")


def may_contain_findings(code: str) -> bool:
    if "lr_scheduler" in code:
        return True
    return "transformers" in code and _TRANSFORMERS_FACTORY.search(code) is not None


# -- across a project ------------------------------------------------------------------------------
# A module that never names a scheduler can still step one it inherits: a subclass of a trainer
# whose base class, in another module, builds the scheduler. Such a module is analysed when it
# imports a class whose own code builds a scheduler, or a subclass of one (followed through
# chains of subclasses). Functions that receive a scheduler are analysed from their caller.

_CLASS = re.compile(r"^class[ \t]+([A-Za-z]\w*)[ \t]*(?:\(([^)]*)\))?", re.MULTILINE)
_TOP_LEVEL = re.compile(r"^\S", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+)?import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_WORD = re.compile(r"\w+")


def imported_names(code: str) -> set[str]:
    """Every identifier on the file's import statements: modules, names, aliases."""
    names: set[str] = set()
    for module, imported in _IMPORT.findall(code):
        names.update(_WORD.findall(module))
        names.update(_WORD.findall(imported))
    return names


class ProjectPrefilter:
    """Decides which files to analyse, knowing the other files of the run."""

    def __init__(self, texts: dict[str, str]) -> None:
        constructs = _scheduler_construction()
        names = {
            name
            for code in texts.values()
            if may_contain_findings(code)
            for name, body in _classes(code)
            if constructs.search(body)
        }
        subclasses = [  # (class, the names its bases use, its module's code)
            (name, set(_WORD.findall(bases)), code)
            for code in texts.values()
            for name, bases in _class_bases(code)
            if bases
        ]
        visible: dict[int, set[str]] = {}  # names a module imports or defines, computed when needed
        while True:  # subclasses of those classes, through chains of subclasses
            new = set()
            for name, bases, code in subclasses:
                if name not in names and bases & names:
                    if id(code) not in visible:
                        visible[id(code)] = imported_names(code) | {n for n, _ in _class_bases(code)}
                    if bases & names & visible[id(code)]:
                        new.add(name)
            if not new:
                break
            names |= new
        self.names = frozenset(names)

    def may_contain_findings(self, code: str) -> bool:
        if may_contain_findings(code):
            return True
        return any(name in code for name in self.names) and bool(imported_names(code) & self.names)


@lru_cache(maxsize=1)
def _scheduler_construction() -> re.Pattern[str]:
    """A call that builds a scheduler: `StepLR(`, `lr_scheduler.OneCycleLR(`, `get_cosine_schedule_with_warmup(`."""
    names = "|".join(sorted(scheduler_specs()))
    return re.compile(rf"\b(?:{names}|_?LRScheduler)\s*\(|\bget_\w*schedul\w*\s*\(")


def _classes(code: str) -> list[tuple[str, str]]:
    """(name, source of the class body) for every top-level class."""
    found = []
    for match in _CLASS.finditer(code):
        end = _TOP_LEVEL.search(code, match.end())
        found.append((match.group(1), code[match.start() : end.start() if end else len(code)]))
    return found


def _class_bases(code: str) -> list[tuple[str, str]]:
    return [(match.group(1), match.group(2) or "") for match in _CLASS.finditer(code)]
