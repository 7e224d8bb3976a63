"""Fixtures for the workspace index's unit tests: small workspaces written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ws_helpers import snapshot_of, write_tree

from lsp_server.workspace import IndexSettings, WorkspaceIndex
from lsp_server.workspace.resolve import Resolver


@pytest.fixture
def resolver_for(tmp_path: Path) -> Callable[[dict[str, str]], tuple[Resolver, Path]]:
    def make(files: dict[str, str]) -> tuple[Resolver, Path]:
        return Resolver(snapshot_of(tmp_path, files)), tmp_path

    return make


@pytest.fixture
def index_for(tmp_path: Path) -> Iterator[Callable[..., WorkspaceIndex]]:
    """An index over a written workspace, ready; closed after the test."""
    made: list[WorkspaceIndex] = []

    def make(files: dict[str, str], **settings: object) -> WorkspaceIndex:
        root = write_tree(tmp_path / "ws", files)
        index = WorkspaceIndex(IndexSettings(**settings))  # type: ignore[arg-type]
        made.append(index)
        index.set_roots([root])
        assert index.wait_ready(30)
        return index

    yield make
    for index in made:
        index.close()
