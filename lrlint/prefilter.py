"""Deciding from the text that a file cannot contain a finding, so it is never parsed.

Every rule needs a scheduler that lrlint resolves by qualified name, and every spelling of one
leaves a mark in the file: `lr_scheduler` (the torch module, in any import form, also for
in-file subclasses of its classes), or `transformers` together with a factory name
(`get_linear_schedule_with_warmup`, `get_scheduler`, ...), which is imported from it.
A file with neither skips parsing, the expensive step; it is still read and decoded, so
unreadable files are reported, but its syntax is not checked (LR000 for invalid syntax covers
the analysed files). tests/test_prefilter.py checks on every fixture and rule example that
this hides no rule finding.
"""

from __future__ import annotations

import re

_TRANSFORMERS_FACTORY = re.compile(r"get_\w*schedul")


def may_contain_findings(code: str) -> bool:
    if "lr_scheduler" in code:
        return True
    return "transformers" in code and _TRANSFORMERS_FACTORY.search(code) is not None
