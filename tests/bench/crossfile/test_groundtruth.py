"""The cross-file benchmark's own machinery on small hand-made packages: its ground truth, the
peers' retrieval rules, the budget packing and the recall measure."""

from __future__ import annotations

from pathlib import Path

from tests.bench.crossfile import baselines as bl
from tests.bench.crossfile.holes import sample
from tests.bench.crossfile.package import Package
from tests.bench.crossfile.recall import delivered
from tests.bench.crossfile.truth import needs


def _package(tmp_path: Path, language: str, files: dict[str, str]) -> Package:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    paths = [p for p in files if not p.endswith(".mod")]
    return Package.load("pkg", language, tmp_path, paths)


def _needed(package: Package, path: str, line: str) -> list[tuple[str, str, str]]:
    """(name, defining file, signature) of what that line of `path` needs."""
    row = package.files[path].text.split("\n").index(line)
    return [
        (n.name, n.definition.path, n.definition.signature.strip())
        for n in needs(package, path, row)
    ]


def test_python_imports_reexports_and_locals(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        "python",
        {
            "app/__init__.py": "from .util import helper as helper\n",
            "app/util.py": (
                "def helper(x: int) -> str:\n    return str(x)\n\n\n"
                "class Box:\n    def open_lid(self):\n        pass\n"
            ),
            "app/other.py": "def helper(y):\n    return y\n",
            "app/main.py": (
                "from . import helper\nfrom .util import Box\nimport os\n\n\n"
                "def run(value):\n"
                "    print(helper(value))\n"
                "    box = Box()\n"
                "    value = os.path.join(value)\n"
                "    Box.open_lid(box)\n"
            ),
        },
    )
    # `helper` is re-exported by the package's __init__ and also defined in other.py: the
    # import decides; a builtin (print) and a module outside the package (os) are not needed.
    assert _needed(pkg, "app/main.py", "    print(helper(value))") == [
        ("helper", "app/util.py", "def helper(x: int) -> str:")
    ]
    assert _needed(pkg, "app/main.py", "    box = Box()") == [("Box", "app/util.py", "class Box:")]
    assert _needed(pkg, "app/main.py", "    value = os.path.join(value)") == []
    assert ("open_lid", "app/util.py", "def open_lid(self):") in _needed(
        pkg, "app/main.py", "    Box.open_lid(box)"
    )


def test_typescript_barrels_and_shadowing(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        "typescript",
        {
            "src/index.ts": "export * from './a';\nexport { g as h } from './b';\n",
            "src/a.ts": "export function f(x: number): number {\n  return x;\n}\n",
            "src/b.ts": "export const g = 1;\n",
            "src/use.ts": (
                "import { f, h } from './index';\nimport { g } from './b';\n\n"
                "export function k(x: number) {\n  return f(x) + h + g;\n}\n"
                "function m(g: number) {\n  return g + 1;\n}\n"
            ),
        },
    )
    # A name the file also binds (here `g`, a parameter of m) is never counted: the benchmark
    # reads bindings per file, not per scope, and leaves such names out.
    assert _needed(pkg, "src/use.ts", "  return f(x) + h + g;") == [
        ("f", "src/a.ts", "export function f(x: number): number {"),
        ("h", "src/b.ts", "export const g = 1;"),
    ]


def test_go_package_directory_and_module_imports(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        "go",
        {
            "go.mod": "module example.com/m\n",
            "a.go": "package m\n\nfunc Helper() int { return 1 }\n",
            "inner/v.go": "package inner\n\ntype Value struct{}\n\nfunc New() Value { return Value{} }\n",
            "b.go": (
                'package m\n\nimport "example.com/m/inner"\n\n'
                "func Use() {\n\t_ = Helper()\n\t_ = inner.New()\n\tx := fmt.Sprint(1)\n}\n"
            ),
        },
    )
    assert _needed(pkg, "b.go", "\t_ = Helper()") == [
        ("Helper", "a.go", "func Helper() int { return 1 }")
    ]
    assert _needed(pkg, "b.go", "\t_ = inner.New()") == [
        ("New", "inner/v.go", "func New() Value { return Value{} }")
    ]
    assert _needed(pkg, "b.go", "\tx := fmt.Sprint(1)") == []


