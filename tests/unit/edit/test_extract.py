"""Taking the rewritten code out of a model's answer and fitting it where the selection was."""

from __future__ import annotations

import pytest

from lsp_server.edit.extract import extract_rewrite, fenced_blocks, is_prose, strip_prose

PY = "    def area(self):\n        return self.w * self.h\n"
PY_NEW = "    def area(self) -> float:\n        return float(self.w * self.h)\n"
PY_FLAT = "def area(self) -> float:\n    return float(self.w * self.h)\n"


@pytest.mark.parametrize(
    "answer",
    [
        f"```python\n{PY_NEW}```",
        f"```\n{PY_NEW}```",
        f"Sure! Here is the rewritten code:\n\n```python\n{PY_NEW}```\n\nThis adds a type hint.",
        f"```py\n{PY_FLAT}```",  # the common indent dropped
        f"[PYTHON]\n{PY_FLAT}[/PYTHON]",  # Code Llama Instruct's own tags
        PY_NEW,  # bare code
        f"Here is the updated method:\n{PY_FLAT}\nThe method now returns a float.",
        f"```python\n{PY_NEW}",  # cut at the token limit: no closing fence
    ],
)
def test_answers_of_every_shape_give_the_same_rewrite(answer: str) -> None:
    assert extract_rewrite(answer, PY) == PY_NEW


def test_the_block_like_the_selection_wins_over_a_usage_example() -> None:
    answer = (
        f"```python\n{PY_NEW}```\n\nUse it like this:\n\n```python\nprint(Box(2, 3).area())\n```\n"
    )
    assert extract_rewrite(answer, PY) == PY_NEW


def test_a_block_that_only_quotes_the_old_code_is_passed_over() -> None:
    answer = f"Your code:\n```python\n{PY}```\nFixed:\n```python\n{PY_NEW}```\n"
    assert extract_rewrite(answer, PY) == PY_NEW


def test_an_unchanged_answer_gives_the_selection_back() -> None:
    assert extract_rewrite(f"```python\n{PY}```", PY) == PY


def test_lines_repeated_from_around_the_selection_are_taken_off() -> None:
    before = "class Box:\n    def area(self):\n"
    body = "        return self.w * self.h\n"
    after = "\n    def grow(self):\n"
    answer = "```python\n    def area(self):\n        return float(self.w * self.h)\n```"
    assert extract_rewrite(answer, body, before=before, after=after) == (
        "        return float(self.w * self.h)\n"
    )


def test_a_selection_starting_like_its_context_keeps_its_first_line() -> None:
    before = "    }\n"
    old = "    }\n    return x\n"
    answer = "```go\n    }\n    return x + 1\n```"
    assert extract_rewrite(answer, old, before=before) == "    }\n    return x + 1\n"


def test_go_tabs_are_kept_when_the_model_answers_with_spaces() -> None:
    old = "\tif err != nil {\n\t\treturn err\n\t}\n"
    answer = '```go\nif err != nil {\n    return fmt.Errorf("load: %w", err)\n}\n```'
    assert extract_rewrite(answer, old) == (
        '\tif err != nil {\n\t\treturn fmt.Errorf("load: %w", err)\n\t}\n'
    )


def test_yaml_indentation_is_restored() -> None:
    old = "  steps:\n    - run: make\n"
    answer = "```yaml\nsteps:\n  - run: make\n  - run: make test\n```"
    assert extract_rewrite(answer, old) == "  steps:\n    - run: make\n    - run: make test\n"


def test_added_indentation_is_taken_off() -> None:
    old = "x = 1\ny = 2\n"
    answer = "```python\n    x = 1\n    y = 3\n```"
    assert extract_rewrite(answer, old) == "x = 1\ny = 3\n"


def test_crlf_selections_stay_crlf() -> None:
    old = "a = 1\r\nb = 2\r\n"
    assert extract_rewrite("```\na = 1\nb = 3\n```", old) == "a = 1\r\nb = 3\r\n"


def test_a_selection_without_a_final_line_break_gets_none() -> None:
    assert extract_rewrite("```\nreturn 2\n```\n", "return 1") == "return 2"


def test_the_selections_blank_lines_at_either_end_are_kept() -> None:
    old = "\nx = 1\n\n"
    assert extract_rewrite("```python\nx = 2\n```", old) == "\nx = 2\n\n"


def test_an_empty_block_deletes() -> None:
    assert extract_rewrite("```python\n```", "x = 1\n") == ""


def test_multibyte_text_passes_through() -> None:
    old = '    greet("héllo 👋")\n'
    assert extract_rewrite('```\ngreet("héllo 👋", loud=True)\n```', old) == (
        '    greet("héllo 👋", loud=True)\n'
    )


def test_fenced_blocks_with_longer_fences_hold_shorter_ones() -> None:
    text = "````markdown\n```python\nx = 1\n```\n````\n"
    assert [b.code for b in fenced_blocks(text)] == ["```python\nx = 1\n```"]


@pytest.mark.parametrize(
    ("line", "prose"),
    [
        ("Sure, here is the code:", True),
        ("Here's the updated function:", True),
        ("This version checks the error before using the value.", True),
        ("def area(self):", False),
        ("return self.w * self.h", False),
        ("- run: make test", False),
        ("# Compute the area.", False),
        ("else:", False),
        ("Note: the function now raises ValueError.", True),
    ],
)
def test_prose_or_code(line: str, prose: bool) -> None:
    assert is_prose(line) is prose


def test_strip_prose_keeps_code_between_chat() -> None:
    text = "Certainly! Here it is:\n\nx = compute()\nprint(x)\n\nThis prints the result."
    assert strip_prose(text) == "x = compute()\nprint(x)"


def test_a_closer_repeated_from_before_a_selection_starting_with_one_is_taken_off() -> None:
    before = "    end\n"
    old = "end\nlocal x = 1\n"
    answer = "```lua\n    end\nend\nlocal x = 2\n```"
    assert extract_rewrite(answer, old, before=before) == "end\nlocal x = 2\n"


def test_two_levels_of_spaces_become_two_tabs() -> None:
    old = "func f() {\n\tif ok {\n\t\treturn\n\t}\n}\n"
    answer = "```go\nfunc f() {\n        return\n}\n```"
    assert extract_rewrite(answer, old) == "func f() {\n\t\treturn\n}\n"
