"""Every function bundle the synth builds holds exactly the top-level packages its function uses.

Two checks over every Lambda function in every synthesized template (CDK's own custom-resource
handlers aside): its bundle's top-level entries equal the list below for that function, and
every third-party entry is used: imported by the modules the handler reaches (following its
`functions.*` and `shared.*` imports, lazy imports included), or required by a distribution
that is (the runtime's boto3 stack counts: the Lambda runtime provides boto3 and botocore, and
their requirements bundled beside squrl's code are the ones botocore then imports).
"""

from __future__ import annotations

import ast
import shutil
from email.parser import Parser
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infra.test_bundling import LAMBDA_ENVIRONMENT

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

SQURL = {"functions", "shared"}
# pydantic, Powertools (with its X-Ray tracer) and the rest of the Powertools API functions.
_API = SQURL | {
    "annotated_types",
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "dateutil",
    "idna",
    "jmespath",
    "pydantic",
    "pydantic_core",
    "six.py",
    "typing_extensions.py",
    "typing_inspection",
    "urllib3",
    "wrapt",
    "wrapt-stubs",
}
_NANOID = {"nanoid", "nanoid.py"}
_POWERTOOLS_ONLY = SQURL | {"aws_lambda_powertools", "jmespath", "typing_extensions.py"}
EXPECTED: dict[str, set[str]] = {
    "create_url": _API | _NANOID,  # the only function that makes codes
    "get_url": _API | {"segno"},  # QR codes
    "update_url": _API,
    "redirect": SQURL,
    "edge_redirect": SQURL,
    "click_consumer": _POWERTOOLS_ONLY,
    "click_lake": _POWERTOOLS_ONLY,
    "invalidator": _POWERTOOLS_ONLY,
    # /tokens and /me: erasure deletes links through the links service.
    "identity": _API | _NANOID,
    # Import jobs create links (generated codes included).
    "imports": _API | _NANOID,
    "import_worker": _API | _NANOID,
    # Standard library and the runtime's boto3 only (docs/identity.md).
    "authorizer": SQURL,
}
# Where dax.enabled, the redirect carries the DAX client and what it needs beside the runtime's.
DAX = {"amazondax", "antlr4", "dateutil", "jmespath", "six.py", "urllib3"}
# What the Lambda Python runtime provides, and the bundler strips.
RUNTIME = {"boto3", "botocore", "s3transfer"}


def _function_key(function_name: str, env: str) -> str:
    return function_name.removeprefix(f"squrl-{env}-").replace("-", "_")


def _bundles(synth: Any) -> list[tuple[str, str, str, Path]]:
    """(env, region, function key, bundle folder) for every squrl function in the synth."""
    found = []
    for stack, template in synth.templates.items():
        env = stack.split("-")[1]
        for resource in template["Resources"].values():
            props = resource["Properties"]
            name = props.get("FunctionName")
            if resource["Type"] != "AWS::Lambda::Function" or not isinstance(name, str):
                continue  # CDK's own handlers have generated names
            folder = synth.outdir / f"asset.{props['Code']['S3Key'].removesuffix('.zip')}"
            region = synth.stack_regions[stack]
            found.append((env, region, _function_key(name, env), folder))
    return found


def _top_level(folder: Path) -> set[str]:
    return {
        p.name
        for p in folder.iterdir()
        if not p.name.endswith(".dist-info") and p.name != "__pycache__"
    }


def test_every_bundle_holds_exactly_its_functions_packages(synth: Any) -> None:
    bundles = _bundles(synth)
    assert {key for _, _, key, _ in bundles} == set(EXPECTED)
    for env, region, key, folder in bundles:
        expected = set(EXPECTED[key])
        if key == "redirect" and synth.config.environments[env].dax.enabled:
            expected |= DAX
        assert _top_level(folder) == expected, (env, region, key)


# -- which packages are used --------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Every module a file imports, lazily or not, as dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _module_file(folder: Path, module: str) -> Path | None:
    base = folder.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _reached_third_party(folder: Path, handler: str) -> set[str]:
    """What the handler's reachable squrl modules import from outside squrl, as dotted names
    (`pydantic`, `aws_lambda_powertools.Tracer`, ...)."""
    pending, seen, third_party = [handler], set(), set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(folder, module)
        if path is None:
            continue
        # A package's __init__ runs before any of its modules.
        parts = module.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]
        for name in _imports(path):
            if name.split(".")[0] in SQURL:
                pending.append(name)
            else:
                third_party.add(name)
    return third_party


