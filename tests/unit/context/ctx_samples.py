"""Realistic source files for every supported language (and one unknown), with a cursor mark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lsp_server.context import LanguageSpec, spec_for_language_id

CURSOR = "█"


def split_cursor(marked: str) -> tuple[str, int]:
    """Source text without the cursor mark, and the mark's str index."""
    offset = marked.index(CURSOR)
    return marked.replace(CURSOR, "", 1), offset


@dataclass(frozen=True)
class Sample:
    """A file: header, n helper definitions, the target definition holding the cursor, n more.

    `opening`/`closing` wrap everything after the header in a container (Java class, C++
    namespace) when the language puts definitions inside one.
    """

    language_id: str
    header: str
    helper: Callable[[int], str]
    target: str  # contains CURSOR
    opening: str = ""
    closing: str = ""

    @property
    def spec(self) -> LanguageSpec | None:
        return spec_for_language_id(self.language_id)

    def build(self, n: int) -> tuple[str, int]:
        helpers_before = "".join(self.helper(i) for i in range(n))
        helpers_after = "".join(self.helper(i) for i in range(n, 2 * n))
        marked = self.header + self.opening + helpers_before + self.target
        marked += helpers_after + self.closing
        return split_cursor(marked)

    @property
    def target_head(self) -> str:
        """The target definition's text up to the cursor (what trimming must always keep)."""
        return self.target[: self.target.index(CURSOR)].lstrip("\n")

    @staticmethod
    def name(i: int) -> str:
        return f"helper_{i:03d}"


def _python(i: int) -> str:
    return (
        f"\n\ndef {Sample.name(i)}(value: int) -> int:\n"
        '    """Scale a value and clamp it."""\n'
        f"    scaled = value * {i + 2}\n"
        "    if scaled > 100:\n"
        "        return scaled - 100\n"
        "    return scaled\n"
    )


def _javascript(i: int) -> str:
    return (
        f"\nfunction {Sample.name(i)}(value) {{\n"
        f"  const scaled = value * {i + 2};\n"
        "  if (scaled > 100) {\n"
        "    return scaled - 100;\n"
        "  }\n"
        "  return scaled;\n"
        "}\n"
    )


def _typescript(i: int) -> str:
    return (
        f"\nexport function {Sample.name(i)}(value: number): number {{\n"
        f"  const scaled: number = value * {i + 2};\n"
        "  if (scaled > 100) {\n"
        "    return scaled - 100;\n"
        "  }\n"
        "  return scaled;\n"
        "}\n"
    )


def _tsx(i: int) -> str:
    return (
        f"\nexport function {Sample.name(i)}({{ title }}: {{ title: string }}) {{\n"
        "  const [open, setOpen] = useState(false);\n"
        "  return (\n"
        '    <div className="card" onClick={() => setOpen(!open)}>\n'
        f"      {{title}} {i}\n"
        "    </div>\n"
        "  );\n"
        "}\n"
    )


def _go(i: int) -> str:
    return (
        f"\nfunc {Sample.name(i)}(value int) int {{\n"
        f"\tscaled := value * {i + 2}\n"
        "\tif scaled > 100 {\n"
        "\t\treturn scaled - 100\n"
        "\t}\n"
        "\treturn scaled\n"
        "}\n"
    )


def _rust(i: int) -> str:
    return (
        f"\nfn {Sample.name(i)}(value: i64) -> i64 {{\n"
        f"    let scaled = value * {i + 2};\n"
        "    if scaled > 100 {\n"
        "        return scaled - 100;\n"
        "    }\n"
        "    scaled\n"
        "}\n"
    )


def _c(i: int) -> str:
    return (
        f"\nstatic int {Sample.name(i)}(int value) {{\n"
        f"    int scaled = value * {i + 2};\n"
        "    if (scaled > 100) {\n"
        "        return scaled - 100;\n"
        "    }\n"
        "    return scaled;\n"
        "}\n"
    )


def _cpp(i: int) -> str:
    return (
        f"\nint {Sample.name(i)}(const std::vector<int>& values) {{\n"
        "    int total = 0;\n"
        "    for (int value : values) {\n"
        f"        total += value * {i + 2};\n"
        "    }\n"
        "    return total;\n"
        "}\n"
    )


def _java(i: int) -> str:
    return (
        f"\n    private static int {Sample.name(i)}(int value) {{\n"
        f"        int scaled = value * {i + 2};\n"
        "        if (scaled > 100) {\n"
        "            return scaled - 100;\n"
        "        }\n"
        "        return scaled;\n"
        "    }\n"
    )


def _lua(i: int) -> str:
    return (
        f"\nfunction M.{Sample.name(i)}(value)\n"
        f"  local scaled = value * {i + 2}\n"
        "  if scaled > 100 then\n"
        "    return scaled - 100\n"
        "  end\n"
        "  return scaled\n"
        "end\n"
    )


def _ruby(i: int) -> str:
    return (
        f"\ndef {Sample.name(i)}(value)\n"
        f"  scaled = value * {i + 2}\n"
        "  if scaled > 100\n"
        "    return scaled - 100\n"
        "  end\n"
        "  scaled\n"
        "end\n"
    )


