"""A real Neovim with a UI attached, as a terminal user has it: `nvim --embed`, then
`nvim_ui_attach` at a given width, over msgpack-rpc on its stdin/stdout.

Headless Neovim has no screen, so it never shows a "Press ENTER" prompt; with a UI attached it
does, exactly as in a terminal: `nvim_get_mode()` then says `r`/`rm` and `blocking`, and every
request but a few fast ones waits until a key is pressed. The grid the UI receives
(`ext_linegrid` redraw events) is kept, so a test can read the screen's lines.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

REQUEST, RESPONSE, NOTIFICATION = 0, 1, 2


class PromptError(AssertionError):
    """Neovim is waiting at a "Press ENTER" prompt (or another blocking prompt)."""


class EmbeddedNvim:
    """`nvim --embed ARGS` with a `width` x `height` UI attached before it reads its init file."""

    def __init__(
        self,
        nvim: str,
        args: list[str],
        *,
        width: int = 80,
        height: int = 24,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            [nvim, "--embed", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.width, self.height = width, height
        self._grid = [[" "] * width for _ in range(height)]
        self._cond = threading.Condition()
        self._responses: dict[int, tuple[Any, Any]] = {}
        self._next_id = 0
        self._closed = False
        # Every mode seen by `mode()`, and the screen whenever a prompt was seen.
        self.modes: list[str] = []
        self.prompt_screens: list[list[str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # --embed waits for this before it sources init files: the UI exists from the start.
        self.request("nvim_ui_attach", width, height, {"ext_linegrid": True, "rgb": True})

    # ---- wire ------------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        while True:
            data = self.proc.stdout.read1(65536)  # type: ignore[attr-defined]
            if not data:
                break
            unpacker.feed(data)
            for msg in unpacker:
                with self._cond:
                    if msg[0] == RESPONSE:
                        self._responses[msg[1]] = (msg[2], msg[3])
                    elif msg[0] == NOTIFICATION and msg[1] == "redraw":
                        for event in msg[2]:
                            for args in event[1:]:
                                self._redraw(event[0], args)
                    elif msg[0] == REQUEST:  # nothing here serves Neovim's requests
                        self._send([RESPONSE, msg[1], "not supported", None])
                    self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _send(self, msg: list[Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(msgpack.packb(msg))
        self.proc.stdin.flush()

    def _redraw(self, name: str, args: list[Any]) -> None:
        if name == "grid_resize":
            _, self.width, self.height = args
            self._grid = [[" "] * self.width for _ in range(self.height)]
        elif name == "grid_clear":
            self._grid = [[" "] * self.width for _ in range(self.height)]
        elif name == "grid_line":
            _, row, col, cells = args[:4]
            for cell in cells:
                for _ in range(cell[2] if len(cell) > 2 else 1):
                    if 0 <= row < self.height and col < self.width:
                        self._grid[row][col] = cell[0]
                    col += 1
        elif name == "grid_scroll":
            _, top, bot, left, right, rows, _cols = args
            if rows > 0:
                for r in range(top, bot - rows):
                    self._grid[r][left:right] = self._grid[r + rows][left:right]
            else:
                for r in range(bot - 1, top - rows - 1, -1):
                    self._grid[r][left:right] = self._grid[r + rows][left:right]

    def request(self, method: str, *args: Any, timeout: float = 15) -> Any:
        with self._cond:
            msgid = self._next_id
            self._next_id += 1
            self._send([REQUEST, msgid, method, list(args)])
            if not self._cond.wait_for(
                lambda: msgid in self._responses or self._closed, timeout=timeout
            ):
                raise TimeoutError(f"{method}: no answer in {timeout} s\n" + self.dump())
            if msgid not in self._responses:
                raise RuntimeError(f"{method}: nvim exited\n{self.stderr()}")
            err, result = self._responses.pop(msgid)
        if err:
            raise RuntimeError(f"{method}: {err}")
        return result

    # ---- what the user sees ----------------------------------------------------------------
    def mode(self) -> str:
        """The mode (a fast request: answered even while a prompt waits); records prompts."""
        m = self.request("nvim_get_mode")
        self.modes.append(m["mode"])
        if m["blocking"] or m["mode"] in ("r", "rm", "r?"):
            self.prompt_screens.append(self.screen())
        return str(m["mode"])

    def no_prompt(self) -> None:
        """Fail with the screen if Neovim waits at a prompt."""
        mode = self.mode()
        if self.prompt_screens:
            raise PromptError(f"Neovim is at a prompt (mode {mode!r}):\n" + self.dump())

    def lua(self, code: str, *args: Any, timeout: float = 15) -> Any:
        """Run Lua (`...` are `args`) once sure no prompt would swallow the request."""
        self.no_prompt()
        return self.request("nvim_exec_lua", code, list(args), timeout=timeout)

    def command(self, cmd: str, timeout: float = 15) -> None:
        self.no_prompt()
        self.request("nvim_command", cmd, timeout=timeout)

    def input(self, keys: str) -> None:
        """Type `keys` (never into a prompt: that would dismiss it unseen)."""
        self.no_prompt()
        self.request("nvim_input", keys)

    def screen(self) -> list[str]:
        with self._cond:
            return ["".join(row).rstrip() for row in self._grid]

    def last_line(self) -> str:
        return self.screen()[-1]

    def dump(self) -> str:
        return "\n".join(f"|{line}" for line in self.screen())

    def wait(self, cond: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
        """Poll `cond` (checking for prompts between tries) until it is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            self.no_prompt()
            value = cond()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n" + self.dump())
            time.sleep(every)

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                # Stop the language servers politely, then quit.
                self.request(
                    "nvim_exec_lua",
                    "for _, c in ipairs(vim.lsp.get_clients()) do c:stop() end",
                    [],
                    timeout=5,
                )
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and self.request(
                    "nvim_exec_lua", "return #vim.lsp.get_clients()", [], timeout=5
                ):
                    time.sleep(0.05)
            except (TimeoutError, RuntimeError, OSError):
                pass
            try:
                self._send([NOTIFICATION, "nvim_command", ["qa!"]])
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> EmbeddedNvim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
