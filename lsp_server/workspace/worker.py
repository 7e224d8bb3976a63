"""The indexing subprocess: `python -m lsp_server.workspace.worker` parses batches of files.

Frames on stdin and stdout are an 8-byte big-endian length and a pickle: in, a
`(items, max_bytes)` batch (paths the server already checked lie inside the workspace); out,
the list of records. The server starts this process itself, so the pickles are trusted. A
process of its own (not `multiprocessing`) imports nothing of the server's `__main__`.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import IO, Any

from .records import lower_priority, parse_batch

_HEADER = struct.Struct(">Q")
MAX_FRAME = 1 << 30


def read_frame(stream: IO[bytes]) -> Any:
    """One pickled value, or None at end of stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def write_frame(stream: IO[bytes], value: Any) -> None:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def main() -> None:
    lower_priority()
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        batch = read_frame(source)
        if batch is None:
            return
        items, max_bytes = batch
        write_frame(sink, parse_batch(items, max_bytes))


if __name__ == "__main__":
    main()
