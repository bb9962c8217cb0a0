"""`lrlint server` end to end, with a real LSP client (pytest-lsp) talking to it over stdio."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types as lsp  # noqa: E402 - after the skip for environments without the lsp extra
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

pytestmark = pytest.mark.slow

BUGGY = """import torch
from torch.optim.lr_scheduler import StepLR, ReduceLROnPlateau

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = ReduceLROnPlateau(optimizer, verbose=True)
for epoch in range(10):
    for batch in loader:
        optimizer.step()
    scheduler.step(val_loss)
"""
CLEAN = BUGGY.replace("ReduceLROnPlateau(optimizer, verbose=True)", "ReduceLROnPlateau(optimizer)")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lrlint", "server"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text("[tool.lrlint]\n")
    notebooks = lsp.NotebookDocumentClientCapabilities(synchronization=lsp.NotebookDocumentSyncClientCapabilities())
    capabilities = lsp.ClientCapabilities(notebook_document=notebooks)
    params = lsp.InitializeParams(capabilities=capabilities, root_uri=tmp_path.as_uri())
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def opened(client: LanguageClient, path: Path, text: str) -> list[lsp.Diagnostic]:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=text)
        )
    )
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[path.as_uri()])


async def changed(client: LanguageClient, path: Path, text: str, version: int) -> list[lsp.Diagnostic]:
    change = lsp.TextDocumentContentChangeWholeDocument(text=text)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[change],
        )
    )
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[path.as_uri()])


async def code_actions(client: LanguageClient, path: Path, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
    found = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [action for action in found or [] if isinstance(action, lsp.CodeAction)]


async def hovered(client: LanguageClient, path: Path, text: str, line: int, character: int) -> str:
    """The hover text at a position of the file, opened with `text`."""
    await opened(client, path, text)
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            position=lsp.Position(line=line, character=character),
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    return hover.contents.value


async def test_a_buggy_file_gets_its_findings_and_a_fix_makes_them_go(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    (diagnostic,) = await opened(client, path, BUGGY)
    assert diagnostic.code == "LR202" and diagnostic.source == "lrlint"
    assert diagnostic.severity == lsp.DiagnosticSeverity.Error and diagnostic.range.start.line == 4
    assert diagnostic.code_description is not None and diagnostic.code_description.href.endswith("LR202.md")
    actions = await code_actions(client, path, diagnostic)
    titles = [action.title for action in actions if isinstance(action, lsp.CodeAction)]
    assert titles == ["Fix LR202", "Suppress with # noqa: LR202", "Fix all lrlint findings"]
    fix_all = actions[2]
    assert isinstance(fix_all, lsp.CodeAction) and fix_all.edit is not None and fix_all.edit.changes is not None
    (edit,) = fix_all.edit.changes[path.as_uri()]
    assert "verbose" not in edit.new_text
    assert await changed(client, path, edit.new_text, 2) == []


async def test_a_change_that_adds_and_removes_a_finding(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    assert await opened(client, path, CLEAN) == []
    assert [d.code for d in await changed(client, path, BUGGY, 2)] == ["LR202"]
    assert await changed(client, path, CLEAN, 3) == []


async def test_under_fast_typing_only_the_latest_text_is_published(client: LanguageClient, tmp_path: Path) -> None:
    """Ten changes 50 ms apart: the diagnostics that arrive are those of the last one, never of an
    older text whose analysis was still running."""
    path = tmp_path / "train.py"
    assert await opened(client, path, CLEAN) == []
    published: list[int | None] = []
    features = client.protocol.fm.features
    record = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recording(params: lsp.PublishDiagnosticsParams) -> None:
        published.append(params.version)
        record(params)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording
    for version in range(2, 12):
        text = BUGGY if version % 2 else CLEAN  # version 11, the last, has the finding
        change = lsp.TextDocumentContentChangeWholeDocument(text=text)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
                content_changes=[change],
            )
        )
        await asyncio.sleep(0.05)
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.sleep(1.0)  # time for a late, stale publication to show up
    assert published == [11]


async def test_suppressing_with_noqa_silences_the_finding(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    (diagnostic,) = await opened(client, path, BUGGY)
    actions = await code_actions(client, path, diagnostic)
    suppress = actions[1]
    assert isinstance(suppress, lsp.CodeAction) and suppress.edit is not None and suppress.edit.changes is not None
    (edit,) = suppress.edit.changes[path.as_uri()]
    lines = BUGGY.splitlines(keepends=True)
    lines[edit.range.start.line] = edit.new_text + "\n"
    assert await changed(client, path, "".join(lines), 2) == []


async def test_a_syntax_error_is_one_finding_and_the_server_goes_on(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    broken = BUGGY + "def broken(:\n"
    assert [d.code for d in await opened(client, path, broken)] == ["LR000"]
    assert [d.code for d in await changed(client, path, BUGGY, 2)] == ["LR202"]


async def test_hover_on_a_rule_code_shows_its_documentation(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    text = "import torch.optim.lr_scheduler\nx = 1  # noqa: LR101\n"
    documentation = await hovered(client, path, text, 1, 17)
    assert documentation.startswith("**LR101 step-before-optimizer**")


async def test_hover_on_a_scheduler_shows_its_learning_rates(client: LanguageClient, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "train.py"
    text = (
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)\n"
        "for epoch in range(3):\n    for batch in loader:\n        opt.step()\n    sched.step()\n"
    )
    rates = await hovered(client, path, text, 2, 8)
    assert rates.startswith("**StepLR**, stepped per epoch: lr by epoch 0.1, 0.05, 0.025; after epoch 2: 0.0125")
    assert "batches per epoch" not in rates  # stepped per epoch: no batch count to assume
    table = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="lrlint.simulate", arguments=[path.as_uri()])
    )
    assert "StepLR (line 3), stepped per epoch" in table


async def test_hover_states_the_batches_per_epoch_it_assumed(client: LanguageClient, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "train.py"
    text = (
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=300)\n"
        "for epoch in range(3):\n    for batch in loader:\n        opt.step()\n        sched.step()\n"
    )
    rates = await hovered(client, path, text, 2, 8)
    assert "stepped per batch" in rates
    assert "- assuming 100 batches per epoch (`lrlint simulate --steps-per-epoch N` for yours)" in rates


async def test_a_quick_fix_fixes_its_own_finding_only(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    text = BUGGY.replace("for epoch", "warmup = StepLR(optimizer, 5, verbose=False)\nfor epoch").replace(
        "    scheduler.step(val_loss)", "    scheduler.step(val_loss)\n    warmup.step()"
    )
    first, second = [d for d in await opened(client, path, text) if d.code == "LR202"]
    actions = await code_actions(client, path, first)
    fix_one = actions[0]
    assert (
        isinstance(fix_one, lsp.CodeAction) and fix_one.title == "Fix LR202" and fix_one.edit and fix_one.edit.changes
    )
    (edit,) = fix_one.edit.changes[path.as_uri()]
    remaining = [d for d in await changed(client, path, edit.new_text, 2) if d.code == "LR202"]
    assert [d.range.start.line for d in remaining] == [second.range.start.line]


MAIN = """import torch
from engine import train_one_epoch

