"""`lrlint server`: findings while you type, over the Language Server Protocol (stdio, pygls).

A front end of `lrlint.api`, like the command line: each open `.py` document is linted from its
unsaved text as the file at its path (the project's other modules and `[tool.lrlint]` are read
from disk), on open, on save, and after a pause in typing; the modules that import it are analysed
with it, for the findings they reveal in it (a per-batch step in `engine.py`, found from the
`main.py` that builds the scheduler), and a save lints the other open documents again. A Jupyter
notebook the client syncs is linted as lrlint lints an `.ipynb` file, each cell's findings on it. The
analysis runs off the event loop; a result older than the document's latest text is dropped.

Code actions: the fix of one finding, "Fix all lrlint findings" (the fixes `--fix` makes) and
"Suppress with # noqa: CODE". Hovering a rule code shows its documentation, hovering the line that
builds a scheduler the learning rates it produces (simulated with torch, when the server's
environment has it); the command `lrlint.simulate` returns the whole table. An internal error
becomes one diagnostic, never the end of the server.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from lrlint import __version__, api
from lrlint.config import Settings, find_config, load_settings
from lrlint.docs import rule_url
from lrlint.findings import Finding, Severity
from lrlint.prefilter import may_contain_findings
from lrlint.sources import Source, SourceError, read_source, source_of

if TYPE_CHECKING:
    from lrlint.simulate import Schedule

DEBOUNCE_SECONDS = 0.3  # after the last change, before the document is linted again
MAX_CALLERS = 8  # importing modules analysed with a document, for what they reveal in it
DEFAULT_STEPS_PER_EPOCH = 100  # len(loader) in a simulation, as `lrlint simulate` assumes it
_RULE_CODE = re.compile(r"\bLRL?\d{3}\b")
_NOQA = re.compile(r"#\s*noqa:\s*[A-Z0-9, ]+")
_SEVERITIES = {Severity.ERROR: lsp.DiagnosticSeverity.Error, Severity.WARNING: lsp.DiagnosticSeverity.Warning}


class LrlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "lrlint",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
            notebook_document_sync=lsp.NotebookDocumentSyncOptions(
                notebook_selector=[
                    lsp.NotebookDocumentFilterWithCells(
                        cells=[lsp.NotebookCellLanguage(language="python")], notebook="jupyter-notebook"
                    )
                ],
                save=True,
            ),
        )
        self.latest: dict[str, int] = {}  # uri -> the version of its latest change
        self.callers: dict[str, list[Path]] = {}  # uri -> the project's modules importing it (open, save)
        self.analysing: dict[str, asyncio.Lock] = {}  # uri -> held while one analysis of it runs

    def one_at_a_time(self, uri: str) -> asyncio.Lock:
        """A document is analysed by one thread at a time: an analysis of an older text, which
        cannot be interrupted, finishes before the next starts, instead of sharing the CPU with it."""
        return self.analysing.setdefault(uri, asyncio.Lock())


def create_server() -> LrlintServer:
    server = LrlintServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: LrlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        await _find_callers(ls, params.text_document.uri)
        await _lint_and_publish(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: LrlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        """The saved file, and every other open one: their analyses may read the saved module."""
        saved = params.text_document.uri
        await _find_callers(ls, saved)
        for uri in [saved, *(uri for uri in list(ls.workspace.text_documents) if uri != saved)]:
            await _lint_and_publish(ls, uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: LrlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if await _settled(ls, uri, params.text_document.version):
            await _lint_and_publish(ls, uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
    async def notebook_did_open(ls: LrlintServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
        await _lint_notebook(ls, params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_SAVE)
    async def notebook_did_save(ls: LrlintServer, params: lsp.DidSaveNotebookDocumentParams) -> None:
        await _lint_notebook(ls, params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
    async def notebook_did_change(ls: LrlintServer, params: lsp.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        if await _settled(ls, uri, params.notebook_document.version):
            await _lint_notebook(ls, uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LrlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.latest.pop(params.text_document.uri, None)
        ls.callers.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll]),
    )
    async def code_action(ls: LrlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        document = ls.workspace.get_text_document(params.text_document.uri)
        ours = [d for d in params.context.diagnostics if d.source == "lrlint" and isinstance(d.code, str)]
        loop = asyncio.get_running_loop()
        actions = []
        for diagnostic in ours:
            one = await loop.run_in_executor(None, _fixed_text, document, diagnostic) if diagnostic.data else None
            if one is not None:
                actions.append(_fix_action(document, one, f"Fix {diagnostic.code}", [diagnostic]))
            actions.append(_suppression(document, diagnostic))
        every = await loop.run_in_executor(None, _fixed_text, document, None)
        if every is not None:
            actions.append(_fix_action(document, every, "Fix all lrlint findings", []))
        return actions

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LrlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        """A rule's documentation at once; a schedule is simulated off the event loop (torch's import
        alone takes a second)."""
        document = ls.workspace.get_text_document(params.text_document.uri)
        code = _rule_code_at(document, params.position)
        if code:
            text = _rule_documentation(code)
        else:
            line = params.position.line + 1
            text = await asyncio.get_running_loop().run_in_executor(None, _schedule_summary, document, line)
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)) if text else None

    @server.command(SIMULATE_COMMAND)
    async def simulate(ls: LrlintServer, uri: str) -> str:
        """The table `lrlint simulate` prints for the document."""
        document = ls.workspace.get_text_document(uri)
        return await asyncio.get_running_loop().run_in_executor(None, _simulation_table, document)

    return server


SIMULATE_COMMAND = "lrlint.simulate"
_TORCH_MISSING = "lrlint can show the learning rates this scheduler produces: `pip install 'lrlint[torch]'`"


async def _settled(ls: LrlintServer, uri: str, version: int) -> bool:
    """Whether the document is still at `version` after a pause: no newer change while waiting."""
    ls.latest[uri] = version
    await asyncio.sleep(DEBOUNCE_SECONDS)
    return ls.latest.get(uri) == version


async def _find_callers(ls: LrlintServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    if document.path.endswith(".py"):
        path = Path(document.path)
        found = await asyncio.get_running_loop().run_in_executor(None, _callers, path)
        ls.callers[uri] = found


def _callers(path: Path) -> list[Path]:
    """The modules analysed with the document after each edit: those importing it directly that can
    build a scheduler, the first MAX_CALLERS. Not the transitive importers `lrlint check` follows:
    through a package's `__init__.py`, most modules of a big library import every other (a module of
    diffusers has 1,089; analysing them took 210 s per edit)."""
    settings = _settings_for(str(path))
    try:
        direct = api.importers_of(path, settings, transitive=False)
    except Exception:  # noqa: BLE001 - the document alone is still linted
        return []
    return [caller for caller in direct if _may_build_a_scheduler(caller, settings)][:MAX_CALLERS]


def _may_build_a_scheduler(path: Path, settings: Settings) -> bool:
    """Read as the linter reads it (its size limit, its encoding); unreadable: it reveals nothing."""
    try:
        return may_contain_findings(read_source(path, settings.max_file_bytes).code)
    except SourceError:
        return False


async def _lint_and_publish(ls: LrlintServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    if not document.path.endswith(".py"):
        return
    version = ls.latest.get(uri)
    async with ls.one_at_a_time(uri):
        if ls.latest.get(uri) != version:
            return  # a newer change arrived while an older analysis ran: its own analysis follows
        callers = ls.callers.get(uri, [])
        diagnostics = await asyncio.get_running_loop().run_in_executor(None, _diagnostics, document, callers)
    if ls.latest.get(uri) == version:  # stale when a newer change arrived during the analysis
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version)
        )


async def _lint_notebook(ls: LrlintServer, uri: str) -> None:
    """A notebook linted as lrlint lints an .ipynb file, its diagnostics published on each cell."""
    notebook = ls.workspace.get_notebook_document(notebook_uri=uri)
    if notebook is None:
        return
    cells = [(cell, ls.workspace.get_text_document(cell.document).source) for cell in notebook.cells]
    version = ls.latest.get(uri)
    async with ls.one_at_a_time(uri):
        if ls.latest.get(uri) != version:
            return
        by_cell = await asyncio.get_running_loop().run_in_executor(None, _notebook_diagnostics, notebook, cells)
    if ls.latest.get(uri) != version:
        return  # a newer change arrived during the analysis
    for index, (cell, _) in enumerate(cells):
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=cell.document, diagnostics=by_cell.get(index, []))
        )


def _notebook_diagnostics(
    notebook: lsp.NotebookDocument, cells: list[tuple[lsp.NotebookCell, str]]
) -> dict[int, list[lsp.Diagnostic]]:
    """Diagnostics by cell index (lines within the cell, as lrlint reports notebook findings)."""
    path = to_fs_path(notebook.uri) or notebook.uri
    content = {
        "cells": [
            {"cell_type": "code" if cell.kind == lsp.NotebookCellKind.Code else "markdown", "source": text}
            for cell, text in cells
        ],
        "metadata": {"language_info": {"name": "python"}},
    }
    try:
        source = source_of(Path(path), json.dumps(content).encode())
        outcome = api.check_source(source, _settings_for(path))
    except Exception as error:  # noqa: BLE001 - one diagnostic on the first cell, not a dead server
        return {0: [_internal_error(f"{type(error).__name__}: {error}")]}
    by_cell: dict[int, list[lsp.Diagnostic]] = {}
    for finding in outcome.findings:
        by_cell.setdefault(finding.cell or 0, []).append(_diagnostic(finding))
    return by_cell


def _diagnostics(document: TextDocument, callers: list[Path]) -> list[lsp.Diagnostic]:
    try:
        source = Source(document.path, document.source)
        outcome = api.check_source(source, _settings_for(document.path), callers=callers)
    except Exception as error:  # noqa: BLE001 - an editor must keep its server: say it, as one diagnostic
        return [_internal_error(f"{type(error).__name__}: {error}")]
    found = [_diagnostic(finding) for finding in outcome.findings]
    return found + [_internal_error(message) for message in outcome.internal_errors]


def _settings_for(path: str) -> Settings:
    folder = Path(path).parent
    return load_settings(find_config(folder if folder.exists() else Path.cwd()))


def _diagnostic(finding: Finding) -> lsp.Diagnostic:
    start = lsp.Position(line=finding.line - 1, character=finding.column - 1)
    end = (
        lsp.Position(line=finding.end_line - 1, character=finding.end_column - 1)
        if finding.end_line is not None and finding.end_column is not None
        else lsp.Position(line=finding.line, character=0)
    )
    return lsp.Diagnostic(
        range=lsp.Range(start=start, end=end),
        message=finding.message,
        severity=_SEVERITIES.get(finding.severity, lsp.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=lsp.CodeDescription(href=rule_url(finding.code)),
        source="lrlint",
        data="fixable" if finding.fixable else None,
    )


def _internal_error(message: str) -> lsp.Diagnostic:
    first_line = lsp.Range(lsp.Position(0, 0), lsp.Position(1, 0))
    return lsp.Diagnostic(
        first_line, f"lrlint internal error: {message}", lsp.DiagnosticSeverity.Error, source="lrlint"
    )


def _suppression(document: TextDocument, diagnostic: lsp.Diagnostic) -> lsp.CodeAction:
    line = diagnostic.range.start.line
    text = document.lines[line].rstrip("\r\n") if line < len(document.lines) else ""
    existing = _NOQA.search(text)
    if existing is not None:
        new_text = f"{text[: existing.end()].rstrip()}, {diagnostic.code}{text[existing.end() :]}"
    else:
        new_text = f"{text}  # noqa: {diagnostic.code}"
    edit = lsp.TextEdit(
        range=lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line, character=len(text))),
        new_text=new_text,
    )
    return lsp.CodeAction(
        title=f"Suppress with # noqa: {diagnostic.code}",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=lsp.WorkspaceEdit(changes={document.uri: [edit]}),
    )


def _fixed_text(document: TextDocument, diagnostic: lsp.Diagnostic | None) -> str | None:
    """The document with the fix of the finding `diagnostic` shows, or with every fix `--fix`
    makes; None when there is nothing to fix."""
    if not document.path.endswith(".py"):
        return None

    def shown(finding: Finding) -> bool:
        assert diagnostic is not None
        start = diagnostic.range.start
        return (finding.code, finding.line, finding.column) == (diagnostic.code, start.line + 1, start.character + 1)

    source = Source(document.path, document.source)
    try:
        fixed = api.fixed_source(source, _settings_for(document.path), shown if diagnostic else None)
    except Exception:  # noqa: BLE001 - no fix rather than a failed request
        return None
    return fixed if fixed != document.source else None


def _fix_action(document: TextDocument, fixed: str, title: str, fixes: list[lsp.Diagnostic]) -> lsp.CodeAction:
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=len(document.lines), character=0))
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix if fixes else lsp.CodeActionKind.SourceFixAll,
        diagnostics=fixes or None,
        edit=lsp.WorkspaceEdit(changes={document.uri: [lsp.TextEdit(range=whole, new_text=fixed)]}),
    )


def _simulated(document: TextDocument) -> tuple[int, list[Schedule]] | None:
    """The document's schedules, simulated with torch; None without torch."""
    if importlib.util.find_spec("torch") is None:
        return None
    from lrlint.simulate import CannotSimulate, simulate_source

    try:
        return simulate_source(Source(document.path, document.source), None, DEFAULT_STEPS_PER_EPOCH)
    except CannotSimulate:
        return 0, []


