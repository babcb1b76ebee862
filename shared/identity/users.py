"""The Cognito side of erasure: the user whose id (`sub`) is the owner is removed."""

from __future__ import annotations

import re
from typing import Any

# A Cognito `sub` is a UUID; anything else (an API key id) is not a user of the pool.
_SUB = re.compile(r"[0-9a-fA-F-]{36}")


def remove_user(client: Any, pool_id: str, sub: str) -> bool:
    """AdminDeleteUser of the pool's user with this `sub`; False when there is none."""
    if not pool_id or not _SUB.fullmatch(sub):
        return False
    found = client.list_users(UserPoolId=pool_id, Filter=f'sub = "{sub}"', Limit=1)
    users = found.get("Users") or []
    if not users:
        return False
    client.admin_delete_user(UserPoolId=pool_id, Username=users[0]["Username"])
    return True
