"""Code that LibCST's native parser cannot take, recognised before it sees it.

- Brackets nested deeper than CPython allows make the parser overflow its stack: a segfault
  that would end the whole run. CPython refuses such code too ("too many nested parentheses").
- A very long chain of operations (`1 + 1 + ...` with thousands of terms, `a.b.c...`) takes
  the parser quadratic time: minutes for one generated file. Only files with a logical line
  longer than any hand-written one are measured, with CPython's fast parser.
"""

from __future__ import annotations

import ast
import re
import warnings

MAX_BRACKET_DEPTH = 200  # CPython's own limit
MAX_CHAIN = 1000  # chained operations in one expression; real code stays far below
_LONG_LOGICAL_LINE = 20_000  # characters
_BRACKET = re.compile(r"[()\[\]{}]")
_CHAINING = (ast.BinOp, ast.Attribute, ast.Call, ast.Subscript)


def bracket_depth_and_span(code: str) -> tuple[int, int]:
    """The deepest bracket nesting and the longest outermost bracket span, counting brackets in
    strings too (cheap upper bounds)."""
    depth = deepest = longest = opened = 0
    for match in _BRACKET.finditer(code):
        if match.group() in "([{":
            if depth == 0:
                opened = match.start()
            depth += 1
            deepest = max(deepest, depth)
        elif depth > 0:
            depth -= 1
            if depth == 0:
                longest = max(longest, match.start() - opened)
    return deepest, longest


def overlong_chain(code: str, longest_span: int) -> tuple[str, int, int] | None:
    """Why the code is too long or deep to parse, and where, if it is."""
    if longest_span < _LONG_LOGICAL_LINE and max(map(len, code.splitlines()), default=0) < _LONG_LOGICAL_LINE:
        return None
    try:
        tree = python_syntax_tree(code)
    except (RecursionError, MemoryError):
        return "an expression is nested too deeply for CPython to compile", 1, 1
    except (SyntaxError, ValueError):
        return None  # the LibCST parse that follows reports it
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, length = stack.pop()
        if length > MAX_CHAIN:
            message = f"an expression chains over {MAX_CHAIN} operations: too long for lrlint's parser"
            return message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        for child in ast.iter_child_nodes(node):
            chained = isinstance(child, _CHAINING) and isinstance(node, _CHAINING)
            stack.append((child, length + 1 if chained else 0))
    return None


def python_syntax_tree(code: str) -> ast.Module:
    """CPython's syntax tree of the code, without the SyntaxWarnings it would print about it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = compile(code, "<lrlint>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree
