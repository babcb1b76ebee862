"""Write docs/openapi.json from the route table and the models (`make openapi`), or with
`--check` fail when the committed copy is not what the code generates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.openapi import document_text

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    text = document_text()
    if parser.parse_args(argv).check:
        current = COMMITTED.exists() and COMMITTED.read_text(encoding="utf-8") == text
        if not current:
            print(f"{COMMITTED.name} is not current: run `make openapi`.", file=sys.stderr)
        return 0 if current else 1
    COMMITTED.write_text(text, encoding="utf-8")
    print(f"wrote {COMMITTED.relative_to(COMMITTED.parents[1])} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
