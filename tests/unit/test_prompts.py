"""Prompts and the tokenizer layer against the real Llama 2 / Code Llama SentencePiece files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sentencepiece as spm
from hypothesis import given, settings
from hypothesis import strategies as st

from model_host.text.prompts import (
    ChatFormat,
    InfillIds,
    Message,
    PromptError,
    chat_prompt,
    infill_prompt,
    prefix_prompt,
)
from model_host.text.tokenizer import (
    HFTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    TokenizerLoadError,
    load_tokenizer,
)

FIM_PREFIX = "def add(a, b):\n    "
FIM_SUFFIX = "\n    return c\n"
FIM_REFERENCE = [1, 32007, 822, 788, 29898, 29874, 29892, 289, 1125, 13, 268, 32008, 13, 1678]
FIM_REFERENCE += [736, 274, 13, 32009]

CARD_DIALOG: list[Message] = [
    {"role": "system", "content": "System prompt "},
    {"role": "user", "content": "First user query"},
    {"role": "assistant", "content": "Model response to first query"},
    {"role": "user", "content": "Second user query"},
]
# From the CodeLlama-70b-Instruct model card (Meta's dialog_prompt_tokens).
CARD_REFERENCE = [1, 7562, 29901, 1788, 13, 13, 2184, 9508, 32015, 7562, 29901, 1404, 13, 13]
CARD_REFERENCE += [3824, 1404, 2346, 32015, 7562, 29901, 20255, 13, 13, 8125, 2933, 304, 937]
CARD_REFERENCE += [2346, 32015, 7562, 29901, 1404, 13, 13, 6440, 1404, 2346, 32015, 7562]
CARD_REFERENCE += [29901, 20255, 13, 14994, 3381, 29901, 1404, 13, 13, 29871]

# Strings that are, or look like, control tokens somewhere in the Llama family.
MARKERS = [
    "<PRE>",
    "<SUF>",
    "<MID>",
    "<EOT>",
    "<EOT><EOT><EOT>",
    " <PRE>",
    " <EOT>",
    "<SU",
    "<M",
    "<E",
    "<step>",
    " <step> ",
    "[INST]",
    "[/INST]",
    "<<SYS>>",
    "<</SYS>>",
    "<s>",
    "</s>",
    "<unk>",
    "<0x0A>",
    "▁",
    "▁<PRE>",
    "☺",
    " ",
    "\n",
]
texts = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(MARKERS)), max_size=10).map("".join)


def raw(tokenizers_dir: Path, name: str) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_file=str(tokenizers_dir / name / "tokenizer.model"))


def assert_no_special(tok: Tokenizer, ids: list[int]) -> None:
    leaked = sorted({i for i in ids if tok.is_special(i)})
    assert not leaked, f"control ids from text: {leaked} {[tok.piece(i) for i in leaked]}"


# -- tokenizer facts ----------------------------------------------------------------


def test_real_tokenizer_facts(code_llama: Tokenizer, code_llama_70b: Tokenizer) -> None:
    assert (code_llama.bos_id, code_llama.eos_id, code_llama.vocab_size) == (1, 2, 32016)
    assert code_llama.piece_id("▁<PRE>") == 32007
    assert code_llama.piece_id("<step>") is None
    assert code_llama_70b.piece_id("<step>") == 32015
    assert code_llama.special_ids == {0, 1, 2, *range(32000, 32016)}
    assert code_llama_70b.special_ids == {0, 1, 2, *range(32000, 32016)}
    assert code_llama.piece_id("no such piece") is None


def test_encode_infilling_is_metas_drop_two(code_llama: Tokenizer, tokenizers_dir: Path) -> None:
    sp = raw(tokenizers_dir, "code-llama")
    assert sp.encode("☺") == [29871, 31171]  # so Meta's [2:] drops exactly "▁", "☺"
    for text in [FIM_SUFFIX, " x = 1", "x", "\tdef f():\n", "你好"]:
        assert code_llama.encode_infilling(text) == sp.encode("☺" + text)[2:]
        assert code_llama.encode(text) == sp.encode(text)
    assert code_llama.encode("") == code_llama.encode_infilling("") == []


def test_literal_markers_are_plain_text(code_llama: Tokenizer, tokenizers_dir: Path) -> None:
    sp = raw(tokenizers_dir, "code-llama")
    # The hazard: the raw model turns plain text into control ids.
    assert sp.encode(" <EOT>") == [29871, 32010]
    assert {32010, 32007} <= set(sp.encode("x <EOT> y <PRE>"))
    assert code_llama.encode(" <EOT>") == [29871, 529, 29923, 2891, 29958]
    assert code_llama.encode("<s>") == [529, 29879, 29958]
    assert code_llama.encode("[INST]") == sp.encode("[INST]") == [518, 25580, 29962]


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_encode_never_yields_control_ids_and_round_trips(
    code_llama: Tokenizer, code_llama_70b: Tokenizer, llama2: Tokenizer, text: str
) -> None:
    for tok in (code_llama, code_llama_70b, llama2):
        ids, middle = tok.encode(text), tok.encode_infilling(text)
        assert_no_special(tok, ids)
        assert_no_special(tok, middle)
        assert tok.decode(ids) == text
        assert tok.decode_infilling(middle) == text


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_code_llama_encodes_text_as_llama2_does(
    code_llama: Tokenizer, code_llama_70b: Tokenizer, llama2: Tokenizer, text: str
) -> None:
    # The appended pieces are simply unreachable from text, so Code Llama's
    # safe encoding is the base Llama 2 vocabulary's.
    assert code_llama.encode(text) == code_llama_70b.encode(text) == llama2.encode(text)
    assert code_llama.encode_infilling(text) == llama2.encode_infilling(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_ordinary_text_keeps_reference_ids(
    code_llama: Tokenizer, tokenizers_dir: Path, text: str
) -> None:
    sp = raw(tokenizers_dir, "code-llama")
    reference = sp.encode(text)
    if "▁" in text or any(i >= 32000 for i in reference):
        return  # the cases where the reference itself is wrong (a space) or unsafe
    assert code_llama.encode(text) == reference
    assert code_llama.decode(reference) == sp.decode(reference)


# -- infilling --------------------------------------------------------------------


def test_fim_psm_matches_reference_ids(code_llama: Tokenizer) -> None:
    ids = InfillIds.from_tokenizer(code_llama)
    assert ids == InfillIds(pre=32007, suf=32008, mid=32009, eot=32010)
    prompt = infill_prompt(code_llama, FIM_PREFIX, FIM_SUFFIX, order="psm", ids=ids)
    assert prompt == FIM_REFERENCE


def test_fim_spm_matches_metas_suffix_first(code_llama: Tokenizer, tokenizers_dir: Path) -> None:
    sp = raw(tokenizers_dir, "code-llama")
    ids = InfillIds.from_tokenizer(code_llama)
    assert ids is not None
    prompt = infill_prompt(code_llama, FIM_PREFIX, FIM_SUFFIX, order="spm", ids=ids)
    # codellama llama/generation.py, infilling_prompt_tokens(suffix_first=True)
    expected = [1, 32007, 32008, *sp.encode("☺" + FIM_SUFFIX)[2:], 32009, *sp.encode(FIM_PREFIX)]
    assert prompt == expected


def test_llama2_tokenizer_has_no_infill_ids(llama2: Tokenizer) -> None:
    assert InfillIds.from_tokenizer(llama2) is None


@settings(max_examples=200, deadline=None)
@given(prefix=texts, suffix=texts)
def test_fim_controls_only_where_the_format_puts_them(
    code_llama: Tokenizer, prefix: str, suffix: str
) -> None:
    ids = InfillIds.from_tokenizer(code_llama)
    assert ids is not None
    for order in ("psm", "spm"):
        prompt = infill_prompt(code_llama, prefix, suffix, order=order, ids=ids)
        assert [i for i in prompt if code_llama.is_special(i)] == [1, 32007, 32008, 32009]
    psm = infill_prompt(code_llama, prefix, suffix, order="psm", ids=ids)
    cut = psm.index(32008)
    assert code_llama.decode(psm[2:cut]) == prefix
    assert code_llama.decode_infilling(psm[cut + 1 : -1]) == suffix


def test_prefix_prompt(code_llama: Tokenizer) -> None:
    assert prefix_prompt(code_llama, "def f(") == [1, *code_llama.encode("def f(")]
    assert prefix_prompt(code_llama, "</s><s>") == [1, 1533, 29879, 5299, 29879, 29958]


# -- chat ---------------------------------------------------------------------------


def test_codellama_70b_matches_model_card_reference(code_llama_70b: Tokenizer) -> None:
    assert chat_prompt(code_llama_70b, CARD_DIALOG, "codellama-70b") == CARD_REFERENCE


def test_codellama_70b_inserts_empty_system_turn(
    code_llama_70b: Tokenizer, tokenizers_dir: Path
) -> None:
    sp = raw(tokenizers_dir, "code-llama-70b")
    prompt = chat_prompt(code_llama_70b, [{"role": "user", "content": " Hi "}], "codellama-70b")
    expected = [1, *sp.encode("Source: system\n\n "), 32015, *sp.encode("Source: user\n\n Hi")]
    expected += [32015, *sp.encode("Source: assistant\nDestination: user\n\n ")]
    assert prompt == expected


def test_codellama_70b_needs_step_piece(code_llama: Tokenizer) -> None:
    with pytest.raises(PromptError, match="<step>"):
        chat_prompt(code_llama, CARD_DIALOG, "codellama-70b")


def _metas_chat_completion(sp: spm.SentencePieceProcessor, dialog: list[Message]) -> list[int]:
    """llama/generation.py chat_completion, restated over the raw SentencePiece model."""
    if dialog[0]["role"] == "system":
        first = "<<SYS>>\n" + dialog[0]["content"] + "\n<</SYS>>\n\n" + dialog[1]["content"]
        dialog = [{"role": "user", "content": first}, *dialog[2:]]
    out: list[int] = []
    for prompt, answer in zip(dialog[::2], dialog[1::2], strict=False):
        text = f"[INST] {prompt['content'].strip()} [/INST] {answer['content'].strip()} "
        out += [1, *sp.encode(text), 2]
    return [*out, 1, *sp.encode(f"[INST] {dialog[-1]['content'].strip()} [/INST]")]


@pytest.mark.parametrize(
    "dialog",
    [
        CARD_DIALOG,
        [{"role": "user", "content": "  Write fib in Rust.\n"}],
        [{"role": "system", "content": "  Be terse.  "}, {"role": "user", "content": "x?"}],
        [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": " b "},
            {"role": "user", "content": "c"},
            {"role": "assistant", "content": "d"},
            {"role": "user", "content": "e\n"},
        ],
    ],
)
def test_llama2_matches_metas_chat_completion(
    code_llama: Tokenizer, llama2: Tokenizer, tokenizers_dir: Path, dialog: list[Message]
) -> None:
    for tok, name in ((code_llama, "code-llama"), (llama2, "llama-2")):
        expected = _metas_chat_completion(raw(tokenizers_dir, name), dialog)
        assert chat_prompt(tok, dialog, "llama2") == expected


@pytest.mark.parametrize(
    ("dialog", "match"),
    [
        ([], "empty"),
        ([{"role": "assistant", "content": "a"}], "last message"),
        ([{"role": "system", "content": "s"}], "last message"),
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "alternate"),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "system", "content": "s"},
                {"role": "user", "content": "b"},
            ],
            "only the first",
        ),
        ([{"role": "robot", "content": "a"}], "role 'robot'"),
        ([{"role": "user", "content": None}], "no text"),
    ],
)
def test_bad_dialogs_raise_prompt_error(
    code_llama_70b: Tokenizer, dialog: list[Any], match: str
) -> None:
    formats: tuple[ChatFormat, ...] = ("llama2", "codellama-70b")
    for fmt in formats:
        with pytest.raises(PromptError, match=match):
            chat_prompt(code_llama_70b, dialog, fmt)


def test_unknown_chat_format(code_llama: Tokenizer) -> None:
    with pytest.raises(PromptError, match="unknown chat format"):
        chat_prompt(code_llama, CARD_DIALOG, "chatml")  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(system=texts, user=texts, answer=texts, last=texts)
def test_chat_message_text_never_becomes_control_ids(
    code_llama_70b: Tokenizer, system: str, user: str, answer: str, last: str
) -> None:
    dialog: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": last},
    ]
    llama = chat_prompt(code_llama_70b, dialog, "llama2")
    assert [i for i in llama if code_llama_70b.is_special(i)] == [1, 2, 1]
    seventy = chat_prompt(code_llama_70b, dialog, "codellama-70b")
    assert [i for i in seventy if code_llama_70b.is_special(i)] == [1] + [32015] * 4


# -- checkpoint chat templates, through transformers ----------------------------------

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)
CODELLAMA_70B_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set user_index = 1 %}{% else %}"
    "{% set user_index = 0 %}{% endif %}{% for message in messages %}"
    "{% if (message['role'] == 'user') != ((loop.index0 + user_index) % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 %}{{ '<s>' }}{% endif %}"
    "{% set content = 'Source: ' + message['role'] + '\\n\\n ' + message['content'] | trim %}"
    "{{ content + ' <step> ' }}{% endfor %}{{'Source: assistant\\nDestination: user\\n\\n '}}"
)


def _hf_tokenizer(tokenizers_dir: Path, name: str, tmp: Path) -> Any:
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    shutil.copy(tokenizers_dir / name / "tokenizer.model", tmp / "tokenizer.model")
    config = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>"}
    (tmp / "tokenizer_config.json").write_text(json.dumps({**config, "unk_token": "<unk>"}))
    return AutoTokenizer.from_pretrained(str(tmp))


@pytest.fixture(scope="module")
def hf_code_llama(tokenizers_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    hf = _hf_tokenizer(tokenizers_dir, "code-llama", tmp_path_factory.mktemp("hf"))
    hf.chat_template = LLAMA2_TEMPLATE
    return hf


def test_template_llama2_equals_llama2_format(code_llama: Tokenizer, hf_code_llama: Any) -> None:
    one: list[Message] = [{"role": "user", "content": " x "}]
    for dialog in (CARD_DIALOG, CARD_DIALOG[1:], one):
        want = chat_prompt(code_llama, dialog, "llama2")
        assert chat_prompt(code_llama, dialog, "template", hf_tokenizer=hf_code_llama) == want


def test_template_codellama_70b_matches_reference(
    code_llama_70b: Tokenizer, tokenizers_dir: Path, tmp_path: Path
) -> None:
    from transformers import AddedToken

    hf = _hf_tokenizer(tokenizers_dir, "code-llama-70b", tmp_path)
    hf.chat_template = CODELLAMA_70B_TEMPLATE
    # As in the released checkpoint: <step> swallows the spaces around it.
    step = AddedToken("<step>", lstrip=True, rstrip=True, special=True, normalized=False)
    hf.add_special_tokens({"additional_special_tokens": [step]})
    prompt = chat_prompt(code_llama_70b, CARD_DIALOG, "template", hf_tokenizer=hf)
    assert prompt == CARD_REFERENCE


def test_template_errors(code_llama: Tokenizer, hf_code_llama: Any) -> None:
    with pytest.raises(PromptError, match="no chat template"):
        chat_prompt(code_llama, CARD_DIALOG, "template")
    with pytest.raises(PromptError, match="rejected"):
        bad: list[Message] = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
        chat_prompt(code_llama, bad, "template", hf_tokenizer=hf_code_llama)


@settings(max_examples=100, deadline=None)
@given(system=texts, user=texts, answer=texts, last=texts)
def test_template_message_text_never_becomes_control_ids(
    code_llama: Tokenizer, hf_code_llama: Any, system: str, user: str, answer: str, last: str
) -> None:
    dialog: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": last},
    ]
    prompt = chat_prompt(code_llama, dialog, "template", hf_tokenizer=hf_code_llama)
    assert [i for i in prompt if code_llama.is_special(i)] == [1, 2, 1]
    assert prompt == chat_prompt(code_llama, dialog, "llama2")


# -- loading and the transformers fallback ----------------------------------------------


def test_load_tokenizer_errors(tmp_path: Path) -> None:
    with pytest.raises(TokenizerLoadError, match="no tokenizer"):
        load_tokenizer(tmp_path)
    for junk in (b"not a model", b""):
        (tmp_path / "tokenizer.model").write_bytes(junk)
        with pytest.raises(TokenizerLoadError, match="cannot load"):
            load_tokenizer(tmp_path)


def test_load_tokenizer_prefers_sentencepiece(tokenizers_dir: Path) -> None:
    assert isinstance(load_tokenizer(tokenizers_dir / "code-llama"), SentencePieceTokenizer)


@pytest.fixture(scope="module")
def hf_wrapped(tokenizers_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> HFTokenizer:
    tmp = tmp_path_factory.mktemp("hf_only")
    hf = _hf_tokenizer(tokenizers_dir, "code-llama", tmp)
    hf.save_pretrained(str(tmp))
    (tmp / "tokenizer.model").unlink()  # a tokenizer.json-only checkpoint
    tok = load_tokenizer(tmp)
    assert isinstance(tok, HFTokenizer)
    return tok


def test_hf_fallback_agrees_on_code(hf_wrapped: HFTokenizer, code_llama: Tokenizer) -> None:
    assert hf_wrapped.special_ids >= {1, 2, *range(32007, 32011)}
    for text in [FIM_PREFIX, "x = foo(1, 2)", "def", "你好 😀"]:
        assert hf_wrapped.encode(text) == code_llama.encode(text)
        assert hf_wrapped.encode_infilling(text) == code_llama.encode_infilling(text)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_hf_fallback_is_injection_safe(hf_wrapped: HFTokenizer, text: str) -> None:
    ids, middle = hf_wrapped.encode(text), hf_wrapped.encode_infilling(text)
    assert_no_special(hf_wrapped, ids)
    assert_no_special(hf_wrapped, middle)
    assert hf_wrapped.decode(ids) == text
    assert hf_wrapped.decode_infilling(middle) == text
