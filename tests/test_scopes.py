"""lrlint's own passes over a LibCST tree give LibCST's answers: scopes and qualified names
(lrlint/model/scopes.py), positions (metadata.py) and the walk in source order (syntax.py).

They replace LibCST's ScopeProvider, PositionProvider and visitors, which cost several times the
parse: each is compared with LibCST's on every fixture, on snippets of the rules of Python scoping
it follows, and on generated code; the rules themselves are also stated with their expected answers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, example, given, settings
from libcst.metadata import Assignment, MetadataWrapper, PositionProvider, ScopeProvider

from lrlint.model.metadata import Metadata
from lrlint.model.scopes import Binding, ScopeTable
from lrlint.model.syntax import walk

# Nodes that only hold formatting, which lrlint's walk leaves out.
FORMATTING = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.Asynchronous,
    cst.ParamSlash,
)

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))
_NAMING = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Decorator, cst.FunctionDef, cst.ClassDef)

SCOPING = {
    "class body hidden from methods": "x = 1\nclass A:\n    x = 2\n    def f(self):\n        return x\n",
    "global and nonlocal": (
        "n = 0\ndef f():\n    global n\n    n = 1\n    m = 0\n    def g():\n        nonlocal m\n        m = n\n"
    ),
    "comprehension scopes": (
        "xs = [1]\nys = [x for x in xs if x for y in range(x)]\nd = {k: v for k, v in zip(xs, xs)}\n"
    ),
    "defaults and annotations outside the function": (
        "T = int\ndef f(a: T = T(), *args: T, b=lambda c=T: c, **kw) -> T:\n    T = 2\n"
    ),
    "dotted and relative imports": (
        "import torch.optim.lr_scheduler\nimport torch.nn as nn\nfrom . import engine\nfrom ..utils import a as b\n"
        "torch.optim.lr_scheduler.StepLR(o, 1)\nnn.Linear\nengine.train()\nb.c.d\ntorch.optim.SGD\n"
    ),
    "an access sees what ran before it": (
        "def f():\n    s = 1\n    s = s + 1\n    for s in s:\n        pass\n    return s\n"
    ),
    "with, except, walrus, del, augmented": (
        "with open(p) as (a, b):\n    pass\ntry:\n    pass\nexcept ValueError as e:\n    del e\n"
        "if (n := 3) > 2:\n    n += 1\nprint(n, len)\n"
    ),
    "calls and subscripts in chains": "import a\na.b().c.d\na.b[0].c\nx = a.b(k=a.c)[a.d].e\n'abc'.join([])\n",
    "decorators and bases": (
        "import functools\nclass M(type): pass\n@functools.wraps(f)\nclass C(M, metaclass=M):\n"
        "    @property\n    def p(self): return self\n"
    ),
}


def assert_same_as_libcst(code: str) -> None:
    module = cst.parse_module(code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    ours = ScopeTable(module)
    for node in walk(module):
        if not isinstance(node, _NAMING):
            continue
        scope = theirs.get(node)
        assert (scope is None) == (ours.scope(node) is None), cst.Module([]).code_for_node(node)
        if scope is None:
            continue
        described = f"{type(node).__name__} {cst.Module([]).code_for_node(node)!r}"
        assert ours.qualified_names(node) == {q.name for q in scope.get_qualified_names_for(node)}, described
        if isinstance(node, cst.Name):
            their_bindings = [a.node for a in scope[node.value] if isinstance(a, Assignment)]
            our_bindings = [b.node for b in ours.scope(node)[node.value] if isinstance(b, Binding)]  # type: ignore[index]
            assert sorted(map(id, our_bindings)) == sorted(map(id, their_bindings)), described


def libcst_walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Every node in the order of LibCST's own `children`, formatting left out."""
    found = [node]
    for child in node.children:
        if not isinstance(child, FORMATTING):
            found.extend(libcst_walk(child))
    return found


def assert_walked_as_libcst(code: str) -> None:
    module = cst.parse_module(code)
    assert [id(node) for node in walk(module)] == [id(node) for node in libcst_walk(module)]


