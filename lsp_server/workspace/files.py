"""Which files of the workspace folders the index reads: the walk, its limits and containment.

Nothing outside the workspace folders is ever read: symlinks are resolved with
`os.path.realpath` and followed only when they land inside a folder; `.gitignore` files
(the root's and nested ones), VCS, dependency and build folders, the user's `exclude`
patterns, files over the size cap and files of unsupported languages are skipped, and the
walk stops at the file-count cap.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from ..context.languages import spec_for_path
from .gitignore import Rule, compile_pattern, ignored, read_rules
from .model import IndexSettings

SKIP_DIRS = frozenset(
    {
        # version control
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
        # dependencies
        "node_modules", "bower_components", "jspm_packages", "vendor", "third_party_cache",
        ".venv", "venv", "env", ".env", "site-packages", ".eggs", ".bundle", ".cargo", "Pods",
        # build output and caches
        "target", "dist", "build", "out", "_build", "__pycache__", ".tox", ".nox",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", ".gradle", ".next", ".nuxt",
        ".parcel-cache", ".turbo", "coverage", ".coverage", "htmlcov", "DerivedData", ".idea",
        ".vs", ".terraform", ".stack-work", "zig-cache", "zig-out", "CMakeFiles",
    }
)  # fmt: skip
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_SKIP_SUFFIXES = (".egg-info", ".min.js", ".min.mjs", ".bundle.js")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file the walk found: its real path, its path relative to its root, size and mtime."""

    key: str
    rel: str
    size: int
    mtime_ns: int


class Roots:
    """The workspace folders as real paths, and the containment test every read goes through."""

    def __init__(self, roots: Sequence[Path]) -> None:
        real: list[str] = []
        for root in roots:
            path = os.path.realpath(root)
            if os.path.isdir(path) and path not in real:
                real.append(path)
        self.paths: tuple[str, ...] = tuple(real)

    def root_of(self, real_path: str) -> str | None:
        """The (innermost) root holding a real path, or None when it lies outside them all."""
        best: str | None = None
        for root in self.paths:
            inside = real_path == root or real_path.startswith(root.rstrip(os.sep) + os.sep)
            if inside and (best is None or len(root) > len(best)):
                best = root
        return best

    def resolve(self, path: str | Path) -> tuple[str, str] | None:
        """(real path, root-relative POSIX path) of a path inside the roots, else None."""
        real = os.path.realpath(path)
        root = self.root_of(real)
        if root is None or real == root:
            return None
        return real, Path(os.path.relpath(real, root)).as_posix()


def user_rules(patterns: Sequence[str]) -> tuple[Rule, ...]:
    """The `exclude` setting's globs, read like lines of the root's `.gitignore`."""
    rules = (compile_pattern(pattern) for pattern in patterns)
    return tuple(rule for rule in rules if rule is not None)


def skipped_name(name: str, is_dir: bool) -> bool:
    """Folders and files skipped by name alone, whatever `.gitignore` says."""
    if is_dir:
        return name in SKIP_DIRS or name.startswith(".") or name.endswith(".egg-info")
    return name.endswith(_SKIP_SUFFIXES) or spec_for_path(name) is None


def ignored_path(roots: Roots, real: str, rel: str, settings: IndexSettings) -> bool:
    """Whether a file the walk would skip, checked for one path (a file saved or created):
    every folder above it and the file itself against names, `.gitignore`s and excludes."""
    root = roots.root_of(real)
    if root is None:
        return True
    parts = rel.split("/")
    rules = user_rules(settings.exclude) + read_rules(Path(root), "")
    for depth in range(len(parts)):
        prefix = "/".join(parts[: depth + 1])
        is_dir = depth < len(parts) - 1
        if skipped_name(parts[depth], is_dir) or ignored(rules, prefix, is_dir):
            return True
        if is_dir:
            rules = rules + read_rules(Path(root, prefix), prefix)
    return False


@dataclass
class WalkResult:
    files: list[FileEntry]
    go_modules: list[tuple[str, str]]  # (folder of a go.mod, its module path)


def go_module_path(go_mod: str) -> str | None:
    """The `module` line of a go.mod (only its head is read)."""
    try:
        with open(go_mod, "rb") as handle:
            head = handle.read(8192).decode("utf-8", "replace")
    except OSError:
        return None
    found = _GO_MODULE.search(head)
    return found.group(1).strip('"') if found else None


def walk(roots: Roots, settings: IndexSettings, stop: threading.Event) -> WalkResult:
    """Every file to index, in a stable order (roots in order, names sorted), capped."""
    found: list[FileEntry] = []
    go_mods: list[str] = []
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()
    extra = user_rules(settings.exclude)
    for root in roots.paths:
        stack: list[tuple[str, str, tuple[Rule, ...]]] = [(root, "", extra)]
        while stack and not stop.is_set() and len(found) < settings.max_files:
            folder, rel_folder, rules = stack.pop()
            if folder in seen_dirs:
                continue
            seen_dirs.add(folder)
            rules = rules + read_rules(Path(folder), rel_folder)
            subdirs = _scan(roots, settings, folder, rel_folder, rules, found, seen_files)
            stack.extend((path, rel, rules) for path, rel in reversed(subdirs))
            go_mod = os.path.join(folder, "go.mod")
            if os.path.isfile(go_mod) and not os.path.islink(go_mod):
                go_mods.append(go_mod)
    modules = [(os.path.dirname(path), go_module_path(path)) for path in go_mods]
    return WalkResult(found, [(folder, module) for folder, module in modules if module])


def _scan(
    roots: Roots,
    settings: IndexSettings,
    folder: str,
    rel_folder: str,
    rules: tuple[Rule, ...],
    found: list[FileEntry],
    seen_files: set[str],
) -> list[tuple[str, str]]:
    """Add one folder's files to `found`; return its subfolders to walk (real path, rel)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return []
    subdirs: list[tuple[str, str]] = []
    for entry in entries:
        if len(found) >= settings.max_files:
            break
        try:
            is_dir = entry.is_dir()
            real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        except OSError:
            continue
        root = roots.root_of(real)
        if root is None or skipped_name(entry.name, is_dir):
            continue  # a symlink out of the workspace is never followed
        rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
        if ignored(rules, rel, is_dir):
            continue
        if is_dir:
            subdirs.append((real, rel))
            continue
        if real in seen_files:
            continue
        try:
            stat = os.stat(real)
        except OSError:
            continue
        if stat.st_size > settings.max_file_bytes or not S_ISREG(stat.st_mode):
            continue
        seen_files.add(real)
        rel_real = real[len(root) :].lstrip(os.sep).replace(os.sep, "/")
        found.append(FileEntry(real, rel_real, stat.st_size, stat.st_mtime_ns))
    return subdirs
