"""Holes cut into real code, of the ten kinds users meet, with three over-generating answers.

A hole is a span of the original file; the document the editor holds is the file without
it, the cursor at its start, and the right suggestion is the span itself (lines right-
stripped). The model is simulated writing exactly that span and then going on the way real
models do:

- "run-on": it continues with the code that already follows the cursor (the suffix);
- "new-code": it closes what it was filling (the rest of the line's closers, the block's
  closer line) and writes code of its own (a function from another file of the language);
- "near-copy": it continues with the code after the cursor as a model half-remembers it:
  one identifier renamed throughout, and one literal changed or one line dropped (never on
  the cursor's own line, never a line that opens, closes or continues a block).

Kinds (the syntax tree of the original file finds them):
  line-rest     the rest of a line, from a token inside it
  line-closers  the rest of a line up to closers an editor auto-inserted (`foo(bar(‸))`)
  func-body     a whole function body, cursor at the end of the header line
  after-header  Enter after any block header: the body, cursor on the new indented line
  body-rest     the rest of a half-written body, cursor at the start of a later statement
  list-rest     the remaining elements of a multi-line call or literal
  mid-span      an expression in the middle of a line with code after it
  mid-block     one statement in the middle of a block, statements before and after it
  branch-body   the body of a branch with sibling branches: `elseif`/`else`/`elif`/`else if`,
                `case`, `except`/`catch`/`finally`, or the body they follow
  import-line   a line of an import/export list: an element line of a multi-line list, or
                the rest of a one-line `import { a, b } from 'x'` after its `{`
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node, Parser

from lsp_server.context.languages import LanguageSpec, spec_for_language_id

KINDS: tuple[str, ...] = (
    "line-rest",
    "line-closers",
    "func-body",
    "after-header",
    "body-rest",
    "list-rest",
    "mid-span",
    "mid-block",
    "branch-body",
    "import-line",
)
STYLES: tuple[str, ...] = ("run-on", "new-code", "near-copy")
# How much of the code after the cursor a run-on model repeats.
RUN_ON_CHARS = 600
# Holes longer than this would not fit the default token cap of a block suggestion.
MAX_HOLE_LINES = 60
MAX_HOLE_CHARS = 2400

_BODY_TYPES = frozenset(
    {
        "statement_block",
        "block",
        "compound_statement",
        "class_body",
        "declaration_list",
        "field_declaration_list",
        "switch_body",
        "match_block",
    }
)
_LIST_TYPES: dict[str, frozenset[str]] = {
    "python": frozenset({"argument_list", "list", "dictionary", "tuple", "set", "parameters"}),
    "javascript": frozenset({"arguments", "array", "object", "formal_parameters", "named_imports"}),
    "typescript": frozenset({"arguments", "array", "object", "formal_parameters", "named_imports"}),
    "go": frozenset({"argument_list", "literal_value", "parameter_list"}),
    "rust": frozenset(
        {"arguments", "array_expression", "field_initializer_list", "parameters", "use_list"}
    ),
    "c": frozenset({"argument_list", "initializer_list", "parameter_list", "enumerator_list"}),
    "lua": frozenset({"arguments", "table_constructor", "parameters"}),
}
# Import/export lists: the node holding the bracketed names.
IMPORT_LISTS: dict[str, frozenset[str]] = {
    "python": frozenset({"import_from_statement"}),
    "javascript": frozenset({"named_imports", "export_clause"}),
    "typescript": frozenset({"named_imports", "export_clause"}),
    "go": frozenset({"import_spec_list"}),
    "rust": frozenset({"use_list"}),
    "c": frozenset(),
    "lua": frozenset(),
}
# Words that start a sibling branch: a body before or after one is a branch body.
_BRANCH_WORDS = frozenset(
    {"else", "elseif", "elif", "except", "catch", "finally", "case", "default"}
)
_WORD = re.compile(rb"[A-Za-z_]\w*")
_OPEN = frozenset({"(", "[", "{"})
_CLOSE = frozenset({")", "]", "}"})
_LUA_OPENERS = frozenset({")", "then", "do", "else", "repeat"})
_LUA_BRANCHES = frozenset({"elseif_statement", "else_statement"})
_TRAILING_CLOSERS = re.compile(r"[)\]};,]*$")


@dataclass(frozen=True)
class Hole:
    language: str
    kind: str
    path: str
    start: int  # str offsets into the original text: the hole is text[start:end]
    end: int
    text: str  # the original file
    new_code: str  # the "new-code" answer (the "run-on" one is built from the suffix)

    @property
    def document(self) -> str:
        return self.text[: self.start] + self.text[self.end :]

    @property
    def answer(self) -> str:
        """The right suggestion: the span, every line right-stripped."""
        return "\n".join(line.rstrip() for line in self.text[self.start : self.end].split("\n"))

    def raw(self, style: str) -> str:
        """What the simulated model writes in this style."""
        if style == "run-on":
            return self.text[self.start : self.end] + self.text[self.end :][:RUN_ON_CHARS]
        if style == "near-copy":
            copy = near_copy(self.text[self.end :][:RUN_ON_CHARS], f"{self.path}:{self.start}")
            return self.text[self.start : self.end] + copy
        return self.new_code


class _Source:
    """One parsed file with byte <-> str offset conversion."""

    def __init__(self, text: str, spec: LanguageSpec, parser: Parser) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.tree = parser.parse(self.data)
        self.spec = spec
        self._ascii = text.isascii()
        self._chars: list[int] | None = None

    def char(self, byte: int) -> int:
        if self._ascii:
            return byte
        if self._chars is None:
            table = []
            for index, char in enumerate(self.text):
                table.extend([index] * len(char.encode("utf-8")))
            table.append(len(self.text))
            self._chars = table
        return self._chars[byte]

    def line_start(self, byte: int) -> int:
        return self.data.rfind(b"\n", 0, byte) + 1

    def line_end(self, byte: int) -> int:
        end = self.data.find(b"\n", byte)
        return len(self.data) if end < 0 else end

    def starts_line(self, byte: int) -> bool:
        return not self.data[self.line_start(byte) : byte].strip()

    def ends_line(self, byte: int) -> bool:
        return not self.data[byte : self.line_end(byte)].strip()

    def indent(self, byte: int) -> bytes:
        line = self.data[self.line_start(byte) : self.line_end(byte)]
        return line[: len(line) - len(line.lstrip(b" \t"))]


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _is_code_leaf(node: Node) -> bool:
    if node.child_count or node.is_missing or node.is_extra or node.end_byte == node.start_byte:
        return False
    parent = node.parent
    while parent is not None:
        if (
            parent.is_error
            or parent.is_extra
            or "string" in parent.type
            or "comment" in parent.type
        ):
            return False
        parent = parent.parent
    return "string" not in node.type and "comment" not in node.type


@dataclass
class _Body:
    header: Node  # the statement that owns the body
    opener_end: int  # bytes: where the header's opening token ends
    statements: list[Node]
    closer: Node | None  # `}`/`end`/...; None for Python


def _bodies(src: _Source) -> Iterator[_Body]:
    style = src.spec.block_style
    for node in _walk(src.tree.root_node):
        if node.has_error:
            continue
        if style == "brace" and node.type in _BODY_TYPES and node.child_count >= 2:
            first, last = node.children[0], node.children[-1]
            if first.type == "{" and last.type == "}" and node.parent is not None:
                stmts = [c for c in node.named_children if not c.is_extra]
                yield _Body(node.parent, first.end_byte, stmts, last)
        elif style != "brace" and node.type == "block" and node.parent is not None:
            opener = node.prev_sibling
            if opener is None or (opener.child_count and opener.type != "parameters"):
                continue
            if style == "indent" and opener.type != ":":
                continue
            if style == "keyword" and opener.type == "parameters":
                opener = opener.children[-1]
            if style == "keyword" and opener.type not in _LUA_OPENERS:
                continue
            closer = node.next_sibling if style == "keyword" else None
            if style == "keyword" and closer is None and node.parent.type in _LUA_BRANCHES:
                closer = node.parent.next_sibling  # the next `elseif`/`else`, or the `end`
            if style == "keyword" and (closer is None or closer.type in ("ERROR",)):
                continue
            stmts = [c for c in node.named_children if not c.is_extra]
            yield _Body(node.parent, opener.end_byte, stmts, closer)


def _closer_line(src: _Source, closer: Node) -> str:
    """The closer's line up to and including the closer's first token (`  }`, `end`)."""
    first = closer
    while first.child_count:
        first = first.children[0]
    return src.text[src.char(src.line_start(first.start_byte)) : src.char(first.end_byte)]


def _fits(text: str) -> bool:
    return 0 < len(text) <= MAX_HOLE_CHARS and text.count("\n") < MAX_HOLE_LINES


class HoleMaker:
    """All candidate holes of one language's files, and seeded samples of them."""

    def __init__(self, language: str, files: list[Path], fresh_pool: list[str]) -> None:
        spec = spec_for_language_id(language)
        assert spec is not None and spec.ts_language() is not None
        self.language = language
        self.spec = spec
        self.parser = Parser(spec.ts_language())
        self.files = files
        self.fresh_pool = fresh_pool

    # ---- the model's own code ---------------------------------------------------------------
    def _fresh(self, rng: random.Random, indent: str, *, lines: bool = False) -> str:
        """A function from another file, re-indented: what a model writes when it goes on."""
        block = rng.choice(self.fresh_pool) if self.fresh_pool else "x = 1"
        if lines:
            block = "\n".join(block.split("\n")[:3])
        return "\n".join(indent + line if line.strip() else "" for line in block.split("\n"))

    # ---- candidates -------------------------------------------------------------------------
    def candidates(self, path: Path, rng: random.Random) -> dict[str, list[Hole]]:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            return {}
        if "\r" in text:
            return {}  # CRLF files: editors normalise them, the benchmark need not
        src = _Source(text, self.spec, self.parser)
        found: dict[str, list[Hole]] = {kind: [] for kind in KINDS}

        def add(kind: str, start_b: int, end_b: int, new_code: str) -> None:
            start, end = src.char(start_b), src.char(end_b)
            if not _fits(text[start:end]) or not text[start:end].strip():
                return
            found[kind].append(Hole(self.language, kind, str(path), start, end, text, new_code))

        for body in _bodies(src):
            self._body_holes(src, body, rng, add)
        for node in _walk(src.tree.root_node):
            if node.type in _LIST_TYPES[self.language] and not node.has_error:
                self._list_holes(src, node, rng, add)
            if node.type in IMPORT_LISTS[self.language] and not node.has_error:
                self._import_holes(src, node, rng, add)
        self._line_holes(src, rng, add)
        return found

    def _body_holes(self, src: _Source, body: _Body, rng: random.Random, add: object) -> None:
        stmts = body.statements
        if not stmts or not src.ends_line(body.opener_end):
            return
        if body.closer is not None and not src.starts_line(body.closer.start_byte):
            return
        if not src.starts_line(stmts[0].start_byte):
            return
        end_b = stmts[-1].end_byte
        if body.closer is None and src.data[end_b : src.line_end(end_b)].strip():
            # A trailing comment on the last line belongs to the hole: the cursor line
            # would otherwise go on with text after the cursor.
            end_b = src.line_end(end_b)
            while src.data[end_b - 1 : end_b] in (b" ", b"\t"):
                end_b -= 1
        if body.closer is not None:
            end_b = body.closer.start_byte
            while src.data[end_b - 1 : end_b] in (b" ", b"\t", b"\n"):
                end_b -= 1
        indent = src.indent(body.header.start_byte).decode()
        closing = "\n" + _closer_line(src, body.closer) if body.closer is not None else ""
        tail = closing + "\n\n" + self._fresh(rng, indent)

        def hole(start_b: int) -> str:
            return src.text[src.char(start_b) : src.char(end_b)] + tail

        assert callable(add)
        if body.header.type in self.spec.function_types:
            add("func-body", body.opener_end, end_b, hole(body.opener_end))
        add("after-header", stmts[0].start_byte, end_b, hole(stmts[0].start_byte))
        later = [s for s in stmts[1:] if src.starts_line(s.start_byte)]
        if later:
            pick = rng.choice(later)
            add("body-rest", pick.start_byte, end_b, hole(pick.start_byte))
        if _is_branch(src, body):
            add("branch-body", stmts[0].start_byte, end_b, hole(stmts[0].start_byte))
        # One statement with statements before and after it, alone on its lines.
        middle = [
            s
            for s, after in itertools.pairwise(stmts[1:])
            if src.starts_line(s.start_byte)
            and src.ends_line(s.end_byte)
            and src.starts_line(after.start_byte)
        ]
        if middle:
            pick = rng.choice(middle)
            add(
                "mid-block",
                pick.start_byte,
                pick.end_byte,
                src.text[src.char(pick.start_byte) : src.char(pick.end_byte)] + tail,
            )

    def _import_holes(self, src: _Source, node: Node, rng: random.Random, add: object) -> None:
        """An element line of a multi-line import/export list, or the rest of a one-line one
        from its first name (the cursor right after `import { `)."""
        assert callable(add)
        opener = next((c for c in node.children if c.type in _OPEN), None)
        closer = node.children[-1] if node.child_count else None
        if opener is None or closer is None or closer.type not in _CLOSE:
            return
        names = [
            c for c in node.named_children if c.start_byte > opener.start_byte and not c.is_extra
        ]
        if not names:
            return
        fresh = "\n" + self._fresh(rng, src.indent(node.start_byte).decode(), lines=True)
        if src.line_start(opener.start_byte) == src.line_start(closer.start_byte):
            end_b = src.line_end(closer.end_byte)
            while src.data[end_b - 1 : end_b] in (b" ", b"\t"):
                end_b -= 1
            if (
                b"//" in src.data[closer.end_byte : end_b]
                or b"#" in src.data[closer.end_byte : end_b]
            ):
                return
            start_b = names[0].start_byte
            add(
                "import-line", start_b, end_b, src.text[src.char(start_b) : src.char(end_b)] + fresh
            )
            return
        if not src.ends_line(opener.end_byte) or not src.starts_line(closer.start_byte):
            return
        lines = [n for n in names if src.starts_line(n.start_byte)]
        if not lines:
            return
        pick = rng.choice(lines)
        end_b = src.line_end(pick.start_byte)
        while src.data[end_b - 1 : end_b] in (b" ", b"\t"):
            end_b -= 1
        text = src.data[pick.start_byte : end_b]
        if b"//" in text or b"#" in text or b"/*" in text:
            return
        hole = src.text[src.char(pick.start_byte) : src.char(end_b)]
        add("import-line", pick.start_byte, end_b, hole + "\n" + _closer_line(src, closer) + fresh)

    def _list_holes(self, src: _Source, node: Node, rng: random.Random, add: object) -> None:
        if node.child_count < 2:
            return
        first, last = node.children[0], node.children[-1]
        if first.type not in _OPEN or last.type not in _CLOSE:
            return
        if not src.ends_line(first.end_byte) or not src.starts_line(last.start_byte):
            return
        elements = [c for c in node.named_children if not c.is_extra]
        later = [e for e in elements[1:] if src.starts_line(e.start_byte)]
        if not later:
            return
        pick = rng.choice(later)
        end_b = last.start_byte
        while src.data[end_b - 1 : end_b] in (b" ", b"\t", b"\n"):
            end_b -= 1
        indent = src.indent(last.start_byte).decode()
        statement = self._fresh(rng, indent, lines=True)
        new_code = (
            src.text[src.char(pick.start_byte) : src.char(end_b)]
            + "\n"
            + _closer_line(src, last)
            + "\n"
            + statement
        )
        assert callable(add)
        add("list-rest", pick.start_byte, end_b, new_code)

    def _line_holes(self, src: _Source, rng: random.Random, add: object) -> None:
        assert callable(add)
        lines: dict[int, list[Node]] = {}
        for leaf in _walk(src.tree.root_node):
            if _is_code_leaf(leaf):
                lines.setdefault(src.line_start(leaf.start_byte), []).append(leaf)
        for line_start, tokens in lines.items():
            tokens.sort(key=lambda n: n.start_byte)
            if len(tokens) < 2:
                continue
            line_end = src.line_end(line_start)
            line = src.data[line_start:line_end]
            if (
                not line.strip()
                or src.tree.root_node.descendant_for_byte_range(line_start, line_end).has_error
            ):
                continue
            fresh = "\n" + self._fresh(rng, src.indent(line_start).decode(), lines=True)
            self._line_rest(src, tokens, line_end, fresh, rng, add)
            self._line_closers(src, tokens, line_end, fresh, rng, add)
            self._mid_span(src, tokens, line_end, fresh, rng, add)

    def _cursor_ok(self, token_before: Node) -> bool:
        """Right after a block opener the editor wants a block, not the rest of a line."""
        opener = {"brace": ("{",), "indent": (":",), "keyword": (*_LUA_OPENERS, "{")}
        return token_before.type not in opener[self.spec.block_style]

    def _line_rest(self, src, tokens, line_end, fresh, rng, add) -> None:  # type: ignore[no-untyped-def]
        choices = [
            i
            for i in range(1, len(tokens))
            if self._cursor_ok(tokens[i - 1]) and tokens[i].type not in _CLOSE
        ]
        if not choices:
            return
        token = tokens[rng.choice(choices)]
        end_b = line_end
        while src.data[end_b - 1 : end_b] in (b" ", b"\t"):
            end_b -= 1
        if end_b - token.start_byte < 2:
            return
        hole = src.text[src.char(token.start_byte) : src.char(end_b)]
        add("line-rest", token.start_byte, end_b, hole + fresh)

    def _line_closers(self, src, tokens, line_end, fresh, rng, add) -> None:  # type: ignore[no-untyped-def]
        run = [t for t in tokens if t.type in _CLOSE or t.type in (";", ",")]
        # The trailing run: closers after the last other token.
        last_other = max((t.end_byte for t in tokens if t not in run), default=-1)
        trailing = [t for t in tokens if t.start_byte >= last_other and t in run]
        closers = [t for t in trailing if t.type in _CLOSE]
        if not closers or src.data[trailing[-1].end_byte : line_end].strip():
            return
        inner = closers[0]
        pair = inner.parent
        if pair is None or pair.children[0].type not in _OPEN:
            return
        opener = pair.children[0]
        if src.line_start(opener.start_byte) != src.line_start(inner.start_byte):
            return
        inside = [
            t
            for t in tokens
            if opener.end_byte <= t.start_byte < inner.start_byte
            and _innermost_pair(t) == pair
            and t.type not in _CLOSE
        ]
        inside = [t for t in inside if self._cursor_ok(_before(tokens, t))]
        if not inside:
            return
        token = rng.choice(inside)
        run_start = inner.start_byte
        closers_text = src.text[src.char(run_start) : src.char(trailing[-1].end_byte)]
        hole = src.text[src.char(token.start_byte) : src.char(run_start)]
        add("line-closers", token.start_byte, run_start, hole + closers_text + fresh)

    def _mid_span(self, src, tokens, line_end, fresh, rng, add) -> None:  # type: ignore[no-untyped-def]
        line_start = src.line_start(tokens[0].start_byte)
        spans = []
        for token in tokens[1:]:
            node = token
            while node.parent is not None and node.parent.start_byte == token.start_byte:
                if src.line_end(node.parent.end_byte) != line_end or node.parent.is_error:
                    break
                node = node.parent
                if node.is_named and node.end_byte - node.start_byte >= 2:
                    spans.append(node)
            if token.type not in _OPEN | _CLOSE and token.end_byte - token.start_byte >= 2:
                spans.append(token)
        spans = [
            s
            for s in spans
            if s.is_named or s.child_count == 0
            if self._cursor_ok(_before(tokens, _first_token(tokens, s.start_byte)))
            and s.start_byte > line_start
            and _has_code(src.data[s.end_byte : line_end])
            and "string" not in s.type
            and "comment" not in s.type
        ]
        if not spans:
            return
        span = rng.choice(spans)
        closers, after = _outer_closers(span, line_end, src)
        hole = src.text[src.char(span.start_byte) : src.char(span.end_byte)]
        new_code = hole + closers + after if closers else hole + fresh
        add("mid-span", span.start_byte, span.end_byte, new_code)


