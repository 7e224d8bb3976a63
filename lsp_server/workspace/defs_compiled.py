"""Definition walkers for Go, Rust, C/C++ and Java (file, type and namespace level)."""

from __future__ import annotations

from tree_sitter import Node

from .defs_common import Builder, field_text, has_child

_MAX_DEPTH = 4


# ---- Go -----------------------------------------------------------------------------------


def go(b: Builder, root: Node) -> None:
    for node in root.named_children:
        kind = node.type
        if kind in ("function_declaration", "method_declaration"):
            name = field_text(b, node, "name")
            owner = _go_receiver(b, node) if kind == "method_declaration" else None
            b.add(
                node,
                name,
                "method" if owner else "function",
                owner,
                body=node.child_by_field_name("body"),
                exported=_go_public(name),
            )
        elif kind == "type_declaration":
            specs = [s for s in node.named_children if s.type in ("type_spec", "type_alias")]
            for spec in specs:
                _go_type(b, node if len(specs) == 1 else spec, spec)
        elif kind in ("const_declaration", "var_declaration"):
            _go_values(b, node, "const" if kind == "const_declaration" else "var")


def _go_public(name: str) -> bool:
    return name[:1].isupper()


def _go_receiver(b: Builder, node: Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    for param in receiver.named_children if receiver is not None else ():
        text = b.text(param.child_by_field_name("type")).lstrip("*")
        return text.split("[", 1)[0].strip() or None
    return None


def _go_type(b: Builder, anchor: Node, spec: Node) -> None:
    name = field_text(b, spec, "name")
    shape = spec.child_by_field_name("type")
    kind = {"struct_type": "struct", "interface_type": "interface"}.get(
        shape.type if shape is not None else "", "type"
    )
    b.add(
        anchor,
        name,
        kind,
        None,
        body=shape if kind != "type" else None,
        head_until=shape,
        exported=_go_public(name),
    )
    if shape is None or kind == "type":
        return
    for fields in shape.named_children:
        members = fields.named_children if fields.type == "field_declaration_list" else [fields]
        for member in members:
            if member.type == "field_declaration":
                for ident in member.children_by_field_name("name"):
                    field = b.text(ident)
                    b.add(member, field, "field", name, exported=_go_public(field))
            elif member.type in ("method_elem", "method_spec"):
                method = field_text(b, member, "name")
                b.add(member, method, "method", name, exported=_go_public(method))


def _go_values(b: Builder, node: Node, kind: str) -> None:
    specs: list[Node] = []
    for child in node.named_children:
        specs.extend(child.named_children if child.type.endswith("_spec_list") else [child])
    specs = [spec for spec in specs if spec.type.endswith("_spec")]
    for spec in specs:
        anchor = node if len(specs) == 1 else spec
        value = spec.child_by_field_name("value")
        for ident in spec.children_by_field_name("name"):
            name = b.text(ident)
            b.add(anchor, name, kind, None, head_until=value, exported=_go_public(name))


# ---- Rust ---------------------------------------------------------------------------------

_RS_KINDS = {
    "function_item": "function",
    "function_signature_item": "function",
    "struct_item": "struct",
    "union_item": "union",
    "enum_item": "enum",
    "trait_item": "trait",
    "const_item": "const",
    "static_item": "static",
    "type_item": "type",
    "associated_type": "type",
    "macro_definition": "macro",
    "mod_item": "module",
}


def rust(b: Builder, root: Node) -> None:
    _rs_items(b, root, None, 0, False, False)


def _rs_items(
    b: Builder, block: Node, owner: str | None, depth: int, public: bool, methods: bool
) -> None:
    """Items of a file, module, impl or trait body (`methods`: functions there are methods)."""
    for node in block.named_children:
        kind = node.type
        if kind == "impl_item":
            body = node.child_by_field_name("body")
            target = _rs_type_name(b, node.child_by_field_name("type"))
            if body is not None and target and depth < _MAX_DEPTH:
                _rs_items(b, body, target, depth + 1, has_child(node, "for") or public, True)
            continue
        label = _RS_KINDS.get(kind)
        if label is None:
            continue
        name = field_text(b, node, "name")
        exported = public or has_child(node, "visibility_modifier") or label == "macro"
        body = node.child_by_field_name("body")
        if label == "function" and methods:
            label = "method"
        head_until = node.child_by_field_name("value") or node.child_by_field_name("type")
        if label == "module" and body is None:
            continue  # `mod foo;` is an import of foo.rs
        b.add(
            node,
            name,
            label,
            owner,
            body=body if label != "const" else None,
            head_until=head_until,
            exported=exported,
        )
        if body is None or depth >= _MAX_DEPTH:
            continue
        if label in ("trait", "module"):
            _rs_items(b, body, name, depth + 1, label == "trait" and exported, label == "trait")
        elif label in ("struct", "enum", "union"):
            _rs_members(b, body, name, exported)


def _rs_type_name(b: Builder, node: Node | None) -> str:
    while node is not None and node.type in ("generic_type", "scoped_type_identifier"):
        node = node.child_by_field_name("type") or node.child_by_field_name("name")
    return b.text(node) if node is not None else ""


def _rs_members(b: Builder, body: Node, owner: str, exported: bool) -> None:
    for member in body.named_children:
        if member.type == "enum_variant":
            b.add(member, field_text(b, member, "name"), "member", owner, exported=exported)
        elif member.type == "field_declaration":
            public = has_child(member, "visibility_modifier")
            b.add(member, field_text(b, member, "name"), "field", owner, exported=public)


# ---- C / C++ ------------------------------------------------------------------------------

_C_NESTING = frozenset(
    {"preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "ERROR", "declaration_list"}
)
_C_WRAPPED = frozenset(
    {
        "pointer_declarator",
        "reference_declarator",
        "array_declarator",
        "init_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
    }
)
_C_NAMES = frozenset(
    {"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name"}
)
_C_TYPES = {
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "class_specifier": "class",
}


def c_family(b: Builder, root: Node) -> None:
    _c_items(b, root, None, 0)


def _c_items(b: Builder, block: Node, owner: str | None, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    for node in block.named_children:
        kind = node.type
        if kind in _C_NESTING:
            _c_items(b, node, owner, depth + 1)
        elif kind in ("linkage_specification", "template_declaration"):
            _c_items(b, node.child_by_field_name("body") or node, owner, depth + 1)
        elif kind == "namespace_definition":
            body = node.child_by_field_name("body")
            if body is not None:
                _c_items(b, body, _join(owner, field_text(b, node, "name")), depth + 1)
        elif kind == "function_definition":
            name, scope, _ = _c_declarator(b, node.child_by_field_name("declarator"))
            container = scope or owner
            b.add(
                node,
                name,
                "method" if container else "function",
                container,
                body=node.child_by_field_name("body"),
                exported=not _c_static(node),
            )
        elif kind in ("declaration", "field_declaration"):
            _c_declaration(b, node, owner, depth)
        elif kind == "type_definition":
            _c_typedef(b, node, owner, depth)
        elif kind in _C_TYPES:
            _c_type(b, node, node, owner, depth)
        elif kind in ("preproc_def", "preproc_function_def"):
            b.add(
                node,
                field_text(b, node, "name"),
                "macro",
                None,
                head_until=node.child_by_field_name("value"),
            )
        elif kind == "alias_declaration":
            b.add(node, field_text(b, node, "name"), "type", owner)


def _join(owner: str | None, name: str) -> str:
    return f"{owner}::{name}" if owner else name


def _c_static(node: Node) -> bool:
    return any(
        child.type == "storage_class_specifier" and child.text == b"static"
        for child in node.children
    )


def _c_declarator(b: Builder, node: Node | None) -> tuple[str, str | None, bool]:
    """(name, qualifying scope, is a function) of a declarator chain."""
    is_function = False
    scope: str | None = None
    while node is not None:
        kind = node.type
        if kind == "function_declarator":
            is_function = True
            node = node.child_by_field_name("declarator")
        elif kind in _C_WRAPPED:
            inner = node.child_by_field_name("declarator")
            node = inner if inner is not None else next(iter(node.named_children), None)
        elif kind == "qualified_identifier":
            scope = b.text(node.child_by_field_name("scope")) or scope
            node = node.child_by_field_name("name")
        elif kind in _C_NAMES:
            return b.text(node), scope, is_function
        else:
            return "", scope, is_function
    return "", scope, is_function


def _c_declaration(b: Builder, node: Node, owner: str | None, depth: int) -> None:
    shape = node.child_by_field_name("type")
    if shape is not None and shape.type in _C_TYPES and shape.child_by_field_name("body"):
        _c_type(b, node, shape, owner, depth)
    exported = not _c_static(node)
    for declarator in node.children_by_field_name("declarator"):
        name, scope, is_function = _c_declarator(b, declarator)
        container = scope or owner
        if is_function:
            kind = "method" if container else "function"
        else:
            kind = "field" if node.type == "field_declaration" else "var"
        value = declarator.child_by_field_name("value")
        b.add(node, name, kind, container, head_until=value, exported=exported)


def _c_typedef(b: Builder, node: Node, owner: str | None, depth: int) -> None:
    shape = node.child_by_field_name("type")
    if shape is not None and shape.type in _C_TYPES and shape.child_by_field_name("body"):
        _c_type(b, node, shape, owner, depth)
    for declarator in node.children_by_field_name("declarator"):
        name, _, _ = _c_declarator(b, declarator)
        b.add(node, name, "type", owner, body=shape.child_by_field_name("body") if shape else None)


def _c_type(b: Builder, anchor: Node, shape: Node, owner: str | None, depth: int) -> None:
    name = field_text(b, shape, "name")
    body = shape.child_by_field_name("body")
    b.add(anchor, name, _C_TYPES[shape.type], owner, body=body)
    if body is None:
        return
    if shape.type == "enum_specifier":
        for member in body.named_children:
            if member.type == "enumerator":
                b.add(member, field_text(b, member, "name"), "member", name or owner)
    elif name and depth < 2:
        _c_items(b, body, _join(owner, name), depth + 1)


# ---- Java ---------------------------------------------------------------------------------

_JAVA_TYPES = {
    "class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "record_declaration": "record",
    "annotation_type_declaration": "interface",
}
_JAVA_METHODS = frozenset(
    {"method_declaration", "constructor_declaration", "annotation_type_element_declaration"}
)


def java(b: Builder, root: Node) -> None:
    _java_items(b, root, None, 0)


def _java_private(node: Node) -> bool:
    for child in node.children:
        if child.type == "modifiers":
            return b"private" in child.text.split() if child.text else False
    return False


def _java_items(b: Builder, block: Node, owner: str | None, depth: int) -> None:
    for node in block.named_children:
        kind = node.type
        exported = not _java_private(node)
        if kind in _JAVA_TYPES:
            name = field_text(b, node, "name")
            body = node.child_by_field_name("body")
            b.add(node, name, _JAVA_TYPES[kind], owner, body=body, exported=exported)
            if body is not None and depth < _MAX_DEPTH:
                _java_items(b, body, name, depth + 1)
        elif kind == "enum_body_declarations":
            _java_items(b, node, owner, depth)
        elif kind == "enum_constant":
            b.add(node, field_text(b, node, "name"), "member", owner)
        elif kind in _JAVA_METHODS:
            b.add(
                node,
                field_text(b, node, "name"),
                "method",
                owner,
                body=node.child_by_field_name("body"),
                exported=exported,
            )
        elif kind in ("field_declaration", "constant_declaration"):
            for declarator in node.children_by_field_name("declarator"):
                b.add(
                    node,
                    field_text(b, declarator, "name"),
                    "field",
                    owner,
                    head_until=declarator.child_by_field_name("value"),
                    exported=exported,
                )
