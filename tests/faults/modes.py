"""How hard the fault suite pushes: a quick mode for every test run, a long one for the record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    fuzz_frames: int
    pipelined: int
    cancel_storm: int
    clients: int
    requests_per_client: int
    memory_requests: int
    edits: int
    big_message_mib: int
    lsp_servers: int
    lsp_fuzz: int


QUICK = Mode(
    name="quick",
    fuzz_frames=2_000,
    pipelined=100_000,
    cancel_storm=200,
    clients=16,
    requests_per_client=20,
    memory_requests=10_000,
    edits=40_000,
    big_message_mib=64,
    lsp_servers=3,
    lsp_fuzz=500,
)

LONG = Mode(
    name="long",
    fuzz_frames=10_000,
    pipelined=400_000,
    cancel_storm=1_000,
    clients=32,
    requests_per_client=50,
    memory_requests=10_000,
    edits=40_000,
    big_message_mib=400,
    lsp_servers=8,
    lsp_fuzz=3_000,
)
