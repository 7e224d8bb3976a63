"""The workspace index: definitions and imports of the workspace's files, and per-request selection.

Callers import only from here: `WorkspaceIndex` (fed by the server's workspace folders, open
documents and file events; indexes in a background thread), `IndexSettings` and `Snippet`.
"""

from __future__ import annotations

from .index import WorkspaceIndex
from .model import IndexSettings, Snippet

__all__ = ["IndexSettings", "Snippet", "WorkspaceIndex"]
