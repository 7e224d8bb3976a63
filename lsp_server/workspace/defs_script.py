"""Definition walkers for Python, JavaScript/TypeScript and Lua (module and class level)."""

from __future__ import annotations

import re
from dataclasses import replace

from tree_sitter import Node

from .defs_common import Builder, field_text, has_child

_MAX_DEPTH = 3  # classes in classes in namespaces ...


# ---- Python -------------------------------------------------------------------------------


def python(b: Builder, root: Node) -> None:
    _py_block(b, root, None, 0)


def _py_public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _py_docstring(b: Builder, node: Node) -> tuple[int, str] | None:
    body = node.child_by_field_name("body")
    first = body.named_children[0] if body is not None and body.named_child_count else None
    if first is None or first.type != "expression_statement" or not first.named_child_count:
        return None
    string = first.named_children[0]
    if string.type != "string":
        return None
    return b.doc_line(string.start_point.row, string.end_point.row)


def _py_block(b: Builder, block: Node, container: str | None, depth: int) -> None:
    for node in block.named_children:
        if node.type == "decorated_definition":
            inner = node.child_by_field_name("definition")
            if inner is None:
                continue
            node = inner
        kind = node.type
        if kind in ("function_definition", "class_definition"):
            name = field_text(b, node, "name")
            is_class = kind == "class_definition"
            label = "class" if is_class else ("method" if container else "function")
            body = node.child_by_field_name("body")
            b.add(
                node,
                name,
                label,
                container,
                body=body,
                exported=_py_public(name),
                doc=_py_docstring(b, node),
            )
            if is_class and body is not None and depth < _MAX_DEPTH:
                _py_block(b, body, name, depth + 1)
        elif kind == "expression_statement" and node.named_child_count == 1:
            _py_assignment(b, node, node.named_children[0], container)
        elif kind in ("if_statement", "try_statement", "with_statement") and depth == 0:
            for part in node.named_children:
                blocks = [part] if part.type == "block" else part.named_children
                for sub in blocks:
                    if sub.type == "block":
                        _py_block(b, sub, container, depth)


def _py_assignment(b: Builder, node: Node, assignment: Node, container: str | None) -> None:
    if assignment.type != "assignment":
        return
    left = assignment.child_by_field_name("left")
    right = assignment.child_by_field_name("right")
    if left is None:
        return
    targets = [left] if left.type == "identifier" else left.named_children
    for target in targets:
        if target.type != "identifier":
            continue
        name = b.text(target)
        kind = "const" if name.isupper() else ("field" if container else "var")
        b.add(node, name, kind, container, head_until=right, exported=_py_public(name))


# ---- JavaScript / TypeScript --------------------------------------------------------------

_JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_JS_MEMBERS = frozenset(
    {
        "method_definition",
        "method_signature",
        "abstract_method_signature",
        "public_field_definition",
        "field_definition",
        "property_signature",
    }
)


def javascript(b: Builder, root: Node) -> None:
    esm = any(child.type == "export_statement" for child in root.named_children)
    for node in root.named_children:
        _js_item(b, node, None, not esm, 0)
    exported = None if esm else _commonjs_exports(b, root)
    if exported is not None:
        b.out = [
            d if d.container or d.name in exported else replace(d, exported=False) for d in b.out
        ]


def _commonjs_exports(b: Builder, root: Node) -> set[str] | None:
    """The names `module.exports = name` / `= {a, b}` exports; None when there is no such line."""
    names: set[str] | None = None
    for node in root.named_children:
        expr = node.named_children[0] if node.type == "expression_statement" else None
        while expr is not None and expr.type == "assignment_expression":
            left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
            if left is not None and left.text == b"module.exports" and right is not None:
                names = names or set()
                if right.type == "identifier":
                    names.add(b.text(right))
                elif right.type == "object":
                    names.update(
                        b.text(p.named_children[-1] if p.type == "pair" else p)
                        for p in right.named_children
                    )
                else:
                    return None
            expr = right
    return names


