"""The workspace index: definitions and imports of the workspace's files, and per-request selection.

Callers import only from here: `WorkspaceIndex` (fed by the server's workspace folders, open
documents and file events; indexes in a background thread), `IndexSettings`, `Snippet` and `GAP` (the line that marks
skipped lines in a snippet's text).
"""

from __future__ import annotations

from .index import WorkspaceIndex
from .model import IndexSettings, Snippet
from .pack import GAP

__all__ = ["GAP", "IndexSettings", "Snippet", "WorkspaceIndex"]
