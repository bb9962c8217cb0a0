"""Property-based fuzzing: generated Python and mutated training scripts never crash lrlint.

For every input: no internal error, the same result twice, JSON output that parses, and a
`--fix` result that parses and that a second fix leaves unchanged.
"""

from __future__ import annotations

import ast
import json
import tempfile
import warnings
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlint.config import Settings
from lrlint.fix import fix_file
from lrlint.linter import Linter
from lrlint.report import Output, format_json
from lrlint.sources import Source

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*.py"))
PREFIX = "from torch.optim import lr_scheduler\n"  # passes the prefilter: every input is analysed
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<fuzz>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def assert_robust(code: str) -> None:
    first = Linter(Settings()).lint_source(Source("<fuzz>", code))
    second = Linter(Settings()).lint_source(Source("<fuzz>", code))
    assert not first.internal_errors, first.internal_errors
    assert first.findings == second.findings
    assert isinstance(json.loads(format_json(first.findings, Output())), list)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.py"
        path.write_text(code, encoding="utf-8")
        fixed = fix_file(path, Linter(Settings()))
        if fixed is None or not fixed.changed:
            return
        ast.parse(fixed.after)  # a fix never leaves code that does not parse,
        if compiles(code):
            compile(fixed.after, str(path), "exec")  # nor code CPython compiled that it no longer does
        path.write_text(fixed.after, encoding="utf-8")
        again = fix_file(path, Linter(Settings()))
        assert again is not None and not again.changed  # and a second fix finds nothing to do


@FUZZ
@given(hypothesmith.from_grammar())
def test_generated_python_never_crashes(code: str) -> None:
    assert_robust(PREFIX + code)


@FUZZ
@given(hypothesmith.from_node())
def test_generated_syntax_trees_never_crash(code: str) -> None:
    assert_robust(PREFIX + code)


@st.composite
def mutated_training_scripts(draw: st.DrawFn) -> str:
    """A fixture script with lines deleted, duplicated, swapped, re-indented or names exchanged."""
    lines = draw(st.sampled_from(FIXTURES)).read_text().splitlines(keepends=True)
    words = sorted(
        {word for line in lines for word in line.replace("(", " ").replace(".", " ").split() if word.isidentifier()}
    )
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        where = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "rename", "step"]))
        if action == "delete":
            del lines[where]
        elif action == "duplicate":
            lines.insert(where, lines[where])
        elif action == "swap" and where + 1 < len(lines):
            lines[where], lines[where + 1] = lines[where + 1], lines[where]
        elif action == "indent":
            lines[where] = "    " + lines[where]
        elif action == "dedent":
            lines[where] = lines[where].removeprefix("    ")
        elif action == "rename" and words:
            old, new = draw(st.sampled_from(words)), draw(st.sampled_from(words))
            lines[where] = lines[where].replace(old, new)
        elif action == "step":
            indent = lines[where][: len(lines[where]) - len(lines[where].lstrip())]
            lines.insert(
                where, f"{indent}{draw(st.sampled_from(['scheduler', 'optimizer', 'self.scheduler']))}.step()\n"
            )
    return "".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_training_scripts())
def test_mutated_training_scripts_never_crash(code: str) -> None:
    assert_robust(code)
