"""Deterministic sample session logs for the demo home, docs examples and benchmarks (see ``generator``)."""
