"""The host's RPC methods: dispatch, load state, generation, token counting, parameter parsing."""
