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

_TRANSFORMERS_FACTORY = re.compile(r"get_\w*schedul")


def may_contain_findings(code: str) -> bool:
    if "lr_scheduler" in code:
        return True
    return "transformers" in code and _TRANSFORMERS_FACTORY.search(code) is not None


# -- across a project ------------------------------------------------------------------------------
# A module that never names a scheduler can still step one it inherits or receives: a subclass of
# a trainer defined in a module that builds the scheduler. Such modules are analysed when they
# import a name (or the module) of a file that passes the prefilter, directly or in a chain.

_DEFINITION = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)
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
        marked = {path for path, code in texts.items() if may_contain_findings(code)}
        names = _defined_names({path: texts[path] for path in marked})
        related: set[str] = set()
        while True:  # follow chains of imports until nothing new is related
            new = {
                path
                for path, code in texts.items()
                if path not in marked and path not in related and imported_names(code) & names
            }
            if not new:
                break
            related |= new
            names |= _defined_names({path: texts[path] for path in new})
        self.names = frozenset(names)

    def may_contain_findings(self, code: str) -> bool:
        return may_contain_findings(code) or bool(imported_names(code) & self.names)


def _defined_names(texts: dict[str, str]) -> set[str]:
    names: set[str] = set()
    for path, code in texts.items():
        names.update(_DEFINITION.findall(code))
        names.add(path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py"))
    return names
