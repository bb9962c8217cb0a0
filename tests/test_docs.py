"""The rule pages and the README table are generated from the rules and must be current."""

from __future__ import annotations

from pathlib import Path

from lrlint.docs import readme_with_table, rule_markdown
from lrlint.findings import known_codes
from lrlint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent


def test_rule_pages_are_current() -> None:
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert pages == {rule.code: rule_markdown(rule) for rule in ALL_RULES}, "run scripts/generate_docs.py"


def test_readme_rule_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, "run scripts/generate_docs.py"
    for rule in ALL_RULES:
        assert f"[{rule.code}](docs/rules/{rule.code}.md)" in readme


def test_known_codes_are_read_from_the_rule_module_names() -> None:
    assert known_codes() == {rule.code for rule in ALL_RULES}
    for rule in ALL_RULES:
        assert rule.__module__.rsplit(".", 1)[-1].startswith(rule.code.lower() + "_")
