from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from cdk_constructs.core import bundling

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

NAMES = ["create_url", "get_url", "redirect"]


@pytest.fixture(scope="module")
def assets(synth):
    # The session synth already built them; this reads the same cached result.
    return {name: bundling.function_asset(name, "arm64") for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_asset_mirrors_the_repository(assets, name):
    root = assets[name].path
    assert (root / "functions" / "__init__.py").is_file()
    assert (root / "functions" / name / "handler.py").is_file()
    assert (root / "shared" / "contracts" / "table.py").is_file()
    assert assets[name].handler == f"functions.{name}.handler.handler"
    others = {p.name for p in (root / "functions").iterdir() if p.is_dir()}
    assert others == {name}


@pytest.mark.parametrize("name", NAMES)
def test_asset_carries_no_runtime_provided_or_noise_files(assets, name):
    root = assets[name].path
    top = {p.name.split("-")[0].lower() for p in root.iterdir()}
    assert not top & {"boto3", "botocore", "s3transfer"}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        assert path.name not in {"__pycache__", "tests"}, rel
        assert path.suffix not in {".pyc", ".pyo"}, rel
        assert not (path.parent.name.endswith(".dist-info") and path.name == "RECORD"), rel


def test_compiled_dependencies_target_lambda_arm64(assets):
    extensions = list((assets["create_url"].path / "pydantic_core").glob("*.so"))
    assert extensions and all("aarch64" in so.name for so in extensions)
    assert (assets["redirect"].path / "amazondax").is_dir()


def test_synthesized_code_points_at_the_custom_hashes(synth, assets):
    staged = {p.name.removeprefix("asset.") for p in synth.outdir.glob("asset.*")}
    # CDK names a staged asset by the SHA-256 of a custom hash.
    expected = {hashlib.sha256(a.asset_hash.encode()).hexdigest() for a in assets.values()}
    assert expected <= staged


@pytest.fixture
def scratch_repo(tmp_path, monkeypatch, assets):
    """A copy of functions/ and shared/ that a test may edit; dependencies stay cached."""
    real_build_dir = bundling.BUILD_DIR
    functions = tmp_path / "functions"
    shared_dir = tmp_path / "shared"
    shutil.copytree(bundling.FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(bundling.SHARED_DIR, shared_dir, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(bundling, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(bundling, "FUNCTIONS_DIR", functions)
    monkeypatch.setattr(bundling, "SHARED_DIR", shared_dir)
    monkeypatch.setattr(bundling, "BUILD_DIR", tmp_path / ".build")
    # The pip install is keyed on requirements alone; reuse the real cache, not the network.
    real_install = bundling._install_dependencies

    def cached_install(requirements: list[str], architecture: str) -> Path:
        with monkeypatch.context() as patch:
            patch.setattr(bundling, "BUILD_DIR", real_build_dir)
            return real_install(requirements, architecture)

    monkeypatch.setattr(bundling, "_install_dependencies", cached_install)
    bundling.function_asset.cache_clear()
    yield tmp_path
    bundling.function_asset.cache_clear()


def _rebuild(name: str) -> str:
    bundling.function_asset.cache_clear()
    return bundling.function_asset(name, "arm64").asset_hash


def test_hash_is_stable_across_builds(scratch_repo, assets):
    first = _rebuild("redirect")
    assert first == _rebuild("redirect") == assets["redirect"].asset_hash
    (scratch_repo / "shared" / "__pycache__").mkdir(exist_ok=True)
    (scratch_repo / "shared" / "__pycache__" / "x.cpython-313.pyc").write_bytes(b"noise")
    assert _rebuild("redirect") == first


def test_hash_changes_with_shared_code(scratch_repo):
    before = _rebuild("get_url")
    table_py = scratch_repo / "shared" / "contracts" / "table.py"
    table_py.write_text(table_py.read_text() + "\n# changed\n")
    assert _rebuild("get_url") != before


def test_hash_changes_with_the_function_code_only_for_that_function(scratch_repo):
    create_before, redirect_before = _rebuild("create_url"), _rebuild("redirect")
    handler = scratch_repo / "functions" / "create_url" / "handler.py"
    handler.write_text(handler.read_text() + "\n")
    assert _rebuild("create_url") != create_before
    assert _rebuild("redirect") == redirect_before


def test_requirements_key_ignores_comments_but_not_requirements(scratch_repo):
    requirements = scratch_repo / "functions" / "redirect" / "requirements.txt"
    original = bundling._requirements("redirect")
    requirements.write_text("# a comment\n" + requirements.read_text() + "\n\n")
    assert bundling._requirements("redirect") == original
    requirements.write_text(requirements.read_text() + "idna>=3.7\n")
    assert bundling._requirements("redirect") == sorted([*original, "idna>=3.7"])
