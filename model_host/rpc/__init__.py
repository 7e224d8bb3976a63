"""msgpack-rpc as neovim speaks it: protocol constants, framing, sessions, addresses, client."""
