"""Tandem's model host: Code Llama on a GPU behind a msgpack-rpc socket."""

__version__ = "0.1.0"
