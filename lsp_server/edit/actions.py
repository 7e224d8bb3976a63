"""The code actions of edit by instruction: what `textDocument/codeAction` offers, and their labels."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from .. import protocol as tp

KINDS = (tp.ACTION_EDIT, tp.ACTION_FIX, tp.ACTION_DOCUMENT, tp.ACTION_TESTS)
_PRESETS = (
    ("Tandem: Fix", tp.ACTION_FIX, "fix"),
    ("Tandem: Document", tp.ACTION_DOCUMENT, "document"),
    ("Tandem: Add tests", tp.ACTION_TESTS, "tests"),
)
PRESET_LABELS = {preset: title.removeprefix("Tandem: ") for title, _, preset in _PRESETS}


def has_edit_input(capabilities: types.ClientCapabilities) -> bool:
    """The client asks the user for an instruction itself (`experimental.tandem.editInput`)."""
    experimental = capabilities.experimental
    tandem = experimental.get("tandem") if isinstance(experimental, dict) else None
    return isinstance(tandem, dict) and tandem.get("editInput") is True


def _wire_range(rng: types.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _wire_diagnostic(d: types.Diagnostic) -> dict[str, Any]:
    return {"range": _wire_range(d.range), "message": d.message}


def _action(title: str, kind: str, uri: str, rng: types.Range, **extra: Any) -> types.CodeAction:
    argument = {"uri": uri, "range": _wire_range(rng), **extra}
    return types.CodeAction(
        title=title,
        kind=kind,
        command=types.Command(title=title, command=tp.CMD_EDIT, arguments=[argument]),
    )


def code_actions(params: types.CodeActionParams, *, edit_input: bool) -> list[types.CodeAction]:
    """Edit…, Fix, Document, Add tests on a selection; Fix on the diagnostics' range."""
    uri, rng = params.text_document.uri, params.range
    only = params.context.only
    diagnostics = list(params.context.diagnostics or [])
    actions: list[types.CodeAction] = []
    selected = rng.start != rng.end
    if selected:
        if edit_input:
            actions.append(_action("Tandem: Edit…", tp.ACTION_EDIT, uri, rng))
        for title, kind, preset in _PRESETS:
            extra: dict[str, Any] = {"preset": preset}
            if preset == "fix" and diagnostics:
                extra["diagnostics"] = [_wire_diagnostic(d) for d in diagnostics]
            actions.append(_action(title, kind, uri, rng, **extra))
    elif diagnostics:
        # No selection: Fix over the lines of the problems the editor reports here.
        start = min((d.range.start for d in diagnostics), key=lambda p: (p.line, p.character))
        end = max((d.range.end for d in diagnostics), key=lambda p: (p.line, p.character))
        actions.append(
            _action(
                "Tandem: Fix",
                tp.ACTION_FIX,
                uri,
                types.Range(start=start, end=end),
                preset="fix",
                diagnostics=[_wire_diagnostic(d) for d in diagnostics],
            )
        )
    if only:
        wanted = [str(getattr(k, "value", k)) for k in only]
        actions = [a for a in actions if any(_within(str(a.kind), k) for k in wanted)]
    return actions


def _within(kind: str, wanted: str) -> bool:
    """LSP kinds are hierarchical: asking for "refactor" takes "refactor.rewrite.tandem.edit"."""
    return kind == wanted or kind.startswith(wanted + ".")


def label(instruction: str, preset: str | None) -> str:
    """The applyEdit label (the undo entry some editors show)."""
    return f"Tandem: {PRESET_LABELS[preset] if preset else instruction}"[:80]
