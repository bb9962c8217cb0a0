"""Reading what lrlint lints: Python files and the code cells of notebooks.

Every way a file can be unreadable ends in a `SourceError` with a one-line reason, which the
linter reports as LR000; nothing here raises past `read_source`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 4 * 1024 * 1024
# Files that mark a project's root folder (where its absolute imports start).
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")

# Cell magics whose body is still Python; every other cell magic (%%bash, %%html, ...) is skipped.
_PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")
_IPYTHON_LINE = re.compile(r"^(\s*)(%|!|\?)")
_SHELL_ASSIGNMENT = re.compile(r"^(\s*[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*)[!%]")  # files = !ls
_HELP_SUFFIX = re.compile(r"^\s*[\w.]+\?\??\s*$")


class SourceError(Exception):
    """The file cannot be linted; the message is the one-line reason shown to the user."""

    def __init__(self, message: str, line: int = 1, column: int = 1, cell: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.cell = cell


@dataclass(frozen=True)
class Cell:
    index: int  # position among all cells of the notebook, as Jupyter numbers them from 0
    first_line: int  # 1-based line of the cell's first line in the combined code


@dataclass(frozen=True)
class Source:
    """Python code to analyse, and where each of its lines came from."""

    path: str
    code: str
    cells: tuple[Cell, ...] = ()  # empty for a .py file
    digest: str = ""  # of the file's bytes, as `content_digest` computes it; empty when not read from a file

    @property
    def is_notebook(self) -> bool:
        return bool(self.cells)

    def locate(self, line: int) -> tuple[int | None, int]:
        """Map a line of `code` to (cell index or None, line within the cell or file)."""
        if not self.cells:
            return None, line
        cell = next(c for c in reversed(self.cells) if c.first_line <= line)
        return cell.index, line - cell.first_line + 1

    def line_label(self, line: int) -> str:
        """How a message names a line: `line 12`, or `cell 3, line 2` in a notebook."""
        cell, cell_line = self.locate(line)
        return f"line {cell_line}" if cell is None else f"cell {cell}, line {cell_line}"

    def line_text(self, line: int) -> str:
        lines = self.code.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


class TooLarge(SourceError):
    """The file is over the size limit (`max-file-size`)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"not linted: {size:,} bytes, over max-file-size ({limit:,} bytes)")
        self.size = size


def read_source(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Source:
    return source_of(path, _read_bytes(path, max_bytes))


def source_of(path: Path, data: bytes) -> Source:
    """The code in a file's bytes, already read (raises SourceError like read_source)."""
    if path.suffix == ".ipynb":
        return Source(str(path), *_notebook_code(data), digest=digest_of(data))
    return Source(str(path), decode_python(data), digest=digest_of(data))


def digest_of(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_digest(path: Path) -> str:
    """The digest of the file's bytes; empty when it cannot be read (which a change also alters)."""
    try:
        return digest_of(path.read_bytes())
    except OSError:
        return ""


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLarge(size, max_bytes)
        return path.read_bytes()
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError("file disappeared before it could be read") from None
    except PermissionError:
        raise SourceError("permission denied: cannot read the file") from None
    except OSError as error:
        raise SourceError(f"cannot read the file: {error.strerror or error}") from None


def decode_python(data: bytes) -> str:
    if b"\x00" in data:
        raise SourceError("file contains NUL bytes: not a Python source file")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error):
            raise SourceError(f"invalid encoding declaration: {error}") from None
        encoding = "utf-8"  # undecodable bytes in the first lines: reported precisely below
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        line = data[: getattr(error, "start", 0)].count(b"\n") + 1
        raise SourceError(f"file is not valid {encoding}: {error}", line=line) from None
    return text.removeprefix("\ufeff")


def _notebook_code(data: bytes) -> tuple[str, tuple[Cell, ...]]:
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError("notebook is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise SourceError(f"notebook is not valid JSON: {error.msg}", error.lineno, error.colno) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise SourceError("notebook has no list of cells")
    if not _is_python_notebook(notebook):
        return "", ()
    parts: list[str] = []
    placed: list[Cell] = []
    next_line = 1
    for index, cell in enumerate(cells):
        code = _cell_python(cell)
        if not code:
            continue
        placed.append(Cell(index, next_line))
        parts.append(code)
        next_line += code.count("\n")
    if not placed:
        return "", ()
    return "".join(parts), tuple(placed)


def _is_python_notebook(notebook: dict[str, Any]) -> bool:
    metadata = notebook.get("metadata") or {}
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get("language")
    return language is None or str(language).lower() in ("python", "python3")


def _cell_python(cell: object) -> str | None:
    """The cell's code with IPython syntax neutralised, one line per original line; None to skip."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(part) for part in source)
    if not isinstance(source, str):
        return None
    lines = source.splitlines()
    if lines and lines[0].startswith("%%"):
        if not lines[0].startswith(_PYTHON_CELL_MAGICS):
            return None
        lines[0] = ""
    return "".join(line + "\n" for line in _neutralised(lines))


def _neutralised(lines: list[str]) -> Iterator[str]:
    """The lines with IPython syntax neutralised; a magic or shell escape continued with a trailing
    backslash (`!tts --text "hi" \\` then `    --out_path out.wav`) takes its continuation lines along."""
    continued = False
    for line in lines:
        if continued:
            yield ""
        else:
            neutral = _neutralise_ipython(line)
            yield neutral
            if neutral == line:
                continue
        continued = line.rstrip().endswith("\\")


def _neutralise_ipython(line: str) -> str:
    """Replace a magic, shell escape or help line with `pass` at the same indentation."""
    assignment = _SHELL_ASSIGNMENT.match(line)
    if assignment:
        return f"{assignment.group(1)}None"
    match = _IPYTHON_LINE.match(line)
    if match or _HELP_SUFFIX.match(line):
        indent = match.group(1) if match else line[: len(line) - len(line.lstrip())]
        return f"{indent}pass"
    return line


class LineReader:
    """Lines of files as findings number them, each file read once (a notebook's within its cells)."""

    def __init__(self) -> None:
        self._sources: dict[str, tuple[list[str], Source] | None] = {}

    def line(self, path: str, cell: int | None, line: int) -> str | None:
        if path not in self._sources:
            try:
                source = read_source(Path(path))
                self._sources[path] = (source.code.splitlines(), source)
            except SourceError:
                self._sources[path] = None
        known = self._sources[path]
        if known is None:
            return None
        lines, source = known
        if cell is not None:
            placed = next((c for c in source.cells if c.index == cell), None)
            if placed is None:
                return None
            line = placed.first_line + line - 1
        return lines[line - 1] if 0 < line <= len(lines) else None
