"""Tandem's language server: documents, context and suggestions over the model host."""

__version__ = "0.1.0"
