"""Lambda SnapStart runtime hooks, or no-ops where the runtime has none.

The Lambda Python runtime (3.12+) ships `snapshot_restore_py`; a function with SnapStart on runs
the registered `before_snapshot` hooks once, when Lambda publishes the version and takes the
snapshot, and the `after_restore` hooks in every execution environment resumed from it. Without
SnapStart the hooks are registered and never run. Locally and in tests the module is absent and
registering does nothing, so the same code runs everywhere.

Only the standard library here: the redirect path may import this module too.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Hook = Callable[[], None]

try:  # pragma: no cover - present only in the Lambda runtime
    from snapshot_restore_py import (  # type: ignore[import-not-found]
        register_after_restore as _register_after_restore,
    )
    from snapshot_restore_py import (
        register_before_snapshot as _register_before_snapshot,
    )
except ImportError:
    _register_after_restore = None
    _register_before_snapshot = None


def before_snapshot(hook: Hook) -> Hook:
    """Run `hook` before Lambda takes the snapshot (decorator; a no-op without the runtime)."""
    if _register_before_snapshot is not None:
        _register_before_snapshot(hook)
    return hook


def after_restore(hook: Hook) -> Hook:
    """Run `hook` in each execution environment resumed from the snapshot (decorator)."""
    if _register_after_restore is not None:
        _register_after_restore(hook)
    return hook


@after_restore
def reseed_random() -> None:
    """Every environment resumed from one snapshot would share the `random` module's state, so
    retry jitter (botocore's, the lean reader's) and log sampling would move in lockstep across
    environments. Re-seed from the OS. (`secrets`, `uuid4` and nanoid read the OS's randomness
    on each call and need nothing.)"""
    random.seed()
