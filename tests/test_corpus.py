"""The false-alarm gate: on real public training code, lrlint reports exactly the findings that
were reviewed as true (corpus/reviewed.toml). A new finding fails until someone reviews it and
either records it with its reason or fixes lrlint; a reviewed finding that disappears fails too.

Needs the corpus (downloaded from PyPI on first use, see scripts/corpus.py): `pytest -m corpus`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "corpus.py"


def load_corpus_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lrlint_corpus_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.corpus
def test_every_finding_on_the_real_code_corpus_is_reviewed_as_true() -> None:
    corpus = load_corpus_script()
    root = corpus.corpus_dir()
    corpus.fetch_all(root)
    comparison = corpus.compare(corpus.lint_corpus(root), corpus.reviewed())
    assert not comparison.unreviewed and not comparison.lost, corpus.describe(comparison)


def test_the_reviewed_findings_name_projects_of_the_corpus() -> None:
    corpus = load_corpus_script()
    folders = {project.folder_name for project in corpus.projects()}
    entries = corpus.reviewed().values()
    assert len(folders) >= 15
    assert all(entry.key[0].split("/")[0] in folders and entry.reason.strip() for entry in entries)


def test_the_readme_gives_the_precision_of_the_reviewed_findings() -> None:
    corpus = load_corpus_script()
    readme = (SCRIPT.parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- corpus-precision:start -->\n")[1].split("\n<!-- corpus-precision:end -->")[0]
    assert table == corpus.precision_table(corpus.reviewed())
