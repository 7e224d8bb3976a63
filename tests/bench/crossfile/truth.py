"""Ground truth for one hole: the definitions from other files that the hidden code uses.

Every identifier in the hole is read with its role: a bare name (`helper(x)`, a type, a
constant), a qualified one (`utils.helper`, `pkg.Func`, `crate::x::Y`, `Type::new`,
`M.field`), or a member call on some other receiver (`self.method()`, `obj.run()`). Then:

- a name the current file defines or binds (parameters, locals) is never needed;
- bare: Python/JS/TS only through the file's imports (re-exports followed); Go within the
  package directory; Rust through `use` (else a name defined in exactly one other file, for
  macros and globs); C a non-static function or variable of another .c file (the one whose
  header the file includes preferred); Lua a global defined in exactly one other file;
- qualified: the qualifier's module (import alias, Go package, Rust path, `require` alias), or,
  when the qualifier is a type/class/table defined in another file, that type's member;
- member calls: the method defined once in the package outside this file (or once among
  the files this one imports), never a name of the language's everyday built-in methods.

A name defined in several candidate files that nothing above disambiguates is left out.
"""

from __future__ import annotations

import builtins
import posixpath
from dataclasses import dataclass

from .defs import Definition
from .package import Package, SourceFile
from .syntax import split_words
from .uses import Use


@dataclass(frozen=True)
class Need:
    definition: Definition
    name: str  # the name as written at the use
    role: str  # bare | qual | member
    visible: bool  # the name also appears in the document outside the hole


# Methods of every language's built-in strings, lists, maps, errors and iterators: a call
# `x.push(...)` is the runtime's, whatever the package happens to define.
EVERYDAY_METHODS = frozenset(
    split_words(
        "append add get set pop push shift unshift slice splice join split map filter "
        "reduce forEach keys values items entries has delete clear copy update extend "
        "insert remove index count find replace strip lstrip rstrip startswith endswith "
        "format lower upper toString valueOf call apply bind then catch finally next iter "
        "len write read close open flush send emit on off once Error String Len Write "
        "Read Close unwrap expect clone into iter_mut collect is_some is_none is_ok "
        "is_err ok err as_ref as_mut to_string to_owned push_str concat test match sort "
        "reverse indexOf includes trim sub gsub find format insert remove concat unpack "
        "byte char rep"
    )
)
BUILTIN_NAMES: dict[str, frozenset[str]] = {
    "python": frozenset(dir(builtins)) | {"self", "cls"},
    "javascript": frozenset(
        split_words(
            "Object Array String Number Boolean Symbol Error TypeError RangeError Promise Map "
            "Set WeakMap WeakSet JSON Math Date RegExp undefined console require module "
            "exports process Buffer globalThis window document this arguments Function "
            "Reflect Proxy"
        )
    ),
    "go": frozenset(
        split_words(
            "len cap make new append copy delete panic recover print println close complex "
            "real imag string int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 "
            "uintptr byte rune float32 float64 bool error any nil true false iota comparable"
        )
    ),
    "rust": frozenset(
        split_words(
            "Some None Ok Err Box Vec String Option Result Self self super crate std core "
            "alloc usize isize u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 bool char str"
        )
    ),
    "c": frozenset(),
    "lua": frozenset(
        split_words(
            "print pairs ipairs type tostring tonumber table string math os io require error "
            "assert select setmetatable getmetatable rawget rawset rawequal pcall xpcall next "
            "unpack load loadstring dofile coroutine debug package _G _ENV self"
        )
    ),
}
BUILTIN_NAMES["typescript"] = BUILTIN_NAMES["javascript"]


RUST_MACROS = frozenset(
    split_words(
        "assert assert_eq assert_ne debug_assert debug_assert_eq debug_assert_ne vec format "
        "print println eprint eprintln write writeln panic unreachable unimplemented todo "
        "matches concat stringify include include_str include_bytes env option_env cfg line "
        "file column module_path format_args try dbg compile_error thread_local"
    )
)
RECEIVERS = frozenset({"self", "this", "cls", "Self"})


