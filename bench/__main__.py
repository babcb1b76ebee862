"""Run every benchmark module under bench/ and print its results as JSON."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

SKIP = {"common"}


def main() -> None:
    selected = set(sys.argv[1:])
    folder = Path(__file__).parent
    results = {}
    for module in sorted(m.name for m in pkgutil.iter_modules([str(folder)])):
        if module in SKIP or (selected and module not in selected):
            continue
        loaded = importlib.import_module(f"bench.{module}")
        if hasattr(loaded, "run"):
            print(f"running bench.{module} ...", file=sys.stderr, flush=True)
            results[module] = loaded.run()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
