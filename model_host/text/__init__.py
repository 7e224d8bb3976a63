"""The text contract: tokenizer, prompt formats, detokenizing, stop strings, results; no torch."""
