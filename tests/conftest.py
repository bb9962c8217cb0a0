"""Every test gets its own empty cache, so that no result leaks from one test into another."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRLINT_CACHE_DIR", str(tmp_path_factory.mktemp("lrlint_cache")))
