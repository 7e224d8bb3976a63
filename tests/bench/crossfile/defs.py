"""The benchmark's own definition finder: what each file defines, and which names it binds locally.

Per language, from the tree-sitter tree: top-level functions, types, constants, variables and
macros; methods, class-level constants and enum members (with the class/type/table they
belong to); Lua module functions and fields. A definition's *signature line* is the source
line that holds its name (`def helper(x: int) -> str:`, `func (c *Command) Name() string {`,
`function M.join(a, b)`), which is what a cross-file header must carry for the model to see it.

`binders` are the names a file binds outside its definitions (parameters, locals, loop
variables): a name bound in the current file is never counted as needed from another file.
Import bindings are neither: `imports.py` handles them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tree_sitter import Node

from .syntax import field, fields, nodes, split_words, text_of, walk

TOP_KINDS = frozenset({"function", "type", "const", "var", "macro"})
KEYWORDS = {
    "c": frozenset(
        split_words(
            "if else for while do switch case default return sizeof goto break continue "
            "typedef struct union enum static const extern inline void"
        )
    ),
}


@dataclass(frozen=True)
class Definition:
    path: str  # workspace-relative POSIX path of the defining file
    name: str
    kind: str  # function | type | const | var | macro (top level) | method | member | field
    row: int  # 0-based line of the name
    signature: str  # that line, as in the file
    container: str = ""  # the class / impl type / enum / table a member belongs to
    local: bool = False  # visible only in its own file (C static or any C type/macro, Lua local)

    @property
    def top(self) -> bool:
        return self.kind in TOP_KINDS


Add = Callable[..., None]


def definitions(language: str, path: str, text: str, root: Node) -> list[Definition]:
    lines = text.split("\n")
    found: list[Definition] = []

    def add(name_node: Node | None, kind: str, container: str = "", local: bool = False) -> None:
        name = text_of(name_node)
        if name_node is None or not name or not (name[0].isalpha() or name[0] == "_"):
            return
        if name in KEYWORDS.get(language, ()):
            return  # a macro-heavy line the grammar misread as a definition
        row = name_node.start_point[0]
        found.append(Definition(path, name, kind, row, lines[row], container, local))

    _FINDERS[language](root, add)
    return found


# ---- Python ----------------------------------------------------------------------------
def _python(root: Node, add: Add) -> None:
    def handle(node: Node, container: str) -> None:
        t = node.type
        if t == "decorated_definition":
            inner = field(node, "definition")
            if inner is not None:
                handle(inner, container)
        elif t == "function_definition":
            add(field(node, "name"), "method" if container else "function", container)
        elif t == "class_definition":
            name = field(node, "name")
            add(name, "member" if container else "type", container)
            body = field(node, "body")
            if body is not None:
                for child in body.named_children:
                    handle(child, text_of(name))
        elif t == "expression_statement":
            for child in node.named_children:
                if child.type == "assignment":
                    for target in _py_targets(field(child, "left")):
                        upper = text_of(target).isupper()
                        add(
                            target,
                            "member" if container else "const" if upper else "var",
                            container,
                        )
        elif t == "type_alias_statement":
            left = node.named_children[0] if node.named_children else None
            add(left, "type", container)
        elif t in _PY_COMPOUND:
            for child in node.named_children:
                if child.type in _PY_COMPOUND or t == "block":
                    handle(child, container)

    for child in root.named_children:
        handle(child, "")


_PY_COMPOUND = frozenset(
    {
        "if_statement",
        "try_statement",
        "with_statement",
        "elif_clause",
        "else_clause",
        "except_clause",
        "finally_clause",
        "block",
    }
)


def _py_targets(left: Node | None) -> list[Node]:
    if left is None:
        return []
    if left.type == "identifier":
        return [left]
    if left.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        return [c for c in left.named_children if c.type == "identifier"]
    return []


PYTHON_BINDERS_KINDS = (
    "parameters",
    "lambda_parameters",
    "assignment",
    "augmented_assignment",
    "for_statement",
    "for_in_clause",
    "named_expression",
    "as_pattern",
    "global_statement",
    "nonlocal_statement",
    "function_definition",
    "class_definition",
)


def _python_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, PYTHON_BINDERS_KINDS):
        t = n.type
        if t in ("parameters", "lambda_parameters"):
            for p in n.named_children:
                if p.type == "identifier":
                    out.add(text_of(p))
                elif p.type in (
                    "typed_parameter",
                    "list_splat_pattern",
                    "dictionary_splat_pattern",
                ):
                    out.update(text_of(c) for c in p.named_children if c.type == "identifier")
                elif p.type in ("default_parameter", "typed_default_parameter"):
                    out.add(text_of(field(p, "name")))
        elif t in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
            left = field(n, "left")
            out.update(_names_in_pattern(left, stop=("attribute", "subscript")))
            if left is not None and left.type == "attribute":  # self.x = ...: x is this class's
                out.add(text_of(field(left, "attribute")))
        elif t == "named_expression":
            out.add(text_of(field(n, "name")))
        elif t == "as_pattern":
            out.update(_names_in_pattern(field(n, "alias"), stop=("attribute", "subscript")))
        elif t in ("global_statement", "nonlocal_statement"):
            out.update(text_of(c) for c in n.named_children if c.type == "identifier")
        elif t in ("function_definition", "class_definition"):
            out.add(text_of(field(n, "name")))
    return out


# ---- JavaScript / TypeScript -------------------------------------------------------------
def is_require(value: Node | None) -> bool:
    """`require('x')`, `require('x').y` (an import binding, not a definition)."""
    while value is not None and value.type == "member_expression":
        value = field(value, "object")
    return (
        value is not None
        and value.type == "call_expression"
        and text_of(field(value, "function")) == "require"
    )


def _js(root: Node, add: Add) -> None:
    def members(body: Node | None, container: str) -> None:
        if body is None:
            return
        for m in body.named_children:
            if m.type in (
                "method_definition",
                "method_signature",
                "abstract_method_signature",
                "public_field_definition",
                "field_definition",
                "property_signature",
            ):
                name = field(m, "name") or field(m, "property")
                if text_of(name) != "constructor":
                    kind = "method" if "method" in m.type else "member"
                    add(name, kind, container)
            elif m.type == "enum_assignment":
                add(field(m, "name"), "member", container)
            elif m.type == "property_identifier":  # an enum member without a value
                add(m, "member", container)

    def handle(node: Node) -> None:
        t = node.type
        if t == "export_statement":
            decl = field(node, "declaration")
            if decl is not None:
                handle(decl)
        elif t == "ambient_declaration":
            for child in node.named_children:
                handle(child)
        elif t in ("function_declaration", "generator_function_declaration", "function_signature"):
            add(field(node, "name"), "function")
        elif t in (
            "class_declaration",
            "abstract_class_declaration",
            "interface_declaration",
            "enum_declaration",
        ):
            name = field(node, "name")
            add(name, "type")
            members(field(node, "body"), text_of(name))
        elif t in ("type_alias_declaration", "module", "internal_module"):
            add(field(node, "name"), "type")
        elif t in ("lexical_declaration", "variable_declaration"):
            const = text_of(field(node, "kind")) == "const"
            for d in node.named_children:
                if d.type == "variable_declarator" and not is_require(field(d, "value")):
                    name = field(d, "name")
                    if name is not None and name.type == "identifier":
                        add(name, "const" if const else "var")
        elif t == "expression_statement":
            expr = node.named_children[0] if node.named_children else None
            while expr is not None and expr.type == "assignment_expression":
                left = field(expr, "left")
                if left is not None and left.type == "member_expression":
                    prop = field(left, "property")
                    obj = text_of(field(left, "object"))
                    if not (obj == "module" and text_of(prop) == "exports"):
                        value = field(expr, "right")
                        func = value is not None and "function" in value.type
                        add(prop, "method" if func else "field", obj)
                expr = field(expr, "right")

    for child in root.named_children:
        handle(child)


JS_BINDERS_KINDS = (
    "variable_declarator",
    "formal_parameters",
    "arrow_function",
    "catch_clause",
    "for_in_statement",
    "function_declaration",
    "function_expression",
    "class_declaration",
    "class",
    "type_parameter",
    "assignment_expression",
)


def _js_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, JS_BINDERS_KINDS):
        t = n.type
        if t == "variable_declarator":
            if not is_require(field(n, "value")):
                out.update(_names_in_pattern(field(n, "name")))
        elif t == "formal_parameters":
            for p in n.named_children:
                if p.type == "identifier":
                    out.add(text_of(p))
                elif p.type in ("required_parameter", "optional_parameter"):
                    out.update(_names_in_pattern(field(p, "pattern")))
                else:
                    out.update(_names_in_pattern(p))
        elif t == "arrow_function":
            param = field(n, "parameter")
            if param is not None:
                out.add(text_of(param))
        elif t == "catch_clause":
            out.update(_names_in_pattern(field(n, "parameter")))
        elif t == "assignment_expression":
            left = field(n, "left")
            if (
                left is not None
                and left.type == "member_expression"
                and text_of(field(left, "object")) == "this"
            ):
                out.add(text_of(field(left, "property")))  # this.x = ...: x is this class's
        elif t == "for_in_statement":
            out.update(_names_in_pattern(field(n, "left")))
        elif t in ("function_declaration", "function_expression", "class_declaration", "class"):
            name = field(n, "name")
            if name is not None:
                out.add(text_of(name))
        elif t == "type_parameter":
            out.add(text_of(field(n, "name")))
    return out


# ---- Go --------------------------------------------------------------------------------
def _go_receiver_type(node: Node) -> str:
    receiver = field(node, "receiver")
    for n in walk(receiver) if receiver is not None else ():
        if n.type == "type_identifier":
            return text_of(n)
    return ""


def _go(root: Node, add: Add) -> None:
    for node in root.named_children:
        t = node.type
        if t == "function_declaration":
            add(field(node, "name"), "function")
        elif t == "method_declaration":
            add(field(node, "name"), "method", _go_receiver_type(node))
        elif t == "type_declaration":
            for spec in walk(node):
                if spec.type in ("type_spec", "type_alias"):
                    name = field(spec, "name")
                    add(name, "type")
                    kind = field(spec, "type")
                    if kind is not None and kind.type == "interface_type":
                        for m in kind.named_children:
                            if m.type in ("method_elem", "method_spec"):
                                add(field(m, "name"), "method", text_of(name))
        elif t in ("const_declaration", "var_declaration"):
            for spec in walk(node):
                if spec.type in ("const_spec", "var_spec"):
                    for name in fields(spec, "name"):
                        if name.type == "identifier":
                            add(name, "const" if t == "const_declaration" else "var")


GO_BINDERS_KINDS = (
    "short_var_declaration",
    "range_clause",
    "var_spec",
    "const_spec",
    "parameter_declaration",
    "variadic_parameter_declaration",
    "type_parameter_declaration",
    "labeled_statement",
)


def _go_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, GO_BINDERS_KINDS):
        t = n.type
        if t in ("short_var_declaration", "range_clause"):
            out.update(_names_in_pattern(field(n, "left")))
        elif t in ("var_spec", "const_spec", "parameter_declaration"):
            out.update(text_of(c) for c in fields(n, "name") if c.type == "identifier")
        elif t == "variadic_parameter_declaration":
            out.add(text_of(field(n, "name")))
        elif t == "type_parameter_declaration":
            out.update(text_of(c) for c in fields(n, "name"))
        elif t == "labeled_statement":
            out.add(text_of(n.named_children[0]) if n.named_children else "")
    return out


# ---- Rust ------------------------------------------------------------------------------
def _rust_type_name(node: Node | None) -> str:
    """`Foo` of `Foo<T>`, `crate::x::Foo`, `&'a Foo`."""
    if node is None:
        return ""
    if node.type in ("type_identifier", "identifier", "primitive_type"):
        return text_of(node)
    name = field(node, "type") or field(node, "name")
    if name is not None and name is not node:
        return _rust_type_name(name)
    for child in node.named_children:
        found = _rust_type_name(child)
        if found:
            return found
    return ""


def _rust(root: Node, add: Add) -> None:
    def items(body: Node | None, container: str) -> None:
        if body is None:
            return
        for node in body.named_children:
            t = node.type
            if t in ("function_item", "function_signature_item"):
                add(field(node, "name"), "method" if container else "function", container)
            elif t in ("struct_item", "union_item", "type_item"):
                add(field(node, "name"), "member" if container else "type", container)
            elif t == "enum_item":
                name = field(node, "name")
                add(name, "type")
                variants = field(node, "body")
                for v in variants.named_children if variants is not None else ():
                    if v.type == "enum_variant":
                        add(field(v, "name"), "member", text_of(name))
            elif t == "trait_item":
                name = field(node, "name")
                add(name, "type")
                items(field(node, "body"), text_of(name))
            elif t in ("const_item", "static_item"):
                add(field(node, "name"), "member" if container else "const", container)
            elif t == "macro_definition":
                add(field(node, "name"), "macro")
            elif t == "mod_item":
                items(field(node, "body"), container)
            elif t == "impl_item":
                items(field(node, "body"), _rust_type_name(field(node, "type")))

    items(root, "")


RUST_BINDERS_KINDS = (
    "function_item",
    "struct_item",
    "enum_item",
    "const_item",
    "static_item",
    "let_declaration",
    "parameter",
    "for_expression",
    "let_condition",
    "closure_parameters",
    "match_pattern",
    "type_parameter",
    "lifetime",
    "const_parameter",
    "type_parameters",
)


def _rust_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, RUST_BINDERS_KINDS):
        t = n.type
        if t in ("let_declaration", "parameter", "for_expression", "let_condition"):
            out.update(_rust_pattern(field(n, "pattern")))
        elif t == "closure_parameters":
            for p in n.named_children:
                out.update(_rust_pattern(field(p, "pattern") if p.type == "parameter" else p))
        elif t == "match_pattern":
            out.update(_rust_pattern(n))
        elif t in ("type_parameter", "lifetime", "const_parameter"):
            out.add(text_of(field(n, "name")))
        elif t == "type_parameters":
            out.update(text_of(c) for c in n.named_children if c.type == "type_identifier")
        elif t in ("function_item", "struct_item", "enum_item", "const_item", "static_item"):
            out.add(text_of(field(n, "name")))  # an item nested in a function, too
    return out


def _rust_pattern(node: Node | None) -> set[str]:
    out: set[str] = set()
    if node is None:
        return out
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            out.add(text_of(n))
        elif n.type in ("scoped_identifier", "scoped_type_identifier", "type_identifier"):
            continue
        else:
            skip = {id(c) for c in fields(n, "type")}
            stack.extend(c for c in n.named_children if id(c) not in skip)
    return out


# ---- C ---------------------------------------------------------------------------------
def c_declared_name(node: Node | None) -> tuple[Node | None, bool]:
    """(the identifier a declarator declares, whether it declares a function)."""
    is_function = False
    while node is not None and node.type not in ("identifier", "type_identifier"):
        if node.type == "function_declarator":
            is_function = True
        inner = field(node, "declarator")
        if inner is None:
            inner = next(
                (
                    c
                    for c in node.named_children
                    if "declarator" in c.type or c.type == "identifier"
                ),
                None,
            )
        node = inner
    return node, is_function


def _c(root: Node, add: Add) -> None:
    def specifier(spec: Node | None) -> None:
        if spec is None or spec.type not in (
            "struct_specifier",
            "union_specifier",
            "enum_specifier",
        ):
            return
        body = field(spec, "body")
        if body is None:
            return
        name = field(spec, "name")
        add(name, "type", local=True)
        if spec.type == "enum_specifier":
            for e in body.named_children:
                if e.type == "enumerator":
                    add(field(e, "name"), "const", text_of(name), local=True)

    def handle(node: Node) -> None:
        t = node.type
        storage = {text_of(c) for c in node.named_children if c.type == "storage_class_specifier"}
        if t == "function_definition":
            name, _ = c_declared_name(field(node, "declarator"))
            add(name, "function", local="static" in storage)
        elif t == "declaration":
            specifier(field(node, "type"))
            if "extern" in storage:
                return
            for d in fields(node, "declarator"):
                name, is_function = c_declared_name(d)
                if not is_function:
                    add(name, "var", local="static" in storage)
        elif t == "type_definition":
            specifier(field(node, "type"))
            for d in fields(node, "declarator"):
                name, _ = c_declared_name(d)
                add(name, "type", local=True)
        elif t in ("struct_specifier", "union_specifier", "enum_specifier"):
            specifier(node)
        elif t in ("preproc_def", "preproc_function_def"):
            add(field(node, "name"), "macro", local=True)
        elif t in (
            "preproc_ifdef",
            "preproc_if",
            "preproc_else",
            "preproc_elif",
            "preproc_elifdef",
            "linkage_specification",
            "declaration_list",
        ):
            for child in node.named_children:
                handle(child)

    for child in root.named_children:
        handle(child)


C_BINDERS_KINDS = (
    "declaration",
    "parameter_declaration",
)


def _c_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, C_BINDERS_KINDS):
        if n.type in ("declaration", "parameter_declaration"):
            for d in fields(n, "declarator"):
                name, _ = c_declared_name(d)
                if name is not None:
                    out.add(text_of(name))
    return out


# ---- Lua -------------------------------------------------------------------------------
def lua_require(value: Node | None) -> tuple[str, str | None] | None:
    """('a.b', None) for `require 'a.b'` / `require('a.b')`; ('a.b', 'c') for `require('a.b').c`."""
    member: str | None = None
    if value is not None and value.type == "dot_index_expression":
        member = text_of(field(value, "field"))
        value = field(value, "table")
    if value is None or value.type != "function_call" or text_of(field(value, "name")) != "require":
        return None
    args = field(value, "arguments")
    for n in walk(args) if args is not None else ():
        if n.type == "string_content":
            return text_of(n), member
    return None


def _lua_values(statement: Node) -> list[Node]:
    values = next((c for c in statement.named_children if c.type == "expression_list"), None)
    return list(fields(values, "value")) if values is not None else []


def _lua(root: Node, add: Add) -> None:
    def table_fields(table: Node | None, container: str) -> None:
        if table is None or table.type != "table_constructor":
            return
        for f in table.named_children:
            if f.type == "field" and field(f, "name") is not None:
                value = field(f, "value")
                func = value is not None and value.type == "function_definition"
                add(field(f, "name"), "method" if func else "field", container)

    def assignment(statement: Node, local: bool) -> None:
        names = next((c for c in statement.named_children if c.type == "variable_list"), None)
        values = _lua_values(statement)
        for i, target in enumerate(fields(names, "name") if names is not None else []):
            value = values[i] if i < len(values) else None
            if lua_require(value) is not None:
                continue
            if target.type == "identifier":
                add(target, "var", local=local)
                table_fields(value, text_of(target))
            elif target.type == "dot_index_expression":
                func = value is not None and value.type == "function_definition"
                add(
                    field(target, "field"),
                    "method" if func else "field",
                    text_of(field(target, "table")),
                )

    for node in root.named_children:
        t = node.type
        if t == "function_declaration":
            name = field(node, "name")
            local = any(c.type == "local" for c in node.children)
            if name is None:
                continue
            if name.type == "identifier":
                add(name, "function", local=local)
            elif name.type == "dot_index_expression":
                add(field(name, "field"), "method", text_of(field(name, "table")))
            elif name.type == "method_index_expression":
                add(field(name, "method"), "method", text_of(field(name, "table")))
        elif t == "variable_declaration":
            inner = next((c for c in node.named_children if c.type == "assignment_statement"), None)
            if inner is not None:
                assignment(inner, local=True)
        elif t == "assignment_statement":
            assignment(node, local=False)
        elif t == "return_statement":
            for value in walk(node):
                if value.type == "table_constructor":
                    table_fields(value, "")
                    break


LUA_BINDERS_KINDS = (
    "variable_declaration",
    "function_declaration",
    "parameters",
    "for_generic_clause",
    "for_numeric_clause",
    "assignment_statement",
)


def _lua_binders(language: str, root: Node) -> set[str]:
    out: set[str] = set()
    for n in nodes(root, language, LUA_BINDERS_KINDS):
        t = n.type
        if t == "variable_declaration":
            for c in walk(n):
                if c.type == "variable_list":
                    out.update(text_of(x) for x in fields(c, "name") if x.type == "identifier")
            inner = next((c for c in n.named_children if c.type == "assignment_statement"), None)
            if inner is not None and any(lua_require(v) for v in _lua_values(inner)):
                out.difference_update(
                    text_of(x)
                    for c in inner.named_children
                    if c.type == "variable_list"
                    for x in fields(c, "name")
                )
        elif t == "function_declaration" and n.parent is not None and n.parent.type != "chunk":
            name = field(n, "name")
            if name is not None and name.type == "identifier":
                out.add(text_of(name))
        elif t == "parameters":
            out.update(text_of(c) for c in n.named_children if c.type == "identifier")
        elif t in ("for_generic_clause", "for_numeric_clause"):
            for c in walk(n):
                if c.type == "variable_list":
                    out.update(text_of(x) for x in c.named_children if x.type == "identifier")
            out.update(text_of(c) for c in fields(n, "name"))
        elif t == "assignment_statement" and not _top_level(n):
            for c in n.named_children:
                if c.type == "variable_list":
                    out.update(text_of(x) for x in fields(c, "name") if x.type == "identifier")
    return out


def _top_level(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type == "variable_declaration":
        parent = parent.parent
    return parent is not None and parent.type == "chunk"


# ---- shared ----------------------------------------------------------------------------
def _names_in_pattern(node: Node | None, stop: Iterable[str] = ()) -> set[str]:
    """Identifiers a binding pattern binds (destructuring included), not inside `stop` nodes,
    default values or object keys."""
    out: set[str] = set()
    if node is None:
        return out
    stops = set(stop)
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in stops:
            continue
        if n.type in ("identifier", "shorthand_property_identifier_pattern"):
            out.add(text_of(n))
            continue
        skip = {id(c) for name in ("value", "right", "key", "type") for c in fields(n, name)}
        if n.type in ("assignment_pattern", "object_assignment_pattern"):
            skip = {id(c) for c in fields(n, "right")}
        if n.type == "pair_pattern":
            skip = {id(c) for c in fields(n, "key")}
        stack.extend(c for c in n.named_children if id(c) not in skip)
    return out


_FINDERS: dict[str, Callable[[Node, Add], None]] = {
    "python": _python,
    "javascript": _js,
    "typescript": _js,
    "go": _go,
    "rust": _rust,
    "c": _c,
    "lua": _lua,
}
_BINDERS: dict[str, Callable[[str, Node], set[str]]] = {
    "python": _python_binders,
    "javascript": _js_binders,
    "typescript": _js_binders,
    "go": _go_binders,
    "rust": _rust_binders,
    "c": _c_binders,
    "lua": _lua_binders,
}


def binders(language: str, root: Node) -> set[str]:
    return _BINDERS[language](language, root) - {""}
