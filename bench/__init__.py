"""Benchmarks (`make bench`): each module has `run() -> dict`; compare ratios within one run."""
