"""Benchmarks of the UGC pipeline; run with `python -m benchmarks` (see README.md)."""
