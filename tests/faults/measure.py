"""Figures for the fault suite: resident memory of a process, timings, and the report table."""

from __future__ import annotations

from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Resident set size of a live process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


MIB = 1024 * 1024
