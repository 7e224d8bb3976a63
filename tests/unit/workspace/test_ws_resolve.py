"""Import resolution per language: imports to workspace files, names through re-exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lsp_server.workspace.imports import parse_imports
from lsp_server.workspace.resolve import Resolver

Make = Callable[[dict[str, str]], tuple[Resolver, Path]]


def _bound(resolver: Resolver, root: Path, rel: str, language: str, text: str) -> dict[str, set]:
    """local name (or "*" / "") -> {(file, name)} the file's imports bind."""
    out: dict[str, set[tuple[str, str | None]]] = {}
    imports = parse_imports(text, language)
    for b in resolver.bindings(str(root / rel), language, imports):
        local = b.local or ("*" if b.star else "")
        out.setdefault(local, set()).add((str(Path(b.key).relative_to(root)), b.name))
    return out


def _where(resolver: Resolver, root: Path, name: str, rel: str) -> list[str]:
    """Where `name` looked up in file `rel` is defined (re-exports followed)."""
    return [str(Path(k).relative_to(root)) for k, _ in resolver.lookup(name, str(root / rel))]


def test_python(resolver_for: Make) -> None:
    main = "from .models import Request\nfrom . import utils\nimport pkg.api as api\nfrom pkg.sub import *\n"
    files = {
        "pkg/__init__.py": "from .api import get\n",
        "pkg/api.py": "def get(url): ...\n",
        "pkg/models.py": "class Request: ...\n",
        "pkg/utils.py": "def helper(): ...\n",
        "pkg/main.py": main,
        "pkg/sub/__init__.py": "from .deep import *\n",
        "pkg/sub/deep.py": "def deep(): ...\n",
        "src/lib/core.py": "def core(): ...\n",  # a src/ layout
        "tests/test_x.py": "from lib.core import core\nimport pkg\n",
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "pkg/main.py", "python", main)
    assert bound["Request"] == {("pkg/models.py", "Request")}
    assert bound["utils"] == {("pkg/utils.py", None)}  # a submodule, bound whole
    assert bound["api"] == {("pkg/api.py", None)}
    assert bound["*"] == {("pkg/sub/__init__.py", None)}
    assert _where(resolver, root, "deep", "pkg/sub/__init__.py") == ["pkg/sub/deep.py"]
    assert _where(resolver, root, "get", "pkg/__init__.py") == ["pkg/api.py"]  # a re-export
    test = _bound(resolver, root, "tests/test_x.py", "python", files["tests/test_x.py"])
    assert test["core"] == {("src/lib/core.py", "core")}
    assert test["pkg"] == {("pkg/__init__.py", None)}


def test_javascript_and_typescript(resolver_for: Make) -> None:
    app = (
        "import { parse as p } from './util';\nimport Router from './router';\n"
        "import * as ns from './ns.js';\nconst { helper } = require('../lib/helper');\n"
        "export * from './barrel';\nimport x from 'react';\n"
    )
    files = {
        "src/app.ts": app,
        "src/util.ts": "export function parse() {}\n",
        "src/router/index.ts": "export default class Router {}\n",
        "src/ns.ts": "export const n = 1;\n",  # ESM `./ns.js` written for `ns.ts`
        "lib/helper.js": "function helper() {}\nmodule.exports = { helper };\n",
        "src/barrel.ts": "export * from './deep';\nexport { parse as reparse } from './util';\n",
        "src/deep.ts": "export function deepest() {}\n",
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "src/app.ts", "typescript", app)
    assert bound["p"] == {("src/util.ts", "parse")}
    assert bound["Router"] == {("src/router/index.ts", "default")}
    assert bound["ns"] == {("src/ns.ts", None)}
    assert bound["helper"] == {("lib/helper.js", "helper")}
    assert ("src/barrel.ts", None) in bound["*"]
    assert "x" not in bound  # a package, not a workspace file
    assert _where(resolver, root, "default", "src/router/index.ts") == ["src/router/index.ts"]
    assert _where(resolver, root, "deepest", "src/barrel.ts") == ["src/deep.ts"]  # transitively
    assert _where(resolver, root, "reparse", "src/barrel.ts") == ["src/util.ts"]


def test_go(resolver_for: Make) -> None:
    main = 'package cmd\n\nimport (\n\t"fmt"\n\tu "example.com/tool/internal/util"\n)\n'
    files = {
        "cmd/main.go": main,
        "cmd/flags.go": "package cmd\n\nfunc parseFlags() {}\n",
        "cmd/main_test.go": "package cmd\n\nfunc helperForTests() {}\n",
        "internal/util/util.go": "package util\n\nfunc Do() {}\n",
    }
    resolver, root = resolver_for(files)
    assert "u" not in _bound(resolver, root, "cmd/main.go", "go", main)  # no go.mod: unknown
    with_module = replace(resolver.snap, go_modules=((str(root), "example.com/tool"),))
    resolver = Resolver(with_module)
    bound = _bound(resolver, root, "cmd/main.go", "go", main)
    assert bound["u"] == {("internal/util/util.go", None)}
    assert "fmt" not in bound and "" not in bound  # the standard library is not here
    assert ("cmd/flags.go", None) in bound["*"]  # the package's other files
    assert ("cmd/main_test.go", None) not in bound["*"]  # tests are not part of the package


