"""Builds the web app: web/ -> .build/web/ with content-hashed asset names (docs/web.md).

Every JavaScript module and the stylesheet are written to `assets/<name>.<hash>.<ext>`, the
imports between modules rewritten to those names (leaves first, so a change anywhere renames every
module that depends on it), and `index.html` names them, with a modulepreload for each module so
the browser fetches them all at once instead of one import level at a time.

    python -m tools.build_web            # build, print the first-load size
    python -m tools.build_web --check    # also fail when over the first-load budget

No dependencies: the standard library only, so the build needs nothing that could go missing.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import posixpath
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE = REPO_ROOT / "web"
OUT = REPO_ROOT / ".build" / "web"
ASSETS = "assets"
ENTRY_SCRIPT = "js/main.js"
STYLESHEET = "app.css"
# Everything a first visit downloads (index.html, the stylesheet, every module), each
# gzip-compressed as CloudFront serves it: at most 50 KB.
FIRST_LOAD_BUDGET_BYTES = 50 * 1024

# `import ... from "./x.js"`, `export ... from "./x.js"` and `import("./x.js")`.
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}/[^"']+)\2""")
_LINE_COMMENT = re.compile(r"^\s*//.*\n", re.MULTILINE)


@dataclass
class Built:
    out: Path
    files: dict[str, bytes] = field(default_factory=dict)  # path under out -> content

    def first_load(self) -> dict[str, tuple[int, int]]:
        """Each file of the first load: (raw bytes, gzip bytes)."""
        return {
            name: (len(data), len(gzip.compress(data, compresslevel=9, mtime=0)))
            for name, data in self.files.items()
        }

    def first_load_gzip_bytes(self) -> int:
        return sum(size for _, size in self.first_load().values())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


def _imports(text: str, module: str) -> list[str]:
    base = posixpath.dirname(module)
    return [posixpath.normpath(posixpath.join(base, m.group(3))) for m in _IMPORT.finditer(text)]


def _order(modules: dict[str, str]) -> list[str]:
    """Modules, each after everything it imports."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            raise ValueError(f"import cycle through {module}")
        if module not in modules:
            raise ValueError(f"{module} is imported but does not exist")
        visiting.add(module)
        for dependency in _imports(modules[module], module):
            visit(dependency)
        visiting.discard(module)
        done.append(module)

    for module in sorted(modules):
        visit(module)
    return done


def _hashed(name: str, data: bytes) -> str:
    stem, ext = posixpath.splitext(posixpath.basename(name))
    return f"{ASSETS}/{stem}.{_digest(data)}{ext}"


def build(source: Path = SOURCE, out: Path = OUT) -> Built:
    modules = {
        path.relative_to(source).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((source / "js").rglob("*.js"))
    }
    names: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for module in _order(modules):

        def rename(match: re.Match[str], module: str = module) -> str:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(module), match.group(3)))
            quote = match.group(2)
            return f"{match.group(1)}{quote}./{posixpath.basename(names[target])}{quote}"

        text = _LINE_COMMENT.sub("", _IMPORT.sub(rename, modules[module]))
        data = text.encode()
        name = _hashed(module, data)
        if name in files:
            raise ValueError(f"two modules would be written as {name}")
        names[module] = name
        files[name] = data
    css = (source / STYLESHEET).read_bytes()
    css_name = _hashed(STYLESHEET, css)
    files[css_name] = css
    entry = names[ENTRY_SCRIPT]
    preloads = "".join(
        f'<link rel="modulepreload" href="{name}">\n'
        for module, name in names.items()
        if module != ENTRY_SCRIPT
    )
    index = (source / "index.html").read_text(encoding="utf-8")
    for original, hashed in (
        (f'href="{STYLESHEET}"', f'href="{css_name}"'),
        (f'src="{ENTRY_SCRIPT}"', f'src="{entry}"'),
    ):
        if original not in index:
            raise ValueError(f"index.html does not reference {original}")
        index = index.replace(original, hashed)
    index = index.replace("</head>", f"{preloads}</head>")
    files["index.html"] = index.encode()
    _write(out, files)
    return Built(out=out, files=files)


def _write(out: Path, files: dict[str, bytes]) -> None:
    """Each file replaced atomically (several local servers may build at once), index.html last
    so it never names an asset not yet written; assets of earlier builds are removed."""
    (out / ASSETS).mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda n: n == "index.html"):
        target = out / name
        if target.exists() and target.read_bytes() == files[name]:
            continue
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(files[name])
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    for stale in (out / ASSETS).iterdir():
        if f"{ASSETS}/{stale.name}" not in files and not stale.name.startswith(".tmp-"):
            stale.unlink(missing_ok=True)


def report(built: Built) -> str:
    lines = [f"{'file':<40} {'bytes':>8} {'gzip':>8}"]
    for name, (raw, packed) in sorted(built.first_load().items()):
        lines.append(f"{name:<40} {raw:>8} {packed:>8}")
    total = built.first_load_gzip_bytes()
    lines.append(
        f"first load: {total} bytes gzip ({total / 1024:.1f} KB) of a "
        f"{FIRST_LOAD_BUDGET_BYTES // 1024} KB budget"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_web", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="fail when over the budget")
    args = parser.parse_args(argv)
    built = build(SOURCE, args.out)
    print(report(built))
    if args.check and built.first_load_gzip_bytes() > FIRST_LOAD_BUDGET_BYTES:
        print("over the first-load budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
