"""The generation pump against a scripted backend: text, stop strings, streaming, limits, a cancel's partial answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from model_host.backends.base import Delta, GenerateRequest
from model_host.checkpoint.load import Checkpoint
from model_host.checkpoint.profile import ModelProfile
from model_host.methods.generate import Generation, Prompt
from model_host.methods.params import GenerateParams
from model_host.rpc.messages import StreamNote
from model_host.rpc.protocol import ErrorCode, RpcError
from model_host.text.tokenizer import SentencePieceTokenizer

EOS = 2


class ScriptedBackend:
    """Streams prepared deltas; remembers the request and whether its stream was closed early."""

    name = "scripted"

    def __init__(self, deltas: list[Delta], pause: asyncio.Event | None = None) -> None:
        self.deltas = deltas
        self.pause = pause
        self.request: GenerateRequest | None = None
        self.closed_early = False

    async def generate(self, request: GenerateRequest) -> AsyncGenerator[Delta, None]:
        self.request = request
        sent = 0
        try:
            for delta in self.deltas:
                yield delta
                sent += 1
                if self.pause is not None:
                    await self.pause.wait()
        finally:
            self.closed_early = sent < len(self.deltas)


def _checkpoint(tok: SentencePieceTokenizer, window: int = 64) -> Checkpoint:
    profile = ModelProfile(
        name="scripted",
        context_window=window,
        vocab_size=tok.vocab_size,
        can_infill=False,
        chat_format="llama2",
        stop_ids=(EOS,),
        infill=None,
    )
    return Checkpoint(tok, profile)


def _params(
    max_tokens: int = 32, stop: tuple[str, ...] = (), stream: bool = False
) -> GenerateParams:
    return GenerateParams(max_tokens, 0.0, 1.0, stop, None, stream)


def _generation(
    tok: SentencePieceTokenizer, backend: ScriptedBackend, gen: GenerateParams, prompt_len: int = 4
) -> Generation:
    return Generation(
        backend,
        _checkpoint(tok),
        Prompt(list(range(10, 10 + prompt_len)), "prefix"),
        gen,
        strip_leading_space=False,
        priority=0,
        msgid=7,
    )


async def test_text_streams_in_order_and_the_answer_is_its_sum(
    llama2: SentencePieceTokenizer,
) -> None:
    ids = llama2.encode("def add(a, b):")
    backend = ScriptedBackend(
        [Delta(ids[:2]), Delta(ids[2:], cached_tokens=3), Delta([EOS], "end")]
    )
    notes: list[StreamNote] = []

    async def sink(note: StreamNote) -> None:
        notes.append(note)

    out = await _generation(llama2, backend, _params(stream=True)).run(sink)

    assert out["finish_reason"] == "end"
    assert out["generated_tokens"] == len(ids) + 1
    assert out["timings"]["cached_tokens"] == 3
    assert "".join(n["text"] for n in notes) == out["text"]
    assert out["text"].strip() == "def add(a, b):"
    assert [n["index"] for n in notes] == list(range(len(notes)))
    assert {n["id"] for n in notes} == {7}


async def test_a_stop_string_ends_it_and_closes_the_backend_stream(
    llama2: SentencePieceTokenizer,
) -> None:
    ids = llama2.encode("one\n\ntwo three four")
    backend = ScriptedBackend([Delta([i]) for i in ids] + [Delta([EOS], "end")])

    out = await _generation(llama2, backend, _params(stop=("\n\n",))).run()

    assert out["finish_reason"] == "stop"
    assert out["text"].strip() == "one"
    assert backend.closed_early


async def test_max_tokens_is_clipped_to_what_the_window_leaves(
    llama2: SentencePieceTokenizer,
) -> None:
    backend = ScriptedBackend([Delta([EOS], "end")])
    await _generation(llama2, backend, _params(max_tokens=1000), prompt_len=60).run()
    assert backend.request is not None
    assert backend.request.max_tokens == 4  # a 64-token window, 60 of them the prompt


def test_a_prompt_that_fills_the_window_is_refused_before_the_backend(
    llama2: SentencePieceTokenizer,
) -> None:
    backend = ScriptedBackend([])
    with pytest.raises(RpcError) as err:
        _generation(llama2, backend, _params(), prompt_len=64)
    assert err.value.code == ErrorCode.CONTEXT_OVERFLOW
    assert backend.request is None


async def test_a_cancelled_generation_keeps_what_it_had(llama2: SentencePieceTokenizer) -> None:
    ids = llama2.encode("hello world")
    pause = asyncio.Event()
    backend = ScriptedBackend([Delta(ids), Delta([EOS], "end")], pause=pause)
    generation = _generation(llama2, backend, _params())
    task = asyncio.create_task(generation.run())
    while generation.generated == 0:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    partial = generation.partial()
    assert partial["generated_tokens"] == len(ids)
    assert partial["text"].strip() == "hello world"
    assert partial["timings"]["prompt_tokens"] == 4
    assert backend.closed_early
