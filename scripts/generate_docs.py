"""Regenerate docs/rules/<CODE>.md and the README's rule table from the rule classes.

Run: python scripts/generate_docs.py    (tests/test_docs.py fails when they are stale)
"""

from __future__ import annotations

import sys
from pathlib import Path

from lrlint.docs import readme_with_table, rule_markdown
from lrlint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    docs = ROOT / "docs" / "rules"
    docs.mkdir(parents=True, exist_ok=True)
    for stale in docs.glob("*.md"):
        stale.unlink()
    for rule in ALL_RULES:
        (docs / f"{rule.code}.md").write_text(rule_markdown(rule), encoding="utf-8")
    readme = ROOT / "README.md"
    readme.write_text(readme_with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {len(ALL_RULES)} rule pages and the README table", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
