"""A file's imports as written, per language, read with regexes (fast enough to run per request).

The specs are resolved to workspace files by `resolve.py`; here nothing touches the disk.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

from .model import ImportSpec

Names = tuple[tuple[str, str], ...]
STAR: Names = (("*", "*"),)

_PY_IMPORT = re.compile(r"import[ \t]+([\w. \t,]+)")
_PY_FROM = re.compile(
    r"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;\\]*(?:\\\n[^\n#;\\]*)*)"
)
_JS_IMPORT = re.compile(r"\bimport\s+(?:type\s+)?([\w$*{},\s]+?)\s+from\s*['\"]([^'\"\n]+)['\"]")
_JS_BARE = re.compile(r"\b(?:import\s*\(?|require\s*\()\s*['\"]([^'\"\n]+)['\"]")
_JS_EXPORT = re.compile(
    r"\bexport\s+(?:type\s+)?(\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*['\"]([^'\"\n]+)['\"]"
)
_JS_REQUIRE = re.compile(
    r"\b(?:const|let|var)\s+([\w$]+|\{[^}]*\})\s*=\s*require\s*\(\s*['\"]([^'\"\n]+)['\"]\s*\)"
    r"(?:\.([\w$]+))?"
)
_GO_GROUP = re.compile(r"import\s*\(([^)]*)\)")
_GO_SINGLE = re.compile(r"import\s+([\w.]+\s+)?\"([^\"]+)\"")
_GO_LINE = re.compile(r"^\s*([\w.]+\s+)?\"([^\"]+)\"", re.M)
_GO_PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
_RS_USE = re.compile(r"use[ \t]+([^;]+);")
_RS_MOD = re.compile(r"mod[ \t]+(\w+)[ \t]*;")
_C_INCLUDE = re.compile(r"include[ \t]*([\"<])([^\">\n]+)[\">]")
_JAVA_IMPORT = re.compile(r"import[ \t]+(static[ \t]+)?([\w.]+?)(\.\*)?[ \t]*;")
_RS_VISIBILITY = r"pub(?:\s*\([^)]*\))?"
_JAVA_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([\w.]+)[ \t]*;", re.M)
_LUA_REQUIRE = re.compile(
    r"(?:\blocal[ \t]+([\w, \t]+?)[ \t]*=[ \t]*)?\brequire[ \t]*\(?[ \t]*['\"]([^'\"\n]+)['\"]"
    r"[ \t]*\)?(?:\.([\w.]+))?"
)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _statement(text: str, match: re.Match[str], lead: str = "") -> bool:
    """Whether a match starts a statement: only blanks (and `lead`, e.g. `#`, `pub`) before it
    on its line. Patterns start with a literal keyword so the regex engine can skip ahead fast,
    and this check replaces a costly `^` anchor."""
    start = match.start()
    before = text[text.rfind("\n", 0, start) + 1 : start].strip()
    return not before or (bool(lead) and re.fullmatch(lead, before) is not None)


def _python(text: str) -> Iterator[ImportSpec]:
    for match in _PY_IMPORT.finditer(text):
        if not _statement(text, match):
            continue
        for part in match.group(1).split(","):
            words = part.split()
            if not words:
                continue
            module = words[0]
            alias = words[2] if len(words) == 3 and words[1] == "as" else module.split(".")[-1]
            yield ImportSpec(module, alias=alias, line=_line(text, match.start()))
    for match in _PY_FROM.finditer(text):
        if not _statement(text, match):
            continue
        body = match.group(2).strip("()").replace("\\\n", " ")
        names: list[tuple[str, str]] = []
        for part in body.split(","):
            words = part.split("#")[0].split()
            if words == ["*"]:
                names.append(("*", "*"))
            elif words and words[0].isidentifier():
                local = words[2] if len(words) == 3 and words[1] == "as" else words[0]
                names.append((local, words[0]))
        line = _line(text, match.start())
        yield ImportSpec(match.group(1), tuple(names), line=line, end_line=_end(text, match, line))


def _js_clause(clause: str) -> tuple[Names, str | None]:
    """`X, {a, b as c}` / `* as ns` → ((local, imported) ..., namespace alias)."""
    names: list[tuple[str, str]] = []
    alias: str | None = None
    braced = re.search(r"\{([^}]*)\}", clause)
    if braced:
        for part in braced.group(1).split(","):
            words = part.replace(":", " as ").split()
            if words and words[0] == "type":
                words = words[1:]
            if words:
                names.append((words[-1], words[0]))
        clause = clause[: braced.start()] + clause[braced.end() :]
    star = re.search(r"\*\s*as\s+([\w$]+)", clause)
    if star:
        alias = star.group(1)
        clause = clause[: star.start()] + clause[star.end() :]
    for word in re.findall(r"[\w$]+", clause):
        names.append((word, "default"))
    return tuple(names), alias


def _javascript(text: str) -> Iterator[ImportSpec]:
    seen: set[int] = set()
    for match in _JS_IMPORT.finditer(text):
        names, alias = _js_clause(match.group(1))
        seen.add(match.start(2))
        line = _line(text, match.start())
        yield ImportSpec(match.group(2), names, alias, line, end_line=_end(text, match, line))
    for match in _JS_EXPORT.finditer(text):
        clause = match.group(1)
        seen.add(match.start(2))
        line = _line(text, match.start())
        end = _end(text, match, line)
        if clause == "*":
            yield ImportSpec(match.group(2), STAR, None, line, True, end)
        else:
            names, alias = _js_clause(clause)
            yield ImportSpec(match.group(2), names, alias, line, True, end)
    for match in _JS_REQUIRE.finditer(text):
        seen.add(match.start(2))
        target, member = match.group(1), match.group(3)
        line = _line(text, match.start())
        if target.startswith("{"):
            names, _ = _js_clause(target)
            yield ImportSpec(match.group(2), names, None, line, end_line=_end(text, match, line))
        elif member:
            yield ImportSpec(match.group(2), ((target, member),), None, line)
        else:
            yield ImportSpec(match.group(2), (), target, line)
    for match in _JS_BARE.finditer(text):
        if match.start(1) not in seen:
            yield ImportSpec(match.group(1), line=_line(text, match.start()))


def _go(text: str) -> Iterator[ImportSpec]:
    for match in _GO_GROUP.finditer(text):
        if not _statement(text, match):
            continue
        base = _line(text, match.start())
        end = _end(text, match, base)
        for line in _GO_LINE.finditer(match.group(1)):
            alias = (line.group(1) or "").strip() or None
            yield ImportSpec(line.group(2), STAR if alias == "." else (), alias, base, False, end)
    for match in _GO_SINGLE.finditer(text):
        if not _statement(text, match):
            continue
        alias = (match.group(1) or "").strip() or None
        yield ImportSpec(
            match.group(2), STAR if alias == "." else (), alias, _line(text, match.start())
        )


def _use_tree(tree: str, prefix: str) -> Iterator[tuple[str, str, str]]:
    """Leaves of a Rust use tree: (module path, item, local name); item "*" for globs."""
    tree = tree.strip()
    brace = tree.find("{")
    if brace >= 0 and tree.endswith("}"):
        head = tree[:brace].rstrip(":").strip()
        base = f"{prefix}::{head}" if prefix and head else (head or prefix)
        depth, start = 0, brace + 1
        for index in range(brace + 1, len(tree)):
            char = tree[index]
            depth += char == "{"
            depth -= char == "}"
            if (char == "," and depth == 0) or index == len(tree) - 1:
                yield from _use_tree(tree[start:index], base)
                start = index + 1
        return
    words = tree.split()
    path = words[0] if words else ""
    local = words[2] if len(words) == 3 and words[1] == "as" else None
    full = f"{prefix}::{path}" if prefix and path else (path or prefix)
    module, _, item = full.rpartition("::")
    if item == "self":
        module, _, item = module.rpartition("::")
    if item:
        yield module, item, local or item


def _rust(text: str) -> Iterator[ImportSpec]:
    for match in _RS_USE.finditer(text):
        if not _statement(text, match, _RS_VISIBILITY):
            continue
        line = _line(text, match.start())
        public = _statement(text, match, _RS_VISIBILITY) and not _statement(text, match)
        for module, item, local in _use_tree(re.sub(r"\s+", " ", match.group(1)), ""):
            names = STAR if item == "*" else ((local, item),)
            yield ImportSpec(module, names, None, line, public, _end(text, match, line))
    for match in _RS_MOD.finditer(text):
        if not _statement(text, match, _RS_VISIBILITY):
            continue
        name = match.group(1)
        yield ImportSpec(f"self::{name}", (), name, _line(text, match.start()))


def _c(text: str) -> Iterator[ImportSpec]:
    for match in _C_INCLUDE.finditer(text):
        if not _statement(text, match, r"#\s*"):
            continue
        yield ImportSpec(match.group(2).strip(), STAR, None, _line(text, match.start()))


def _java(text: str) -> Iterator[ImportSpec]:
    for match in _JAVA_IMPORT.finditer(text):
        if not _statement(text, match):
            continue
        path, star = match.group(2), bool(match.group(3))
        line = _line(text, match.start())
        if star:
            yield ImportSpec(path, STAR, None, line)
        elif match.group(1):  # import static a.b.C.member
            owner, _, member = path.rpartition(".")
            yield ImportSpec(owner, ((member, member),), None, line)
        else:
            name = path.rpartition(".")[2]
            yield ImportSpec(path, ((name, name),), None, line)


def _lua(text: str) -> Iterator[ImportSpec]:
    for match in _LUA_REQUIRE.finditer(text):
        local = (match.group(1) or "").split(",")[0].strip() or None
        member = match.group(3)
        line = _line(text, match.start())
        if local and member:
            yield ImportSpec(match.group(2), ((local, member.split(".")[-1]),), None, line)
        else:
            yield ImportSpec(match.group(2), (), local, line)


_PARSERS: dict[str, Callable[[str], Iterator[ImportSpec]]] = {
    "python": _python,
    "javascript": _javascript,
    "javascriptreact": _javascript,
    "typescript": _javascript,
    "typescriptreact": _javascript,
    "go": _go,
    "rust": _rust,
    "c": _c,
    "cpp": _c,
    "java": _java,
    "lua": _lua,
}


def parse_imports(text: str, language: str) -> tuple[ImportSpec, ...]:
    """The imports of a file in a language (an LanguageSpec.name); () for unknown languages."""
    parser = _PARSERS.get(language)
    if parser is None:
        return ()
    return tuple(sorted(set(parser(text)), key=lambda spec: (spec.line, spec.module)))


def _end(text: str, match: re.Match[str], line: int) -> int:
    return line + text.count("\n", match.start(), match.end())


_JS_DEFAULT = re.compile(
    r"(?:module\.exports\s*=\s*([\w$]+)\s*;?\s*$)"
    r"|(?:export\s+default\s+(?:async\s+)?(?:function\*?\s*|class\s+|abstract\s+class\s+)?"
    r"([\w$]+))",
    re.M,
)
_NOT_NAMES = frozenset({"function", "class", "async", "new", "abstract"})


def default_export(text: str, language: str) -> str:
    """The name a JS/TS module exports as a whole (`module.exports = x`, `export default x`)."""
    if language not in _JS_LANGUAGES:
        return ""
    name = ""
    for match in _JS_DEFAULT.finditer(text):
        found = match.group(1) or match.group(2) or ""
        if found and found not in _NOT_NAMES:
            name = found  # the last assignment wins, as at run time
    return name


def package_of(text: str, language: str) -> str:
    """The package a Go or Java file declares ("" elsewhere)."""
    pattern = {"go": _GO_PACKAGE, "java": _JAVA_PACKAGE}.get(language)
    found = pattern.search(text) if pattern is not None else None
    return found.group(1) if found else ""


_TRIGGERS: dict[str, tuple[str, ...]] = {
    "python": ("import",),
    "go": ("import",),
    "rust": ("use", "mod"),
    "c": ("include",),
    "cpp": ("include",),
    "java": ("import",),
    "lua": ("require",),
}
_JS_TRIGGERS = ("import", "require", "export")
_JS_LANGUAGES = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})
_CACHE_FILES = 32


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection over slice compares (C speed)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


class ImportCache:
    """The imports of the documents being edited, re-read only when an edit could change them.

    A keystroke changes a few characters; when the lines it touched (before and after) hold
    no import keyword, the file's imports are what they were, and the regex scans of the whole
    text are skipped.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, str, tuple[ImportSpec, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, text: str, language: str) -> tuple[ImportSpec, ...]:
        with self._lock:
            return self._get(key, text, language)

    def _get(self, key: str, text: str, language: str) -> tuple[ImportSpec, ...]:
        entry = self._entries.get(key)
        specs: tuple[ImportSpec, ...] | None = None
        if entry is not None and entry[1] == language:
            specs = self._reuse(entry[0], text, language, entry[2])
        if specs is None:
            specs = parse_imports(text, language)
        self._entries.pop(key, None)
        if len(self._entries) >= _CACHE_FILES:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (text, language, specs)
        return specs

    @staticmethod
    def _reuse(
        old: str, new: str, language: str, specs: tuple[ImportSpec, ...]
    ) -> tuple[ImportSpec, ...] | None:
        """The old text's imports, moved by the lines the edit added, if it left them alone."""
        if old is new or old == new:
            return specs
        prefix = _common_prefix(old, new)
        suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
        first_row = old.count("\n", 0, prefix)
        last_row = first_row + old.count("\n", prefix, len(old) - suffix)
        for spec in specs:  # an edit inside a statement split over lines
            if spec.line <= last_row and max(spec.line, spec.end_line) >= first_row:
                return None
        triggers = _TRIGGERS.get(language, _JS_TRIGGERS)
        for text, end in ((old, len(old) - suffix), (new, len(new) - suffix)):
            # the whole lines around the edit, and one more each side
            first = text.rfind("\n", 0, max(0, text.rfind("\n", 0, prefix))) + 1
            after = text.find("\n", end)
            last = -1 if after < 0 else text.find("\n", after + 1)
            region = text[first : last if last >= 0 else len(text)]
            if any(trigger in region for trigger in triggers):
                return None
        added = new.count("\n", prefix, len(new) - suffix) - (last_row - first_row)
        if not added:
            return specs
        return tuple(
            spec
            if spec.line < first_row
            else replace(
                spec, line=spec.line + added, end_line=max(spec.line, spec.end_line) + added
            )
            for spec in specs
        )
