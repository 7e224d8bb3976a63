"""Definitions per language: names, kinds, containers, header lines, doc lines, visibility."""

from __future__ import annotations

from lsp_server.context.languages import spec_for_path
from lsp_server.workspace.definitions import extract_definitions
from lsp_server.workspace.model import Definition
from lsp_server.workspace.records import build_record


def _defs(path: str, text: str) -> dict[tuple[str | None, str], Definition]:
    spec = spec_for_path(path)
    assert spec is not None
    record = build_record(text.encode(), "/ws/" + path, path, spec)
    return {(d.container, d.name): d for d in record.definitions}


def _head(d: Definition) -> list[str]:
    return list(d.lines[: d.head])


def test_python() -> None:
    defs = _defs(
        "m.py",
        "MAX = 3\n_hidden = 1\n\n@deco\ndef fetch(url,\n          retries=2) -> bytes:\n"
        '    """Fetch a URL.\n\n    More."""\n    return b""\n\n'
        "class Client(Base):\n    timeout: float = 1.0\n\n    def get(self, key):\n        pass\n"
        "\n    def _private(self):\n        pass\n\n"
        "if TYPE_CHECKING:\n    Alias = int\n",
    )
    assert defs[(None, "MAX")].kind == "const"
    assert not defs[(None, "_hidden")].exported
    fetch = defs[(None, "fetch")]
    assert fetch.kind == "function" and fetch.start_line == 4  # the `def` line, not `@deco`
    assert _head(fetch) == ["def fetch(url,", "          retries=2) -> bytes:"]
    assert fetch.signature == "def fetch(url, retries=2) -> bytes:"
    assert fetch.doc == '    """Fetch a URL.' and fetch.doc_line == 6
    assert defs[("Client", "get")].kind == "method"
    assert defs[("Client", "timeout")].kind == "field"
    assert not defs[("Client", "_private")].exported
    assert (None, "Alias") in defs  # definitions under a module-level `if`


def test_javascript_commonjs_and_members() -> None:
    defs = _defs(
        "lib/res.js",
        "var path = require('path');\nvar res = {};\n"
        "// Send a body.\nres.send = function send(body) {\n  return this;\n};\n"
        "function helper(a) { return a; }\nconst LIMIT = 10;\n"
        "class Router { route(p) { return p; } #secret() {} }\nmodule.exports = res;\n",
    )
    assert (None, "path") not in defs  # `require` is an import
    send = defs[("res", "send")]
    assert send.kind == "method" and send.doc == "// Send a body."
    assert defs[("Router", "route")].kind == "method"
    assert not defs[("Router", "secret")].exported
    assert defs[(None, "res")].exported  # module.exports = res
    assert not defs[(None, "helper")].exported  # CommonJS: only what module.exports names


def test_typescript() -> None:
    defs = _defs(
        "src/api.ts",
        "export interface Options {\n  retries: number;\n  fetch(url: string): Promise<void>;\n}\n"
        "export type Id = string | number;\n"
        "export enum Color { Red, Green = 2 }\n"
        "export function parse(\n  text: string,\n): Id {\n  return text;\n}\n"
        "export const make = (a: number): number => a;\n"
        "export abstract class Shape {\n  abstract area(): number;\n"
        "  private cache = 0;\n}\nfunction local() {}\n"
        "export namespace NS { export function inner(): void {} }\n",
    )
    assert defs[(None, "Options")].kind == "interface"
    assert defs[("Options", "fetch")].kind == "method"
    assert defs[("Options", "retries")].kind == "field"
    assert defs[(None, "Id")].kind == "type"
    assert defs[("Color", "Green")].kind == "member"
    assert _head(defs[(None, "parse")]) == ["export function parse(", "  text: string,", "): Id {"]
    assert defs[(None, "make")].kind == "function"
    assert defs[("Shape", "area")].kind == "method"
    assert not defs[("Shape", "cache")].exported
    assert not defs[(None, "local")].exported  # an ES module exports what it says
    assert defs[("NS", "inner")].kind == "function"


