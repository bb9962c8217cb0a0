"""Deciding from the text that a file cannot contain a finding, so it is never parsed.

Every rule needs a scheduler that lrlint resolves by qualified name, and every spelling of one
leaves a mark in the file: `lr_scheduler` as an attribute or an imported name (the torch module,
in any import form, also for in-file subclasses of its classes), or `transformers` together with a factory name
(`get_linear_schedule_with_warmup`, `get_scheduler`, ...), which is imported from it.
A file with neither skips parsing, the expensive step; it is still read and decoded, so
unreadable files are reported, but its syntax is not checked (LR000 for invalid syntax covers
the analysed files). tests/test_prefilter.py checks on every fixture and rule example that
this hides no rule finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from lrlint.catalog import scheduler_specs
from lrlint.sources import SourceError, TooLarge, read_source


class SourceNeed(Enum):
    """The text a rule needs in a file (or in a module it imports) to report anything there. Each
    rule states its needs; a file that meets none of the enabled rules' needs is never parsed."""

    SCHEDULER = "a scheduler lrlint can resolve"  # may_contain_findings, or a project class using one
    ANY = "any code"  # nothing is skipped


NEEDS_A_SCHEDULER = frozenset({SourceNeed.SCHEDULER})

_TRANSFORMERS_FACTORY = re.compile(r"get_\w*schedul")
# `lr_scheduler.step(`, `self.scheduler.step(`: a scheduler lrlint may know by its name or annotation only.
STEPS_A_SCHEDULER = re.compile(r"sched\w*(?:\(\))?\.step\(")  # also `self.lr_schedulers().step()`
# `self.scheduler.step()` under any name: may step a scheduler a base class of the project built.
STEPS_AN_ATTRIBUTE = re.compile(r"self\.\w+\.step\(")


# An mmengine config's scheduler with a window: `dict(type="MultiStepLR", begin=0, end=24, ...)`.
DECLARES_A_WINDOWED_SCHEDULER = re.compile(r"""type\s*=\s*['"]?(?:MultiStep|Step)LR\b[^)]*\bend\s*=""")


def may_contain_findings(code: str) -> bool:
    if "lr_scheduler" in code and _names_scheduler_module(code):
        return True
    if "StepLR" in code and DECLARES_A_WINDOWED_SCHEDULER.search(code):
        return True
    if "sched" in code and STEPS_A_SCHEDULER.search(code):
        return True  # `lr_scheduler.step()`: a scheduler known by its name, its annotation or its factory
    return "transformers" in code and _TRANSFORMERS_FACTORY.search(code) is not None


# `torch.optim.lr_scheduler`, `self.lr_scheduler`; not a path such as "optim/lr_scheduler.py".
_MODULE_ATTRIBUTE = re.compile(r"\.lr_scheduler\b(?!\.py)")


def _names_scheduler_module(code: str) -> bool:
    """`lr_scheduler` as code can use it: an attribute, or a name on an import statement."""
    return _MODULE_ATTRIBUTE.search(code) is not None or "lr_scheduler" in imported_names(code)


# -- across a project ------------------------------------------------------------------------------
# A module that never names a scheduler can still step one it inherits: a subclass of a trainer
# whose base class, in another module, builds the scheduler. Such a module is analysed when it
# imports a class whose own code builds a scheduler, or a subclass of one (followed through
# chains of subclasses). Functions that receive a scheduler are analysed from their caller.

_CLASS = re.compile(r"^class[ \t]+([A-Za-z]\w*)[ \t]*(?:\(([^)]*)\))?", re.MULTILINE)
_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_TOP_LEVEL = re.compile(r"^\S", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+)?import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_WORD = re.compile(r"\w+")
_DOCTEST_LINE = re.compile(r"^[ \t]*(?:>>>|\.\.\.)[^\n]*", re.MULTILINE)


def imported_names(code: str) -> set[str]:
    """Every identifier on the file's import statements: modules, names, aliases."""
    names: set[str] = set()
    for match in _matches_at_lines_with(code, "import", _IMPORT):
        module, imported = match.groups()
        names.update(_WORD.findall(module or ""))
        names.update(_WORD.findall(imported))
    return names