def test_rust_c_and_lua(tmp_path: Path) -> None:
    rust = _package(
        tmp_path / "r",
        "rust",
        {
            "src/lib.rs": (
                "mod error;\nmod shapes;\nuse crate::shapes::Circle;\nuse std::io;\n\n"
                "pub fn area() -> f64 {\n"
                "    Circle::new(1.0).r\n}\n\npub fn fail() {\n"
                '    panic!("{}", io::Error::new(io::ErrorKind::Other, "x"));\n}\n\n'
                "pub fn local() {\n    fn helper() {}\n    helper();\n}\n"
            ),
            "src/error.rs": (
                "pub struct Error;\n\nimpl Error {\n    pub fn new() -> Self { Error }\n}\n\n"
                "pub fn helper() {}\n"
            ),
            "src/shapes.rs": (
                "pub struct Circle { pub r: f64 }\n\n"
                "impl Circle {\n    pub fn new(r: f64) -> Self { Circle { r } }\n}\n"
            ),
        },
    )
    assert _needed(rust, "src/lib.rs", "    Circle::new(1.0).r") == [
        ("Circle", "src/shapes.rs", "pub struct Circle { pub r: f64 }"),
        ("new", "src/shapes.rs", "pub fn new(r: f64) -> Self { Circle { r } }"),
    ]
    # Inside a macro's tokens too, `io::Error::new` is std's, not the crate's `Error::new`.
    line = '    panic!("{}", io::Error::new(io::ErrorKind::Other, "x"));'
    assert _needed(rust, "src/lib.rs", line) == []
    assert _needed(rust, "src/lib.rs", "    helper();") == []  # a function nested in this one
    c = _package(
        tmp_path / "c",
        "c",
        {
            "util.c": "int shared(int x) { return x; }\nstatic int hidden(int x) { return x; }\n",
            "main.c": '#include "util.h"\nint main(void) {\n    return shared(1) + hidden(2);\n}\n',
        },
    )
    assert _needed(c, "main.c", "    return shared(1) + hidden(2);") == [
        ("shared", "util.c", "int shared(int x) { return x; }")
    ]
    lua = _package(
        tmp_path / "l",
        "lua",
        {
            "pl/utils.lua": "local utils = {}\nfunction utils.split(s, sep)\n  return s\nend\nreturn utils\n",
            "pl/app.lua": "local utils = require 'pl.utils'\nlocal parts = utils.split('a,b', ',')\nos.exit(0)\n",
        },
    )
    assert _needed(lua, "pl/app.lua", "local parts = utils.split('a,b', ',')") == [
        ("split", "pl/utils.lua", "function utils.split(s, sep)")
    ]
    assert _needed(lua, "pl/app.lua", "os.exit(0)") == []


def test_holes_hide_lines_that_need_other_files(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        "python",
        {
            "m/a.py": "def alpha():\n    return 1\n",
            "m/b.py": "from .a import alpha\n\n\ndef beta():\n    x = 2\n    return alpha() + x\n",
        },
    )
    holes = sample(pkg, 5, seed=0)
    assert [(h.path, h.truth) for h in holes] == [("m/b.py", "return alpha() + x")]
    hole = holes[0]
    assert hole.document(pkg.files["m/b.py"].text).endswith("    \n")
    assert [n.definition.signature for n in hole.needs] == ["def alpha():"]


def test_recall_counts_a_signature_only_from_its_own_file(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        "python",
        {"m/a.py": "def alpha(x):\n    return x\n", "m/b.py": "from .a import alpha\nalpha(1)\n"},
    )
    need = needs(pkg, "m/b.py", 1)
    assert delivered(need, [("m/a.py", "def  alpha(x):\n    return x")]) == [True]
    assert delivered(need, [("m/c.py", "def alpha(x):")]) == [False]
    assert delivered(need, [("m/a.py", "def alpha(x): pass")]) == [False]


def test_packing_and_the_peers_rules() -> None:
    assert bl.pack([("a.py", "x" * 10), ("b.py", "1\n22\n333")], 22 + 4 + 8 + 4) == [
        ("a.py", "x" * 10),
        ("b.py", "1\n22"),
    ]
    files = {
        "lib/a.py": bl.file_chunks("\n".join(f"def fa{i}(): pass" for i in range(20))),
        "lib/b.py": bl.file_chunks("\n".join(f"def special_{i}(): pass" for i in range(20))),
    }
    chunks = bl.chunks_for(files, "lib/c.py")
    after, hits = bl.bm25("x = special_3()\ny = special_4()\n", chunks)
    assert hits[0] == ("lib/b.py", "\n".join(f"def special_{i}(): pass" for i in range(10)))
    # CrossCodeEval's default: the chunk after the hit (the code that followed similar code).
    assert after[0] == ("lib/b.py", "\n".join(f"def special_{i}(): pass" for i in range(10, 20)))
    scores = bl.BM25([["a", "b"], ["b", "c", "c"], ["d"]]).scores(["c", "c", "b"])
    assert scores[1] > scores[0] > scores[2] == 0.0
    tab = "\n".join(["unrelated words"] * 600 + ["parse_header(buffer, offset)"] + ["filler"] * 600)
    query = "value = parse_header(buffer, offset)\n"
    found = bl.neighbour_tabs(query, [("t.py", tab)], max_chars=100_000)
    assert len(found) == 1 and "parse_header(buffer, offset)" in found[0][1]
    assert found[0][1].count("\n") == bl.WINDOW - 1
    assert bl.neighbour_tabs(query, [("t.py", tab)]) == []  # a tab of 10,000 characters or more
