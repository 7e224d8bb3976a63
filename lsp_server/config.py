"""Settings: typed dataclasses with defaults; camelCase on the wire; bad values fall back, with a message."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from model_host.rpc.address import AddressError, default_socket_path, parse_address

_CAMEL = re.compile(r"_([a-z])")


def camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


@dataclass
class HostSettings:
    # Where the model host listens (unix:PATH or tcp:HOST:PORT).
    address: str = field(default_factory=lambda: f"unix:{default_socket_path()}")
    # Checkpoint folder or cached hub id; used to start a host when none listens.
    model: str = ""
    # Start a host with `model` when nothing listens at `address`.
    auto_start: bool = True
    # Python interpreter that runs `-m model_host` for an auto-started host ("" = this one).
    python: str = ""
    # Extra arguments for an auto-started host, e.g. ["--dtype", "fp16"].
    args: list[str] = field(default_factory=list)
    # Shared token for hosts that require one.
    token: str = ""
    # Seconds to wait for the host to answer a request before giving up.
    request_timeout: float = 30.0


@dataclass
class CompletionSettings:
    enable: bool = True
    # Wait this long after the last keystroke before asking the model (automatic triggers only).
    debounce_ms: int = 75
    # Safety limits far above ordinary code: the syntax tree decides where a suggestion ends
    # and stops the model there. Tokens of a single-line and of a block suggestion, and lines
    # of a block suggestion.
    max_tokens_line: int = 256
    max_tokens_block: int = 2048
    max_lines: int = 400
    temperature: float = 0.2
    top_p: float = 0.95
    # Prompt budget in model tokens; 0 = the model's window minus the answer's room.
    context_tokens: int = 0
    # Share of the prompt budget for text before the cursor.
    prefix_share: float = 0.75
    # "spm" (suffix first) or "psm" (prefix-suffix-middle). Suffix first keeps the prompt's
    # start fixed while the user types, so the engine's prefix cache keeps hitting.
    order: str = "spm"
    # textDocument/completion fallback: "auto" (only for clients without inline completion),
    # "always" or "never".
    fallback: str = "auto"


@dataclass
class ChatSettings:
    max_tokens: int = 768
    temperature: float = 0.2
    top_p: float = 0.95
    system_prompt: str = (
        "You are Tandem, a concise coding assistant inside the user's editor. "
        "Answer with correct, idiomatic code and short explanations."
    )


@dataclass
class CrossFileSettings:
    # Put the definitions the code at the cursor uses, from other files of the workspace, in
    # the prompt (as a comment header) and in chat.
    enable: bool = True
    # Share of the prompt budget for that text, and its floor in tokens.
    share: float = 0.25
    min_tokens: int = 256
    # Index limits: files per workspace, bytes per file, extra glob patterns to leave out
    # (on top of .gitignore and VCS, dependency and build folders).
    max_files: int = 20000
    max_file_bytes: int = 1_000_000
    exclude: list[str] = field(default_factory=list)


@dataclass
class ContextSettings:
    cross_file: CrossFileSettings = field(default_factory=CrossFileSettings)


@dataclass
class Settings:
    host: HostSettings = field(default_factory=HostSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    log_level: str = "info"


CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("completion", "order"): ("psm", "spm"),
    ("completion", "fallback"): ("auto", "always", "never"),
    ("", "log_level"): ("debug", "info", "warning", "error"),
}
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("completion", "debounce_ms"): (0, 5000),
    ("completion", "max_tokens_line"): (1, 4096),
    ("completion", "max_tokens_block"): (1, 16384),
    ("completion", "max_lines"): (1, 10000),
    ("completion", "temperature"): (0, 5),
    ("completion", "top_p"): (0.01, 1),
    ("completion", "context_tokens"): (0, 1_000_000),
    ("completion", "prefix_share"): (0.05, 0.95),
    ("chat", "max_tokens"): (1, 32768),
    ("chat", "temperature"): (0, 5),
    ("chat", "top_p"): (0.01, 1),
    ("host", "request_timeout"): (0.5, 3600),
    ("cross_file", "share"): (0, 0.75),
    ("cross_file", "min_tokens"): (0, 32768),
    ("cross_file", "max_files"): (1, 1_000_000),
    ("cross_file", "max_file_bytes"): (1024, 100_000_000),
}
# Where a nested section sits, for messages (`tandem.context.crossFile.share`).
SECTION_PATHS = {"cross_file": "context.crossFile"}


def _check(section: str, name: str, value: Any, default: Any) -> Any:
    """The value if it is valid for this field, else raise ValueError saying why."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected a number")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError("expected a whole number")
        lo, hi = RANGES.get((section, name), (float("-inf"), float("inf")))
        if not lo <= value <= hi:
            raise ValueError(f"expected a value between {lo:g} and {hi:g}")
        return type(default)(value)
    if isinstance(default, list):
        if isinstance(value, Mapping) and not value:
            return []  # an empty Lua table encodes as {} or [] alike
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return list(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    choices = CHOICES.get((section, name))
    if choices and value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}")
    if (section, name) == ("host", "address"):
        try:
            if parse_address(value).kind == "stdio":
                raise ValueError("the LSP server reaches the host over unix: or tcp:")
        except AddressError as exc:
            raise ValueError(str(exc)) from exc
    return value


