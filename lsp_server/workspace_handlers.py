"""LSP handlers that keep the workspace index told: saves, watched files, workspace folders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from .server import TandemServer


def register(server: TandemServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: TandemServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.feed.saved(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: TandemServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        ls.feed.watched(params.changes)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: TandemServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        # pygls has already applied the change to `ls.workspace.folders`.
        ls.feed.set_roots(ls.feed.roots_from(ls.workspace))
