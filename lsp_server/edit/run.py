"""Running one edit: check, prompt, ask the host's chat, extract, diff; never a stale edit.

A document edited or closed while its edit runs stops the edit at once (its generation is
cancelled) with ContentModified; cancelling the caller's task ($/cancelRequest) cancels
the generation on the host too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import posixpath
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types

from model_host.rpc.messages import GenerateResult

from ..config import ChatSettings
from ..documents import Document
from ..host import HostLink
from ..positions import LineIndex, PositionError
from ..protocol import EditChunk, EditResult, WireTextEdit
from .ability import cannot_chat_reason
from .diff import Selection, line_edits, position, split_lines, widen
from .errors import CannotChat, ContentModified, EditError, EditInputError
from .extract import extract_rewrite, fenced_blocks
from .params import EditParams
from .prompt import EditSubject, build_prompt, preset_instruction

if TYPE_CHECKING:
    from ..crossfile import CrossFileContext

T = TypeVar("T")
_edit_ids = itertools.count(1)
AROUND_LINES = 8  # lines each side an answer may repeat, to be taken off again
REQUEST_FAILED = -32803


class NoCode(EditError):
    """The model answered without any code to put in place of the selection."""

    code = REQUEST_FAILED


class EditRunner:
    """Runs edits against the host; `changed(uri)` is called on every change to a document."""

    def __init__(
        self,
        link: HostLink,
        chat_settings: Callable[[], ChatSettings],
        crossfile: CrossFileContext | None = None,
    ) -> None:
        self.link = link
        self.chat_settings = chat_settings
        self.crossfile = crossfile
        self._watching: dict[str, set[asyncio.Event]] = {}

    def cannot_chat(self) -> str | None:
        """Why the loaded model cannot edit by instruction (None: it can), from what is known now."""
        return cannot_chat_reason(self.link.model)

    def changed(self, uri: str) -> None:
        for event in self._watching.get(uri, ()):
            event.set()

    @contextlib.contextmanager
    def _watch(self, uri: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._watching.setdefault(uri, set()).add(event)
        try:
            yield event
        finally:
            events = self._watching.get(uri, set())
            events.discard(event)
            if not events:
                self._watching.pop(uri, None)

    async def run(
        self,
        doc: Document,
        params: EditParams,
        encoding: str,
        on_chunk: Callable[[EditChunk], None] | None = None,
    ) -> EditResult:
        text, version = doc.text, doc.version  # the snapshot the edit is for
        index, start, end = _locate(text, version, params, encoding)
        edit_id = params.edit_id or f"edit-{next(_edit_ids)}"
        with self._watch(doc.uri) as changed:
            await self.link.loaded_client(self.link.settings.request_timeout)
            reason = self.cannot_chat()
            if reason is not None:
                raise CannotChat(reason)
            selection = widen(text, start, end)
            cfg = self.chat_settings()
            instruction = params.instruction or preset_instruction(
                params.preset or "fix", doc.language_id
            )
            subject = EditSubject(
                doc.uri,
                _path_of(doc.uri),
                doc.language_id,
                doc.lang,
                text,
                selection.start,
                selection.end,
                instruction,
                params.problems,
            )
            prompt = await _until_changed(
                build_prompt(self.link, subject, cfg, self.crossfile), changed
            )
            chunks = itertools.count()

            def on_text(piece: str) -> None:
                if on_chunk is not None:
                    on_chunk(EditChunk(editId=edit_id, text=piece, index=next(chunks)))

            answer = await _until_changed(
                self.link.chat(
                    prompt.messages,
                    max_tokens=prompt.max_tokens,
                    temperature=cfg.temperature,
                    top_p=cfg.top_p,
                    on_text=on_text if params.stream and on_chunk is not None else None,
                ),
                changed,
            )
        if doc.version != version or doc.text != text:
            raise ContentModified("the document changed while the edit ran: ask again")
        return _result(doc.uri, version, edit_id, text, index, selection, answer, encoding)


def _locate(
    text: str, version: int, params: EditParams, encoding: str
) -> tuple[LineIndex, int, int]:
    """The document's line index and the offsets of the edit's range, checked against the
    version the edit was asked for."""
    if params.version is not None and params.version != version:
        raise ContentModified(
            f"the document is at version {version}, not {params.version}: ask again"
        )
    index = LineIndex(text)
    try:
        start = index.offset(params.start.line, params.start.character, encoding)
        end = index.offset(params.end.line, params.end.character, encoding)
    except PositionError as exc:
        raise EditInputError(f"'range' is outside the document: {exc}") from exc
    return index, start, end


def _result(
    uri: str,
    version: int,
    edit_id: str,
    text: str,
    index: LineIndex,
    selection: Selection,
    answer: GenerateResult,
    encoding: str,
) -> EditResult:
    """The model's answer as the rewrite of the selection and the minimal edits to make it."""
    old = selection.text(text)
    before = "".join(split_lines(text[: selection.start])[-AROUND_LINES:])
    after = "".join(split_lines(text[selection.end :])[:AROUND_LINES])
    new = extract_rewrite(answer["text"], old, before=before, after=after)
    if not new.strip() and old.strip() and not fenced_blocks(answer["text"]):
        raise NoCode(f"the model answered without code: {answer['text'][:200]!r}")
    edits = [_wire(e) for e in line_edits(index, selection, new, encoding)]
    rng = types.Range(
        start=position(index, selection.start, encoding),
        end=position(index, selection.end, encoding),
    )
    return EditResult(
        editId=edit_id,
        uri=uri,
        version=version,
        range=_wire_range(rng),
        newText=new,
        edits=edits,
        edit={"changes": {uri: edits}},
        finishReason=answer["finish_reason"],
        promptTokens=answer["prompt_tokens"],
        generatedTokens=answer["generated_tokens"],
    )


async def _until_changed(work: Awaitable[T], changed: asyncio.Event) -> T:
    """`work`'s result, unless the document changes first: then it is cancelled (a host
    generation with it) and ContentModified raised. Cancelling the caller cancels `work`."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(changed.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if changed.is_set():
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn of it
        raise ContentModified("the document changed while the edit ran: ask again")
    return task.result()


def _wire_range(rng: types.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _wire(edit: types.TextEdit) -> WireTextEdit:
    return WireTextEdit(range=_wire_range(edit.range), newText=edit.new_text)


def _path_of(uri: str) -> str:
    """The document's file name as the prompt shows it."""
    parsed = urlparse(uri)
    return posixpath.basename(unquote(parsed.path)) or uri