SAMPLES: dict[str, Sample] = {
    "python": Sample(
        "python",
        '"""Order book utilities."""\nimport os\nfrom typing import Any\n',
        _python,
        "\n\ndef target(orders: list[Any]) -> int:\n"
        "    total = 0\n"
        "    for order in orders:\n"
        "        total += order.quantity\n"
        f"    {CURSOR}\n"
        "    return total\n",
    ),
    "javascript": Sample(
        "javascript",
        "import fs from 'fs';\nimport path from 'path';\n",
        _javascript,
        "\nfunction target(orders) {\n"
        "  let total = 0;\n"
        "  for (const order of orders) {\n"
        "    total += order.quantity;\n"
        "  }\n"
        f"  {CURSOR}\n"
        "  return total;\n"
        "}\n",
    ),
    "typescript": Sample(
        "typescript",
        "import { readFileSync } from 'fs';\nimport type { Order } from './order';\n",
        _typescript,
        "\nexport class OrderService {\n"
        "  private readonly orders: Order[] = [];\n"
        "\n"
        "  target(limit: number): number {\n"
        "    let total = 0;\n"
        "    for (const order of this.orders) {\n"
        "      total += order.quantity;\n"
        "    }\n"
        f"    {CURSOR}\n"
        "    return Math.min(total, limit);\n"
        "  }\n"
        "}\n",
    ),
    "typescriptreact": Sample(
        "typescriptreact",
        "import React from 'react';\nimport { useState } from 'react';\n",
        _tsx,
        "\nexport function Target({ items }: { items: string[] }) {\n"
        "  const [selected, setSelected] = useState<string | null>(null);\n"
        f"  {CURSOR}\n"
        "  return <ul>{items.map((item) => <li key={item}>{item}</li>)}</ul>;\n"
        "}\n",
    ),
    "go": Sample(
        "go",
        'package orders\n\nimport (\n\t"fmt"\n\t"strings"\n)\n',
        _go,
        "\nfunc (s *Service) Target(orders []Order) int {\n"
        "\ttotal := 0\n"
        "\tfor _, order := range orders {\n"
        "\t\ttotal += order.Quantity\n"
        "\t}\n"
        f"\t{CURSOR}\n"
        "\treturn total\n"
        "}\n",
    ),
    "rust": Sample(
        "rust",
        "use std::collections::HashMap;\nuse std::fmt;\n",
        _rust,
        "\nimpl Service {\n"
        "    pub fn new() -> Self {\n"
        "        Service { orders: Vec::new() }\n"
        "    }\n"
        "\n"
        "    pub fn target(&self) -> i64 {\n"
        "        let mut total = 0;\n"
        "        for order in &self.orders {\n"
        "            total += order.quantity;\n"
        "        }\n"
        f"        {CURSOR}\n"
        "        total\n"
        "    }\n"
        "}\n",
    ),
    "c": Sample(
        "c",
        "#include <stdio.h>\n#include <stdlib.h>\n",
        _c,
        "\nint target(const struct order *orders, size_t count) {\n"
        "    int total = 0;\n"
        "    for (size_t i = 0; i < count; i++) {\n"
        "        total += orders[i].quantity;\n"
        "    }\n"
        f"    {CURSOR}\n"
        "    return total;\n"
        "}\n",
    ),
    "cpp": Sample(
        "cpp",
        "#include <string>\n#include <vector>\n",
        _cpp,
        "\nint target(const std::vector<Order>& orders) {\n"
        "    int total = 0;\n"
        "    for (const auto& order : orders) {\n"
        "        total += order.quantity;\n"
        "    }\n"
        f"    {CURSOR}\n"
        "    return total;\n"
        "}\n",
        opening="\nnamespace orders {\n",
        closing="\n}\n",
    ),
    "java": Sample(
        "java",
        "package com.example.orders;\n\nimport java.util.List;\nimport java.util.Map;\n",
        _java,
        "\n    public int target(List<Order> orders) {\n"
        "        int total = 0;\n"
        "        for (Order order : orders) {\n"
        "            total += order.quantity();\n"
        "        }\n"
        f"        {CURSOR}\n"
        "        return total;\n"
        "    }\n",
        opening="\npublic class Orders {\n",
        closing="}\n",
    ),
    "lua": Sample(
        "lua",
        '-- Order utilities.\nlocal json = require("json")\nlocal util = require("util")\n',
        _lua,
        "\nfunction M.target(orders)\n"
        "  local total = 0\n"
        "  for _, order in ipairs(orders) do\n"
        "    total = total + order.quantity\n"
        "  end\n"
        f"  {CURSOR}\n"
        "  return total\n"
        "end\n",
        opening="\nlocal M = {}\n",
        closing="\nreturn M\n",
    ),
    # Ruby has no grammar here: everything runs on the plain-text rules.
    "unknown": Sample(
        "ruby",
        "require 'json'\nrequire 'set'\n",
        _ruby,
        "\ndef target(orders)\n"
        "  total = 0\n"
        "  orders.each do |order|\n"
        "    total += order.quantity\n"
        "  end\n"
        f"  {CURSOR}\n"
        "  total\n"
        "end\n",
    ),
}
