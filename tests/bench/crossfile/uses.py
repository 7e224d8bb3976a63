"""How a name is used where it appears: bare, qualified by a module/type, or called as a member.

Each identifier leaf of a file is read with its role (`Use`): a bare name (`helper(x)`, a type,
a constant), a qualified one (`utils.helper`, `pkg.Func`, `crate::x::Y`, `Type::new`, `M.field`),
a member of some other receiver (`self.method()`, `obj.run()`, `a.b.c()`), or a Rust macro
(`name!`). Keyword-argument names, object keys and struct-literal field names are not uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from .syntax import field, leaves, text_of


@dataclass(frozen=True)
class Use:
    name: str
    role: str  # bare | qual | member | macro
    qualifier: str = (
        ""  # qual: the module/type written before the name; member: the receiver's root
    )
    call: bool = False  # the member/qualified name is called


def uses_by_row(language: str, root: Node) -> dict[int, list[Use]]:
    """Every use of a name in a file, by the row it is on."""
    out: dict[int, list[Use]] = {}
    read = _READ[language]
    for leaf in leaves(root):
        use = read(leaf)
        if use is not None and use.name:
            out.setdefault(leaf.start_point[0], []).append(use)
    return out


def _is_field(node: Node, parent: Node | None, name: str) -> bool:
    return parent is not None and field(parent, name) == node


def _called(member: Node) -> bool:
    parent = member.parent
    return (
        parent is not None
        and parent.type in ("call", "call_expression", "function_call")
        and (field(parent, "function") == member or field(parent, "name") == member)
    )


def _receiver_root(node: Node | None) -> str:
    """`self` of `self.a.b`, `this` of `this.x[0]`: the receiver chain's first name."""
    while (
        node is not None and node.named_children and node.type not in ("identifier", "this", "self")
    ):
        node = node.named_children[0]
    return text_of(node) if node is not None else ""


def _member_use(name: str, obj: Node | None, access: Node) -> Use:
    if obj is not None and obj.type == "identifier":
        return Use(name, "qual", text_of(obj), _called(access))
    return Use(name, "member", _receiver_root(obj), _called(access))


def _py_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if leaf.type != "identifier" or parent is None:
        return None
    name = text_of(leaf)
    if parent.type == "attribute" and _is_field(leaf, parent, "attribute"):
        return _member_use(name, field(parent, "object"), parent)
    if parent.type == "keyword_argument" and _is_field(leaf, parent, "name"):
        return None
    return Use(name, "bare")


def _js_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if parent is None:
        return None
    name = text_of(leaf)
    if leaf.type == "property_identifier":
        if parent.type == "member_expression" and _is_field(leaf, parent, "property"):
            return _member_use(name, field(parent, "object"), parent)
        return None
    if leaf.type == "type_identifier" and parent.type == "nested_type_identifier":
        module = field(parent, "module")
        if _is_field(leaf, parent, "name") and module is not None:
            return Use(name, "qual", text_of(module))
        return None
    if leaf.type in ("identifier", "type_identifier", "shorthand_property_identifier"):
        return Use(name, "bare")
    return None


def _go_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if parent is None:
        return None
    name = text_of(leaf)
    if leaf.type == "field_identifier":
        if parent.type == "selector_expression" and _is_field(leaf, parent, "field"):
            return _member_use(name, field(parent, "operand"), parent)
        return None
    if leaf.type == "type_identifier" and parent.type == "qualified_type":
        return Use(name, "qual", text_of(field(parent, "package")))
    if leaf.type in ("identifier", "type_identifier"):
        if parent.type == "literal_element" and parent.parent is not None:
            keyed = parent.parent
            if keyed.type == "keyed_element" and keyed.named_children[0] == parent:
                return None  # a struct literal's field name
        return Use(name, "bare")
    return None


def _rust_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if parent is None:
        return None
    name = text_of(leaf)
    if parent.type in ("token_tree", "token_tree_pattern"):
        return _rust_token(leaf, name)
    if leaf.type == "field_identifier":
        if parent.type == "field_expression" and _is_field(leaf, parent, "field"):
            return Use(name, "member", _receiver_root(field(parent, "value")), _called(parent))
        return None
    if leaf.type not in ("identifier", "type_identifier"):
        return None
    if parent.type == "macro_invocation":
        return Use(name, "macro")
    if parent.type in ("scoped_identifier", "scoped_type_identifier"):
        if not _is_field(leaf, parent, "name"):
            return Use(name, "bare")  # the path's first segment
        grand = parent.parent
        if (
            grand is not None
            and grand.type in ("scoped_identifier", "scoped_type_identifier")
            and _is_field(parent, grand, "path")
        ):
            return None  # a middle segment of a longer path
        return Use(name, "qual", text_of(field(parent, "path")).replace(" ", ""))
    if parent.type in ("field_initializer", "use_list", "macro_definition"):
        return None
    if parent.type in RUST_ITEMS and _is_field(leaf, parent, "name"):
        return None  # the name an item defines, not a use
    return Use(name, "bare")


RUST_ITEMS = frozenset(
    {
        "function_item",
        "function_signature_item",
        "struct_item",
        "enum_item",
        "union_item",
        "trait_item",
        "type_item",
        "const_item",
        "static_item",
        "mod_item",
        "enum_variant",
    }
)


def _rust_token(leaf: Node, name: str) -> Use | None:
    """An identifier inside a macro's token tree: read from the tokens around it."""
    if leaf.type != "identifier" or _inside(leaf, "macro_definition"):
        return None
    before = leaf.prev_sibling
    after = leaf.next_sibling
    called = after is not None and after.type == "token_tree" and text_of(after).startswith("(")
    if before is not None and before.type == ".":
        return Use(name, "member", "", called)
    if before is not None and before.type == "::":
        segments: list[str] = []  # `io::Error::new`: the whole path before the name
        while before is not None and before.type == "::":
            segment = before.prev_sibling
            if segment is None or segment.type not in ("identifier", "self", "super", "crate"):
                break
            segments.insert(0, text_of(segment))
            before = segment.prev_sibling
        return Use(name, "qual", "::".join(segments)) if segments else None
    if after is not None and after.type == "!":
        return Use(name, "macro")
    return Use(name, "bare")


def _inside(node: Node, kind: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == kind:
            return True
        parent = parent.parent
    return False


def _c_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if leaf.type not in ("identifier", "type_identifier"):
        return None
    if (parent is not None and parent.type == "preproc_def") or (
        parent is not None and parent.type == "preproc_function_def"
    ):
        return None
    return Use(text_of(leaf), "bare")


def _lua_use(leaf: Node) -> Use | None:
    parent = leaf.parent
    if leaf.type != "identifier" or parent is None:
        return None
    name = text_of(leaf)
    if parent.type == "dot_index_expression" and _is_field(leaf, parent, "field"):
        return _member_use(name, field(parent, "table"), parent)
    if parent.type == "method_index_expression" and _is_field(leaf, parent, "method"):
        table = field(parent, "table")
        if table is not None and table.type == "identifier":
            return Use(name, "qual", text_of(table), True)
        return Use(name, "member", _receiver_root(table), True)
    if parent.type == "field" and _is_field(leaf, parent, "name"):
        return None
    return Use(name, "bare")


_READ: dict[str, Callable[[Node], Use | None]] = {
    "python": _py_use,
    "javascript": _js_use,
    "typescript": _js_use,
    "go": _go_use,
    "rust": _rust_use,
    "c": _c_use,
    "lua": _lua_use,
}
