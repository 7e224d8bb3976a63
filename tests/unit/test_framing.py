"""The host's message framing on its own: any chunking of any msgpack stream, and every bound."""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_host.rpc.framing import BadMessage, FrameDecoder, FrameError, pack
from model_host.rpc.protocol import MAX_NESTING, ErrorCode

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | st.binary(max_size=300)
    | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=40))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=8), inner, max_size=20)
    ),
    max_leaves=60,
)


def decode_all(data: bytes, cuts: list[int], limit: int = 1 << 20) -> list[Any]:
    decoder = FrameDecoder(limit)
    out: list[Any] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        decoder.feed(data[start:cut])
        out.extend(decoder.messages())
        start = cut
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=1, max_size=8), st.data())
def test_any_chunking_gives_the_messages_msgpack_would(messages: list[Any], data: Any) -> None:
    stream = b"".join(msgpack.packb(m, use_bin_type=True) for m in messages)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(stream)
    expected = list(unpacker)
    assert decode_all(stream, cuts) == expected


def test_a_message_over_the_limit_is_refused_while_it_arrives() -> None:
    decoder = FrameDecoder(1000)
    big = msgpack.packb([0, 1, "x", {"a": "y" * 600, "b": "z" * 600}])
    decoder.feed(big[:300])
    assert list(decoder.messages()) == []  # so far within the limit
    decoder.feed(big[300:700])  # the second string's header declares past it
    with pytest.raises(FrameError) as err:
        list(decoder.messages())
    assert err.value.code == ErrorCode.FRAME_TOO_LARGE


@pytest.mark.parametrize(
    "header",
    [
        b"\xdb" + struct.pack(">I", 0xFFFFFFFF),  # str32
        b"\xc6" + struct.pack(">I", 0xFFFFFFFF),  # bin32
        b"\xc9" + struct.pack(">I", 0xFFFFFFFF) + b"\x01",  # ext32
        b"\xdd" + struct.pack(">I", 0xFFFFFFFF),  # array32: each item takes a byte at least
        b"\xdf" + struct.pack(">I", 0x7FFFFFFF),  # map32
    ],
)
def test_a_declared_length_over_the_limit_is_refused_before_its_bytes(header: bytes) -> None:
    decoder = FrameDecoder(1 << 20)
    decoder.feed(b"\x94\x00\x01\xa1x" + header)
    with pytest.raises(FrameError) as err:
        list(decoder.messages())
    assert err.value.code == ErrorCode.FRAME_TOO_LARGE


def test_nesting_and_reserved_bytes_are_parse_errors() -> None:
    deep = FrameDecoder()
    deep.feed(b"\x91" * (MAX_NESTING + 1))
    with pytest.raises(FrameError) as err:
        list(deep.messages())
    assert err.value.code == ErrorCode.PARSE_ERROR
    reserved = FrameDecoder()
    reserved.feed(b"\xc1")
    with pytest.raises(FrameError):
        list(reserved.messages())


def test_undecodable_framed_messages_are_reported_and_the_stream_goes_on() -> None:
    decoder = FrameDecoder()
    array_key = msgpack.packb([0, 7, "status", {(1,): 1}])
    bad_utf8 = b"\x94\x00\x08\xa6status\x81\xa1t\xa2\xff\xfe"
    decoder.feed(array_key + bad_utf8 + msgpack.packb([0, 9, "status", {}]))
    first, second, third = decoder.messages()
    assert isinstance(first, BadMessage) and first.msgid == 7
    assert "map key" in first.error.message
    assert isinstance(second, BadMessage) and second.msgid == 8
    assert "UTF-8" in second.error.message
    assert third == [0, 9, "status", {}]


def test_lone_surrogates_are_packed_as_replacement() -> None:
    assert msgpack.unpackb(pack([2, "x", "a\ud800b"])) == [2, "x", "a?b"]
