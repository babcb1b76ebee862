"""Benchmarks: `make bench`. Each module has `run() -> dict`; ratios inside one run are what count."""