def _js_item(b: Builder, node: Node, container: str | None, exported: bool, depth: int) -> None:
    kind = node.type
    if kind == "export_statement":
        inner = node.child_by_field_name("declaration") or node.child_by_field_name("value")
        if inner is not None:
            _js_item(b, inner, container, True, depth)
    elif kind in ("function_declaration", "generator_function_declaration", "function_signature"):
        body = node.child_by_field_name("body")
        b.add(
            node, field_text(b, node, "name"), "function", container, body=body, exported=exported
        )
    elif kind in ("class_declaration", "abstract_class_declaration", "class"):
        _js_class(b, node, container, exported, depth)
    elif kind == "interface_declaration":
        name = field_text(b, node, "name")
        body = node.child_by_field_name("body")
        b.add(node, name, "interface", container, body=body, exported=exported)
        if body is not None:
            _js_members(b, body, name, exported)
    elif kind == "type_alias_declaration":
        value = node.child_by_field_name("value")
        b.add(
            node,
            field_text(b, node, "name"),
            "type",
            container,
            head_until=value,
            exported=exported,
        )
    elif kind == "enum_declaration":
        _js_enum(b, node, container, exported)
    elif kind in ("lexical_declaration", "variable_declaration"):
        _js_variables(b, node, container, exported)
    elif kind == "ambient_declaration":
        for inner in node.named_children:
            _js_item(b, inner, container, exported, depth)
    elif kind in ("internal_module", "module") and depth < _MAX_DEPTH:
        name = field_text(b, node, "name")
        body = node.child_by_field_name("body")
        b.add(node, name, "module", container, body=body, exported=exported)
        for inner in body.named_children if body is not None else ():
            _js_item(b, inner, name, exported, depth + 1)
    elif kind == "expression_statement" and node.named_child_count == 1:
        _js_member_assignment(b, node, node.named_children[0])


def _js_class(b: Builder, node: Node, container: str | None, exported: bool, depth: int) -> None:
    name = field_text(b, node, "name")
    body = node.child_by_field_name("body")
    b.add(node, name, "class", container, body=body, exported=exported)
    if name and body is not None:
        _js_members(b, body, name, exported)


def _js_members(b: Builder, body: Node, owner: str, exported: bool) -> None:
    for member in body.named_children:
        if member.type not in _JS_MEMBERS:
            continue
        member_body: Node | None
        name_node = member.child_by_field_name("name") or member.child_by_field_name("property")
        name = b.text(name_node)
        private = name.startswith("#") or _has_modifier(member, b"private")
        is_method = "method" in member.type
        value = member.child_by_field_name("value")
        member_body = member.child_by_field_name("body")
        if value is not None and value.type in _JS_FUNCTION_VALUES:
            is_method, member_body = True, value.child_by_field_name("body")
        b.add(
            member,
            name.lstrip("#"),
            "method" if is_method else "field",
            owner,
            body=member_body,
            head_until=None if member_body else value,
            exported=exported and not private,
        )


def _has_modifier(node: Node, word: bytes) -> bool:
    return any(
        child.type == "accessibility_modifier" and child.text == word for child in node.children
    )


def _js_enum(b: Builder, node: Node, container: str | None, exported: bool) -> None:
    name = field_text(b, node, "name")
    body = node.child_by_field_name("body")
    b.add(node, name, "enum", container, body=body, exported=exported)
    for member in body.named_children if body is not None else ():
        target = member.child_by_field_name("name") if member.type == "enum_assignment" else member
        if target is not None and target.type in ("property_identifier", "identifier"):
            b.add(member, b.text(target), "member", name, exported=exported)


def _js_variables(b: Builder, node: Node, container: str | None, exported: bool) -> None:
    declarators = [d for d in node.named_children if d.type == "variable_declarator"]
    for declarator in declarators:
        name_node = declarator.child_by_field_name("name")
        if name_node is None or name_node.type != "identifier":
            continue
        value = declarator.child_by_field_name("value")
        anchor = node if len(declarators) == 1 else declarator
        if value is not None and value.type in _JS_FUNCTION_VALUES:
            b.add(
                anchor,
                b.text(name_node),
                "function",
                container,
                body=value.child_by_field_name("body"),
                exported=exported,
            )
        elif value is not None and _is_require(value):
            continue  # an import, not a definition
        else:
            is_const = node.children[0].type == "const"
            kind = (
                "class"
                if value is not None and value.type == "class"
                else ("const" if is_const else "var")
            )
            b.add(anchor, b.text(name_node), kind, container, head_until=value, exported=exported)


def _is_require(value: Node) -> bool:
    return (value.text or b"").startswith(b"require")


def _js_member_assignment(b: Builder, node: Node, expr: Node) -> None:
    """`exports.foo = ...`, `Foo.prototype.bar = function ...`, `app.use = ...`."""
    if expr.type != "assignment_expression":
        return
    left = expr.child_by_field_name("left")
    right = expr.child_by_field_name("right")
    if left is None or left.type != "member_expression":
        return
    owner = b.text(left.child_by_field_name("object"))
    name = field_text(b, left, "property")
    if not name or len(owner) > 60 or "(" in owner or "[" in owner or owner == "module":
        return
    owner = owner.removesuffix(".prototype")
    container = None if owner in ("exports", "module.exports") else owner
    if right is not None and right.type in _JS_FUNCTION_VALUES:
        b.add(
            node,
            name,
            "method" if container else "function",
            container,
            body=right.child_by_field_name("body"),
        )
    else:
        b.add(node, name, "field" if container else "var", container, head_until=right)


