"""`--fix` and `--diff`: apply the rules' fixes, and never lose a user's code doing it.

A file is fixed in passes: lint, apply every fix that does not overlap another, lint again,
until nothing is left to fix. A pass whose result does not parse (for LibCST and for CPython)
is dropped with a note. The new text is written to a temporary file in the same folder, given
the original's permissions, and renamed over the original, but only if the file on disk still
has the content that was read: an edit made meanwhile is never overwritten. Line endings, the
encoding and a byte-order mark are kept.

Notebooks are fixed cell by cell: only the code cells whose lines a fix changed are rewritten,
and the notebook's JSON is rewritten only if it is in Jupyter's own layout (so that nothing
else in the file changes); otherwise it is left alone with a note.
"""

from __future__ import annotations

import codecs
import difflib
import io
import json
import os
import tempfile
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from lrlint.findings import Finding
from lrlint.guards import python_syntax_tree
from lrlint.linter import Linter
from lrlint.rules.base import Fix
from lrlint.sources import Cell, Source, SourceError, digest_of, source_of

MAX_PASSES = 10


@dataclass
class FileFix:
    path: Path
    before: str  # the file's text as read (a notebook's JSON)
    after: str  # with every fix applied; equal to before when nothing could be fixed
    fixes: int = 0  # fixes applied
    notes: list[str] = field(default_factory=list)  # fixes or files left alone, and why
    digest: str = ""  # of the bytes read: the file is replaced only if it still has them

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def diff(self) -> str:
        name = str(self.path)
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), name, name
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def fix_file(path: Path, linter: Linter) -> FileFix | None:
    """The fixed text of the file (nothing is written); None when it cannot be read."""
    try:
        data = path.read_bytes()  # once: the text fixed and the digest checked before writing are of these bytes
        source = source_of(path, data)
    except (OSError, SourceError):
        return None
    if source.is_notebook:
        return _fix_notebook(path, data, source, linter)
    code, applied, notes = fixed_code(source, linter)
    after = source.code if applied == 0 else _with_original_newlines(code, source.code)
    return FileFix(path, source.code, after, applied, notes, source.digest)


def write_fix(fix: FileFix) -> str | None:
    """Replace the file with its fixed text; a one-line reason when it was left alone."""
    path = fix.path
    try:
        current = path.read_bytes()
        if digest_of(current) != fix.digest:
            return f"{path}: changed on disk while lrlint was fixing it; left alone"
        data = _encoded(fix.after, current) if path.suffix != ".ipynb" else fix.after.encode("utf-8")
        mode = path.stat().st_mode
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            handle.write(data)
        try:
            os.chmod(handle.name, mode)
            os.replace(handle.name, path)
        except OSError:
            os.unlink(handle.name)
            raise
    except OSError as error:
        return f"{path}: cannot write the fixes: {error.strerror or error}"
    return None


# -- fixing code ------------------------------------------------------------------------------


def fixed_code(
    source: Source, linter: Linter, only: Callable[[Finding], bool] | None = None
) -> tuple[str, int, list[str]]:
    """The code after every pass of fixes, how many fixes were applied, and notes. With `only`,
    one pass of the fixes of the findings it selects (an editor's fix of one finding)."""
    code, applied, notes = source.code, 0, []
    for _ in range(MAX_PASSES if only is None else 1):
        fixable = linter.fixable(Source(source.path, code, source.cells, source.digest))
        if fixable is None or not fixable.fixes or fixable.source.code != code:
            break  # nothing to fix, or notebook cells that do not parse: leave them be
        chosen = [
            fix for fix, finding in zip(fixable.fixes, fixable.findings, strict=True) if not only or only(finding)
        ]
        if not chosen:
            break
        module, count = _apply(fixable.module, chosen)
        new_code = module.code
        if not _parses(new_code):
            notes.append(f"{source.path}: a fix would leave code that does not parse; not applied")
            break
        if new_code == code:
            break
        code, applied = new_code, applied + count
    return code, applied, notes


def _apply(module: cst.Module, fixes: Sequence[Fix]) -> tuple[cst.Module, int]:
    """Apply the fixes that touch no node another applied fix touches (the rest wait for a next pass)."""
    accepted: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] = {}
    claimed: set[int] = set()
    for fix in fixes:
        touched = {id(node) for target in fix for node in _subtree(target)}
        if touched & claimed:
            continue
        claimed |= touched
        accepted.update(fix)
    count = sum(1 for fix in fixes if all(node in accepted for node in fix))
    return module.visit(_Replace(accepted)), count


