"""Streaming detokenization and stop strings, against the real Code Llama tokenizer."""

from __future__ import annotations

import itertools
from pathlib import Path

import sentencepiece as spm
from hypothesis import given, settings
from hypothesis import strategies as st

from model_host.text.detok import StopMatcher, StreamDecoder
from model_host.text.tokenizer import Tokenizer


def stream(tok: Tokenizer, ids: list[int], *, strip: bool) -> list[str]:
    dec = StreamDecoder(tok, strip_leading_space=strip)
    return [dec.push(i) for i in ids] + [dec.flush()]


def test_leading_space_dropped_for_chat_kept_for_infill(code_llama: Tokenizer) -> None:
    ids = code_llama.encode("Hello  world")
    assert code_llama.piece(ids[0]) == "▁Hello"
    assert "".join(stream(code_llama, ids, strip=True)) == "Hello  world"
    middle = code_llama.encode_infilling(" x = 1")
    assert "".join(stream(code_llama, middle, strip=False)) == " x = 1"
    assert "".join(stream(code_llama, middle, strip=True)) == "x = 1"


def test_only_one_leading_space_is_dropped(code_llama: Tokenizer) -> None:
    ids = code_llama.encode("   indented")
    assert "".join(stream(code_llama, ids, strip=True)) == "   indented"


def test_emoji_over_byte_fallback_pieces_comes_out_whole(code_llama: Tokenizer) -> None:
    ids = code_llama.encode_infilling("😀!")
    assert [code_llama.piece(i) for i in ids] == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "!"]
    assert stream(code_llama, ids, strip=False) == ["", "", "", "😀", "!", ""]


def test_cjk_pieces_and_rare_cjk_bytes(code_llama: Tokenizer) -> None:
    text = "你好 𠀋"  # a common pair with their own pieces, then a rare one in bytes
    ids = code_llama.encode_infilling(text)
    assert any(code_llama.piece(i).startswith("<0x") for i in ids)
    parts = stream(code_llama, ids, strip=False)
    assert "".join(parts) == text
    assert all("\ufffd" not in p for p in parts)


def test_control_ids_add_nothing(code_llama: Tokenizer) -> None:
    dec = StreamDecoder(code_llama, strip_leading_space=True)
    for control in (1, 2, 0, 32007, 32010, 32015):
        assert dec.push(control) == ""
    assert dec.push(code_llama.encode("x")[0]) == "x"
    assert code_llama.token_bytes(1) == b""
    assert code_llama.token_bytes(29871) == b" "
    assert code_llama.token_bytes(13) == b"\n"


def test_flush_marks_an_unfinished_character(code_llama: Tokenizer) -> None:
    dec = StreamDecoder(code_llama, strip_leading_space=False)
    assert dec.push(code_llama.piece_id("<0xF0>") or -1) == ""
    assert dec.flush() == "\ufffd"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=30))
def test_pushes_are_whole_characters_and_add_up(
    code_llama: Tokenizer, tokenizers_dir: Path, text: str
) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(tokenizers_dir / "code-llama/tokenizer.model"))
    for strip, ids in ((True, code_llama.encode(text)), (False, code_llama.encode_infilling(text))):
        parts = stream(code_llama, ids, strip=strip)
        assert "".join(parts) == text
        assert all("\ufffd" not in p for p in parts) or "\ufffd" in text
        if strip and "▁" not in text:
            assert "".join(parts) == sp.decode(ids)


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(st.integers(min_value=0, max_value=32015), max_size=30))
def test_any_ids_stream_like_decode(code_llama: Tokenizer, ids: list[int]) -> None:
    assert "".join(stream(code_llama, ids, strip=True)) == code_llama.decode(ids)
    assert "".join(stream(code_llama, ids, strip=False)) == code_llama.decode_infilling(ids)


# -- stop strings ---------------------------------------------------------------------


def run(stops: list[str], chunks: list[str]) -> tuple[list[str], bool, str]:
    matcher = StopMatcher(stops)
    out, hit = [], False
    for chunk in chunks:
        text, hit = matcher.feed(chunk)
        out.append(text)
        if hit:
            break
    return out, hit, matcher.flush()


def test_stop_in_one_chunk() -> None:
    assert run(["\n\n"], ["a\n\nb"]) == (["a"], True, "")


def test_stop_split_across_chunks() -> None:
    out, hit, rest = run(["</code>"], ["x = 1</", "co", "de> trailing"])
    assert (out, hit, rest) == (["x = 1", "", ""], True, "")


def test_partial_stop_held_then_released() -> None:
    out, hit, rest = run(["\n\n"], ["a\n", "b\n"])
    assert (out, hit, rest) == (["a", "\nb"], False, "\n")


def test_earliest_stop_wins() -> None:
    assert run(["END", "\n"], ["ab\ncdEND"]) == (["ab"], True, "")
    # "bc" is complete before "abcd" is, however the text is chunked.
    assert run(["bc", "abcd"], ["xabcd"]) == (["xa"], True, "")
    assert run(["bc", "abcd"], ["xab", "cd"]) == (["x", "a"], True, "")


def test_no_stops_and_empty_stops_pass_through() -> None:
    assert run([], ["a", "b"]) == (["a", "b"], False, "")
    assert run([""], ["a"]) == (["a"], False, "")


def test_feed_after_stop_gives_nothing() -> None:
    matcher = StopMatcher(["x"])
    assert matcher.feed("axb") == ("a", True)
    assert matcher.feed("more") == ("", True)
    assert matcher.flush() == ""
    assert matcher.stopped


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="ab\n<>/", max_size=30),
    stops=st.lists(st.text(alphabet="ab\n<>/", min_size=1, max_size=4), max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=6),
)
def test_stop_matcher_equals_cutting_the_whole_text(
    text: str, stops: list[str], cuts: list[int]
) -> None:
    bounds = [0, *sorted(cuts), len(text)]
    chunks = [text[a:b] for a, b in itertools.pairwise(bounds)]
    out, hit, rest = run(stops, chunks)
    found = [(i + len(s), i) for s, i in ((s, text.find(s)) for s in stops) if i >= 0]
    if found:
        assert hit and "".join(out) == text[: min(found)[1]] and rest == ""
    else:
        assert not hit and "".join(out) + rest == text