# ---- Lua ----------------------------------------------------------------------------------


_LUA_NAMES = re.compile(r"[A-Za-z_]\w*")


def lua(b: Builder, root: Node) -> None:
    local_tables: set[str] = set()
    returned: set[str] | None = None
    for node in root.named_children:
        if node.type == "variable_declaration":
            assignment = _first(node, "assignment_statement")
            values = _first(assignment, "expression_list") if assignment is not None else None
            variables = _first(assignment, "variable_list") if assignment is not None else None
            for target, value in zip(
                variables.named_children if variables is not None else [],
                values.named_children if values is not None else [],
                strict=False,
            ):
                if target.type == "identifier" and _is_table(value):
                    local_tables.add(b.text(target))
        elif node.type == "return_statement":
            # `return M`, `return setmetatable(M, mt)`, `return { run = run }`: what it names
            returned = (returned or set()) | set(_LUA_NAMES.findall(b.text(node)))
        if node.type == "function_declaration":
            _lua_function(b, node)
        elif node.type == "return_statement":  # `return { name = ..., f = function ... }`
            values = _first(node, "expression_list")
            table = (
                values.named_children[0] if values is not None and values.named_children else None
            )
            if table is not None and _is_table(table):
                _lua_table_fields(b, table, None)
        elif node.type in ("variable_declaration", "assignment_statement"):
            local = node.type == "variable_declaration"
            assignment = node if not local else _first(node, "assignment_statement")
            if assignment is not None:
                _lua_assignment(b, node, assignment, local)
    if returned is not None:  # a module: the tables it keeps to itself export nothing
        hidden = local_tables - returned
        b.out = [
            replace(d, exported=False)
            if d.exported and (d.container in hidden or (d.container is None and d.name in hidden))
            else d
            for d in b.out
        ]


def _first(node: Node, kind: str) -> Node | None:
    for child in node.named_children:
        if child.type == kind:
            return child
    return None


def _lua_target(b: Builder, target: Node) -> tuple[str, str | None]:
    if target.type == "dot_index_expression":
        return field_text(b, target, "field"), b.text(target.child_by_field_name("table"))
    if target.type == "method_index_expression":
        return field_text(b, target, "method"), b.text(target.child_by_field_name("table"))
    if target.type == "identifier":
        return b.text(target), None
    return "", None


def _lua_function(b: Builder, node: Node) -> None:
    target = node.child_by_field_name("name")
    if target is None:
        return
    name, container = _lua_target(b, target)
    local = has_child(node, "local")
    kind = "method" if target.type == "method_index_expression" else "function"
    b.add(node, name, kind, container, body=node.child_by_field_name("body"), exported=not local)


def _lua_assignment(b: Builder, node: Node, assignment: Node, local: bool) -> None:
    variables = _first(assignment, "variable_list")
    values = _first(assignment, "expression_list")
    targets = variables.named_children if variables is not None else []
    given = values.named_children if values is not None else []
    for index, target in enumerate(targets):
        name, container = _lua_target(b, target)
        value = given[index] if index < len(given) else None
        if value is not None and value.type == "function_call":
            continue  # `local x = require(...)` and other calls are not definitions
        if value is not None and value.type == "function_definition":
            body = value.child_by_field_name("body")
            b.add(
                node, name, "function", container, body=body, exported=not local or bool(container)
            )
            continue
        if local and not _is_table(value):
            continue  # a file-local alias (`local min = math.min`) is invisible to other files
        b.add(
            node,
            name,
            "value" if container else "var",
            container,
            head_until=value,
            exported=not local or bool(container) or _is_table(value),
        )
        if value is not None and _is_table(value) and container is None:
            _lua_table_fields(b, value, name)


def _is_table(value: Node | None) -> bool:
    return value is not None and value.type == "table_constructor"


def _lua_table_fields(b: Builder, table: Node, owner: str | None) -> None:
    for field in table.named_children:
        key = field.child_by_field_name("name")
        value = field.child_by_field_name("value")
        if field.type != "field" or key is None or key.type != "identifier":
            continue
        if value is not None and value.type == "function_definition":
            b.add(field, b.text(key), "function", owner, body=value.child_by_field_name("body"))
        else:
            b.add(field, b.text(key), "value", owner, head_until=value)  # a module's API