def _subtree(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _subtree(child)


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel]) -> None:
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        return self.replacements.get(original_node, updated_node)


def _parses(code: str) -> bool:
    try:
        cst.parse_module(code)
        python_syntax_tree(code)
    except Exception:  # noqa: BLE001 - any failure means: do not write this
        return False
    return True


# -- bytes and text of .py files ----------------------------------------------------------------


def _encoded(text: str, original: bytes) -> bytes:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
    bom = codecs.BOM_UTF8 if original.startswith(codecs.BOM_UTF8) else b""
    return bom + text.encode("utf-8" if encoding == "utf-8-sig" else encoding)


def _with_original_newlines(code: str, original: str) -> str:
    """LibCST keeps the file's newlines; this only guards against a fix that introduced others."""
    if "\r\n" in original and "\r\n" not in code:
        return code.replace("\n", "\r\n")
    return code


# -- notebooks ----------------------------------------------------------------------------------


def _fix_notebook(path: Path, data: bytes, source: Source, linter: Linter) -> FileFix:
    text = data.decode("utf-8-sig")
    fix = FileFix(path, text, text, digest=source.digest)
    probe = linter.fixable(source)
    parsed = probe.source if probe is not None else source  # the cells that parse, as the linter joined them
    code, applied, notes = fixed_code(parsed, linter)
    fix.notes += notes
    if applied == 0:
        return fix
    kept = {cell.index for cell in parsed.cells}
    fix.notes += [
        f"{path}: cell {cell.index + 1} does not parse; left as it is, the other cells fixed"
        for cell in source.cells
        if cell.index not in kept
    ]
    notebook = json.loads(text)
    if _jupyter_json(notebook) != text:
        fix.notes.append(f"{path}: the notebook's JSON is not in Jupyter's layout; not rewritten, fix it by hand")
        return fix
    changed = _changed_cells(parsed, code, notebook["cells"])
    if changed is None:
        fix.notes.append(f"{path}: a fix spans notebook cells; not applied")
        return fix
    for index, lines in changed.items():
        notebook["cells"][index]["source"] = _cell_source(notebook["cells"][index]["source"], lines)
    fix.after, fix.fixes = _jupyter_json(notebook), applied
    return fix


def _jupyter_json(notebook: Any) -> str:
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"


def _changed_cells(source: Source, fixed: str, cells: list[Any]) -> dict[int, list[str]] | None:
    """For each cell a fix changed, its new lines; None when a change crosses a cell boundary.

    The combined code has one line per line of each cell (magics neutralised in place), so the
    lines a fix left alone are taken from the cell as it was, magics included.
    """
    old = source.code.splitlines(keepends=True)
    new = fixed.splitlines(keepends=True)
    bounds = {cell.index: (start, end) for cell, start, end in _cell_bounds(source.cells, len(old))}
    edits: dict[int, list[tuple[str, int, int, int, int]]] = {}
    for opcode in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        tag, old_start, old_end, _, _ = opcode
        if tag == "equal":
            continue
        owner = _cell_of(bounds, old_start, old_end)
        if owner is None:
            return None
        edits.setdefault(owner, []).append(opcode)
    changed = {}
    for index, opcodes in edits.items():
        start, end = bounds[index]
        original = _source_text(cells[index]["source"]).splitlines(keepends=True)
        lines, position = [], start
        for _, old_start, old_end, new_start, new_end in opcodes:
            lines += original[position - start : old_start - start] + new[new_start:new_end]
            position = old_end
        changed[index] = lines + original[position - start : end - start]
    return changed


def _cell_bounds(cells: Sequence[Cell], line_count: int) -> list[tuple[Cell, int, int]]:
    """(cell, first line index, end index) of each cell in the combined code, 0-based."""
    starts = [cell.first_line - 1 for cell in cells] + [line_count]
    return [(cell, starts[i], starts[i + 1]) for i, cell in enumerate(cells)]


def _cell_of(bounds: dict[int, tuple[int, int]], start: int, end: int) -> int | None:
    """The cell whose lines contain old lines [start, end) (an insertion: the cell it is inserted in)."""
    for index, (first, last) in bounds.items():
        if first <= start and end <= last and (end > start or start < last):
            return index
    return None


def _source_text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


def _cell_source(original: str | list[str], lines: list[str]) -> str | list[str]:
    """The cell's new source in the form it had: one string, or a list of lines."""
    text = "".join(lines)
    if not _source_text(original).endswith("\n"):
        text = text.removesuffix("\n")
    return text.splitlines(keepends=True) if isinstance(original, list) else text
