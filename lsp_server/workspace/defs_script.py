"""Definition walkers for Python and Lua (module and class level); JavaScript/TypeScript's are
in defs_js.py."""

from __future__ import annotations

import re
from dataclasses import replace

from tree_sitter import Node

from .defs_common import MAX_DEPTH, Builder, field_text, has_child

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
            if is_class and body is not None and depth < MAX_DEPTH:
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
