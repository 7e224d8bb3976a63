"""Per-language module lookup: which indexed files an import's module string names.

Only files the index holds are ever returned (paths are compared, never opened), so an
import that points outside the workspace (`../../etc/x`) resolves to nothing.
"""

from __future__ import annotations

import posixpath

from .snapshot import Snapshot

_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_JS_FIRST = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".d.ts", ".mts", ".cts")
_TS_FOR_JS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".m", ".mm")
_INCLUDE_DIRS = ("include", "inc", "src", "lib")
_EXTRA_BASES = ("src", "lib", "lua", "python")


def known_folder(snap: Snapshot, folder: str) -> bool:
    """Whether the index holds files in or below `folder` (up to a root)."""
    return folder in snap.dirs_by_base.get(posixpath.basename(folder), ())


def ancestors(snap: Snapshot, key: str) -> list[str]:
    """The folders above a file that the index knows, nearest first."""
    out: list[str] = []
    folder = posixpath.dirname(key)
    while folder and (known_folder(snap, folder) or folder in snap.roots):
        out.append(folder)
        if folder in snap.roots:
            break
        parent = posixpath.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return out


def bases(snap: Snapshot, key: str) -> list[str]:
    """Folders an absolute module path may start from: the file's folders, the roots and their
    usual source folders (`src/`, `lib/`, `lua/` ...)."""
    found = ancestors(snap, key)
    for root in snap.roots:
        for base in (root, *(posixpath.join(root, extra) for extra in _EXTRA_BASES)):
            if base not in found and known_folder(snap, base):
                found.append(base)
    return found


def shared_prefix(a: str, b: str) -> int:
    """Characters of the folders two paths share (0 if either is not absolute)."""
    try:
        return len(posixpath.commonpath([a, b]))
    except ValueError:
        return 0


def nearest(candidates: list[str] | tuple[str, ...], key: str) -> str | None:
    """The candidate sharing the longest folder prefix with `key` (then the first by name)."""
    if not candidates:
        return None

    def score(path: str) -> tuple[int, str]:
        return (-shared_prefix(path, key), path)

    return min(candidates, key=score)


def by_suffix(snap: Snapshot, suffix: str, key: str) -> str | None:
    """The indexed file whose path ends with `/suffix`, nearest to `key`."""
    base = posixpath.basename(suffix)
    tail = "/" + suffix
    return nearest([path for path in snap.by_base.get(base, ()) if path.endswith(tail)], key)


def dirs_by_suffix(snap: Snapshot, suffix: str) -> list[str]:
    tail = "/" + suffix.strip("/")
    name = posixpath.basename(suffix.strip("/"))
    return sorted(folder for folder in snap.dirs_by_base.get(name, ()) if folder.endswith(tail))


def python_module(snap: Snapshot, base: str, dotted: str) -> str | None:
    """`a.b` under folder `base`: a/b.py, a/b/__init__.py (or .pyi); "" is the package itself."""
    path = posixpath.join(base, *dotted.split(".")) if dotted else base
    for candidate in (path + ".py", path + "/__init__.py", path + ".pyi", path + "/__init__.pyi"):
        if candidate in snap.files:
            return candidate
    return None


def python_base(key: str, module: str) -> tuple[str | None, str]:
    """(folder a relative module starts from, the dotted rest); (None, module) if absolute."""
    level = len(module) - len(module.lstrip("."))
    if not level:
        return None, module
    folder = posixpath.dirname(key)
    for _ in range(level - 1):
        folder = posixpath.dirname(folder)
    return folder, module[level:]


def python_absolute(snap: Snapshot, key: str, dotted: str) -> str | None:
    for base in bases(snap, key):
        found = python_module(snap, base, dotted)
        if found is not None and found != key:
            return found
    return None


def js_file(snap: Snapshot, key: str, module: str) -> str | None:
    """A relative JS/TS specifier to a file: as written, with an extension, or its index file."""
    if not module.startswith((".", "/")):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(key), module))
    order = _JS_EXTENSIONS if key.endswith((".ts", ".tsx", ".mts", ".cts")) else _JS_FIRST
    stem, extension = posixpath.splitext(path)
    candidates = [stem + swap for swap in _TS_FOR_JS.get(extension, ())]
    candidates += [path, *(path + ext for ext in order), *(path + "/index" + ext for ext in order)]
    for candidate in candidates:
        if candidate in snap.files and candidate != key:
            return candidate
    return None


def go_dirs(snap: Snapshot, import_path: str) -> list[str]:
    """Folders of an import path: through a go.mod's module line, else by the path's tail."""
    found: list[str] = []
    for folder, module in snap.go_modules:
        if import_path == module or import_path.startswith(module + "/"):
            found.append(posixpath.join(folder, import_path[len(module) :].lstrip("/")).rstrip("/"))
    if not found and "." in import_path.split("/")[0]:
        found = dirs_by_suffix(snap, import_path)
    return [folder for folder in found if snap.by_dir.get(folder)]


def files_in(snap: Snapshot, folder: str, extensions: tuple[str, ...], key: str) -> list[str]:
    return [p for p in snap.by_dir.get(folder, ()) if p.endswith(extensions) and p != key]


def c_header(snap: Snapshot, key: str, name: str) -> str | None:
    """An `#include` to a file: next to the includer, under include folders, or by suffix."""
    candidate = posixpath.normpath(posixpath.join(posixpath.dirname(key), name))
    if candidate in snap.files:
        return candidate
    for folder_name in _INCLUDE_DIRS:
        for folder in snap.dirs_by_base.get(folder_name, ()):
            candidate = posixpath.normpath(posixpath.join(folder, name))
            if candidate in snap.files:
                return candidate
    if name.startswith("../"):
        return None
    return by_suffix(snap, name, key)


def c_sources(snap: Snapshot, key: str, name: str, header: str | None) -> list[str]:
    """The implementation files of an included header (`x.h` → `x.c`, whether or not the
    workspace has the header), same stem, nearest to the header first."""
    stem = posixpath.splitext(posixpath.basename(name))[0]
    if header is None:
        header = posixpath.normpath(posixpath.join(posixpath.dirname(key), name))
    found: list[str] = []
    for extension in _C_SOURCES:
        paths = [p for p in snap.by_base.get(stem + extension, ()) if p != key]
        best = nearest(paths, header)
        if best is not None:
            found.append(best)
    return found


def lua_module(snap: Snapshot, key: str, module: str) -> str | None:
    """`require("a.b")`: a/b.lua or a/b/init.lua from the file's folders, the roots, `lua/` ..."""
    rel = module.replace(".", "/")
    for base in bases(snap, key):
        for candidate in (f"{base}/{rel}.lua", f"{base}/{rel}/init.lua"):
            if candidate in snap.files and candidate != key:
                return candidate
    return by_suffix(snap, rel + ".lua", key) or by_suffix(snap, rel + "/init.lua", key)


def java_class(snap: Snapshot, key: str, dotted: str) -> str | None:
    return by_suffix(snap, dotted.replace(".", "/") + ".java", key)


def java_package(snap: Snapshot, dotted: str) -> list[str]:
    return dirs_by_suffix(snap, dotted.replace(".", "/"))
