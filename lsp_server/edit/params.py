"""Reading `tandem/edit` params and `tandem.edit` command arguments, with a clear error for each fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import EditInputError

MAX_INSTRUCTION_CHARS = 2000


@dataclass(frozen=True)
class Point:
    line: int
    character: int


@dataclass(frozen=True)
class EditParams:
    uri: str
    start: Point
    end: Point
    instruction: str  # empty for a preset, which says its own
    preset: str | None = None
    version: int | None = None
    edit_id: str | None = None
    stream: bool = False
    problems: tuple[str, ...] = ()  # diagnostics in the prompt, "line N: message"


def parse_edit(raw: Any) -> EditParams:
    """`tandem/edit` params: {textDocument: {uri}, range, instruction, version?, editId?, stream?}."""
    if not isinstance(raw, dict):
        raise EditInputError("tandem/edit takes {textDocument: {uri}, range, instruction}")
    doc = raw.get("textDocument")
    if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
        raise EditInputError("'textDocument.uri' must be a string")
    start, end = _range(raw.get("range"), "range")
    version = raw.get("version")
    if version is not None and not _is_int(version):
        raise EditInputError("'version' must be an integer")
    edit_id = raw.get("editId")
    if edit_id is not None and not isinstance(edit_id, str):
        raise EditInputError("'editId' must be a string")
    stream = raw.get("stream", False)
    if not isinstance(stream, bool):
        raise EditInputError("'stream' must be true or false")
    return EditParams(
        doc["uri"],
        start,
        end,
        _instruction(raw.get("instruction"), required=True),
        version=version,
        edit_id=edit_id,
        stream=stream,
    )


def parse_command(args: tuple[Any, ...]) -> EditParams:
    """The `tandem.edit` command's one argument: {uri, range, instruction?, preset?, diagnostics?}."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise EditInputError("tandem.edit takes one argument: {uri, range, instruction?, preset?}")
    raw = args[0]
    if not isinstance(raw.get("uri"), str):
        raise EditInputError("'uri' must be a string")
    start, end = _range(raw.get("range"), "range")
    preset = raw.get("preset")
    if preset is not None and preset not in ("fix", "document", "tests"):
        raise EditInputError("'preset' must be one of fix, document, tests")
    instruction = _instruction(raw.get("instruction"), required=preset is None)
    return EditParams(
        raw["uri"],
        start,
        end,
        instruction,
        preset=preset,
        problems=_problems(raw.get("diagnostics")),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _point(raw: Any, name: str) -> Point:
    if (
        not isinstance(raw, dict)
        or not _is_int(raw.get("line"))
        or not _is_int(raw.get("character"))
    ):
        raise EditInputError(f"'{name}' must be an LSP Position {{line, character}}")
    if raw["line"] < 0 or raw["character"] < 0:
        raise EditInputError(f"'{name}' must not be negative")
    return Point(raw["line"], raw["character"])


def _range(raw: Any, name: str) -> tuple[Point, Point]:
    if not isinstance(raw, dict):
        raise EditInputError(f"'{name}' must be an LSP Range {{start, end}}")
    start, end = _point(raw.get("start"), f"{name}.start"), _point(raw.get("end"), f"{name}.end")
    if (end.line, end.character) < (start.line, start.character):
        raise EditInputError(f"'{name}' ends before it starts")
    return start, end


def _instruction(raw: Any, *, required: bool) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise EditInputError("'instruction' must be a non-empty string")
    if len(raw) > MAX_INSTRUCTION_CHARS:
        raise EditInputError(f"'instruction' is longer than {MAX_INSTRUCTION_CHARS} characters")
    return raw.strip()


def _problems(raw: Any) -> tuple[str, ...]:
    """LSP Diagnostics as prompt lines; ones without a message are left out."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EditInputError("'diagnostics' must be an array of LSP Diagnostics")
    out = []
    for d in raw[:20]:
        if not isinstance(d, dict) or not isinstance(d.get("message"), str):
            continue
        rng = d.get("range")
        start = rng.get("start") if isinstance(rng, dict) else None
        line = start.get("line") if isinstance(start, dict) else None
        where = f"line {line + 1}: " if isinstance(line, int) and not isinstance(line, bool) else ""
        out.append(where + " ".join(d["message"].split())[:300])
    return tuple(out)
