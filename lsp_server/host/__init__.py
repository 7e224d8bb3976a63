"""The LSP server's link to the model host.

- `link.py`: `HostLink`, the host's methods as typed calls (complete, chat, prompt,
  count_tokens, status);
- `connection.py`: its connection: states (`HostState`), back-off, reconnecting;
- `supervisor.py`: starting a host when none listens, watching it, a failed start remembered;
- `reach.py`: connecting to an address and saying hello (`HostUnavailable`).
"""

from .connection import HostState
from .link import HostLink
from .reach import HostUnavailable

__all__ = ["HostLink", "HostState", "HostUnavailable"]