def _matches_at_lines_with(code: str, keyword: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """`pattern` matched at the start of each line containing `keyword`.

    The same matches as a multi-line `pattern.finditer`, found with str.find: scanning a
    megabyte of source for a rare keyword is far cheaper than trying a regex at every line.
    """
    position, previous_line = code.find(keyword), -1
    while position != -1:
        line = code.rfind("\n", 0, position) + 1
        if line != previous_line:
            match = pattern.match(code, line)
            if match is not None:
                yield match
            previous_line = line
        position = code.find(keyword, position + len(keyword))


@dataclass(frozen=True)
class FileFacts:
    """What the project prefilter needs to know of one file, read from its text once (and cached)."""

    mentions_scheduler: bool  # may_contain_findings(code)
    constructing: tuple[str, ...]  # top-level classes and functions that build a scheduler (or classes that are one)
    class_bases: tuple[tuple[str, tuple[str, ...]], ...]  # (class, the names its bases use)
    imported_names: frozenset[str]  # every identifier on the file's import statements

    @classmethod
    def of(cls, code: str) -> FileFacts:
        mentions = may_contain_findings(code)
        classes = _classes(code)
        constructs, extends = _scheduler_construction(), _scheduler_base()
        constructing = (
            [c.name for c in classes if extends.search(c.bases) or constructs.search(_block(code, c.body_start))]
            + [name for name, start in _functions(code) if constructs.search(_block(code, start))]
            if mentions
            else []
        )
        return cls(
            mentions_scheduler=mentions,
            constructing=tuple(constructing),
            class_bases=tuple((c.name, words) for c in classes if (words := tuple(_WORD.findall(c.bases)))),
            imported_names=frozenset(imported_names(code)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "mentions_scheduler": self.mentions_scheduler,
            "constructing": list(self.constructing),
            "class_bases": [[name, list(words)] for name, words in self.class_bases],
            "imported_names": sorted(self.imported_names),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileFacts:
        return cls(
            bool(data["mentions_scheduler"]),
            tuple(data["constructing"]),
            tuple((name, tuple(words)) for name, words in data["class_bases"]),
            frozenset(data["imported_names"]),
        )


@dataclass(frozen=True)
class FileState:
    """A file of the run as the prefilter sees it."""

    path: Path
    digest: str
    facts: FileFacts | None  # None: the file cannot be read, which the linter reports
    oversized: str | None = None  # over the size limit: why it is not linted (when it could matter)


# Over the size limit a file is still read, up to this, to tell whether it could matter at all.
_PREFILTER_MAX_BYTES = 64 * 1024 * 1024


def read_state(path: Path, max_bytes: int) -> FileState:
    try:
        source = read_source(path, max_bytes)
    except TooLarge as too_large:
        return _oversized_state(path, too_large)
    except SourceError:
        return FileState(path, "", None)
    return FileState(path, source.digest, FileFacts.of(source.code))


def _oversized_state(path: Path, too_large: TooLarge) -> FileState:
    try:
        source = read_source(path, _PREFILTER_MAX_BYTES)
    except SourceError:
        return FileState(path, "", None, str(too_large))
    return FileState(path, source.digest, FileFacts.of(source.code), str(too_large))


class ProjectPrefilter:
    """Decides which files to analyse, knowing the facts of every importable file of the run."""

    def __init__(self, project_facts: Iterable[FileFacts], needs: frozenset[SourceNeed] = NEEDS_A_SCHEDULER) -> None:
        self.needs = needs  # of the enabled rules
        project_facts = list(project_facts)
        names = {name for facts in project_facts for name in facts.constructing}
        subclasses = [  # (class, the names its bases use, the names its module imports or defines)
            (name, set(words), visible)
            for facts, visible in ((facts, _visible_names(facts)) for facts in project_facts if facts.class_bases)
            for name, words in facts.class_bases
        ]
        while True:  # subclasses of those classes, through chains of subclasses
            new = {name for name, bases, visible in subclasses if name not in names and bases & names & visible}
            if not new:
                break
            names |= new
        self.names = frozenset(names)

    @classmethod
    def of_states(cls, states: Iterable[FileState], needs: frozenset[SourceNeed]) -> ProjectPrefilter:
        """Only .py files can be imported: their classes decide which other files matter."""
        return cls((s.facts for s in states if s.facts is not None and s.path.suffix == ".py"), needs)

    def relevant(self, facts: FileFacts) -> bool:
        if SourceNeed.ANY in self.needs:
            return True
        return facts.mentions_scheduler or not facts.imported_names.isdisjoint(self.names)


def _visible_names(facts: FileFacts) -> frozenset[str]:
    defined = {name for name, _ in facts.class_bases} | set(facts.constructing)
    return facts.imported_names | defined


@lru_cache(maxsize=1)
def _scheduler_construction() -> re.Pattern[str]:
    """A call that builds a scheduler: `StepLR(`, `lr_scheduler.OneCycleLR(`, `get_cosine_schedule_with_warmup(`."""
    names = "|".join(sorted(scheduler_specs()))
    return re.compile(rf"\b(?:{names}|_?LRScheduler)\s*\(|\bget_\w*schedul\w*\s*\(")


@lru_cache(maxsize=1)
def _scheduler_base() -> re.Pattern[str]:
    """A base class that makes a class a scheduler: `StepLR`, `lr_scheduler.LRScheduler`."""
    names = "|".join(sorted(scheduler_specs()))
    return re.compile(rf"\b(?:{names}|_?LRScheduler)\b")


@dataclass(frozen=True)
class _Class:
    name: str
    bases: str  # the text between the header's parentheses
    body_start: int  # just after the header, whose `class StepLR(` would read as a construction


def _classes(code: str) -> list[_Class]:
    """Every top-level class, from one scan of the lines that say `class`."""
    return [
        _Class(match.group(1), match.group(2) or "", match.end())
        for match in _matches_at_lines_with(code, "class", _CLASS)
    ]


def _functions(code: str) -> list[tuple[str, int]]:
    """Every top-level function (`def build_scheduler(...)`, a factory others import), where its body starts."""
    return [(match.group(1), match.end()) for match in _matches_at_lines_with(code, "def", _DEF)]


def _block(code: str, start: int) -> str:
    """A top-level block from `start` on, without doctest examples (only wanted for files that mention a
    scheduler)."""
    end = _TOP_LEVEL.search(code, start)
    return _DOCTEST_LINE.sub("", code[start : end.start() if end else len(code)])
