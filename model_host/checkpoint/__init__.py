"""A checkpoint on disk: find it, read its profile and tokenizer, load its weights."""
