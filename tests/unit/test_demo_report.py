"""The demo's last line: what the host did for its completion and its chat, from the host's counters."""

from __future__ import annotations

from lsp_server.demo import served_line


def counts(served: int, cancelled: int = 0, failed: int = 0) -> dict[str, int]:
    return {"served": served, "cancelled": cancelled, "failed": failed}


def host(served: int, cancelled: int = 0, failed: int = 0) -> dict[str, object]:
    return {**counts(served, cancelled, failed), "latency_ms": {"p50": 12.5, "p95": 40.0}}


def test_a_completion_stopped_at_its_decision_is_served_too() -> None:
    line = served_line(counts(5, 1), counts(5, 2), host(6, 2))
    assert line == (
        "host served 2 requests (1 completion stopped at its decision, 1 chat finished); "
        "finished requests took p50 12.5 ms, p95 40.0 ms"
    )


def test_each_fate_as_counted() -> None:
    assert served_line(counts(0), counts(1), host(1, 0, 1)).startswith(
        "host served 2 requests (1 completion finished, 1 chat failed)"
    )
    # The typed-ahead cache (or a window with no room) answers without the host.
    assert served_line(counts(3), counts(3), host(4)).startswith(
        "host served 1 request (the completion asked the host nothing, 1 chat finished)"
    )
