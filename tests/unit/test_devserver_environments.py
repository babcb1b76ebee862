"""The local server's execution environments, and how its modules depend on each other."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from devserver.environments import OWN_STATE, Environments

ROOT = Path(__file__).resolve().parents[2]


def test_an_invocation_holds_its_environment_and_every_function_sharing_state() -> None:
    entered, release = threading.Event(), threading.Event()
    seen: list[dict[str, Any]] = []

    def blocking(event: dict[str, Any], context: Any) -> dict[str, Any]:
        entered.set()
        release.wait(timeout=30)
        return {"event": event, "function": context.function_name}

    functions = Environments({"create_url": blocking})
    worker = threading.Thread(target=lambda: seen.append(functions.invoke("create_url", {})))
    worker.start()
    try:
        assert entered.wait(timeout=30)
        # Powertools keeps the current event in a class attribute shared by every resolver:
        # the get function waits for the create function's turn to end; the redirects do not.
        assert functions.turn("create_url").locked()
        assert functions.turn("get_url").locked()
        assert functions.turn("click_consumer").locked()
        assert not functions.turn("redirect").locked()
        assert not functions.turn("edge_redirect").locked()
    finally:
        release.set()
        worker.join(timeout=30)
    assert seen == [{"event": {}, "function": "squrl-local-create_url"}]
    assert not functions.turn("create_url").locked()


def test_only_functions_without_powertools_run_beside_the_others() -> None:
    functions = Environments()
    assert sorted(OWN_STATE) == ["authorizer", "edge_redirect", "redirect"]
    assert functions.turn("redirect") is not functions.turn("edge_redirect")
    assert functions.turn("authorizer") is not functions.turn("create_url")
    assert functions.turn("create_url") is functions.turn("get_url")
    assert functions.turn("some_new_function") is functions.turn("create_url")
    # What makes that safe: neither module brings Powertools' process-wide state along.
    probe = (
        "import sys, functions.redirect.handler, functions.edge_redirect.handler\n"
        "import functions.authorizer.handler\n"
        "heavy = ('aws_lambda_powertools', 'pydantic')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def _devserver_imports() -> dict[str, set[str]]:
    modules = {path.stem: path for path in (ROOT / "devserver").glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):  # imports inside functions too
            if isinstance(node, ast.ImportFrom) and node.module == "devserver":
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("devserver."):
                imported.add((node.module or "").split(".")[1])
            elif isinstance(node, ast.Import):
                imported.update(
                    alias.name.split(".")[1]
                    for alias in node.names
                    if alias.name.startswith("devserver.")
                )
        graph[name] = imported & modules.keys()
    return graph


def test_no_devserver_module_imports_one_that_imports_it_back() -> None:
    graph = _devserver_imports()

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph[start] - seen:
            if module == target or reaches(module, target, seen | {module}):
                return True
        return False

    assert [name for name in sorted(graph) if reaches(name, name, set())] == []
    # The shapes are the bottom; only the server composes the parts.
    assert graph["lambda_shapes"] == set()
    assert graph["gateway"] <= {"lambda_shapes", "environments"}
    assert graph["edge"] <= {"lambda_shapes"}
    assert graph["click_stream"] <= {"lambda_shapes"}


def test_the_server_imports_in_a_fresh_interpreter() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import devserver.server"], cwd=ROOT, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
