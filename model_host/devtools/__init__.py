"""Tools for tests and benchmarks: model shapes and tiny random checkpoints."""