def _schedule_summary(document: TextDocument, line: int) -> str | None:
    """On the line that builds a scheduler: the first rates, the last, and what was assumed."""
    if not document.path.endswith(".py") or line > len(document.lines):
        return None
    simulated = _simulated(document)
    if simulated is None:
        return _TORCH_MISSING if _builds_a_scheduler(document.lines[line - 1]) else None
    schedule = next((s for s in simulated[1] if s.built[1] == line), None)
    if schedule is None:
        return None
    if not schedule.per_epoch:
        return f"**{schedule.name}**: cannot simulate: {schedule.cannot}"
    rates = [start for start, _ in schedule.per_epoch[:5]]
    first = ", ".join(f"{rate:.4g}" for rate in rates)
    lines = [
        f"**{schedule.name}**, stepped {schedule.cadence_text}: lr by epoch {first}"
        f"{', ...' if len(schedule.per_epoch) > 5 else ''}; after epoch {len(schedule.per_epoch) - 1}: "
        f"{schedule.per_epoch[-1][1]:.4g}",
        *[f"- assuming {assumption}" for assumption in [*_batches_assumed(schedule), *schedule.assumptions]],
        *[f"- note: {note}" for note in schedule.notes],
        f"\nThe whole table: the `{SIMULATE_COMMAND}` command, or `lrlint simulate {Path(document.path).name}`.",
    ]
    return "\n".join(lines)


