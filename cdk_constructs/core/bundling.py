"""Docker-free bundling of a function's Lambda asset.

The asset mirrors the repository, so the handler imports the same way in tests and in Lambda:

    functions/__init__.py
    functions/<name>/...        the handler package
    shared/...                  the runtime library every function imports
    <dependencies>              pip-installed for Lambda's platform from
                                functions/<name>/requirements.txt, at the versions
                                requirements.lock pins

The lock is pip's constraints file, so a bundle holds exactly the versions the tests ran
against, whatever ranges requirements.txt allows; a package the lock does not pin fails the
synth. Dependencies are installed once per (requirements, lock, architecture, Python version)
into `.build/deps/<key>/` and reused by later synths; assembled assets live in
`.build/assets/<name>-<arch>-<hash>/`, named by their content hash, so a repeated synth with
unchanged code does no copying and yields the same asset hash.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_DIR = REPO_ROOT / "shared"
BUILD_DIR = REPO_ROOT / ".build"
# Universal (uv pip compile --universal): entries may carry environment markers, which pip
# evaluates when it reads the file as constraints.
LOCK_FILE = REPO_ROOT / "requirements.lock"

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
# Bump when the bundling procedure changes in a way that alters assets with unchanged inputs.
BUNDLER_VERSION = "3"

STALE_ASSET_SECONDS = 24 * 3600

# Lambda's Python runtime ships these; bundling our own copy only adds 25 MB and a version skew.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})

# glibc 2.17 wheels run everywhere; 2.28 wheels also run on Amazon Linux 2023 (glibc 2.34),
# the base of the python3.13 runtime, and some projects publish only those.
_PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}

_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def _is_requirements_file(filename: str) -> bool:
    """`requirements.txt` and the per-feature `requirements-<feature>.txt`: install lists, not
    code, so never copied into a bundle."""
    return filename.startswith("requirements") and filename.endswith(".txt")


_DIST_INFO_NOISE = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class BundlingError(Exception):
    pass


@dataclass(frozen=True)
class FunctionAsset:
    name: str
    architecture: str
    path: Path
    asset_hash: str

    @property
    def handler(self) -> str:
        return f"functions.{self.name}.handler.handler"

    def code(self) -> lambda_.Code:
        return lambda_.Code.from_asset(
            str(self.path), asset_hash=self.asset_hash, asset_hash_type=AssetHashType.CUSTOM
        )


def _requirements(name: str, features: frozenset[str] = frozenset()) -> list[str]:
    """What `functions/<name>` installs: its `requirements.txt`, plus `requirements-<feature>.txt`
    for each feature the environment turns on (bundles by need: the DAX client only where DAX
    is on). A feature the function has no file for is an error, not a silent no-op."""
    paths = [FUNCTIONS_DIR / name / "requirements.txt"]
    for feature in sorted(features):
        path = FUNCTIONS_DIR / name / f"requirements-{feature}.txt"
        if not path.is_file():
            raise BundlingError(f"{name} has no {path.name} for feature {feature!r}")
        paths.append(path)
    lines = (
        line.split("#", 1)[0].strip()
        for path in paths
        if path.is_file()
        for line in path.read_text().splitlines()
    )
    # Comments and blank lines do not change what gets installed, so they do not change the key.
    return sorted(line for line in lines if line)


def _source_files(root: Path, base: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _EXCLUDED_DIRS)
        for filename in sorted(filenames):
            if filename.endswith(_EXCLUDED_SUFFIXES) or _is_requirements_file(filename):
                continue
            path = Path(dirpath) / filename
            yield path.relative_to(base).as_posix(), path


def _asset_sources(name: str) -> list[tuple[str, Path]]:
    function_dir = FUNCTIONS_DIR / name
    handler = function_dir / "handler.py"
    if not handler.is_file():
        raise BundlingError(f"{handler} is missing: every function needs handler.handler")
    files = [("functions/__init__.py", FUNCTIONS_DIR / "__init__.py")]
    files += _source_files(function_dir, REPO_ROOT)
    files += _source_files(SHARED_DIR, REPO_ROOT)
    return [(rel, path) for rel, path in files if path.is_file()]


def _digest(parts: Iterable[bytes]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()


def _prune_dependencies(target: Path) -> None:
    for entry in list(target.iterdir()):
        stem = entry.name.split("-", 1)[0].lower() if entry.is_dir() else entry.stem.lower()
        # bin/ and share/ are pip's scripts and data files (man pages), never imported.
        if entry.name in ("bin", "share") or stem in RUNTIME_PROVIDED:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for dirpath, dirnames, filenames in os.walk(target, topdown=True):
        for dirname in [d for d in dirnames if d in _EXCLUDED_DIRS]:
            shutil.rmtree(Path(dirpath) / dirname)
            dirnames.remove(dirname)
        in_dist_info = dirpath.endswith(".dist-info")
        for filename in filenames:
            if filename.endswith(_EXCLUDED_SUFFIXES) or (
                in_dist_info and filename in _DIST_INFO_NOISE
            ):
                (Path(dirpath) / filename).unlink()


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundlingError(f"{' '.join(command)} failed:\n{result.stderr[-4000:]}")


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares it: `Typing_Extensions` is `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(lock_text: str) -> dict[str, set[str]]:
    """Normalized name -> the versions the lock pins (two when markers choose between them)."""
    pins: dict[str, set[str]] = {}
    for line in lock_text.splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins.setdefault(_normalized(name.strip()), set()).add(version.strip())
    return pins


def installed_versions(site: Path) -> dict[str, str]:
    """Normalized name -> version of every distribution installed in `site` (its dist-info)."""
    versions: dict[str, str] = {}
    for dist_info in site.glob("*.dist-info"):
        name = version = None
        for line in (dist_info / "METADATA").read_text(errors="replace").splitlines():
            if line.startswith("Name:"):
                name = line.removeprefix("Name:").strip()
            elif line.startswith("Version:"):
                version = line.removeprefix("Version:").strip()
            elif not line:
                break  # the headers end at the first blank line
        if name is None or version is None:
            raise BundlingError(f"{dist_info.name} has no Name or Version in its METADATA")
        versions[_normalized(name)] = version
    return versions


def check_pinned(site: Path, lock_text: str) -> None:
    """Fail unless every distribution in `site` has a version the lock pins for it."""
    pins = lock_pins(lock_text)
    wrong = [
        f"{name} {version} (lock: {', '.join(sorted(pins[name])) if name in pins else 'absent'})"
        for name, version in sorted(installed_versions(site).items())
        if version not in pins.get(name, ())
    ]
    if wrong:
        raise BundlingError(
            "bundled packages differ from requirements.lock: "
            + "; ".join(wrong)
            + ". Add the package to pyproject.toml and regenerate the lock."
        )


def _install_dependencies(requirements: list[str], architecture: str) -> Path:
    """Install requirements for Lambda's platform once; later calls reuse the cached folder."""
    lock = LOCK_FILE.read_bytes()
    key = _digest(
        [BUNDLER_VERSION.encode(), PYTHON_VERSION.encode(), architecture.encode(), lock]
        + [line.encode() for line in requirements]
    )[:20]
    target = BUILD_DIR / "deps" / f"{architecture}-{key}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tmp-") as tmp:
        staging = Path(tmp) / "site"
        staging.mkdir()
        if requirements:
            req_file = Path(tmp) / "requirements.txt"
            req_file.write_text("\n".join(requirements) + "\n")
            wheelhouse = Path(tmp) / "wheels"
            # Some pure-Python projects (amazon-dax-client 2.x) publish only sdists, which
            # --only-binary refuses; building wheels of the direct requirements first lets the
            # platform-restricted install find them, and fails loudly for compiled sdists.
            # The lock as read for the cache key, so key and install cannot disagree.
            lock_copy = Path(tmp) / "requirements.lock"
            lock_copy.write_bytes(lock)
            constraints = ("--constraint", str(lock_copy))
            _pip(
                "wheel",
                "--quiet",
                "--no-deps",
                "--wheel-dir",
                str(wheelhouse),
                *constraints,
                "-r",
                str(req_file),
            )
            platforms = [arg for p in _PLATFORMS[architecture] for arg in ("--platform", p)]
            _pip(
                "install",
                "--quiet",
                "--no-compile",
                "--upgrade",
                *platforms,
                "--python-version",
                PYTHON_VERSION,
                "--implementation",
                "cp",
                "--only-binary=:all:",
                "--find-links",
                str(wheelhouse),
                "--target",
                str(staging),
                *constraints,
                "-r",
                str(req_file),
            )
            _prune_dependencies(staging)
            check_pinned(staging, lock.decode())
        try:
            staging.rename(target)
        except OSError:
            # Another process finished the same install first; its result is equivalent.
            if not target.is_dir():
                raise
    return target


