"""The pygls language server: thin LSP handlers over documents, completion, chat and the host link."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from model_host.rpc.protocol import RpcError

from . import __version__
from . import protocol as tp
from .chat import ChatInputError, CodeContext, run_chat
from .completion import Completer, Suggestion
from .config import (
    CrossFileSettings,
    Settings,
    UnknownSetting,
    parse_settings,
    unknown_settings,
)
from .crossfile import CrossFileContext
from .documents import Document, DocumentStore, UnknownDocument
from .edit import EditError
from .edit.params import EditParams
from .edit.run import EditRunner
from .host import HostLink, HostUnavailable
from .indexing import IndexFeed
from .items import TRIGGER_CHARACTERS, ClientTraits, fallback_item
from .jsonrpc import TandemProtocol
from .positions import UTF16, PositionError
from .progress import LoadProgress
from .protocol import REQUEST_FAILED
from .stats import SuggestionStats
from .transport import BoundedLanguageServer

log = logging.getLogger(__name__)


class TandemServer(BoundedLanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "tandem-lsp",
            __version__,
            protocol_cls=TandemProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.docs = DocumentStore()
        self.stats = SuggestionStats()
        self.load_progress = LoadProgress(self)
        self.link = HostLink(
            self.settings.host, on_message=self.tell, on_state=self.load_progress.update
        )
        self.feed = IndexFeed(self, self.cross_file_settings, lambda p: self.crossfile.touched(p))
        self.crossfile = CrossFileContext(self.feed, self.cross_file_settings)
        self.completer = Completer(
            self.link, self.stats, lambda: self.settings.completion, self.crossfile
        )
        self.edits = EditRunner(self.link, lambda: self.settings.chat, self.crossfile)
        # What was wrong with the settings last given (shown once, and in tandem/status).
        self.settings_problems: list[str] = []
        self._bad_values: list[str] = []
        self._unknown: list[UnknownSetting] = []
        self._unknown_told: frozenset[str] = frozenset()  # the unknown keys last shown
        # Between `initialized` and `shutdown`: the client takes window/logMessage.
        self.client_ready = False

    async def stopping(self) -> None:
        await self.link.close()

    def cross_file_settings(self) -> CrossFileSettings:
        return self.settings.context.cross_file

    # ---- talking to the user ---------------------------------------------------
    def tell(self, level: str, message: str) -> None:
        """`info` goes to the log only; `notice`, `warning` and `error` are shown to the user."""
        if level == "info":
            log.info("%s", message)
            return
        kind = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}.get(
            level, types.MessageType.Info
        )
        log.log(
            {"error": logging.ERROR, "warning": logging.WARNING}.get(level, logging.INFO),
            "%s",
            message,
        )
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Tracebacks go to the log, never into the editor's face.
        log.error("internal error (%s): %s", getattr(source, "__name__", source), error)

    @property
    def encoding(self) -> str:
        try:
            kind = self.workspace.position_encoding
        except RuntimeError:  # before initialize
            return UTF16
        # An enum (PositionEncodingKind) or a plain string, depending on the client.
        return str(getattr(kind, "value", kind) or UTF16)

    def apply_settings(self, raw: Any, *, initial: bool = False) -> None:
        self.settings, self._bad_values = parse_settings(raw, None if initial else self.settings)
        self._unknown = unknown_settings(raw)
        self.settings_problems = [u.problem for u in self._unknown] + self._bad_values
        if self._unknown:
            log.warning("%s", "; ".join(u.problem for u in self._unknown))
        changed = self.link.configure(self.settings.host)
        logging.getLogger("lsp_server").setLevel(self.settings.log_level.upper())
        self.feed.configure((d.uri, d.text) for d in self.docs)
        if changed and not initial:
            self.link.connect_soon()
        if not initial:
            self.tell_settings_problems()

    def tell_settings_problems(self) -> None:
        """One message for what is wrong with the settings just given: every bad value, and
        the unknown keys unless they are the ones told last time (an editor sends all its
        settings on every change; the same typo is not news)."""
        keys = frozenset(u.key for u in self._unknown)
        shown = list(self._bad_values)
        if keys != self._unknown_told:
            self._unknown_told = keys
            shown[:0] = [u.problem for u in self._unknown]
        if shown:
            self.tell("warning", "Tandem settings: " + "; ".join(shown))

    # ---- helpers for handlers ------------------------------------------------------
    def document(self, uri: str) -> Document:
        try:
            return self.docs.get(uri)
        except UnknownDocument as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc

    def offset(self, doc: Document, position: types.Position) -> int:
        try:
            return doc.offset_at(position.line, position.character, self.encoding)
        except PositionError as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc

    def code_context(self, raw: Any) -> CodeContext | None:
        """A chat's `context: {uri, range?}` as the code it names (the whole file without a range)."""
        if raw is None:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("uri"), str):
            raise JsonRpcInvalidParams("'context' must be {uri, range?}")
        doc = self.document(raw["uri"])
        rng = raw.get("range")
        start, end = 0, len(doc.text)
        try:
            if rng is not None:
                start = self.offset(doc, types.Position(**rng["start"]))
                end = self.offset(doc, types.Position(**rng["end"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise JsonRpcInvalidParams("'context.range' must be an LSP Range") from exc
        span = (min(start, end), max(start, end))
        room = self.link.context_window // 2  # a chat's least
        found = self.crossfile.for_chat(doc.uri, doc.text, span, doc.language_id, room)
        return CodeContext(doc.text[span[0] : span[1]], doc.language_id, doc.uri, found)

    async def chat(
        self,
        messages: list[dict[str, str]],
        ctx: CodeContext | None,
        chat_id: str | None = None,
        max_tokens: int | None = None,
    ) -> tp.ChatResult:
        def on_chunk(chunk: tp.ChatChunk) -> None:
            self.protocol.notify(tp.CHAT_CHUNK, chunk)

        try:
            return await run_chat(
                self.link,
                messages,
                ctx,
                self.settings.chat,
                on_chunk,
                chat_id=chat_id,
                max_tokens=max_tokens,
            )
        except ChatInputError as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except (HostUnavailable, RpcError) as exc:
            raise JsonRpcException(f"Tandem chat failed: {exc}", REQUEST_FAILED) from exc

    async def edit(self, params: EditParams, *, stream: bool = False) -> tp.EditResult:
        """Run an edit by instruction; its errors as JSON-RPC errors (docs/lsp.md)."""
        doc = self.document(params.uri)

        def on_chunk(chunk: tp.EditChunk) -> None:
            self.protocol.notify(tp.EDIT_CHUNK, chunk)

        try:
            return await self.edits.run(doc, params, self.encoding, on_chunk if stream else None)
        except EditError as exc:
            raise JsonRpcException(exc.message, exc.code) from exc
        except (HostUnavailable, RpcError) as exc:
            raise JsonRpcException(f"Tandem edit failed: {exc}", REQUEST_FAILED) from exc

    def workspace_edit(
        self, uri: str, version: int, edits: list[types.TextEdit]
    ) -> types.WorkspaceEdit:
        """Edits of one document as a WorkspaceEdit: versioned where the client takes
        `documentChanges` (it then refuses them for a document that changed meanwhile)."""
        ws = self.client_capabilities.workspace
        if ws is not None and ws.workspace_edit is not None and ws.workspace_edit.document_changes:
            doc = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=doc, edits=list(edits))]
            )
        return types.WorkspaceEdit(changes={uri: edits})

    def suggestion_position(self, doc: Document, suggestion: Suggestion) -> types.Position:
        line, character = doc.position_at(len(suggestion.before), self.encoding)
        return types.Position(line=line, character=character)


