"""Chat messages on the wire: the roles, and the one check of a dialog that both processes make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypedDict, cast

Role = Literal["system", "user", "assistant"]
ROLES: Final[tuple[Role, ...]] = ("system", "user", "assistant")


class ChatMessage(TypedDict):
    role: Role
    content: str


class MessagesError(ValueError):
    """A dialog no chat format can take; `str(err)` says which message and why."""


def parse_messages(raw: object) -> list[ChatMessage]:
    """`raw` as a dialog: {role, content} maps, a system message only first, the user's last."""
    if not isinstance(raw, list):
        raise MessagesError("'messages' must be an array of {role, content}")
    if not raw:
        raise MessagesError("the dialog is empty")
    out: list[ChatMessage] = []
    for i, m in enumerate(raw):
        if not isinstance(m, Mapping):
            raise MessagesError(f"messages[{i}] must be a map with 'role' and 'content'")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise MessagesError(f"messages[{i}] has role {role!r}; expected {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise MessagesError(f"messages[{i}] has no text content (a string)")
        if role == "system" and i != 0:
            raise MessagesError(f"messages[{i}] is a system message; only the first may be")
        out.append({"role": cast(Role, role), "content": content})
    if out[-1]["role"] != "user":
        raise MessagesError(f"the last message must be from the user, not {out[-1]['role']}")
    return out
