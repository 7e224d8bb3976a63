"""The LSP host link's small parts: its state enum, back-off, and the check of host answers."""

from __future__ import annotations

import pytest

from lsp_server.host import HostState
from lsp_server.host.connection import BACKOFF_S, Backoff
from lsp_server.host.link import _GENERATE_KEYS, _checked
from model_host.rpc.protocol import ErrorCode, RpcError

GOOD = {
    "text": "x = 1",
    "finish_reason": "end",
    "prompt_tokens": 3,
    "generated_tokens": 4,
    "timings": {"total_ms": 1.0},
    "mode": "infill",
}


def test_host_states_read_from_the_host() -> None:
    assert HostState.of("loading", HostState.READY) is HostState.LOADING
    assert HostState.of(None, HostState.READY) is HostState.READY
    # A state this client does not know: not ready, not failed, not "loading".
    assert HostState.of("warming", HostState.READY) is HostState.STARTING
    assert HostState.DISCONNECTED == "disconnected"  # what tandem/status shows


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff()
    delays = [backoff.failed() for _ in range(len(BACKOFF_S) + 2)]
    assert delays == [*BACKOFF_S, BACKOFF_S[-1], BACKOFF_S[-1]]
    assert backoff.waiting()
    backoff.retry_now()
    assert not backoff.waiting() and backoff.failures == len(delays)
    backoff.reset()
    assert backoff.failures == 0 and backoff.failed() == BACKOFF_S[0]


def test_a_well_formed_answer_passes_whole() -> None:
    assert _checked("complete", dict(GOOD), _GENERATE_KEYS) == GOOD


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (["x = 1"], "with list, not a map"),
        ({k: v for k, v in GOOD.items() if k != "text"}, "no valid 'text'"),
        ({**GOOD, "generated_tokens": "4"}, "no valid 'generated_tokens'"),
        ({**GOOD, "prompt_tokens": True}, "no valid 'prompt_tokens'"),
    ],
)
def test_a_malformed_answer_is_a_clear_error(answer: object, says: str) -> None:
    with pytest.raises(RpcError) as err:
        _checked("complete", answer, _GENERATE_KEYS)
    assert err.value.code == ErrorCode.INTERNAL_ERROR
    assert says in err.value.message and "complete" in err.value.message