class Resolver:
    """Resolves the uses of one file of a package to definitions in other files."""

    def __init__(self, package: Package, source: str) -> None:
        self.p = package
        self.f: SourceFile = package.files[source]
        self.source = source
        self.local = self.f.defined | self.f.binders
        self.closure = set(package.closure(source))
        self.is_test = source.endswith("_test.go")
        self.builtins = BUILTIN_NAMES[package.language]

    def _other(self, d: Definition | None) -> Definition | None:
        if d is None or d.path == self.source:
            return None
        if self.p.language == "go" and d.path.endswith("_test.go") and not self.is_test:
            return None
        return d

    def _pick(
        self, candidates: list[Definition], prefer: set[str] | None = None
    ) -> Definition | None:
        """The one candidate from another file; among several files, the one `prefer` (by
        default the files this one imports) singles out; else none."""
        candidates = [d for d in candidates if self._other(d)]
        if len({d.path for d in candidates}) > 1:
            chosen = prefer if prefer is not None else self.closure
            candidates = [d for d in candidates if d.path in chosen]
            if len({d.path for d in candidates}) != 1:
                return None
        if not candidates:
            return None
        return sorted(candidates, key=lambda d: (not d.top, d.row))[0]

    def _module_of(self, qualifier: str) -> list[str] | None:
        """The files a qualifier names when it is a module (None: it is not one)."""
        lang = self.p.language
        if lang == "rust":
            found = self.p.rust_path(self.source, qualifier.split("::"))
            return [found[0]] if found is not None and not found[1] else None
        binding = self.f.imports.bindings.get(qualifier)
        if binding is None:
            return None
        files, remote = self.p.binding_target(self.source, binding)
        if remote is None:
            return files
        if lang in ("lua", "javascript", "typescript") and files:
            # `local x = require('a').b`, `const {b} = require('a')`, `import D from`: an
            # object or table that file defines the members of.
            return files
        return None

    def bare(self, name: str, macro: bool = False) -> Definition | None:
        lang = self.p.language
        if name in self.local or name in self.builtins or (macro and name in RUST_MACROS):
            return None
        binding = self.f.imports.bindings.get(name)
        if binding is not None:
            files, remote = self.p.binding_target(self.source, binding)
            if not files:
                return None
            if remote is None:
                if lang in ("javascript", "typescript"):
                    return self._other(self.p.default_export(files))
                return None
            return self._other(self.p.lookup(files, remote))
        if lang in ("python", "javascript", "typescript"):
            for star in self.f.imports.stars:
                found = self._other(self.p.lookup(self.p.resolve(self.source, star), name))
                if found is not None:
                    return found
            return None
        candidates = [
            d for d in self.p.by_name.get(name, []) if d.top and (d.kind == "macro") == macro
        ]
        if lang == "go":
            here = posixpath.dirname(self.source)
            return self._pick([d for d in candidates if posixpath.dirname(d.path) == here])
        if lang == "c":
            return self._pick(
                [d for d in candidates if not d.local and d.kind in ("function", "var")]
            )
        if lang == "lua":
            return self._pick([d for d in candidates if not d.local])
        if lang == "rust":
            for star in self.f.imports.stars:
                found_path = self.p.rust_path(self.source, star.split("::"), in_use=True)
                if found_path is not None and not found_path[1]:
                    found = self._other(self.p.lookup([found_path[0]], name))
                    if found is not None:
                        return found
            return self._pick(candidates)
        return None

    def qualified(self, use: Use) -> Definition | None:
        if use.qualifier in RECEIVERS:
            return self.member(Use(use.name, "member", use.qualifier, use.call))
        if use.qualifier in self.builtins:
            return None  # `os.exit`, `JSON.stringify`, `fmt.Errorf`: the runtime's
        modules = self._module_of(use.qualifier)
        if modules is not None:
            if self.p.language == "go":
                modules = [p for p in modules if not p.endswith("_test.go")]
            found = self.p.lookup(modules, use.name) if modules else None
            if found is None and self.p.language == "lua" and modules:
                found = next((d for d in self.p.files[modules[0]].defs if d.name == use.name), None)
            return self._other(found)
        segments = use.qualifier.split("::")
        if len(segments) > 1:
            return None  # a path into another crate (`io::Error::new`)
        owner = self.bare(segments[0]) if segments[0] not in self.local else None
        if owner is not None and owner.kind in ("type", "var", "const", "function"):
            members = [d for d in self.p.by_name.get(use.name, []) if d.container == owner.name]
            return self._pick(members, prefer={owner.path})
        if segments[0] in self.f.defined:
            return None  # a member of a class of this file: it is here
        return self.member(Use(use.name, "member", use.qualifier, use.call))

    def member(self, use: Use) -> Definition | None:
        """A method called on another receiver: defined once in the package outside this file
        (or once among the files it imports), by a class this file names."""
        name = use.name
        if not use.call or name in self.local or name in EVERYDAY_METHODS:
            return None
        if name.startswith("__") and name.endswith("__"):
            return None
        candidates = [
            d
            for d in self.p.by_name.get(name, [])
            if d.kind == "method" and d.container and self._other(d)
        ]
        if use.qualifier not in RECEIVERS:
            candidates = [d for d in candidates if _head(d.container) in self.f.words]
        return self._pick(candidates)

    def resolve(self, use: Use) -> Definition | None:
        if use.role == "bare":
            return self.bare(use.name)
        if use.role == "macro":
            return self.bare(use.name, macro=True)
        if use.role == "qual":
            return self.qualified(use)
        return self.member(use)


def _head(container: str) -> str:
    """`Layer` of `Layer.prototype`, `List` of `List`."""
    return container.split(".")[0].split("::")[0]


def needs(package: Package, source: str, row: int, resolver: Resolver | None = None) -> list[Need]:
    """The definitions from other files that the code on `row` of `source` uses."""
    f = package.files[source]
    resolver = resolver or Resolver(package, source)
    lines = f.text.split("\n")
    outside = "\n".join(lines[:row] + lines[row + 1 :])
    out: dict[Definition, Need] = {}
    for use in f.rows.get(row, []):
        found = resolver.resolve(use)
        if found is not None and found not in out:
            out[found] = Need(found, use.name, use.role, _word_in(use.name, outside))
    return list(out.values())


def _word_in(word: str, text: str) -> bool:
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at > 0 else " "
        after = text[at + len(word)] if at + len(word) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        at = text.find(word, at + 1)
    return False