# Distributions whose import names are not their project names (the bundler strips RECORD, so
# a wheel without top_level.txt says nothing else about what it installed).
IMPORT_NAMES = {
    "amazon-dax-client": {"amazondax"},
    "antlr4-python3-runtime": {"antlr4"},
    "python-dateutil": {"dateutil"},
    "wrapt": {"wrapt", "wrapt-stubs"},
}


# Extras a distribution is used with, from the names squrl imports: Powertools' Tracer needs
# its "tracer" extra (aws-xray-sdk), which functions/*/requirements.txt name for that reason.
EXTRAS = {"aws-lambda-powertools": ("tracer", "aws_lambda_powertools.Tracer")}


@cache
def _distributions(
    folder: Path, extras: frozenset[str] = frozenset()
) -> dict[str, tuple[set[str], list[str]]]:
    """Distribution -> (its top-level names in the bundle, the distributions it requires)."""
    found: dict[str, tuple[set[str], list[str]]] = {}
    for info in folder.glob("*.dist-info"):
        metadata = Parser().parsestr((info / "METADATA").read_text())
        name = canonicalize_name(metadata["Name"])
        tops = {name.replace("-", "_")} | IMPORT_NAMES.get(name, set())
        if (info / "top_level.txt").is_file():
            tops |= set((info / "top_level.txt").read_text().split())
        requires = []
        wanted = [""] + [e for dist, (e, _) in EXTRAS.items() if dist == name and e in extras]
        for spec in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(spec)
            if requirement.marker is None or any(
                requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": extra})
                for extra in wanted
            ):
                requires.append(canonicalize_name(requirement.name))
        found[name] = (tops, requires)
    return found


# botocore's own requirements, for the runtime's botocore that bundled packages rely on.
BOTOCORE_REQUIRES = ["jmespath", "python-dateutil", "urllib3"]
DATEUTIL_REQUIRES = ["six"]


def _used_entries(folder: Path, imported: set[str]) -> set[str]:
    """The bundle's top-level entries that the imported packages and their requirements own."""
    extras = frozenset(
        extra
        for extra, trigger in EXTRAS.values()
        if any(name == trigger or name.startswith(trigger + ".") for name in imported)
    )
    dists = _distributions(folder, extras)
    third_party = {name.split(".")[0] for name in imported}
    owner = {top: dist for dist, (tops, _) in dists.items() for top in tops}
    pending = [owner[t] for t in third_party if t in owner]
    if third_party & RUNTIME:
        pending += BOTOCORE_REQUIRES
    used: set[str] = set()
    while pending:
        dist = pending.pop()
        if dist in used:
            continue
        used.add(dist)
        requires = dists[dist][1] if dist in dists else []
        if dist == "python-dateutil" and dist not in dists:
            requires = DATEUTIL_REQUIRES
        if set(requires) & RUNTIME:
            pending += BOTOCORE_REQUIRES
        pending += requires
    used_tops = {top for dist in used if dist in dists for top in dists[dist][0]}
    return {e for e in _top_level(folder) if e.removesuffix(".py") in used_tops}


def test_no_bundle_carries_a_package_its_function_does_not_use(synth: Any) -> None:
    checked = set()
    for env, region, key, folder in _bundles(synth):
        if (key, folder) in checked:
            continue
        checked.add((key, folder))
        third_party = _reached_third_party(folder, f"functions.{key}.handler")
        entries = _top_level(folder) - SQURL
        unused = entries - _used_entries(folder, third_party)
        assert unused == set(), (env, region, key, sorted(unused))
    assert len({key for key, _ in checked}) == len(EXPECTED)


def test_the_check_finds_an_unused_package(synth: Any, tmp_path: Path) -> None:
    """A package nothing imports, planted in a copy of create_url's bundle, is found; so is
    Powertools' tracer dependency when nothing uses the Tracer."""
    (_, _, _, create), *_ = [b for b in _bundles(synth) if b[2] == "create_url"]
    copy = tmp_path / "bundle"
    shutil.copytree(create, copy)
    (copy / "leftpad").mkdir()
    (copy / "leftpad" / "__init__.py").write_text("")
    info = copy / "leftpad-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: leftpad\nVersion: 1.0\n")
    reached = _reached_third_party(copy, "functions.create_url.handler")
    assert _top_level(copy) - SQURL - _used_entries(copy, reached) == {"leftpad"}
    untraced = {name for name in reached if not name.startswith("aws_lambda_powertools.Tracer")}
    assert {"aws_xray_sdk", "wrapt"} <= _top_level(copy) - _used_entries(copy, untraced)