model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    train_one_epoch(model, loader, optimizer, scheduler)
"""
ENGINE = """def train_one_epoch(model, loader, optimizer, scheduler):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
"""


async def test_a_module_is_analysed_with_its_importers_against_its_unsaved_text(
    client: LanguageClient, tmp_path: Path
) -> None:
    """engine.py's per-batch step of main.py's StepLR shows in engine.py, and goes as it is edited away."""
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "engine.py").write_text(ENGINE)
    engine = tmp_path / "engine.py"
    (diagnostic,) = await opened(client, engine, ENGINE)
    assert (diagnostic.code, diagnostic.range.start.line) == ("LR102", 3)
    per_epoch = ENGINE.replace("        scheduler.step()\n", "    scheduler.step()\n")
    assert await changed(client, engine, per_epoch, 2) == []


async def test_a_notebook_gets_its_findings_on_its_cells(client: LanguageClient, tmp_path: Path) -> None:
    notebook = (tmp_path / "explore.ipynb").as_uri()
    texts = ["import torch\nfrom torch.optim.lr_scheduler import StepLR\n", "# Training", BUGGY.replace("StepLR, ", "")]
    kinds = [lsp.NotebookCellKind.Code, lsp.NotebookCellKind.Markup, lsp.NotebookCellKind.Code]
    cells = [f"{notebook}#cell{index}" for index in range(3)]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=notebook,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[lsp.NotebookCell(kind=kind, document=uri) for kind, uri in zip(kinds, cells, strict=True)],
            ),
            cell_text_documents=[
                lsp.TextDocumentItem(
                    uri=uri,
                    language_id="python" if kind == lsp.NotebookCellKind.Code else "markdown",
                    version=1,
                    text=text,
                )
                for uri, kind, text in zip(cells, kinds, texts, strict=True)
            ],
        )
    )

    async def published() -> None:
        while not all(uri in client.diagnostics for uri in cells):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(published(), timeout=60)
    assert [list(client.diagnostics.get(uri, ())) for uri in cells[:2]] == [[], []]
    (diagnostic,) = client.diagnostics[cells[2]]
    assert (diagnostic.code, diagnostic.range.start.line) == ("LR202", 4)
