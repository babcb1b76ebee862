"""Run every benchmark module under bench/ and print its results as JSON.

python -m bench                      every benchmark
python -m bench soak --minutes 1     one benchmark, with the options its `run` takes
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path

SKIP = {"common"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("modules", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--minutes", type=float, help="how long a timed benchmark (soak) runs")
    arguments = parser.parse_args()
    options = {"minutes": arguments.minutes} if arguments.minutes is not None else {}
    selected = set(arguments.modules)
    folder = Path(__file__).parent
    results = {}
    for module in sorted(m.name for m in pkgutil.iter_modules([str(folder)])):
        if module in SKIP or (selected and module not in selected):
            continue
        loaded = importlib.import_module(f"bench.{module}")
        if hasattr(loaded, "run"):
            print(f"running bench.{module} ...", file=sys.stderr, flush=True)
            accepted = inspect.signature(loaded.run).parameters
            results[module] = loaded.run(**{k: v for k, v in options.items() if k in accepted})
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