def test_go() -> None:
    defs = _defs(
        "cmd/command.go",
        "package cobra\n\n// Command is a command.\ntype Command struct {\n\tUse string\n"
        "\tparent *Command\n}\n\nfunc (c *Command) Name() string {\n\treturn c.Use\n}\n\n"
        "func helper() {}\n\nconst (\n\tA = iota\n\tB\n)\n\nvar Debug = false\n\n"
        "type Runner interface {\n\tRun(args []string) error\n}\n",
    )
    command = defs[(None, "Command")]
    assert command.kind == "struct" and command.doc == "// Command is a command."
    assert defs[("Command", "Use")].exported and not defs[("Command", "parent")].exported
    assert defs[("Command", "Name")].lines[0] == "func (c *Command) Name() string {"
    assert not defs[(None, "helper")].exported
    assert defs[(None, "B")].kind == "const" and defs[(None, "B")].lines[0] == "\tB"
    assert defs[(None, "Debug")].kind == "var"
    assert defs[("Runner", "Run")].kind == "method"


def test_rust() -> None:
    defs = _defs(
        "src/error.rs",
        "/// An error.\n#[derive(Debug)]\npub struct Error {\n    inner: Box<str>,\n}\n\n"
        "impl Error {\n    pub fn new(msg: &str) -> Self\n    where\n        Self: Sized,\n"
        "    {\n        todo!()\n    }\n    fn private(&self) {}\n}\n\n"
        "pub enum Kind { Io, Parse(u32) }\n\npub trait Report {\n    fn report(&self);\n}\n\n"
        "macro_rules! bail { () => {} }\n\npub const LIMIT: usize = 3;\npub type Result<T> = "
        "std::result::Result<T, Error>;\nmod inner { pub fn deep() {} }\nmod external;\n",
    )
    error = defs[(None, "Error")]
    assert error.kind == "struct" and error.doc == "/// An error."  # across the attribute
    new = defs[("Error", "new")]
    assert new.kind == "method" and new.exported
    assert _head(new) == [
        "    pub fn new(msg: &str) -> Self",
        "    where",
        "        Self: Sized,",
        "    {",
    ]
    assert not defs[("Error", "private")].exported
    assert defs[("Kind", "Parse")].kind == "member"
    assert defs[("Report", "report")].exported  # a public trait's methods
    assert defs[(None, "bail")].kind == "macro"
    assert defs[(None, "LIMIT")].kind == "const"
    assert defs[(None, "Result")].kind == "type"
    assert defs[("inner", "deep")].kind == "function"
    assert (None, "external") not in defs  # `mod x;` is an import


def test_c_header_and_source() -> None:
    header = _defs(
        "include/lz4.h",
        "#ifndef LZ4_H\n#define LZ4_H\n#define LZ4_VERSION 10904\n"
        "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"
        "/* Compress a block. */\nint LZ4_compress(const char* src, char* dst,\n"
        "                 int size);\n"
        "typedef struct {\n    int a;\n    int b;\n    int c;\n    int d;\n    int e;\n"
        "    int f;\n    int g;\n    int h;\n    int i;\n    int j;\n    int k;\n    int l;\n"
        "} LZ4_stream_t;\nenum mode { FAST, SLOW = 2 };\nextern int LZ4_debug;\n#endif\n",
    )
    proto = header[(None, "LZ4_compress")]
    assert proto.kind == "function" and proto.doc == "/* Compress a block. */"
    assert _head(proto) == [
        "int LZ4_compress(const char* src, char* dst,",
        "                 int size);",
    ]
    assert header[(None, "MAX")].kind == "macro" and header[(None, "MAX")].exported
    typedef = header[(None, "LZ4_stream_t")]
    assert not typedef.whole and typedef.name_text == "} LZ4_stream_t;"  # the name's line
    assert header[("mode", "SLOW")].kind == "member"
    assert header[(None, "LZ4_debug")].kind == "var"
    source = _defs(
        "src/lz4.c",
        "#define LOCAL 1\nstatic int helper(void) { return 0; }\n"
        "int\nLZ4_compress(const char* src, char* dst, int size)\n{\n    return helper();\n}\n",
    )
    assert not source[(None, "LOCAL")].exported  # a .c file's macros are its own
    assert not source[(None, "helper")].exported  # static
    definition = source[(None, "LZ4_compress")]
    assert definition.exported and definition.name_row_text.startswith("LZ4_compress(")


