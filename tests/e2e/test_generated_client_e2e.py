"""A client generated from docs/openapi.json by a generator that knows nothing of squrl
(openapi-python-client) creates a link and fetches it from the local server (docs/api.md
section 9)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.e2e.conftest import LocalServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "squrl_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client")
    tools = Path(sys.executable).parent
    run = subprocess.run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "docs" / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=out,
        # Its post-generation step formats the code with ruff, from the same environment.
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_creates_and_fetches_a_link(
    generated: ModuleType, squrl: LocalServer
) -> None:
    create_link = importlib.import_module(f"{PACKAGE}.api.links.create_link")
    get_link = importlib.import_module(f"{PACKAGE}.api.links.get_link")
    create_links = importlib.import_module(f"{PACKAGE}.api.links.create_links")
    models = importlib.import_module(f"{PACKAGE}.models")
    url = f"https://generated.example/{uuid.uuid4().hex}"

    with generated.AuthenticatedClient(base_url=squrl.url, token=squrl.api_key) as client:
        created = create_link.sync_detailed(
            client=client,
            body=models.CreateLinkRequest(original_url=url, title="From a generated client"),
        )
        assert created.status_code == 201
        link = created.parsed
        assert isinstance(link, models.Link)
        assert link.original_url == url and link.title == "From a generated client"

        fetched = get_link.sync(code=link.short_code, client=client)
        assert isinstance(fetched, models.Link)
        assert fetched.short_code == link.short_code
        assert fetched.short_url == f"{squrl.url}/{link.short_code}"
        assert fetched.version == 1 and fetched.click_count == 0

        missing = get_link.sync_detailed(code="nosuch1", client=client)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Error) and missing.parsed.error == "NotFound"

        bulk = create_links.sync(
            client=client,
            body=models.BulkCreateRequest(
                items=[models.CreateLinkRequest(original_url=url + "/bulk")]
            ),
        )
        assert isinstance(bulk, models.BulkCreateResponse)
        (result,) = bulk.results
        assert isinstance(result, models.BulkLinkResult)
        assert result.link.original_url == url + "/bulk"
