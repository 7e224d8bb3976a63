"""Small multi-language workspaces for the cross-file tests, and helpers to ask what a completion sends.

Each language gets its own workspace folder: a file that defines `apply_discount` (spelled
the language's way) and a file whose cursor code calls it through an import.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.demo import plain
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from model_host.text.header import comment_marker


@dataclass(frozen=True)
class Case:
    language: str  # the LSP languageId
    folder: str
    files: dict[str, str]  # relative path -> text; the cursor file's text ends at the cursor
    cursor_file: str
    signature: str  # what the model must see of the definition


def lines(*rows: str) -> str:
    return "\n".join(rows)


LANGUAGES = [
    Case(
        "python",
        "python",
        {
            "pkg/__init__.py": "",
            "pkg/pricing.py": lines(
                "def apply_discount(price: float, percent: int) -> float:",
                '    """Price after a discount."""',
                "    return price * (100 - percent) / 100",
                "",
            ),
            "app.py": lines(
                "from pkg.pricing import apply_discount",
                "",
                "",
                "def checkout(cart):",
                "    total = sum(cart)",
                "    return apply_discount(total, ",
            ),
        },
        "app.py",
        "def apply_discount(price: float, percent: int) -> float:",
    ),
    Case(
        "javascript",
        "js",
        {
            "lib/pricing.js": lines(
                "export function applyDiscount(price, percent) {",
                "  return (price * (100 - percent)) / 100;",
                "}",
                "",
            ),
            "app.js": lines(
                'import { applyDiscount } from "./lib/pricing.js";',
                "",
                "export function checkout(cart) {",
                "  const total = cart.reduce((a, b) => a + b, 0);",
                "  return applyDiscount(total, ",
            ),
        },
        "app.js",
        "function applyDiscount(price, percent)",
    ),
    Case(
        "typescript",
        "ts",
        {
            "src/pricing.ts": lines(
                "export function applyDiscount(price: number, percent: number): number {",
                "  return (price * (100 - percent)) / 100;",
                "}",
                "",
            ),
            "src/app.ts": lines(
                'import { applyDiscount } from "./pricing";',
                "",
                "export function checkout(cart: number[]): number {",
                "  const total = cart.reduce((a, b) => a + b, 0);",
                "  return applyDiscount(total, ",
            ),
        },
        "src/app.ts",
        "function applyDiscount(price: number, percent: number): number",
    ),
    Case(
        "go",
        "go",
        {
            "go.mod": lines(
                "module example.com/shop",
                "",
                "go 1.22",
                "",
            ),
            "pricing/pricing.go": lines(
                "package pricing",
                "",
                "// ApplyDiscount is the price after a discount.",
                "func ApplyDiscount(price float64, percent int) float64 {",
                "\treturn price * float64(100-percent) / 100",
                "}",
                "",
            ),
            "main.go": lines(
                "package main",
                "",
                'import "example.com/shop/pricing"',
                "",
                "func checkout(total float64) float64 {",
                "\treturn pricing.ApplyDiscount(total, ",
            ),
        },
        "main.go",
        "func ApplyDiscount(price float64, percent int) float64",
    ),
    Case(
        "rust",
        "rust",
        {
            "Cargo.toml": lines(
                "[package]",
                'name = "shop"',
                'version = "0.1.0"',
                'edition = "2021"',
                "",
            ),
            "src/pricing.rs": lines(
                "pub fn apply_discount(price: f64, percent: u32) -> f64 {",
                "    price * f64::from(100 - percent) / 100.0",
                "}",
                "",
            ),
            "src/main.rs": lines(
                "mod pricing;",
                "",
                "use crate::pricing::apply_discount;",
                "",
                "fn checkout(total: f64) -> f64 {",
                "    apply_discount(total, ",
            ),
        },
        "src/main.rs",
        "pub fn apply_discount(price: f64, percent: u32) -> f64",
    ),
    Case(
        "c",
        "c",
        {
            "include/pricing.h": lines(
                "#ifndef PRICING_H",
                "#define PRICING_H",
                "",
                "double apply_discount(double price, int percent);",
                "",
                "#endif",
                "",
            ),
            "src/pricing.c": lines(
                '#include "pricing.h"',
                "",
                "double apply_discount(double price, int percent) {",
                "    return price * (100 - percent) / 100.0;",
                "}",
                "",
            ),
            "src/main.c": lines(
                '#include "../include/pricing.h"',
                "",
                "double checkout(double total) {",
                "    return apply_discount(total, ",
            ),
        },
        "src/main.c",
        "double apply_discount(double price, int percent)",
    ),
    Case(
        "java",
        "java",
        {
            "src/main/java/com/shop/Pricing.java": lines(
                "package com.shop;",
                "",
                "public final class Pricing {",
                "    public static double applyDiscount(double price, int percent) {",
                "        return price * (100 - percent) / 100.0;",
                "    }",
                "}",
                "",
            ),
            "src/main/java/com/shop/app/App.java": lines(
                "package com.shop.app;",
                "",
                "import com.shop.Pricing;",
                "",
                "public class App {",
                "    double checkout(double total) {",
                "        return Pricing.applyDiscount(total, ",
            ),
        },
        "src/main/java/com/shop/app/App.java",
        "public static double applyDiscount(double price, int percent)",
    ),
    Case(
        "lua",
        "lua",
        {
            "shop/pricing.lua": lines(
                "local M = {}",
                "",
                "function M.apply_discount(price, percent)",
                "  return price * (100 - percent) / 100",
                "end",
                "",
                "return M",
                "",
            ),
            "main.lua": lines(
                'local pricing = require("shop.pricing")',
                "",
                "local function checkout(total)",
                "  return pricing.apply_discount(total, ",
            ),
        },
        "main.lua",
        "function M.apply_discount(price, percent)",
    ),
]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def folder(path: Path) -> types.WorkspaceFolder:
    return types.WorkspaceFolder(uri=path.as_uri(), name=path.name)


def end_of(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(line=len(lines) - 1, character=len(lines[-1]))  # ASCII only


def open_file(client: LanguageClient, path: Path, language: str, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id=language,
                version=1,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return uri


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return plain(await client.protocol.send_request_async(method, params))


async def plan_at(client: LanguageClient, uri: str, pos: types.Position) -> dict[str, Any]:
    """`tandem/prompt`: the `complete` params a completion here would send (context included)."""
    where = {"line": pos.line, "character": pos.character}
    return dict(
        await request(client, "tandem/prompt", {"textDocument": {"uri": uri}, "position": where})
    )


async def status(client: LanguageClient) -> dict[str, Any]:
    return dict(await request(client, "tandem/status", {}))


async def index_ready(client: LanguageClient, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until the server's workspace index finished its initial indexing."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        cross = (await status(client))["crossFile"]
        if cross.get("ready"):
            return dict(cross)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the workspace index is not ready after {timeout}s: {cross}")
        await asyncio.sleep(0.1)


async def context_when(
    client: LanguageClient, uri: str, pos: types.Position, check: Any, timeout: float = 15.0
) -> list[dict[str, str]]:
    """The plan's context once `check(context_text)` holds (the index applies changes in the
    background); fails with the last context after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        context = (await plan_at(client, uri, pos))["context"]
        if check("\n".join(s["text"] for s in context)):
            return list(context)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"context still {context} after {timeout}s")
        await asyncio.sleep(0.1)


async def host_dry_run(address: str, plan: dict[str, Any]) -> dict[str, Any]:
    """What the host would feed the model for the plan's `complete` params (its `prompt` dry run)."""
    host = await HostClient.connect(address)
    try:
        await host.hello()
        params = {
            "kind": "complete",
            "prefix": plan["prefix"],
            "suffix": plan["suffix"],
            "order": "spm",
            "context": plan["context"],
            "language": plan["language"],
        }
        return dict(await host.request(Method.PROMPT, params))
    finally:
        await host.close()


def header_line(language: str, line: str) -> str:
    return f"{comment_marker(language)} {line}"