def test_cpp_and_java() -> None:
    cpp = _defs(
        "src/shape.cpp",
        "namespace geo {\nclass Shape {\n public:\n  Shape(int n);\n  double area() const;\n};\n"
        "double Shape::area() const { return 0; }\n}\n",
    )
    assert cpp[("geo", "Shape")].kind == "class"
    assert cpp[("geo::Shape", "area")].kind == "method"
    assert cpp[("Shape", "area")].start_line == 6  # the out-of-class definition
    java = _defs(
        "src/a/Greeter.java",
        "package a;\npublic class Greeter {\n  public static final int TIMES = 2;\n"
        "  private String name;\n  public Greeter(String name) { this.name = name; }\n"
        "  public String greet() { return name; }\n  enum Mood { HAPPY }\n}\n",
    )
    assert java[(None, "Greeter")].kind == "class"
    assert java[("Greeter", "TIMES")].kind == "field"
    assert not java[("Greeter", "name")].exported
    assert java[("Greeter", "greet")].kind == "method"
    assert java[("Mood", "HAPPY")].kind == "member"


def test_lua_modules() -> None:
    defs = _defs(
        "pl/utils.lua",
        "local utils = { _VERSION = '1.0' }\nlocal min = math.min\n"
        "local function helper(x) return x end\n--- Split a string.\n"
        "function utils.split(s, sep)\n  return {}\nend\nfunction utils:method() end\n"
        "utils.patterns = { FLOAT = '%d+' }\nfunction global_fn() end\nreturn utils\n",
    )
    assert (None, "min") not in defs  # a local alias is invisible elsewhere
    assert not defs[(None, "helper")].exported
    split = defs[("utils", "split")]
    assert split.kind == "function" and split.doc == "--- Split a string."
    assert defs[("utils", "method")].kind == "method"
    assert defs[("utils", "patterns")].kind == "value"
    assert defs[("utils", "_VERSION")].kind == "value"
    assert defs[(None, "global_fn")].exported
    returned = _defs(
        "busted/utils.lua",
        "return {\n  split = require 'pl.utils'.split,\n  copy = function(t) end,\n}\n",
    )
    assert returned[(None, "split")].kind == "value" and returned[(None, "copy")].kind == "function"


def test_small_definitions_are_kept_whole_and_large_ones_as_headers() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(30))
    defs = _defs("m.py", f"def small(a):\n    return a\n\ndef large(a):\n{body}")
    assert defs[(None, "small")].whole and defs[(None, "small")].lines == (
        "def small(a):",
        "    return a",
    )
    assert not defs[(None, "large")].whole and defs[(None, "large")].lines == ("def large(a):",)


def test_broken_code_still_yields_what_parsed() -> None:
    spec = spec_for_path("x.py")
    assert spec is not None
    defs = extract_definitions(b"def ok(a):\n    return a\n\ndef broken(:\n    pass\n", spec)
    assert "ok" in [d.name for d in defs]
    assert extract_definitions(b"\xff\xfe garbage \x00", spec) == ()


def test_lua_module_keeps_its_local_tables_to_itself() -> None:
    defs = _defs(
        "m.lua",
        "local M = {}\nlocal ops = {\n  min = 1,\n  max = function(a) return a end,\n}\n"
        "local mt = {}\nmt.__index = mt\nfunction M.go(x)\n  return x\nend\n"
        "function ops.run() end\nreturn M\n",
    )
    assert defs[(None, "M")].exported and defs[("M", "go")].exported  # the module's API
    for key in ((None, "ops"), ("ops", "min"), ("ops", "max"), ("ops", "run"), ("mt", "__index")):
        assert not defs[key].exported, key
    script = _defs("s.lua", "local cfg = { debug = true }\nfunction run() end\n")
    assert script[("cfg", "debug")].exported  # no `return`: not a module, nothing to hide
    wrapped = _defs("w.lua", "local M = {}\nfunction M.go() end\nreturn setmetatable(M, {})\n")
    assert wrapped[("M", "go")].exported
