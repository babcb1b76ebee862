"""`make cost`: price every environment of a synthesized assembly.

    python -m tools.cost_model [ASSEMBLY_DIR] [--json] [--write] [--check]

ASSEMBLY_DIR defaults to .build/cdk.lint (what `make cost` synthesizes). Prints the tables;
--json prints the JSON document instead; --write regenerates squrl_config/cost_at_rest.json and
the marked blocks of README.md, docs/deploy.md and docs/cost.md; --check exits 1 when any of them
differs from what the model computes now.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from squrl_config import load_config
from squrl_config.cost_at_rest import FIGURES, shape_of
from tools.cost_model.assembly import read_assembly
from tools.cost_model.prices import Prices
from tools.cost_model.report import build, marked_files, plain, render_blocks

ROOT = Path(__file__).resolve().parents[2]


def compute(assembly: Path, cdk_json: Path = ROOT / "cdk.json") -> dict[str, Any]:
    config = load_config(json.loads(cdk_json.read_text())["context"])
    shapes = {name: shape_of(env) for name, env in config.environments.items()}
    return build(read_assembly(assembly), Prices.load(), shapes)


def figures_json(output: dict[str, Any]) -> str:
    return json.dumps(output, indent=2, ensure_ascii=False) + "\n"


def generated(output: dict[str, Any], root: Path = ROOT) -> dict[Path, str]:
    """Every generated file and the content the model gives it now."""
    files = {FIGURES: figures_json(output)}
    for path in marked_files(root):
        if path.exists():
            files[path] = render_blocks(path.read_text(), output)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost_model")
    parser.add_argument("assembly", nargs="?", default=str(ROOT / ".build" / "cdk.lint"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    output = compute(Path(args.assembly))
    print(figures_json(output) if args.json else plain(output), end="")
    stale = [p for p, text in generated(output).items() if not p.exists() or p.read_text() != text]
    if args.write:
        for path, text in generated(output).items():
            path.write_text(text)
        print(f"wrote {len(generated(output))} files", file=sys.stderr)
        return 0
    if args.check and stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"out of date with the model: {names}; run `make cost`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
