"""Selection: what a request gets, in which order, within the budget, deterministically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lsp_server.workspace import Snippet, WorkspaceIndex

Make = Callable[..., WorkspaceIndex]

UTILS = '''"""Helpers."""


def helper(value: int) -> str:
    """Format a value."""
    return str(value)


def unrelated_function(a, b):
    return a + b


def parse_header(line: str) -> dict:
    key, _, rest = line.partition(":")
    return {key: rest}


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, data: bytes) -> int:
        return len(data)
'''
MAIN = """from pkg.utils import helper, parse_header, Client
import pkg.models as models


def run(x):
    client = Client("http://x")
    text = helper(x)
    return client.send(text.encode())
"""
MODELS = "class Record:\n    pass\n\n\ndef make_record() -> Record:\n    return Record()\n"


def _workspace(index_for: Make, tmp_path: Path) -> tuple[WorkspaceIndex, Path]:
    index = index_for(
        {"pkg/__init__.py": "", "pkg/utils.py": UTILS, "pkg/models.py": MODELS, "pkg/main.py": MAIN}
    )
    return index, tmp_path / "ws" / "pkg" / "main.py"


def _select(
    index: WorkspaceIndex, path: Path, text: str, offset: int, budget: int
) -> list[Snippet]:
    return index.select(
        path.as_uri(),
        text,
        offset,
        visible=(0, len(text)),
        budget_chars=budget,
        language_id="python",
    )


def _cost(snippets: list[Snippet]) -> int:
    return sum(len(s.text) + len(s.path) + 8 for s in snippets)


def test_definitions_of_used_names_grouped_per_file(index_for: Make, tmp_path: Path) -> None:
    index, main = _workspace(index_for, tmp_path)
    snippets = _select(index, main, MAIN, MAIN.index("return client"), 4000)
    by_path = {s.path: s for s in snippets}
    utils = by_path["pkg/utils.py"]
    assert "def helper(value: int) -> str:" in utils.text.split("\n")
    assert "    def send(self, data: bytes) -> int:" in utils.text.split("\n")
    assert "class Client:" in utils.text.split("\n")  # a method comes with its class line
    assert {"helper", "Client", "send"} <= set(utils.names)
    source = iter(UTILS.split("\n"))  # the lines come in file order, `...` between pieces
    assert all(line == "..." or line in source for line in utils.text.split("\n"))
    assert "..." in utils.text.split("\n")
    assert "pkg/models.py" in by_path  # the module imported whole offers its definitions
    assert all(s.path != "pkg/main.py" for s in snippets)  # never the file itself


def test_budget_is_always_respected(index_for: Make, tmp_path: Path) -> None:
    index, main = _workspace(index_for, tmp_path)
    offset = MAIN.index("return client")
    sizes = []
    for budget in range(0, 1600, 23):
        snippets = _select(index, main, MAIN, offset, budget)
        assert _cost(snippets) <= budget
        sizes.append(_cost(snippets))
    assert max(sizes) > 300 and sizes[0] == 0


def test_signatures_first_then_whole_definitions(index_for: Make, tmp_path: Path) -> None:
    index, main = _workspace(index_for, tmp_path)
    offset = MAIN.index("helper(x)")
    tight = "\n".join(s.text for s in _select(index, main, MAIN, offset, 250))
    assert "def helper(value: int) -> str:" in tight and "return str(value)" not in tight
    roomy = "\n".join(s.text for s in _select(index, main, MAIN, offset, 4000))
    assert '    """Format a value."""' in roomy and "    return str(value)" in roomy


def test_nearest_use_first_and_import_only_names_before_them(
    index_for: Make, tmp_path: Path
) -> None:
    index, main = _workspace(index_for, tmp_path)
    offset = MAIN.index("helper(x)")

    def first_names(budget: int) -> tuple[str, ...]:
        return tuple(n for s in _select(index, main, MAIN, offset, budget) for n in s.names)

    assert first_names(110)[:1] == ("parse_header",)  # imported, not used yet: comes first
    assert first_names(250)[:2] == ("parse_header", "helper")  # then the nearest use


def test_signatures_already_in_view_are_not_repeated(index_for: Make, tmp_path: Path) -> None:
    index, main = _workspace(index_for, tmp_path)
    text = MAIN + "\n# def helper(value: int) -> str:\n"
    snippets = _select(index, main, text, text.index("text = helper"), 4000)
    assert all("def helper(value: int)" not in s.text for s in snippets)


def test_deterministic(index_for: Make, tmp_path: Path) -> None:
    index, main = _workspace(index_for, tmp_path)
    offset = MAIN.index("return client")
    first = _select(index, main, MAIN, offset, 700)
    index._select_cache = type(index._select_cache)()  # computed again, not cached
    assert _select(index, main, MAIN, offset, 700) == first
    typed = MAIN[:offset] + "cl" + MAIN[offset:]  # typing, same names in view
    again = _select(index, main, typed, offset + 2, 700)
    assert [s.path for s in again] == [s.path for s in first]


def test_similar_window_of_an_open_buffer_fills_the_room(index_for: Make, tmp_path: Path) -> None:
    neighbour = (
        "def other():\n    total = 0\n    for item in basket:\n        total += item.price\n"
    )
    index = index_for({"a.py": "", "b.py": neighbour})
    root = tmp_path / "ws"
    index.open_document((root / "b.py").as_uri(), neighbour, "python")
    text = "def mine(basket):\n    total = 0\n    for item in basket:\n        "
    index.open_document((root / "a.py").as_uri(), text, "python")
    assert index.wait_idle(10)
    snippets = _select(index, root / "a.py", text, len(text), 1000)
    assert [s.path for s in snippets] == ["b.py"]
    assert "total += item.price" in snippets[0].text


@pytest.mark.parametrize(
    ("text", "offset", "visible", "language"),
    [
        ("x = 1", 99, (0, 5), "python"),
        ("x = 1", -3, (4, 1), "python"),
        ("", 0, (0, 0), "python"),
        ("\x00\ud800 weird", 3, (0, 100), "rust"),
        ("fn main() {}", 3, (0, 12), "no-such-language"),
    ],
)
def test_bad_input_never_raises(
    index_for: Make, tmp_path: Path, text: str, offset: int, visible: tuple[int, int], language: str
) -> None:
    index, _ = _workspace(index_for, tmp_path)
    result = index.select(
        "file:///nowhere/x.py",
        text,
        offset,
        visible=visible,
        budget_chars=500,
        language_id=language,
    )
    assert isinstance(result, list) and _cost(result) <= 500


C_HEADER = "".join(
    f"/* {i} */\nstatic inline uint32_t LZ4_hash_{i}(const uint8_t* p, int s) {{ return s; }}\n"
    f"int LZ4_compress_{i}(const char* src, char* dst, int n, int level_{i});\n"
    for i in range(40)
)


@pytest.mark.parametrize("budget_tokens", [60, 200, 700])
def test_rendered_header_fits_the_token_share(
    index_for: Make, tmp_path: Path, code_llama: object, budget_tokens: int
) -> None:
    """Budgets are tokens x 3 characters; dense C must still fit the tokens once rendered."""
    from model_host.text.header import render_header

    calls = "".join(f"    LZ4_compress_{i}(a, b, n, {i});\n" for i in range(40))
    main = f'#include "lz4.h"\n\nvoid run(char* a, char* b, int n) {{\n{calls}}}\n'
    index = index_for({"lz4.h": C_HEADER, "main.c": main})
    path = tmp_path / "ws" / "main.c"
    snippets = index.select(
        path.as_uri(), main, main.index("LZ4_compress_20"), visible=(0, len(main)),
        budget_chars=budget_tokens * 3, language_id="c",
    )  # fmt: skip
    assert snippets
    header = render_header([(s.path, s.text) for s in snippets], "c")
    assert len(code_llama.encode(header)) <= budget_tokens  # type: ignore[attr-defined]


def test_a_rust_type_brings_its_constructor_from_another_file(
    index_for: Make, tmp_path: Path
) -> None:
    index = index_for(
        {
            "Cargo.toml": '[package]\nname = "demo"\n',
            "src/lib.rs": "mod error;\n\npub struct Error {\n    inner: u32,\n}\n",
            "src/error.rs": "use crate::Error;\n\nimpl Error {\n"
            "    pub fn new(code: u32) -> Self {\n        Error { inner: code }\n    }\n}\n",
            "tests/use_it.rs": "use demo::Error;\n\nfn check(e: Error) {}\n",
        }
    )
    path = tmp_path / "ws" / "tests" / "use_it.rs"
    text = (path).read_text() + "\nfn main() {\n    let e = \n}\n"
    snippets = index.select(
        path.as_uri(),
        text,
        text.index("let e = ") + 8,
        visible=(0, len(text)),
        budget_chars=4000,
        language_id="rust",
    )
    by_path = {s.path: s.text for s in snippets}
    assert "pub struct Error {" in by_path["src/lib.rs"]
    assert "    pub fn new(code: u32) -> Self {" in by_path["src/error.rs"].split("\n")


def test_a_rust_path_through_the_crate_s_name(index_for: Make, tmp_path: Path) -> None:
    index = index_for(
        {
            "Cargo.toml": '[package]\nname = "demo"\n',
            "src/lib.rs": "#[macro_use]\nmod macros;\n\n"
            + "".join(f"pub fn helper_{i}() -> u32 {{\n    {i}\n}}\n" for i in range(30))
            + "pub type Result<T> = core::result::Result<T, ()>;\n",
            "src/macros.rs": "#[macro_export]\nmacro_rules! demo {\n    () => {};\n}\n",
            "tests/run.rs": "use demo::demo;\n\nfn main() -> demo::Result<()> {\n    demo!();\n}\n",
        }
    )
    path = tmp_path / "ws" / "tests" / "run.rs"
    text = path.read_text()
    snippets = index.select(
        path.as_uri(),
        text,
        text.index("demo!();"),
        visible=(0, len(text)),
        budget_chars=160,
        language_id="rust",
    )
    by_path = {s.path: s.text for s in snippets}
    assert "pub type Result<T> = core::result::Result<T, ()>;" in by_path.get("src/lib.rs", ""), (
        snippets
    )


def test_a_lua_module_s_most_used_functions_come_first(index_for: Make, tmp_path: Path) -> None:
    utils = "local utils = {}\n" + "".join(
        f"function utils.rare_{i}(x)\n  return x\nend\n" for i in range(30)
    )
    utils += "function utils.quit(code, msg)\n  os.exit(code)\nend\nreturn utils\n"
    users = {
        f"pl/user{i}.lua": "local utils = require 'pl.utils'\nutils.quit(1, 'no')\n"
        for i in range(3)
    }
    index = index_for({"pl/utils.lua": utils, **users, "pl/main.lua": ""})
    path = tmp_path / "ws" / "pl" / "main.lua"
    text = "local utils = require 'pl.utils'\n\nlocal function run()\n  \nend\n"
    snippets = index.select(
        path.as_uri(),
        text,
        text.index("  \nend") + 2,
        visible=(0, len(text)),
        budget_chars=240,
        language_id="lua",
    )
    sent = "\n".join(s.text for s in snippets)
    assert "function utils.quit(code, msg)" in sent, sent


def test_a_name_used_far_from_the_cursor_still_counts(index_for: Make, tmp_path: Path) -> None:
    utils = "".join(f"def tool_{i}(x):\n    return x\n\n\n" for i in range(40))
    utils += "def far_helper(value, *, strict=False):\n    return value\n"
    near = "".join(f"    local_{i} = {i}\n" for i in range(200))
    main = (
        "import pkg.utils as u\n\n\ndef earlier():\n    return u.far_helper(1)\n\n\n"
        "def work():\n" + near + "    return 0\n"
    )
    index = index_for({"pkg/__init__.py": "", "pkg/utils.py": utils, "pkg/main.py": main})
    path = tmp_path / "ws" / "pkg" / "main.py"
    snippets = _select(index, path, main, main.index("    return 0"), 420)
    sent = "\n".join(s.text for s in snippets)
    assert "def far_helper(value, *, strict=False):" in sent, sent