def _apply(target: Any, section: str, raw: Mapping[str, Any], problems: list[str]) -> None:
    for f in dataclasses.fields(target):
        key = camel(f.name)
        if key not in raw and f.name not in raw:
            continue
        value = raw.get(key, raw.get(f.name))
        current = getattr(target, f.name)
        if dataclasses.is_dataclass(current):
            if isinstance(value, Mapping):
                _apply(current, f.name, value, problems)
            elif value is not None and value != []:  # [] is how some clients send {}
                problems.append(f"tandem.{key}: expected an object; using defaults")
            continue
        if value is None:
            continue
        try:
            setattr(target, f.name, _check(section, f.name, value, current))
        except ValueError as exc:
            path = SECTION_PATHS.get(section, camel(section))
            where = f"tandem.{path + '.' if section else ''}{key}"
            problems.append(f"{where}: {exc}; using the default ({current!r})")


@dataclass(frozen=True)
class UnknownSetting:
    """A key under `tandem` that no setting has (a typo, mostly), and the closest one that does."""

    key: str  # dotted, as the editor sent it: "host.modle"
    suggestion: str | None  # "host.model"

    @property
    def problem(self) -> str:
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"tandem.{self.key}: unknown setting, ignored{hint}"


def setting_keys() -> list[str]:
    """Every setting's dotted camelCase key, as the README's table lists them."""
    return _dotted_keys(Settings(), "")


def _dotted_keys(section: Any, prefix: str) -> list[str]:
    keys: list[str] = []
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            keys += _dotted_keys(value, f"{prefix}{camel(f.name)}.")
        else:
            keys.append(prefix + camel(f.name))
    return keys


def unknown_settings(raw: Any) -> list[UnknownSetting]:
    """The keys of an editor's settings that are not Tandem settings, each with the closest
    valid key. Keys are taken in camelCase or snake_case, as `parse_settings` takes them."""
    if not isinstance(raw, Mapping):
        return []
    if isinstance(raw.get("tandem"), Mapping):
        raw = raw["tandem"]
    return _unknown_in(Settings(), raw, "", setting_keys())


def _unknown_in(
    section: Any, raw: Mapping[Any, Any], prefix: str, valid: list[str]
) -> list[UnknownSetting]:
    found: list[UnknownSetting] = []
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        field_name = _field_of(section, str(key))
        if field_name is None:
            names = [f"{prefix}{camel(f.name)}" for f in dataclasses.fields(section)]
            found.append(UnknownSetting(dotted, _closest(dotted, names + valid)))
            continue
        inner = getattr(section, field_name)
        if dataclasses.is_dataclass(inner) and isinstance(value, Mapping):
            found += _unknown_in(inner, value, f"{dotted}.", valid)
    return found


def _field_of(target: Any, key: str) -> str | None:
    """The dataclass field a settings key names (camelCase or snake_case), if any."""
    return next(
        (f.name for f in dataclasses.fields(target) if key in (camel(f.name), f.name)), None
    )


def _closest(key: str, candidates: list[str]) -> str | None:
    """The candidate a typo most likely meant (case and underscores aside), if one is close."""
    folded = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(key.lower().replace("_", ""), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from an editor's JSON (`{"tandem": {...}}` or the inner object).

    Starts from `base` (or the defaults); every invalid value is left at that
    value and reported in the returned problem list, so one typo never kills
    the server.
    """
    settings = dataclasses.replace(base) if base is not None else Settings()
    if base is not None:
        settings.host = dataclasses.replace(base.host)
        settings.completion = dataclasses.replace(base.completion)
        settings.chat = dataclasses.replace(base.chat)
        cross_file = dataclasses.replace(base.context.cross_file)
        settings.context = dataclasses.replace(base.context, cross_file=cross_file)
    problems: list[str] = []
    if raw is None or raw == []:  # an empty Lua table is `[]` in Neovim's JSON
        return settings, problems
    if not isinstance(raw, Mapping):
        return settings, [f"settings must be an object, got {type(raw).__name__}; ignored"]
    if isinstance(raw.get("tandem"), Mapping) or raw.get("tandem") == []:
        raw = raw["tandem"] or {}
    _apply(settings, "", raw, problems)
    return settings, problems
