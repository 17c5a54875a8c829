"""Performance benchmarks (not part of the default test run): ``python -m tests.perf.run``."""
