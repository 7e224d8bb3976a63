"""The benchmark's own reading of imports: which names a file binds to which module, per language.

Python `import`/`from … import` (relative, aliases, `*`), JavaScript/TypeScript `import`,
`require`, `export … from` (barrels), Go import specs, Rust `use` trees and `mod x;`,
C `#include "…"`, Lua `require`. Resolution of a module spec to files is `package.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from .defs import is_require, lua_require
from .syntax import field as child
from .syntax import fields, nodes, string_value, text_of, walk


@dataclass(frozen=True)
class Binding:
    local: str  # the name bound in the importing file (or exported, for a re-export)
    module: (
        str  # the module spec as written: ".utils", "./x", "pl.utils", "crate::a", "github.com/…"
    )
    remote: str | None  # the name taken from the module; None: the module itself


@dataclass
class Imports:
    bindings: dict[str, Binding] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # modules all of whose names are imported
    modules: list[str] = field(default_factory=list)  # every module spec, in source order
    reexports: list[Binding] = field(default_factory=list)  # `export {a as b} from`, `export *`
    default: str = ""  # JS: the name `export default` / `module.exports =` gives

    def bind(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.local, binding)
        self.use(binding.module)

    def use(self, module: str) -> None:
        if module and module not in self.modules:
            self.modules.append(module)


def read_imports(language: str, root: Node) -> Imports:
    out = Imports()
    _READERS[language](language, root, out)
    return out


IMPORT_PYTHON_KINDS = ("import_statement", "import_from_statement")


def _python(language: str, root: Node, out: Imports) -> None:
    for n in nodes(root, language, IMPORT_PYTHON_KINDS):
        if n.type == "import_statement":
            for name in fields(n, "name"):
                if name.type == "aliased_import":
                    out.bind(
                        Binding(text_of(child(name, "alias")), text_of(child(name, "name")), None)
                    )
                else:
                    dotted = text_of(name)
                    out.bind(Binding(dotted.split(".")[0], dotted.split(".")[0], None))
                    out.use(dotted)
        elif n.type == "import_from_statement":
            module = text_of(child(n, "module_name")).replace(" ", "")
            out.use(module)
            if any(c.type == "wildcard_import" for c in n.named_children):
                out.stars.append(module)
            for name in fields(n, "name"):
                if name.type == "aliased_import":
                    remote = text_of(child(name, "name"))
                    out.bind(Binding(text_of(child(name, "alias")), module, remote))
                else:
                    out.bind(Binding(text_of(name), module, text_of(name)))


def _js_source(n: Node) -> str:
    source = child(n, "source")
    return string_value(source) if source is not None else ""


IMPORT_JS_KINDS = (
    "import_statement",
    "export_statement",
    "variable_declarator",
    "call_expression",
    "assignment_expression",
)


def _js(language: str, root: Node, out: Imports) -> None:
    for n in nodes(root, language, IMPORT_JS_KINDS):
        t = n.type
        if t == "import_statement":
            spec = _js_source(n)
            out.use(spec)
            clause = next((c for c in n.named_children if c.type == "import_clause"), None)
            for c in clause.named_children if clause is not None else ():
                if c.type == "identifier":
                    out.bind(Binding(text_of(c), spec, "default"))
                elif c.type == "namespace_import":
                    for ident in c.named_children:
                        out.bind(Binding(text_of(ident), spec, None))
                elif c.type == "named_imports":
                    for s in c.named_children:
                        if s.type == "import_specifier":
                            name = text_of(child(s, "name"))
                            alias = text_of(child(s, "alias")) or name
                            out.bind(Binding(alias, spec, name))
        elif t == "export_statement":
            spec = _js_source(n)
            default = any(c.type == "default" for c in n.children)
            if default:
                decl = child(n, "declaration") or child(n, "value")
                name = child(decl, "name") if decl is not None else None
                if decl is not None and decl.type == "identifier":
                    name = decl
                out.default = text_of(name)
            clause = next((c for c in n.named_children if c.type == "export_clause"), None)
            if spec:
                out.use(spec)
                if clause is None:
                    star_as = next(
                        (c for c in n.named_children if c.type == "namespace_export"), None
                    )
                    if star_as is not None:
                        local = (
                            text_of(star_as.named_children[-1]) if star_as.named_children else ""
                        )
                        out.reexports.append(Binding(local, spec, None))
                    else:
                        out.reexports.append(Binding("*", spec, None))
            for s in clause.named_children if clause is not None else ():
                if s.type == "export_specifier":
                    name = text_of(child(s, "name"))
                    alias = text_of(child(s, "alias")) or name
                    out.reexports.append(Binding(alias, spec, name))
        elif t == "variable_declarator" and is_require(child(n, "value")):
            value = child(n, "value")
            member: str | None = None
            while value is not None and value.type == "member_expression":
                member = text_of(child(value, "property"))
                value = child(value, "object")
            spec = (
                next((string_value(s) for s in walk(value) if s.type == "string"), "")
                if value is not None
                else ""
            )
            name = child(n, "name")
            if name is None:
                continue
            if name.type == "identifier":
                out.bind(Binding(text_of(name), spec, member))
            elif name.type == "object_pattern":
                for p in name.named_children:
                    if p.type == "shorthand_property_identifier_pattern":
                        out.bind(Binding(text_of(p), spec, text_of(p)))
                    elif p.type == "pair_pattern":
                        key, value_node = child(p, "key"), child(p, "value")
                        if value_node is not None and value_node.type == "identifier":
                            out.bind(Binding(text_of(value_node), spec, text_of(key)))
        elif t == "call_expression" and text_of(child(n, "function")) == "require":
            args = child(n, "arguments")
            for s in walk(args) if args is not None else ():
                if s.type == "string":
                    out.use(string_value(s))
                    break
        elif t == "assignment_expression":
            left, right = child(n, "left"), child(n, "right")
            if text_of(left) in ("module.exports", "exports") and right is not None:
                while right is not None and right.type == "assignment_expression":
                    right = child(right, "right")
                if right is not None and right.type == "identifier":
                    out.default = text_of(right)
                elif (right is not None and "function" in right.type) or (
                    right is not None and right.type == "class"
                ):
                    out.default = text_of(child(right, "name"))


IMPORT_GO_KINDS = ("import_spec",)


def _go(language: str, root: Node, out: Imports) -> None:
    for n in nodes(root, language, IMPORT_GO_KINDS):
        if n.type == "import_spec":
            path = string_value(child(n, "path"))
            name = child(n, "name")
            alias = text_of(name) if name is not None else path.rsplit("/", 1)[-1]
            if alias == ".":
                out.stars.append(path)
                out.use(path)
            elif alias != "_":
                out.bind(Binding(alias, path, None))


def _rust_segments(node: Node | None) -> list[str]:
    if node is None:
        return []
    if node.type == "scoped_identifier":
        return [*_rust_segments(child(node, "path")), text_of(child(node, "name"))]
    return [text_of(node)]


IMPORT_RUST_KINDS = ("use_declaration", "mod_item")


def _rust(language: str, root: Node, out: Imports) -> None:
    def tree(node: Node | None, prefix: list[str]) -> None:
        if node is None:
            return
        t = node.type
        if t in ("scoped_identifier", "identifier", "self", "crate", "super"):
            segs = [*prefix, *_rust_segments(node)]
            if segs[-1] == "self":
                segs = segs[:-1]
            if not segs:
                return
            if len(segs) == 1:
                out.bind(Binding(segs[0], segs[0], None))
            else:
                out.bind(Binding(segs[-1], "::".join(segs[:-1]), segs[-1]))
        elif t == "use_as_clause":
            segs = [*prefix, *_rust_segments(child(node, "path"))]
            alias = text_of(child(node, "alias"))
            if len(segs) == 1:
                out.bind(Binding(alias, segs[0], None))
            elif alias != "_":
                out.bind(Binding(alias, "::".join(segs[:-1]), segs[-1]))
        elif t == "scoped_use_list":
            segs = [*prefix, *_rust_segments(child(node, "path"))]
            tree(child(node, "list"), segs)
        elif t == "use_list":
            for c in node.named_children:
                tree(c, prefix)
        elif t == "use_wildcard":
            inner = node.named_children[0] if node.named_children else None
            module = "::".join([*prefix, *_rust_segments(inner)])
            out.stars.append(module)
            out.use(module)

    for n in nodes(root, language, IMPORT_RUST_KINDS):
        if n.type == "use_declaration":
            tree(child(n, "argument"), [])
        elif n.type == "mod_item" and child(n, "body") is None:
            name = text_of(child(n, "name"))
            out.bind(Binding(name, f"self::{name}", None))


IMPORT_C_KINDS = ("preproc_include",)


def _c(language: str, root: Node, out: Imports) -> None:
    for n in nodes(root, language, IMPORT_C_KINDS):
        if n.type == "preproc_include":
            path = child(n, "path")
            if path is not None and path.type == "string_literal":
                out.use(string_value(path))


IMPORT_LUA_KINDS = ("variable_declaration", "assignment_statement", "function_call")


def _lua(language: str, root: Node, out: Imports) -> None:
    for n in nodes(root, language, IMPORT_LUA_KINDS):
        if n.type == "variable_declaration" or n.type == "assignment_statement":
            statement = n
            if n.type == "variable_declaration":
                inner = next(
                    (c for c in n.named_children if c.type == "assignment_statement"), None
                )
                if inner is None:
                    continue
                statement = inner
            names = next((c for c in statement.named_children if c.type == "variable_list"), None)
            values = next(
                (c for c in statement.named_children if c.type == "expression_list"), None
            )
            targets = fields(names, "name") if names is not None else []
            vals = fields(values, "value") if values is not None else []
            for target, value in zip(targets, vals, strict=False):
                found = lua_require(value)
                if found is not None and target.type == "identifier":
                    out.bind(Binding(text_of(target), found[0], found[1]))
        elif n.type == "function_call" and text_of(child(n, "name")) == "require":
            found = lua_require(n)
            if found is not None:
                out.use(found[0])


_READERS = {
    "python": _python,
    "javascript": _js,
    "typescript": _js,
    "go": _go,
    "rust": _rust,
    "c": _c,
    "lua": _lua,
}
