"""Deciding from the text that a file cannot contain a finding, so it is never parsed.

Every rule needs a scheduler that lrlint resolves by qualified name, and every spelling of one
puts the word "schedule" in the file: `torch.optim.lr_scheduler` in any import form, and the
transformers factories (`get_linear_schedule_with_warmup`, `get_scheduler`, ...). A file
without it skips parsing, the expensive step; it is still read and decoded, so unreadable files
are reported, but its syntax is not checked (LR000 for invalid syntax covers analysed files).
tests/test_prefilter.py checks on every fixture and rule example that this hides nothing.
"""

from __future__ import annotations

_MARKER = "schedule"


def may_contain_findings(code: str) -> bool:
    return _MARKER in code