def assert_positions_as_libcst(code: str) -> None:
    module = cst.parse_module(code)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Metadata(module, code)
    for node in walk(module):
        where = theirs[node]
        assert ours.has(node)
        assert ours.position(node) == (where.start.line, where.start.column + 1)
        assert ours.end(node) == (where.end.line, where.end.column + 1)


@pytest.mark.parametrize("case", SCOPING)
def test_scoping_rules_as_libcst_models_them(case: str) -> None:
    assert_same_as_libcst(SCOPING[case])
    assert_walked_as_libcst(SCOPING[case])


@pytest.mark.slow
def test_every_fixture_has_the_scopes_and_positions_libcst_gives() -> None:
    for fixture in FIXTURES:
        code = fixture.read_text(encoding="utf-8")
        if "# expect: LR000" in code:
            continue  # does not parse
        assert_same_as_libcst(code)
        assert_positions_as_libcst(code)
        assert_walked_as_libcst(code)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
@example(code="try: pass\nexcept ....A :\n pass\n")  # LibCST drops the space before the colon
def test_generated_code_has_the_scopes_and_positions_libcst_gives(code: str) -> None:
    assert_same_as_libcst(code)
    assert_positions_as_libcst(code)
    assert_walked_as_libcst(code)


def qualified(code: str, snippet: str) -> set[str]:
    module = cst.parse_module(code)
    table = ScopeTable(module)
    node = next(n for n in walk(module) if isinstance(n, _NAMING) and cst.Module([]).code_for_node(n) == snippet)
    return table.qualified_names(node)


def test_qualified_names_follow_imports_aliases_and_scopes() -> None:
    code = SCOPING["dotted and relative imports"]
    assert qualified(code, "torch.optim.lr_scheduler.StepLR") == {"torch.optim.lr_scheduler.StepLR"}
    assert qualified(code, "nn.Linear") == {"torch.nn.Linear"}
    assert qualified(code, "engine.train") == {".engine.train"}
    assert qualified(code, "b.c.d") == {"..utils.a.c.d"}
    module = cst.parse_module(SCOPING["class body hidden from methods"])
    table = ScopeTable(module)
    in_class, in_method = [n for n in walk(module) if isinstance(n, cst.Name) and n.value == "x"][1:]
    assert table.qualified_names(in_class) == {"A.x"}
    assert table.qualified_names(in_method) == {"x"}  # a method sees the module's x, not the class's
    assert qualified("print(1)", "print") == {"builtins.print"}


def test_only_imports_give_the_names_that_lead_to_another_module() -> None:
    code = "import engine\nfrom models import *\nrunner = make()\nengine.run\nrunner.run\nbuild\nrunner\n"
    module = cst.parse_module(code)
    metadata = Metadata(module, code)
    by_code = {module.code_for_node(n): n for n in walk(module) if isinstance(n, (cst.Name, cst.Attribute))}
    assert metadata.qualified_names(by_code["engine.run"], imported_only=True) == {"engine.run"}
    assert metadata.qualified_names(by_code["runner.run"]) == {"runner.run"}
    assert metadata.qualified_names(by_code["runner.run"], imported_only=True) == set()
    assert metadata.qualified_names(by_code["build"], imported_only=True) == {"models.build"}  # unbound: the star
    assert metadata.qualified_names(by_code["runner"], imported_only=True) == set()  # bound here, not by the star


def test_positions_count_lines_as_libcst_does_with_every_line_break() -> None:
    assert_positions_as_libcst('import torch\r\nx = 1\r\n\r\nclass A:\r\n\tdef f(self):\r\n\t\treturn "a\\\r\nb"\r\n')
    assert_positions_as_libcst("x = 1\ry = (2,\r  3)\r")


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import torch\n\n\nmain()\nx = 1\nmain()\n", id="a statement written twice"),
        pytest.param("x = 1\ny = 2", id="no line break at the end"),
        pytest.param("# header\n\ndef f():\n    return 1\n\n# trailing comment\n", id="header and footer"),
    ],
)
def test_positions_of_statements_whose_text_does_not_place_them(code: str) -> None:
    assert_positions_as_libcst(code)