def _is_branch(src: _Source, body: _Body) -> bool:
    """Whether the body belongs to a branch with siblings: its header line starts with a
    branch word (`} else if (x) {`, `elseif c then`, `except E:`), or one follows it."""
    header_line = src.data[src.line_start(body.opener_end) : body.opener_end]
    first = _WORD.search(header_line.lstrip(b" \t}"))
    if first is not None and first.start() == 0 and first.group().decode() in _BRANCH_WORDS:
        return True
    after = body.closer.end_byte if body.closer is not None else body.statements[-1].end_byte
    if body.closer is not None and body.closer.type not in ("}", "end"):
        after = body.closer.start_byte  # Lua: the next branch itself
    rest = src.data[after : after + 200].lstrip()
    word = _WORD.match(rest)
    return word is not None and word.group().decode() in _BRANCH_WORDS


# Words a near-copy never renames: every grammar's keywords and common builtins.
_KEYWORDS = frozenset(
    """and as async await break case catch class const continue def default defer del do elif
    else elseif end enum except export extends false fn for from func function go if impl
    import in interface let local loop match mod module new nil not or package pass pub
    raise repeat return self static struct super switch then this throw true try type until
    use var void while with yield None True False null undefined typeof instanceof""".split()  # noqa: SIM905
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_IDENT = re.compile(r"(?<![\w.])[A-Za-z_]\w{2,}")
_BLOCK_WORDS = re.compile(
    r"^\s*(?:[)\]}]|else|elseif|elif|except|catch|finally|case|default|end|until)\b|"
    r"[{(\[:]\s*$|\b(?:then|do|function|repeat)\s*$"
)


def near_copy(code: str, key: str) -> str:
    """`code` as a model half-remembers it: one identifier renamed throughout, then one
    literal changed or one line dropped. The first line (the rest of the cursor line) and
    lines that open, close or continue a block stay as they are."""
    rng = random.Random(key)
    head, newline, body = code.partition("\n")
    if not newline:
        return code
    names = sorted({m.group() for m in _IDENT.finditer(body)} - _KEYWORDS)
    if names:
        old = rng.choice(names)
        body = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", old + "2", body)
    lines = body.split("\n")
    # The last line may be cut short by the copy's length: leave it alone.
    plain = [
        i
        for i, line in enumerate(lines[:-1])
        if line.strip()
        and not _BLOCK_WORDS.search(line)
        and sum(line.count(c) for c in "([{") == sum(line.count(c) for c in ")]}")
    ]
    numbers = [i for i in plain if _NUMBER.search(lines[i])]
    if numbers and rng.random() < 0.5:
        i = rng.choice(numbers)
        match = _NUMBER.search(lines[i])
        assert match is not None
        lines[i] = lines[i][: match.start()] + str(int(match.group()) + 1) + lines[i][match.end() :]
    elif plain:
        del lines[rng.choice(plain)]
    return head + newline + "\n".join(lines)


def _innermost_pair(token: Node) -> Node | None:
    """The nearest bracketed node around `token` (not one it opens or closes itself)."""
    node = token.parent
    while node is not None:
        first, last = node.child(0), node.child(node.child_count - 1)
        opening = node.child_count >= 2 and first is not None and first.type in _OPEN
        if opening and first != token and last != token:
            return node
        node = node.parent
    return None


def _before(tokens: list[Node], token: Node) -> Node:
    index = tokens.index(token)
    return tokens[index - 1] if index else token


def _first_token(tokens: list[Node], start: int) -> Node:
    return next(t for t in tokens if t.start_byte >= start)


def _has_code(rest: bytes) -> bool:
    return any(chr(b) not in " \t)]}\"'`;,:" for b in rest)


def _outer_closers(span: Node, line_end: int, src: _Source) -> tuple[str, str]:
    """The closers of brackets open around `span` that its line holds, in order, and the
    line's text after the last of them: what a model writes when it closes early."""
    found: list[Node] = []
    node = span.parent
    while node is not None:
        if node.child_count >= 2:
            first, last = node.child(0), node.child(node.child_count - 1)
            assert first is not None and last is not None
            around = first.end_byte <= span.start_byte and last.start_byte >= span.end_byte
            if first.type in _OPEN and last.type in _CLOSE and around and last.end_byte <= line_end:
                found.append(last)
        node = node.parent
    if not found:
        return "", ""
    found.sort(key=lambda n: n.start_byte)
    closers = "".join(n.type for n in found)
    after = src.text[src.char(found[-1].end_byte) : src.char(line_end)].rstrip()
    return closers, after


def fresh_pool(language: str, files: list[Path], limit: int = 200) -> list[str]:
    """Top-level functions of these files, dedented: the code a model writes of its own."""
    spec = spec_for_language_id(language)
    assert spec is not None
    parser = Parser(spec.ts_language())
    pool: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        tree = parser.parse(text.encode("utf-8"))
        for node in tree.root_node.children:
            if node.type in spec.function_types and not node.has_error:
                block = text.encode("utf-8")[node.start_byte : node.end_byte].decode()
                if 2 <= block.count("\n") <= 12 and "\r" not in block:
                    pool.append(block)
        if len(pool) >= limit:
            break
    return pool


def sample(
    language: str, projects: list[list[Path]], per_kind: int, seed: int = 0
) -> dict[str, list[Hole]]:
    """`per_kind` holes of every kind, spread over the projects, the same on every run."""
    rng = random.Random(f"{seed}-{language}")
    all_files = [f for files in projects for f in files]
    pool = fresh_pool(language, all_files)
    out: dict[str, list[Hole]] = {kind: [] for kind in KINDS}
    per_project: list[dict[str, list[Hole]]] = []
    want = per_kind // max(len(projects), 1) + 1
    for files in projects:
        maker = HoleMaker(language, files, pool)
        found: dict[str, list[Hole]] = {kind: [] for kind in KINDS}
        # Files in a seeded order, read until every kind has enough candidates (several per
        # hole wanted, so the sample is not just the first file's).
        for path in rng.sample(files, len(files)):
            for kind, holes in maker.candidates(path, rng).items():
                found[kind].extend(holes)
            if all(len(found[kind]) >= 4 * want for kind in KINDS):
                break
        per_project.append(found)
    for kind in KINDS:
        pools = [rng.sample(p[kind], len(p[kind])) for p in per_project]
        while len(out[kind]) < per_kind and any(pools):
            for holes in pools:
                if holes and len(out[kind]) < per_kind:
                    out[kind].append(holes.pop())
    return out