server = TandemServer()


# ---- lifecycle and documents ---------------------------------------------------------
@server.feature(types.INITIALIZE)
def initialize(ls: TandemServer, params: types.InitializeParams) -> None:
    ls.feed.set_roots(ls.feed.roots_from(ls.workspace))
    ls.apply_settings(params.initialization_options, initial=True)


@server.feature(types.INITIALIZED)
async def initialized(ls: TandemServer, params: types.InitializedParams) -> None:
    ls.client_ready = True
    ls.tell_settings_problems()
    ls.feed.client_initialized()
    # Connect (or start the host) now, so the first suggestion does not pay for it.
    try:
        await ls.link.client()
    except HostUnavailable as exc:
        log.info("host not available yet: %s", exc)


@server.feature(types.SHUTDOWN)
async def shutdown(ls: TandemServer, params: None) -> None:
    await asyncio.to_thread(ls.feed.close)
    await ls.link.close()
    ls.client_ready = False


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: TandemServer, params: types.DidChangeConfigurationParams
) -> None:
    raw = params.settings
    if (
        raw is None
        and ls.client_capabilities.workspace
        and ls.client_capabilities.workspace.configuration
    ):
        items = [types.ConfigurationItem(section="tandem")]
        result = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
        raw = result[0] if result else None
    ls.apply_settings(raw)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TandemServer, params: types.DidOpenTextDocumentParams) -> None:
    d = params.text_document
    ls.docs.open(d.uri, d.language_id, d.version, d.text)
    ls.feed.opened(d.uri, d.text, d.language_id)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
    try:
        doc = ls.docs.change(
            params.text_document.uri,
            params.text_document.version,
            list(params.content_changes),
            ls.encoding,
        )
        ls.feed.changed(doc.uri, doc.text)
        ls.edits.changed(doc.uri)
    except UnknownDocument:
        log.warning("change for a document that is not open: %s", params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TandemServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.docs.close(params.text_document.uri)
    ls.edits.changed(params.text_document.uri)
    ls.completer.forget(params.text_document.uri)
    ls.feed.closed(params.text_document.uri)


# ---- suggestions ------------------------------------------------------------------
@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(
    ls: TandemServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    doc = ls.document(params.text_document.uri)
    offset = ls.offset(doc, params.position)
    ls.stats.requested += 1
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    suggestion = await ls.completer.suggest(doc, offset, invoked=invoked)
    if suggestion is None:
        ls.stats.empty += 1
        return types.InlineCompletionList(items=[])
    at = ls.suggestion_position(doc, suggestion)
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=suggestion.text,
                range=types.Range(start=at, end=at),
                command=types.Command(
                    title="Tandem: accepted", command=tp.CMD_ACCEPTED, arguments=[suggestion.id]
                ),
            )
        ]
    )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(resolve_provider=False, trigger_characters=list(TRIGGER_CHARACTERS)),
)
async def completion(ls: TandemServer, params: types.CompletionParams) -> types.CompletionList:
    """The suggestion as one completion item, for clients without inline completion."""
    empty = types.CompletionList(is_incomplete=True, items=[])
    doc = ls.document(params.text_document.uri)
    offset = ls.offset(doc, params.position)
    fallback = ls.settings.completion.fallback
    has_inline = (
        ls.client_capabilities.text_document is not None
        and ls.client_capabilities.text_document.inline_completion is not None
    )
    if fallback == "never" or (fallback == "auto" and has_inline):
        return empty
    ls.stats.requested += 1
    invoked = (
        params.context is None or params.context.trigger_kind == types.CompletionTriggerKind.Invoked
    )
    suggestion = await ls.completer.suggest(doc, offset, invoked=invoked)
    if suggestion is None:
        ls.stats.empty += 1
        return empty

    def position(at: int) -> types.Position:
        line, character = doc.position_at(at, ls.encoding)
        return types.Position(line=line, character=character)

    item = fallback_item(
        suggestion.id,
        suggestion.text,
        suggestion.before,
        position,
        ClientTraits.of(ls.client_capabilities),
        doc.language_id,
    )
    return types.CompletionList(is_incomplete=True, items=[item])


@server.command(tp.CMD_ACCEPTED)
def did_accept(ls: TandemServer, *args: Any) -> None:
    ls.stats.record_event("accepted", str(args[0]) if args else None)


@server.feature(tp.SUGGESTION_EVENT)
def suggestion_event(ls: TandemServer, params: Any) -> None:
    kind = params.get("kind") if isinstance(params, dict) else None
    if kind in tp.EVENT_KINDS:
        sid = params.get("id")
        ls.stats.record_event(kind, sid if isinstance(sid, str) else None)
    else:
        log.warning("ignored suggestion event %r", params)


# ---- chat, workspace, edit, status: handlers in their own modules ----------------------
def _register_handlers() -> None:
    # Imported here: those modules import TandemServer, defined above (pygls reads the
    # annotations of command handlers when they run, so the name must resolve there).
    from . import chat_handlers, edit_handlers, status_handlers, workspace_handlers

    chat_handlers.register(server)
    workspace_handlers.register(server)
    edit_handlers.register(server)
    status_handlers.register(server)


_register_handlers()
