"""SnapStart runtime hooks: registered with the runtime's module where it exists, no-ops where
it does not (locally, in tests), and what the API functions do around a snapshot."""

from __future__ import annotations

import importlib
import random
import sys
import types
from collections.abc import Callable, Iterator

import pytest

import shared.snapstart


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Callable[[], None]]]]:
    """A stand-in for the Lambda runtime's snapshot_restore_py, recording registrations."""
    hooks: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before"].append  # type: ignore[attr-defined]
    module.register_after_restore = hooks["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    importlib.reload(shared.snapstart)
    yield hooks
    monkeypatch.delitem(sys.modules, "snapshot_restore_py")
    importlib.reload(shared.snapstart)


def test_without_the_runtime_module_registering_does_nothing() -> None:
    assert "snapshot_restore_py" not in sys.modules
    calls: list[str] = []

    def hook() -> None:
        calls.append("ran")

    assert shared.snapstart.before_snapshot(hook) is hook
    assert shared.snapstart.after_restore(hook) is hook
    assert calls == []


def test_with_the_runtime_module_hooks_are_registered(runtime: dict) -> None:
    # Reloading registered the module's own after-restore hook: re-seeding random.
    assert [h.__name__ for h in runtime["after"]] == ["reseed_random"]

    def warm() -> None: ...

    shared.snapstart.before_snapshot(warm)
    assert runtime["before"] == [warm]


def test_after_a_restore_random_is_reseeded(runtime: dict) -> None:
    (reseed,) = runtime["after"]
    random.seed(7)
    snapshot = random.getstate()
    restored_a = [random.random() for _ in range(3)]
    random.setstate(snapshot)
    reseed()
    assert [random.random() for _ in range(3)] != restored_a


def test_the_api_functions_build_their_clients_before_and_drop_them_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hooks shared.links.api registers (through the shim above) for every Powertools API
    function: build the clients into the snapshot, drop them after a restore."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("SQURL_HOME_REGION", "us-east-1")
    monkeypatch.setenv("SQURL_TABLE_NAME", "squrl-urls-test")
    from shared.links import api
    from shared.settings import settings

    settings.cache_clear()
    api.dynamodb.cache_clear()
    try:
        api._clients_before_snapshot()
        assert api.dynamodb.cache_info().currsize == 2  # the home region's and its own
        regions = {
            client.meta.region_name
            for client in (api.dynamodb("eu-west-1"), api.dynamodb("us-east-1"))
        }
        assert regions == {"eu-west-1", "us-east-1"}
        assert api.dynamodb.cache_info().currsize == 2  # the same two, from the cache
        api._clients_after_restore()
        assert api.dynamodb.cache_info().currsize == 0
    finally:
        settings.cache_clear()
        api.dynamodb.cache_clear()