def _batches_assumed(schedule: Schedule) -> list[str]:
    """Stepped every batch of a loop whose length only the run knows (`len(loader)`): the count the
    server simulated, which the table of `lrlint simulate` states in its header."""
    if not schedule.per_step or schedule.batches_from_code:
        return []
    return [f"{schedule.steps_per_epoch} batches per epoch (`lrlint simulate --steps-per-epoch N` for yours)"]


def _builds_a_scheduler(line: str) -> bool:
    return re.search(r"\w*(LR|Scheduler|schedule\w*)\s*\(", line) is not None


def _simulation_table(document: TextDocument) -> str:
    simulated = _simulated(document)
    if simulated is None:
        return _TORCH_MISSING
    from lrlint.simulate import render_table

    epochs, schedules = simulated
    return render_table(document.path, schedules, epochs, DEFAULT_STEPS_PER_EPOCH)


def _rule_code_at(document: TextDocument, position: lsp.Position) -> str | None:
    line = document.lines[position.line] if position.line < len(document.lines) else ""
    return next((m.group() for m in _RULE_CODE.finditer(line) if m.start() <= position.character <= m.end()), None)


def _rule_documentation(code: str) -> str | None:
    from lrlint.rules import ALL_RULES

    rule = next((rule for rule in ALL_RULES if rule.code == code.replace("LRL", "LR")), None)
    if rule is None:
        return None
    return f"**{rule.code} {rule.name}** ({rule.severity.value})\n\n{rule.documentation()}\n\n{rule_url(rule.code)}"


def serve() -> None:
    create_server().start_io()