@functools.cache
def function_asset(
    name: str, architecture: str = "arm64", features: frozenset[str] = frozenset()
) -> FunctionAsset:
    """Build (or reuse) the asset of `functions/<name>` for the given Lambda architecture, with
    the optional dependencies of `features` (see `_requirements`)."""
    if architecture not in _PLATFORMS:
        raise BundlingError(f"unknown architecture {architecture!r}; use one of {list(_PLATFORMS)}")
    if not (FUNCTIONS_DIR / name).is_dir():
        raise BundlingError(f"no function folder {FUNCTIONS_DIR / name}")
    sources = _asset_sources(name)
    deps = _install_dependencies(_requirements(name, features), architecture)
    # Installed distributions name their resolved versions, so the hash follows what was
    # actually installed, not only the (possibly unpinned) requirement lines.
    installed = sorted(p.name for p in deps.iterdir() if p.name.endswith(".dist-info"))
    asset_hash = _digest(
        [BUNDLER_VERSION.encode(), PYTHON_VERSION.encode(), architecture.encode()]
        + [d.encode() for d in installed]
        + [part for rel, path in sources for part in (rel.encode(), path.read_bytes())]
    )

    def fill(staging: Path) -> None:
        shutil.copytree(deps, staging)
        for rel, path in sources:
            destination = staging / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)

    label = "+".join([name, *sorted(features)])
    target = materialize_asset(label, architecture, asset_hash, fill)
    return FunctionAsset(name=name, architecture=architecture, path=target, asset_hash=asset_hash)


def materialize_asset(
    name: str, architecture: str, asset_hash: str, fill: Callable[[Path], None]
) -> Path:
    """The asset folder for `asset_hash`, built once by `fill` into a staging folder and renamed
    into place, so a parallel synth sees either no folder or a complete one."""
    assets_dir = BUILD_DIR / "assets"
    target = assets_dir / f"{name}-{architecture}-{asset_hash[:16]}"
    if not target.is_dir():
        assets_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=assets_dir, prefix=".tmp-") as tmp:
            staging = Path(tmp) / "asset"
            fill(staging)
            try:
                staging.rename(target)
            except OSError:
                if not target.is_dir():
                    raise
        # Older builds may still be referenced by a synth running in parallel (tests and
        # `make synth` share the checkout), so only long-unused ones are removed.
        cutoff = time.time() - STALE_ASSET_SECONDS
        for stale in assets_dir.glob(f"{name}-{architecture}-*"):
            if stale != target and stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
    return target
