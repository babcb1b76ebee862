from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from cdk_constructs.core import bundling
from tests.infra.conftest import REPO_ROOT

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

NAMES = ["create_url", "get_url", "redirect"]
# Every function bundled with third-party packages (the redirects have none, by design: the
# regional redirect gets the DAX client only where DAX is on, as the feature "dax").
PACKAGED = [
    "click_consumer",
    "click_lake",
    "create_url",
    "get_url",
    "identity",
    "import_worker",
    "imports",
    "invalidator",
    "update_url",
]
# What the lock's environment markers are evaluated for: Lambda's python3.13 on arm64 Linux.
LAMBDA_ENVIRONMENT = {
    "implementation_name": "cpython",
    "implementation_version": "3.13.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.13.0",
    "python_version": "3.13",
    "sys_platform": "linux",
}


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
    # The regional redirect's bundle carries no compiled code at all without DAX (below).


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


def _lock_for_lambda() -> dict[str, Version]:
    """The lock's pins whose markers hold on Lambda, read independently of the bundler."""
    pins: dict[str, Version] = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(LAMBDA_ENVIRONMENT):
            (pin,) = requirement.specifier
            assert pin.operator == "==", line
            pins[canonicalize_name(requirement.name)] = Version(pin.version)
    return pins


def _bundled(root: Path) -> dict[str, Version]:
    found = {}
    for dist_info in root.glob("*.dist-info"):
        headers = (dist_info / "METADATA").read_text().split("\n\n", 1)[0].splitlines()
        fields = dict(line.split(": ", 1) for line in headers if ": " in line)
        found[canonicalize_name(fields["Name"])] = Version(fields["Version"])
    return found


def test_every_function_with_dependencies_is_checked_against_the_lock():
    with_requirements = {
        path.parent.name
        for path in bundling.FUNCTIONS_DIR.glob("*/requirements.txt")
        if bundling._requirements(path.parent.name)
    }
    assert with_requirements == set(PACKAGED)


@pytest.mark.parametrize(
    ("name", "features"), [(name, frozenset()) for name in PACKAGED] + [("redirect", {"dax"})]
)
def test_bundled_packages_have_the_locked_versions(synth, name, features):
    bundled = _bundled(bundling.function_asset(name, "arm64", frozenset(features)).path)
    assert bundled, f"{name} bundles no packages"
    lock = _lock_for_lambda()
    wrong = {
        package: (str(version), str(lock.get(package)))
        for package, version in bundled.items()
        if lock.get(package) != version
    }
    assert wrong == {}


def _site(tmp_path: Path, **versions: str) -> Path:
    for name, version in versions.items():
        dist_info = tmp_path / f"{name}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nName: not a header\n"
        )
    return tmp_path


LOCK_TEXT = """\
typing-extensions==4.16.0
    # via pydantic
networkx==3.6.1 ; python_full_version < '3.12'
networkx==3.7 ; python_full_version >= '3.12'
"""


def test_the_bundler_refuses_a_version_the_lock_does_not_pin(tmp_path):
    site = _site(tmp_path, Typing_Extensions="4.15.0")
    with pytest.raises(bundling.BundlingError, match=r"typing-extensions 4.15.0 \(lock: 4.16.0\)"):
        bundling.check_pinned(site, LOCK_TEXT)


def test_the_bundler_refuses_a_package_the_lock_does_not_hold(tmp_path):
    site = _site(tmp_path, nanoid="2.0.0")
    with pytest.raises(bundling.BundlingError, match=r"nanoid 2.0.0 \(lock: absent\)"):
        bundling.check_pinned(site, LOCK_TEXT)


def test_the_bundler_accepts_locked_versions_under_any_spelling(tmp_path):
    site = _site(tmp_path, Typing_Extensions="4.16.0", networkx="3.7")
    bundling.check_pinned(site, LOCK_TEXT)


def _top_level(root: Path) -> set[str]:
    """A bundle's top-level entries, without its distributions' metadata folders."""
    return {p.name for p in root.iterdir() if not p.name.endswith(".dist-info")}


def _zipped_size(root: Path, tmp_path: Path) -> int:
    return Path(shutil.make_archive(str(tmp_path / "bundle"), "zip", root)).stat().st_size


def test_the_redirect_bundle_holds_the_dax_client_only_where_dax_is_on(synth, tmp_path):
    lean = bundling.function_asset("redirect", "arm64")
    # squrl's own code and nothing else: its DynamoDB reader is the standard library.
    assert _top_level(lean.path) == {"functions", "shared"}
    assert _zipped_size(lean.path, tmp_path) <= 256 * 1024
    with_dax = bundling.function_asset("redirect", "arm64", frozenset({"dax"}))
    assert {"functions", "shared", "amazondax"} <= _top_level(with_dax.path)
    assert "amazon-dax-client" in _bundled(with_dax.path)
    assert with_dax.asset_hash != lean.asset_hash


def test_a_feature_without_its_requirements_file_is_refused():
    with pytest.raises(bundling.BundlingError, match=r"requirements-nosuch\.txt"):
        bundling._requirements("redirect", frozenset({"nosuch"}))


def test_the_synthesized_redirects_carry_dax_only_in_regions_with_dax(synth):
    for env, config in synth.config.environments.items():
        for region in config.serving_regions:
            template = synth.templates[f"squrl-{env}-api-{region}"]
            (s3_key,) = [
                resource["Properties"]["Code"]["S3Key"]
                for resource in template["Resources"].values()
                if resource["Type"] == "AWS::Lambda::Function"
                and resource["Properties"].get("FunctionName") == f"squrl-{env}-redirect"
            ]
            bundle = synth.outdir / f"asset.{s3_key.removesuffix('.zip')}"
            assert ("amazondax" in _top_level(bundle)) is config.dax.enabled, (env, region)