def test_rust(resolver_for: Make) -> None:
    lib = "mod error;\npub mod fmt;\npub use crate::error::Error;\n"
    fmt = "use super::error::{Error, Kind as K};\nuse crate::fmt::width::*;\nmod width;\n"
    files = {
        "src/lib.rs": lib,
        "src/error.rs": "pub struct Error;\npub enum Kind { A }\n",
        "src/fmt/mod.rs": fmt,
        "src/fmt/width.rs": "use super::super::error::Kind;\npub fn width() {}\n",
        "tests/it.rs": "use mycrate::Error;\n",
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "src/lib.rs", "rust", lib)
    assert bound["error"] == {("src/error.rs", None)}
    assert bound["fmt"] == {("src/fmt/mod.rs", None)}
    assert _where(resolver, root, "Error", "src/lib.rs") == ["src/error.rs"]  # `pub use`
    bound = _bound(resolver, root, "src/fmt/mod.rs", "rust", fmt)
    assert bound["K"] == {("src/error.rs", "Kind")}
    assert bound["*"] == {("src/fmt/width.rs", None)}
    assert bound["width"] == {("src/fmt/width.rs", None)}
    width = _bound(resolver, root, "src/fmt/width.rs", "rust", files["src/fmt/width.rs"])
    assert width["Kind"] == {("src/error.rs", "Kind")}  # two levels up
    tests = _bound(resolver, root, "tests/it.rs", "rust", files["tests/it.rs"])
    assert tests["Error"] == {("src/lib.rs", "Error")}  # the crate from its tests


def test_c_include_closure_and_sources(resolver_for: Make) -> None:
    main = '#include "util.h"\n#include <stdio.h>\n#include "missing.h"\n'
    files = {
        "src/main.c": main,
        "include/util.h": '#include "types.h"\nint util(void);\n',
        "include/types.h": "typedef int count_t;\n",
        "src/util.c": "int util(void) { return 0; }\n",
        "src/missing.c": "int only_source(void) { return 1; }\n",  # a header the tree lacks
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "src/main.c", "c", main)
    assert bound["*"] == {
        ("include/util.h", None),
        ("src/util.c", None),
        ("include/types.h", None),  # through util.h
        ("src/missing.c", None),
    }


def test_java(resolver_for: Make) -> None:
    app = "package com.acme.app;\nimport com.acme.util.Strings;\nimport com.acme.model.*;\n"
    files = {
        "src/com/acme/app/App.java": app,
        "src/com/acme/app/Helper.java": "package com.acme.app;\nclass Helper {}\n",
        "src/com/acme/util/Strings.java": "package com.acme.util;\npublic class Strings {}\n",
        "src/com/acme/model/User.java": "package com.acme.model;\npublic class User {}\n",
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "src/com/acme/app/App.java", "java", app)
    assert bound["Strings"] == {("src/com/acme/util/Strings.java", "Strings")}
    assert bound["*"] == {
        ("src/com/acme/model/User.java", None),
        ("src/com/acme/app/Helper.java", None),  # same package
    }


def test_lua(resolver_for: Make) -> None:
    main = "local utils = require 'pl.utils'\nlocal app = require('app')\nlocal s = require('pl.utils').split\n"
    files = {
        "lua/main.lua": main,
        "lua/pl/utils.lua": "local M = {}\nfunction M.split(s) end\nreturn M\n",
        "lua/app/init.lua": "return {}\n",
    }
    resolver, root = resolver_for(files)
    bound = _bound(resolver, root, "lua/main.lua", "lua", main)
    assert bound["utils"] == {("lua/pl/utils.lua", None)}
    assert bound["app"] == {("lua/app/init.lua", None)}
    assert bound["s"] == {("lua/pl/utils.lua", "split")}


def test_imports_never_resolve_outside_the_workspace(resolver_for: Make) -> None:
    main = "import { x } from '../../../etc/passwd';\nimport { y } from '../outside';\n"
    resolver, root = resolver_for({"a/main.ts": main, "a/b.ts": ""})
    assert _bound(resolver, root, "a/main.ts", "typescript", main) == {}


def test_re_export_cycles_end(resolver_for: Make) -> None:
    files = {"a.ts": "export * from './b';\n", "b.ts": "export * from './a';\n"}
    resolver, root = resolver_for(files)
    assert _where(resolver, root, "nothing", "a.ts") == []
