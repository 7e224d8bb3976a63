"""Definition walkers for JavaScript and TypeScript (module, class and namespace level)."""

from __future__ import annotations

from dataclasses import replace

from tree_sitter import Node

from .defs_common import MAX_DEPTH, Builder, field_text

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
    elif kind in ("internal_module", "module") and depth < MAX_DEPTH:
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
